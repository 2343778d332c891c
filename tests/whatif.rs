//! What-if plans: the answer matches what then really happens on the lab, and the projection
//! used for real hosts agrees with the lab running forward.

use std::time::Duration;

use galaxy_ha::memory::Memory;
use galaxy_ha::plan::{self, ActionKind};
use galaxy_ha::platform::Platform;
use galaxy_ha::whatif;

use crate::support::cli::Site;
use crate::support::{A, Rig};

fn action_ids(plan_json: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(plan_json).unwrap();
    v["sites"][0]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{} {}",
                a["kind"].as_str().unwrap(),
                a["id"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn what_if_should_match_what_then_happens_and_change_nothing() {
    let site = Site::new("automatic");
    site.converge();
    let before = site.show();
    let out = site.run(&[
        "plan",
        "--format",
        "json",
        "--assume",
        "host-down GCSHOSTA",
        "--after",
        "6m",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let predicted = action_ids(&String::from_utf8_lossy(&out.stdout));
    assert!(
        predicted.iter().any(|a| a.starts_with("failover ")),
        "{predicted:?}"
    );
    assert_eq!(site.show(), before, "a what-if touches nothing");

    site.ok(&["sim", "fault", "host-down", A]);
    site.ok(&["sim", "advance", "6m"]);
    let out = site.run(&["plan", "--format", "json"]);
    assert_eq!(action_ids(&String::from_utf8_lossy(&out.stdout)), predicted);
}

#[test]
fn what_if_text_should_say_it_is_a_projection_and_reject_unknown_faults() {
    let site = Site::new("manual");
    site.converge();
    let out = site.run(&[
        "plan",
        "--assume",
        "link-down GCSHOSTA GCSHOSTB",
        "--after",
        "10m",
    ]);
    assert_eq!(out.status.code(), Some(2), "an alert is pending");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("What if: link-down GCSHOSTA GCSHOSTB, then 10m"),
        "{text}"
    );
    assert!(text.contains("alert link-down"), "{text}");
    assert!(
        !text.contains("fail over"),
        "one view alone is never a failover:\n{text}"
    );
    let out = site.run(&["plan", "--assume", "host-dwn GCSHOSTA"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown fault \"host-dwn\""));
}

#[test]
fn the_real_host_projection_should_plan_what_the_lab_running_forward_plans() {
    let mut rig = Rig::new("automatic");
    rig.converge();
    let memory: Memory = rig.memory();
    let observed = rig.lab.observe().unwrap();
    let cases = [
        ("host-down GCSHOSTA", 360),
        ("host-down GCSHOSTA", 120),
        ("host-down GCSHOSTB", 60),
        ("link-down GCSHOSTA GCSHOSTB", 600),
        ("link-down controller GCSHOSTB", 60),
        ("service-stop GCSHOSTB Double-Take Management Service", 0),
        ("port-close GCSHOSTA 6330", 0),
        ("email-drift GCSHOSTA", 0),
        ("shutdown-fails GCSHOSTA", 0),
        ("job-stop", 0),
    ];
    for (fault, secs) in cases {
        let faults = vec![whatif::parse(fault).unwrap()];
        let after = Duration::from_secs(secs);
        let (lab_view, now) = rig.lab.project(&faults, after).unwrap();
        let by_lab = plan::plan(&rig.site.manifest, &lab_view, &memory, now);
        let projected = whatif::project(&observed, &rig.site.manifest.spec, &faults, after);
        let by_projection = plan::plan(&rig.site.manifest, &projected, &memory, now);
        let kinds = |p: &plan::Plan| {
            let mut k: Vec<ActionKind> = p.actions.iter().map(|a| a.kind()).collect();
            k.sort();
            k
        };
        assert_eq!(
            kinds(&by_projection),
            kinds(&by_lab),
            "{fault} after {secs}s"
        );
    }
}
