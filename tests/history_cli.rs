//! `galaxy-ha history`: the journal as a timeline, with manifest changes and their commits.

use std::process::Command;

use crate::support::A;
use crate::support::cli::Site;

fn git(site: &Site, args: &[&str]) {
    let ok = Command::new("git")
        .arg("-C")
        .arg(site.dir.path())
        .args([
            "-c",
            "user.name=Admin",
            "-c",
            "user.email=admin@example.com",
        ])
        .args(args)
        .output()
        .unwrap()
        .status
        .success();
    assert!(ok, "git {args:?}");
}

#[test]
fn history_should_show_failover_alerts_and_manifest_changes_with_their_commit() {
    let site = Site::new("automatic");
    git(&site, &["init", "-q"]);
    git(&site, &["add", "hq.yaml"]);
    git(&site, &["commit", "-q", "-m", "hq: first manifest"]);
    site.converge();
    site.ok(&["sim", "fault", "host-down", A]);
    site.passes("10s", 33);
    site.edit("primary: GCSHOSTA", "primary: GCSHOSTB");
    git(
        &site,
        &["commit", "-q", "-am", "hq: acknowledge the failover"],
    );
    site.ok(&["apply", "--yes"]);
    let commit = String::from_utf8(
        Command::new("git")
            .arg("-C")
            .arg(site.dir.path())
            .args(["log", "-1", "--format=%h"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();

    let text = site.ok(&["history"]);
    for want in [
        "create job \"GCSServer to GCSHOSTB\"",
        "alert      failure-detected",
        "failover   fail over job \"GCSServer to GCSHOSTB\" to GCSHOSTB",
        "spec.primary: GCSHOSTA → GCSHOSTB",
        &format!("git commit {commit} by Admin <admin@example.com>"),
    ] {
        assert!(text.contains(want), "history lacks {want:?}:\n{text}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&site.ok(&["history", "--format", "json"])).unwrap();
    assert_eq!(json["format_version"], 1);
    let cats: Vec<&str> = json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["category"].as_str().unwrap())
        .collect();
    assert_eq!(cats.iter().filter(|c| **c == "failover").count(), 1);
    assert!(cats.contains(&"manifest") && cats.contains(&"alert") && cats.contains(&"baseline"));

    let recent = site.ok(&["history", "--since", "1m"]);
    assert!(recent.contains("spec.primary"), "{recent}");
    assert!(
        !recent.contains("create job"),
        "--since keeps only the last minute:\n{recent}"
    );
}

#[test]
fn history_should_skip_damaged_journal_lines_and_say_so() {
    let site = Site::new("manual");
    site.ok(&["apply", "--yes"]);
    let journal = site.dir.path().join(".galaxy-ha/sites/hq/journal.jsonl");
    let mut text = std::fs::read_to_string(&journal).unwrap();
    text.push_str("{\"torn\": \n garbage\n");
    std::fs::write(&journal, text).unwrap();
    let out = site.run(&["history"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 damaged journal line(s) skipped"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("create job"));
}

#[test]
fn status_watch_should_redraw_in_place_and_follow_the_lab() {
    let site = Site::new("manual");
    site.converge();
    let mut child = Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
        .args(["status", "--watch", "--interval", "100ms", "-m"])
        .arg(site.manifest())
        .env_remove("GALAXY_HA_STATE_DIR")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(600));
    site.ok(&["sim", "fault", "job-stop"]);
    std::thread::sleep(std::time::Duration::from_millis(600));
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let frames = text.matches("\x1b[2J").count();
    assert!(frames >= 3, "redrawn {frames} times");
    let last = text.rsplit("\x1b[2J").next().unwrap();
    assert!(
        last.contains("Activity                Stopped"),
        "the last frame shows the lab now:\n{last}"
    );
    assert!(
        text.contains("Activity                Protecting"),
        "an earlier frame showed it protecting"
    );
}

#[test]
fn status_should_count_the_alerts_waiting_in_the_outbox() {
    let site = Site::new("manual");
    site.converge();
    let email: galaxy_ha::manifest::spec::EmailSpec = serde_saphyr::from_str(
        "smtp: {server: 127.0.0.1, port: 2525, security: none}\nfrom: ha@example.com\nto: [ops@example.com]\n",
    )
    .unwrap();
    let alert = galaxy_ha::alert::Alert {
        site: "hq".into(),
        kind: galaxy_ha::plan::AlertKind::LinkDown,
        severity: galaxy_ha::model::operation::Severity::Warning,
        key: "link/GCSHOSTB/GCSHOSTA".into(),
        message: "the link between the hosts is down".into(),
        at: "2026-01-05T08:00:00Z".parse().unwrap(),
        action: None,
    };
    let outbox = galaxy_ha::alert::outbox::Outbox::new(&site.dir.path().join(".galaxy-ha"));
    outbox.push(&alert, &email).unwrap();
    assert_eq!(site.status()["sites"][0]["alerts_pending"], 1);
    assert!(site.ok(&["status"]).contains("Alerts pending delivery: 1"));
}
