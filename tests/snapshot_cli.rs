//! Snapshots of the replica's data, through the real binary on the lab: taken on schedule
//! and shown with their ages, a person's failover to one, and an automatic failover that
//! falls back to the newest good one when the target's data is not good.

use serde_json::Value;

use crate::support::cli::Site;
use crate::support::{A, B};

/// The guide's site with a snapshot every 10 minutes, three kept; `on_bad_data` for the
/// failover; converged, then 40 minutes on: three snapshots, all good.
fn with_snapshots(mode: &str, on_bad_data: &str) -> Site {
    let site = Site::new(mode);
    site.edit(
        "  failover:\n",
        "  snapshots:\n    every: 10m\n    keep: 3\n  failover:\n",
    );
    site.edit(
        &format!("    mode: {mode}\n"),
        &format!("    mode: {mode}\n    onBadData: {on_bad_data}\n"),
    );
    site.converge();
    site.passes("10m", 4);
    site
}

fn snapshots(site: &Site) -> Vec<Value> {
    site.status()["sites"][0]["snapshots"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The id of the newest snapshot whose data was good.
fn newest_good(site: &Site) -> String {
    snapshots(site)
        .into_iter()
        .find(|s| s["good"] == true)
        .expect("a good snapshot")["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn snapshots_should_be_taken_on_schedule_and_shown_with_their_ages() {
    let site = with_snapshots("manual", "wait");
    let all = snapshots(&site);
    assert_eq!(all.len(), 3, "three kept: {all:?}");
    let ages: Vec<u64> = all.iter().map(|s| s["age_s"].as_u64().unwrap()).collect();
    assert!(
        ages.windows(2).all(|w| w[0] < w[1]),
        "newest first: {ages:?}"
    );
    assert_eq!(ages[1] - ages[0], 600, "ten minutes apart: {ages:?}");
    assert!(all.iter().all(|s| s["good"] == true), "{all:?}");
    let text = site.ok(&["status"]);
    assert!(
        text.contains("Snapshots") && text.contains("3 kept"),
        "{text}"
    );
    // Bad data: the next snapshot records it, and status names the newest good one.
    site.ok(&["sim", "fault", "target-data-bad"]);
    site.passes("10m", 1);
    let all = snapshots(&site);
    assert_eq!(all[0]["good"], false, "{all:?}");
    let text = site.ok(&["status"]);
    assert!(text.contains("(data not good); newest good"), "{text}");
}

#[test]
fn a_person_should_fail_over_to_the_newest_good_snapshot_when_the_data_is_bad() {
    let site = with_snapshots("manual", "wait");
    site.ok(&["sim", "fault", "target-data-bad"]);
    site.passes("10m", 1);
    let good = newest_good(&site);
    site.ok(&["sim", "fault", "host-down", A]);
    site.passes("30s", 12);
    // A snapshot that does not exist is refused, listing those that do.
    let out = site.run(&["failover", "hq", "--snapshot", "no-such-id", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no snapshot \"no-such-id\"") && err.contains(&good),
        "{err}"
    );
    let lost_before = site.show()["events"]["lost"].as_u64().unwrap();
    let out = site.ok(&["failover", "hq", "--snapshot", "latest-good", "--yes"]);
    assert!(out.contains(&format!("to snapshot {good}")), "{out}");
    assert_eq!(site.failovers(), 1);
    site.passes("30s", 6);
    let show = site.show();
    assert_eq!(show["job"]["activity"], "failed-over", "{show}");
    assert!(
        show["events"]["lost"].as_u64().unwrap() > lost_before,
        "what the replica took after the snapshot is lost: {show}"
    );
    let history = site.ok(&["history"]);
    assert!(
        history.contains("galaxy-ha failover hq --snapshot latest-good"),
        "{history}"
    );
}

#[test]
fn an_automatic_failover_should_fall_back_to_the_newest_good_snapshot_only_when_allowed() {
    // onBadData: wait — bad data holds the failover, and the alert says why.
    let site = with_snapshots("automatic", "wait");
    site.ok(&["sim", "fault", "target-data-bad"]);
    site.passes("10m", 1);
    site.ok(&["sim", "fault", "host-down", A]);
    let log = site.passes("30s", 14);
    assert_eq!(site.failovers(), 0, "{log}");
    assert!(log.contains("the target data state is not OK"), "{log}");

    // onBadData: snapshot — the failover goes to the newest good snapshot, and says so.
    let site = with_snapshots("automatic", "snapshot");
    site.ok(&["sim", "fault", "target-data-bad"]);
    site.passes("10m", 1);
    let good = newest_good(&site);
    site.ok(&["sim", "fault", "host-down", A]);
    let log = site.apply_until("10s", 60, |s| s.failovers() > 0);
    assert_eq!(site.failovers(), 1, "{log}");
    assert!(
        log.contains(&format!("the failover goes to snapshot {good}")),
        "{log}"
    );
    let intent = site
        .journal()
        .into_iter()
        .find(|e| e["kind"] == "failover" && e["event"] == "intent")
        .expect("the failover's intent");
    assert_eq!(intent["op"]["snapshot"], good.as_str(), "{intent}");
    assert_eq!(intent["op"]["target"], B);
}
