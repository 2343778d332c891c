//! Readiness, standing, through the real binary on the lab: a standby without memory for
//! System Galaxy's VM makes the site not ready (with the reason) and alerts once; memory back,
//! the next check clears it.

use crate::support::B;
use crate::support::cli::Site;

#[test]
fn readiness_should_fail_for_lack_of_memory_on_the_standby_and_clear_when_it_is_back() {
    let site = Site::with_yaml(
        &crate::support::manifest_yaml("automatic")
            .replace("spec:\n", "spec:\n  readiness:\n    every: 5m\n"),
    );
    site.converge();
    site.passes("1m", 2);
    let ready = site.condition_of("FailoverReady");
    assert_eq!(ready["status"], "True", "{ready}");
    let checked = site.status()["sites"][0]["readiness"].clone();
    assert_eq!(checked["lacking"], serde_json::json!([]), "{checked}");

    site.ok(&["sim", "fault", "memory-low", B]);
    site.ok(&["sim", "fault", "licence-invalid", B]);
    site.passes("1m", 6);
    let not = site.condition_of("FailoverReady");
    assert_eq!(not["status"], "False", "{not}");
    assert_eq!(not["reason"], "NotReady", "{not}");
    let message = not["message"].as_str().unwrap();
    assert!(
        message.contains(
            "GCSHOSTB has 2.0 GiB of memory free; System Galaxy's VM starts with 16.0 GiB"
        ),
        "{message}"
    );
    assert!(
        message.contains("Carbonite's licence on GCSHOSTB is not valid"),
        "{message}"
    );
    let check = site.run(&["status", "--check"]);
    assert_ne!(check.status.code(), Some(0), "not ready is not OK");
    // One alert, however many passes.
    site.passes("1m", 3);
    let alerts = site.ok(&["history", "--kind", "alert"]);
    assert_eq!(
        alerts.matches("not-ready: the readiness check").count(),
        1,
        "{alerts}"
    );

    site.ok(&["sim", "fault", "memory-ok", B]);
    site.ok(&["sim", "fault", "licence-valid", B]);
    site.passes("1m", 6);
    assert_eq!(site.condition_of("FailoverReady")["status"], "True");
    let alerts = site.ok(&["history", "--kind", "alert"]);
    assert!(
        alerts.contains("the readiness check found nothing lacking for a failover"),
        "{alerts}"
    );
}
