//! Verified drills through the real binary on the lab: a drill passes only once its test
//! replica's heartbeat, services and ports are seen, then it ends and its cleanup is
//! checked; a replica that never answers fails the drill, ends it, and alerts.

use serde_json::Value;

use crate::support::B;
use crate::support::cli::Site;

fn site_status(site: &Site) -> Value {
    site.status()["sites"][0].clone()
}

fn last_drill(site: &Site) -> Value {
    site_status(site)["last_drill"].clone()
}

fn check<'a>(drill: &'a Value, name: &str) -> &'a Value {
    drill["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {drill}"))
}

#[test]
fn a_drill_should_pass_once_heartbeat_services_and_ports_are_seen_and_its_cleanup_checked() {
    let site = Site::new("manual");
    site.converge();
    site.ok(&[
        "failover",
        "hq",
        "--test",
        "--notes",
        "quarterly drill with the panel integrator",
        "--yes",
    ]);
    // Right after the start the guest is still booting: the drill runs, nothing passed yet.
    let s = site_status(&site);
    assert_eq!(s["drill"]["running"], true, "{s}");
    assert!(
        s["drill"]["run"].as_str().unwrap().starts_with("drill-"),
        "{s}"
    );
    assert!(s["drill"]["by"].as_str().unwrap().contains(" on "), "{s}");
    assert!(s["last_drill"].is_null(), "{s}");
    // The lab's guest boots in a minute; the drill verifies, ends, and checks its cleanup.
    let log = site.apply_until("30s", 12, |s| !last_drill(s).is_null());
    let d = last_drill(&site);
    assert_eq!(d["result"], "pass", "{d}\n{log}");
    assert_eq!(d["notes"], "quarterly drill with the panel integrator");
    assert_eq!(d["host"], B);
    for name in [
        "heartbeat",
        "service Double-Take",
        "service Double-Take Management Service",
        "port 6320",
        "port 6332",
    ] {
        let c = check(&d, name);
        assert_eq!(c["passed"], true, "{c}");
        assert!(c["at"].is_string(), "{c}");
    }
    assert_eq!(d["cleanup"]["passed"], true, "{d}");
    assert!(d["finished"].is_string(), "{d}");
    let s = site_status(&site);
    assert_eq!(s["drill"]["running"], false, "the test replica is off: {s}");
    assert_eq!(s["activity"], "Protecting", "{s}");
    let text = site.ok(&["status"]);
    assert!(text.contains("Last drill"), "{text}");
    assert!(text.contains(": PASS at "), "{text}");
    assert!(
        log.contains("every check passed inside"),
        "the end says why:\n{log}"
    );
    assert!(!log.contains("drill-failed"), "{log}");
    assert_eq!(site.failovers(), 0, "a drill is not a failover");
}

#[test]
fn a_drill_whose_test_replica_never_answers_should_fail_end_and_alert() {
    let site = Site::with_yaml(
        &crate::support::manifest_yaml("manual")
            .replace("spec:\n", "spec:\n  drills:\n    verifyWithin: 5m\n"),
    );
    site.converge();
    site.ok(&["sim", "fault", "guest-silent", B]);
    site.ok(&["failover", "hq", "--test", "--yes"]);
    let log = site.apply_until("1m", 10, |s| !last_drill(s).is_null());
    let d = last_drill(&site);
    assert_eq!(d["result"], "fail", "{d}\n{log}");
    let heartbeat = check(&d, "heartbeat");
    assert_eq!(heartbeat["passed"], false);
    assert!(
        heartbeat["detail"].as_str().unwrap().contains("No Contact"),
        "{heartbeat}"
    );
    assert_eq!(
        check(&d, "port 6320")["detail"],
        "the guest could not be read"
    );
    assert!(
        d["verdict"]["why"]
            .as_str()
            .unwrap()
            .contains("spec.drills.verifyWithin"),
        "{d}"
    );
    // It ended: the test replica is off and the cleanup passed; only the checks failed.
    assert_eq!(d["cleanup"]["passed"], true, "{d}");
    assert_eq!(site_status(&site)["drill"]["running"], false);
    // One alert, naming the run and what failed.
    site.passes("1m", 2);
    let alerts = site.ok(&["history", "--kind", "alert"]);
    assert_eq!(
        alerts.matches("drill-failed: drill drill-").count(),
        1,
        "{alerts}"
    );
    assert!(
        alerts.contains("Failing: heartbeat: Hyper-V heartbeat No Contact"),
        "{alerts}"
    );
}

#[test]
fn a_person_ending_a_drill_before_it_is_verified_should_record_a_failure_without_alerting() {
    let site = Site::new("manual");
    site.converge();
    site.ok(&["failover", "hq", "--test", "--yes"]);
    site.ok(&["failover", "hq", "--test", "--end", "--yes"]);
    site.passes("10s", 2);
    let d = last_drill(&site);
    assert_eq!(d["result"], "fail", "{d}");
    assert!(
        d["verdict"]["why"]
            .as_str()
            .unwrap()
            .contains("ended by a person"),
        "{d}"
    );
    let alerts = site.ok(&["history", "--kind", "alert"]);
    assert!(
        !alerts.contains("drill-failed"),
        "ended on purpose: {alerts}"
    );
}

#[test]
fn a_held_drill_should_keep_its_verified_replica_running_until_a_person_ends_it() {
    let site = Site::new("manual");
    site.converge();
    site.ok(&["failover", "hq", "--test", "--hold", "--yes"]);
    site.passes("1m", 5);
    let s = site_status(&site);
    assert_eq!(s["drill"]["running"], true, "held: {s}");
    assert!(
        s["drill"]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["passed"] == true),
        "{s}"
    );
    site.ok(&["failover", "hq", "--test", "--end", "--yes"]);
    site.passes("10s", 1);
    let d = last_drill(&site);
    assert_eq!(
        d["result"], "pass",
        "verified before the person ended it: {d}"
    );
    assert_eq!(d["hold"], true, "{d}");
}

#[test]
fn a_manifest_change_to_the_vm_should_make_the_site_unverified_until_a_drill_passes() {
    let site = Site::new("manual");
    site.converge();
    let never = site.condition_of("Unverified");
    assert_eq!(never["status"], "True", "{never}");
    assert_eq!(never["reason"], "NeverVerified", "{never}");
    let check = site.run(&["status", "--check"]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "never drilled is not a warning"
    );

    site.ok(&["failover", "hq", "--test", "--yes"]);
    site.apply_until("30s", 12, |s| !last_drill(s).is_null());
    // The pass that records it.
    site.passes("10s", 1);
    assert_eq!(last_drill(&site)["result"], "pass");
    let verified = site.condition_of("Unverified");
    assert_eq!(verified["status"], "False", "{verified}");
    assert_eq!(verified["reason"], "Verified", "{verified}");

    // A change to what the drill proved: the ports it checks in the VM.
    site.edit(
        "    address: 10.100.0.45\n",
        "    address: 10.100.0.45\n    ports: [6320, 6325]\n",
    );
    site.passes("10s", 1);
    let stale = site.condition_of("Unverified");
    assert_eq!(stale["status"], "True", "{stale}");
    assert_eq!(stale["reason"], "ChangedSinceDrill", "{stale}");
    assert!(
        stale["message"]
            .as_str()
            .unwrap()
            .starts_with("spec.vm changed since drill drill-"),
        "{stale}"
    );
    let check = site.run(&["status", "--check"]);
    let line = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(1), "{line}");
    assert!(line.contains("Unverified: spec.vm changed"), "{line}");

    // A drill that passes with the new manifest clears it.
    site.ok(&["failover", "hq", "--test", "--yes"]);
    site.apply_until("30s", 12, |s| {
        s.condition_of("Unverified")["status"] == "False"
    });
    assert_eq!(site.condition_of("Unverified")["reason"], "Verified");
}
