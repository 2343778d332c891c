//! A recovery point objective through the real binary on the lab: met, missed behind a
//! broken link between the hosts (alerted once it lasted the grace time), met again with an
//! all-clear, and the time spent outside it kept.

use crate::support::cli::Site;
use crate::support::{A, B};

fn rpo_site() -> Site {
    let site = Site::new("manual");
    site.edit(
        "  failover:\n",
        "  rpoTarget: 30s\n  rpoGrace: 2m\n  failover:\n",
    );
    site.converge();
    site
}

fn rpo(site: &Site) -> (String, String) {
    let c = site.condition_of("RpoMet");
    (
        c["status"].as_str().unwrap().to_string(),
        c["reason"].as_str().unwrap().to_string(),
    )
}

#[test]
fn a_missed_rpo_target_should_alert_after_its_grace_and_clear_when_met_again() {
    let site = rpo_site();
    assert_eq!(rpo(&site), ("True".into(), "WithinTarget".into()));
    // The first mirror counted: nothing protected the site then.
    let before = site.status()["sites"][0]["rpo_missed_s"].as_u64().unwrap();
    site.ok(&["sim", "fault", "link-down", A, B]);
    // A minute behind: missed, but within the grace time: no alert yet.
    let log = site.passes("30s", 2);
    assert_eq!(rpo(&site), ("False".into(), "LatencyAboveTarget".into()));
    assert!(!log.contains("rpo-missed"), "{log}");
    // Not protected (the job lost its source): CRITICAL, and the verdict says the RPO too.
    let out = site.run(&["status", "--check"]);
    let line = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(2), "{line}");
    assert!(
        line.contains("RPO missed: recovery point latency"),
        "{line}"
    );
    // Past the grace time: one alert, not one per pass.
    site.passes("30s", 6);
    let history = site.ok(&["history", "--kind", "alert"]);
    assert_eq!(
        history
            .matches("rpo-missed: the recovery point objective is missed")
            .count(),
        1,
        "{history}"
    );
    // The link mends: met again, an all-clear, and the spell is kept.
    site.ok(&["sim", "fault", "link-up", A, B]);
    site.passes("30s", 4);
    assert_eq!(rpo(&site), ("True".into(), "WithinTarget".into()));
    let history = site.ok(&["history", "--kind", "alert"]);
    assert!(
        history.contains("the recovery point latency is within spec.rpoTarget again"),
        "{history}"
    );
    let missed = site.status()["sites"][0]["rpo_missed_s"].as_u64().unwrap() - before;
    assert!(
        (150..=400).contains(&missed),
        "time outside the target: {missed} s"
    );
}

#[test]
fn without_an_rpo_target_the_condition_holds_and_nothing_is_counted() {
    let site = Site::new("manual");
    site.converge();
    assert_eq!(rpo(&site), ("True".into(), "NoTarget".into()));
    assert!(site.status()["sites"][0]["rpo_missed_s"].is_null());
}
