//! The commit window after a failover, through the real binary on the lab: replication held
//! until the commit, a commit by command, by the window and by the manifest, and a rollback.

use serde_json::Value;

use crate::support::cli::Site;
use crate::support::{A, B};

/// An automatic failover from A to B, A still down: the job shows failed over.
fn failed_over_with_a_away() -> Site {
    let site = Site::new("automatic");
    site.converge();
    site.ok(&["sim", "fault", "host-down", A]);
    site.apply_until("10s", 60, failed_over);
    assert!(failed_over(&site), "{}", site.show());
    site
}

/// [`failed_over_with_a_away`], then A back and answering.
fn failed_over_with_a_back() -> Site {
    let site = failed_over_with_a_away();
    site.ok(&["sim", "fault", "host-up", A]);
    site
}

fn failed_over(site: &Site) -> bool {
    site.show()["job"]["activity"] == "failed-over"
}

fn job(site: &Site) -> Value {
    site.show()["job"].clone()
}

fn status(site: &Site) -> Value {
    site.status()["sites"][0].clone()
}

#[test]
fn replication_should_wait_for_the_commit_window_and_resume_when_it_ends() {
    let site = failed_over_with_a_back();
    let failover_at: jiff::Timestamp = status(&site)["last_failover"]["at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // Fifty minutes of passes with A answering: the failed-over job stays, A's VM untouched.
    let log = site.passes("5m", 10);
    assert!(
        !log.contains("create job"),
        "resumed inside the window:\n{log}"
    );
    assert_eq!(job(&site)["name"], "GCSServer to GCSHOSTB");
    let s = status(&site);
    let until: jiff::Timestamp = s["commit_until"].as_str().unwrap().parse().unwrap();
    assert_eq!(until.duration_since(failover_at).as_secs(), 3600, "{s}");
    assert!(
        s["verdict"]
            .as_str()
            .unwrap()
            .contains("the failover is not committed"),
        "{s}"
    );
    let text = site.ok(&["status"]);
    assert!(text.contains("Failover commit"), "{text}");
    assert!(text.contains("galaxy-ha failover hq --commit"), "{text}");
    // The window ends: replication resumes on its own, in the first pass after it.
    let log = site.passes("5m", 3);
    assert!(
        log.contains("create job \"GCSServer to GCSHOSTA\""),
        "{log}"
    );
    let memory = site.ok(&["history", "--format", "json"]);
    assert!(memory.contains("rule 8 (resume replication)"), "{memory}");
    site.converge();
    assert_eq!(job(&site)["source"], B);
    assert!(status(&site)["commit_until"].is_null());
    assert_eq!(site.failovers(), 1);
}

#[test]
fn a_commit_by_command_should_resume_replication_at_once() {
    let site = failed_over_with_a_back();
    site.ok(&["apply", "--yes"]);
    assert_eq!(job(&site)["name"], "GCSServer to GCSHOSTB");
    let out = site.ok(&["failover", "hq", "--commit", "--yes"]);
    assert!(out.contains("Failover committed"), "{out}");
    assert!(
        out.contains("create job \"GCSServer to GCSHOSTA\""),
        "the commit's pass resumes: {out}"
    );
    assert_eq!(job(&site)["name"], "GCSServer to GCSHOSTA");
    // Committed: there is nothing left to commit or roll back.
    let out = site.run(&["failover", "hq", "--rollback", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to roll back the failover of site hq"),
        "{err}"
    );
    let history = site.ok(&["history"]);
    assert!(
        history.contains("galaxy-ha failover hq --commit"),
        "{history}"
    );
}

#[test]
fn naming_the_new_live_host_in_the_manifest_should_commit_the_failover() {
    let site = failed_over_with_a_back();
    site.ok(&["apply", "--yes"]);
    assert!(!status(&site)["commit_until"].is_null());
    site.edit("primary: GCSHOSTA", "primary: GCSHOSTB");
    let out = site.ok(&["apply", "--yes"]);
    assert!(
        out.contains("create job \"GCSServer to GCSHOSTA\""),
        "{out}"
    );
}

#[test]
fn a_commit_while_the_old_host_is_away_should_be_kept_for_its_return() {
    let site = failed_over_with_a_away();
    site.ok(&["apply", "--yes"]);
    let out = site.ok(&["failover", "hq", "--commit", "--yes"]);
    assert!(out.contains("Failover committed"), "{out}");
    // Rolling back needs A: refused, and A stays untouched.
    site.ok(&["sim", "fault", "host-up", A]);
    let out = site.ok(&["apply", "--yes"]);
    assert!(
        out.contains("create job \"GCSServer to GCSHOSTA\""),
        "{out}"
    );
}

#[test]
fn a_rollback_inside_the_window_should_bring_system_galaxy_back_and_recreate_the_job() {
    let site = failed_over_with_a_back();
    site.passes("10m", 2);
    // What a rollback loses, said before anything is done.
    let out = site.ok(&["failover", "hq", "--rollback", "--yes"]);
    assert!(out.contains("Rollback started"), "{out}");
    assert!(
        out.contains(&format!(
            "shut down VM \"GCSServer_Replica_GCSHOSTB\" on {B} cleanly"
        )),
        "{out}"
    );
    let alerts = site.ok(&["history"]);
    assert!(
        alerts.contains("since the failover at") && alerts.contains("is lost"),
        "{alerts}"
    );
    assert_eq!(status(&site)["rollback_to"], A);
    let mut log = String::new();
    for _ in 0..12 {
        log.push_str(&site.ok(&["apply", "--yes"]));
        let show = site.show();
        let running: Vec<_> = show["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["vm_state"] == "running")
            .collect();
        assert!(running.len() <= 1, "System Galaxy on both hosts: {show}");
        site.ok(&["sim", "advance", "10s"]);
    }
    assert!(
        log.contains(&format!("start VM \"GCSServer\" on {A}")),
        "{log}"
    );
    site.converge();
    let s = status(&site);
    assert_eq!(s["live_host"], A, "{s}");
    assert!(s["rollback_to"].is_null(), "{s}");
    let j = job(&site);
    assert_eq!(
        (j["source"].as_str(), j["target"].as_str()),
        (Some(A), Some(B))
    );
    assert_eq!(site.condition("ManifestStale"), "False");
    let history = site.ok(&["history", "--kind", "rollback"]);
    for words in [
        "galaxy-ha failover hq --rollback",
        "rule 8b (rollback)",
        "the rollback finished",
    ] {
        assert!(history.contains(words), "{words:?} missing:\n{history}");
    }
    assert_eq!(site.failovers(), 1, "a rollback is not a failover");
}

#[test]
fn a_rollback_whose_clean_shutdown_fails_should_stop_with_system_galaxy_still_running() {
    let site = failed_over_with_a_back();
    site.ok(&["apply", "--yes"]);
    site.ok(&["sim", "fault", "shutdown-fails", B]);
    let out = site.run(&["failover", "hq", "--rollback", "--yes"]);
    let log = String::from_utf8_lossy(&out.stderr).to_string();
    let mut all = log.clone();
    for _ in 0..4 {
        all.push_str(&String::from_utf8_lossy(
            &site.run(&["apply", "--yes"]).stdout,
        ));
        site.ok(&["sim", "advance", "10s"]);
    }
    let show = site.show();
    assert_eq!(vm_state(&show, B), "running", "{show}\n{all}");
    assert_eq!(vm_state(&show, A), "off", "{show}");
    let alerts = site.ok(&["history"]);
    assert!(
        alerts.contains("the rollback from GCSHOSTB to GCSHOSTA stopped"),
        "{alerts}"
    );
    let s = status(&site);
    assert!(s["rollback_to"].is_null(), "{s}");
    assert!(
        !s["commit_until"].is_null(),
        "the commit is still open: {s}"
    );
}

#[test]
fn commit_and_rollback_should_be_refused_without_a_failover() {
    let site = Site::new("manual");
    site.converge();
    for flag in ["--commit", "--rollback"] {
        let out = site.run(&["failover", "hq", flag, "--yes"]);
        assert_eq!(out.status.code(), Some(1), "{flag}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not failed over"), "{flag}: {err}");
    }
    let out = site.run(&["failover", "hq", "--commit", "--rollback", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "clap refuses both at once");
}

fn vm_state(show: &Value, host: &str) -> String {
    show["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == host)
        .unwrap()["vm_state"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}
