//! The 3 a.m. view through the real binary on the simulated lab: `status` and
//! `status --check` at each stage of a failure (healthy, live host down, condition met,
//! approved, failed over, resumed, maintenance, cannot observe), and a closed pipe.

use std::io::BufRead;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::cli::Site;

/// `status --check`: its exit code and its one line.
fn check(site: &Site) -> (i32, String) {
    let out = site.run(&["status", "--check"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(text.lines().count(), 1, "one line: {text:?}");
    (out.status.code().unwrap(), text.trim_end().to_string())
}

fn first(site: &Site) -> Value {
    site.status()["sites"][0].clone()
}

fn condition<'a>(s: &'a Value, kind: &str) -> &'a Value {
    s["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == kind)
        .unwrap()
}

#[test]
fn status_and_check_tell_each_stage_of_a_failure_in_manual_mode() {
    let site = Site::new("manual");
    site.converge();

    // Healthy.
    let (code, line) = check(&site);
    assert_eq!(code, 0, "{line}");
    assert!(
        line.starts_with(
            "GALAXY-HA OK - hq: System Galaxy running on GCSHOSTA, protected (replicating to GCSHOSTB) | hq_replication_queue="
        ),
        "{line}"
    );
    assert!(line.contains(" hq_recovery_point_latency="), "{line}");
    let s = first(&site);
    assert_eq!(s["check"], "ok");
    assert_eq!(s["failover_mode"], "manual");
    assert_eq!(s["live_host_answers"], true);
    assert_eq!(s["running_on"], serde_json::json!(["GCSHOSTA"]));
    assert_eq!(s["hosts"][0]["name"], "GCSHOSTA");
    assert_eq!(s["hosts"][0]["vms"][0]["name"], "GCSServer");
    assert_eq!(s["hosts"][0]["vms"][0]["state"], "Running");
    assert_eq!(
        s["hosts"][1]["vms"][0]["name"],
        "GCSServer_Replica_GCSHOSTB"
    );
    assert_eq!(s["hosts"][1]["vms"][0]["state"], "Off");
    assert_eq!(condition(&s, "FailoverReady")["status"], "True");
    let text = site.ok(&["status"]);
    assert!(
        text.starts_with("hq: System Galaxy running on GCSHOSTA, protected"),
        "the verdict comes first:\n{text}"
    );
    assert!(
        text.contains("Failover mode           manual (wait for user to initiate failover)"),
        "{text}"
    );

    // The live host fails: System Galaxy runs nowhere, the monitor counts down.
    site.ok(&["sim", "fault", "host-down", "GCSHOSTA"]);
    site.passes("30s", 4);
    let (code, line) = check(&site);
    assert_eq!(code, 2, "{line}");
    assert!(
        line.contains("hq: System Galaxy DOWN — running on no host since "),
        "{line}"
    );
    assert!(
        line.contains("condition for failure in ")
            && line.contains("then it waits for your approval (failover mode manual)"),
        "{line}"
    );
    let s = first(&site);
    assert_eq!(
        s["live_host"], "GCSHOSTA",
        "the live host as last established"
    );
    assert_eq!(s["live_host_answers"], false);
    assert_eq!(s["running_on"], serde_json::json!([]));
    assert!(s["down_since"].is_string(), "{s}");
    assert!(s["hosts"][0]["silent_since"].is_string(), "{s}");
    assert!(s["condition_met_at"].is_null());
    assert_eq!(
        condition(&s, "FailoverReady")["status"],
        "True",
        "a failover would work now: {s}"
    );
    let text = site.ok(&["status"]);
    assert!(
        text.contains(
            "Live host               GCSHOSTA (as last established), NOT ANSWERING since"
        ),
        "{text}"
    );

    // The condition for failure is met: the site waits for a person, and says how.
    site.passes("30s", 8);
    let s = first(&site);
    let met = s["condition_met_at"].as_str().expect("condition met");
    let command = format!("galaxy-ha failover hq -m {}", site.manifest().display());
    assert_eq!(s["approval"], command.as_str(), "{s}");
    let (code, line) = check(&site);
    assert_eq!(code, 2);
    assert!(
        line.contains(&format!("waiting for your approval: {command}")),
        "{line}"
    );
    let text = site.ok(&["status"]);
    assert!(text.contains("Condition for failure   met at "), "{text}");
    assert!(!text.contains("condition for failure in 0:00:00"), "{text}");
    assert!(met.parse::<jiff::Timestamp>().is_ok(), "{met}");

    // A person approves: failover-started is raised on this path too.
    site.ok(&["failover", "hq", "--yes"]);
    let alerts = site.ok(&["history", "--kind", "alert"]);
    assert!(alerts.contains("failover-started"), "{alerts}");
    site.passes("30s", 4);
    let s = first(&site);
    assert_eq!(s["running_on"], serde_json::json!(["GCSHOSTB"]), "{s}");
    assert_eq!(s["check"], "critical", "running unprotected: {s}");
    let vms: Vec<&str> = s["hosts"][1]["vms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert!(vms.contains(&"GCSServer_Replica_GCSHOSTB"), "{vms:?}");

    // The old host returns: replication resumes, announced once it protects.
    site.ok(&["sim", "fault", "host-up", "GCSHOSTA"]);
    site.converge();
    let (code, line) = check(&site);
    assert_eq!(
        code, 1,
        "protected, but the manifest still names GCSHOSTA: {line}"
    );
    assert!(
        line.contains("System Galaxy running on GCSHOSTB, protected (replicating to GCSHOSTA) — ManifestStale: "),
        "{line}"
    );
    site.edit("primary: GCSHOSTA", "primary: GCSHOSTB");
    site.ok(&["apply", "--yes"]);
    let (code, line) = check(&site);
    assert_eq!(code, 0, "{line}");
    let history: Value = serde_json::from_str(&site.ok(&["history", "--format", "json"])).unwrap();
    let events = history["events"].as_array().unwrap();
    let at = |pred: &dyn Fn(&Value) -> bool| {
        events.iter().find(|e| pred(e)).map(|e| {
            e["at"]
                .as_str()
                .unwrap()
                .parse::<jiff::Timestamp>()
                .unwrap()
        })
    };
    let created =
        at(&|e| e["category"] == "resume" && e["what"].as_str().unwrap().starts_with("create job"))
            .expect("the new job was created");
    let resumed = at(&|e| {
        e["category"] == "alert"
            && e["what"]
                .as_str()
                .unwrap()
                .starts_with("replication-resumed")
    })
    .expect("replication-resumed was raised");
    assert!(
        resumed > created,
        "raised when the new job protects, not when it is created"
    );
}

#[test]
fn maintenance_warns_and_what_cannot_be_observed_is_unknown() {
    let site = Site::new("manual");
    site.converge();
    let manifest = std::fs::read_to_string(site.manifest()).unwrap();
    std::fs::write(
        site.manifest(),
        format!("{manifest}  maintenance:\n    reason: patching GCSHOSTB\n"),
    )
    .unwrap();
    let (code, line) = check(&site);
    assert_eq!(code, 1, "{line}");
    assert!(
        line.contains("in maintenance (patching GCSHOSTB): the controller acts on nothing"),
        "{line}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
        .args(["status", "--check", "-m"])
        .arg(site.dir.path().join("nowhere.yaml"))
        .env_remove("GALAXY_HA_STATE_DIR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(line.starts_with("GALAXY-HA UNKNOWN - "), "{line}");
}

#[test]
fn an_invalid_edit_shows_the_site_on_its_last_good_manifest_as_a_warning() {
    let site = Site::new("manual");
    site.converge();
    let manifest = std::fs::read_to_string(site.manifest()).unwrap();
    std::fs::write(
        site.manifest(),
        manifest.replace("primary: GCSHOSTA", "primary: GCSHOSTC"),
    )
    .unwrap();

    let out = site.run(&["status"]);
    assert_eq!(out.status.code(), Some(0));
    let (text, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        text.starts_with("hq: System Galaxy running on GCSHOSTA"),
        "{text}"
    );
    assert!(text.contains("ManifestInvalid"), "{text}");
    assert!(
        err.contains("last good manifest") && err.contains("GCSHOSTC"),
        "{err}"
    );
    let s = first(&site);
    let c = condition(&s, "ManifestInvalid");
    assert_eq!(c["status"], "True");
    assert!(
        c["message"].as_str().unwrap().contains("spec.primary"),
        "{c}"
    );
    assert_eq!(s["check"], "warning");
    let (code, line) = check(&site);
    assert_eq!(code, 1, "{line}");

    // Never applied: nothing to fall back on, and the status says so.
    let fresh = Site::with_yaml(&manifest.replace("primary: GCSHOSTA", "primary: GCSHOSTC"));
    let out = fresh.run(&["status"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("was never managed") && err.contains("spec.primary"),
        "{err}"
    );
    let (code, line) = check(&fresh);
    assert_eq!(code, 3, "{line}");
}

#[test]
fn a_closed_pipe_ends_status_watch_quietly() {
    let site = Site::new("manual");
    site.converge();
    let mut child = Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
        .args(["status", "--watch", "--interval", "50ms", "-m"])
        .arg(site.manifest())
        .env_remove("GALAXY_HA_STATE_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(
        line.contains("hq: System Galaxy running on GCSHOSTA"),
        "{line}"
    );
    drop(reader);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
}

#[test]
fn a_running_drill_shows_in_status_text_and_json() {
    let site = Site::new("manual");
    site.converge();
    let before = site.status();
    assert_eq!(before["sites"][0]["drill"]["running"], false, "{before}");
    site.ok(&["failover", "hq", "--test", "--yes"]);
    let s = site.status();
    let drill = &s["sites"][0]["drill"];
    assert_eq!(drill["running"], true, "{s}");
    assert_eq!(drill["host"], "GCSHOSTB", "{s}");
    assert_eq!(drill["replica"], "GCSServer_Replica_GCSHOSTB", "{s}");
    assert!(drill["started"].is_string(), "{s}");
    let text = site.ok(&["status"]);
    assert!(
        text.contains("running isolated on GCSHOSTB: GCSServer_Replica_GCSHOSTB, started "),
        "{text}"
    );
    // The person ends it; replication keeps protecting.
    let ended = site.ok(&["failover", "hq", "--test", "--end", "--yes"]);
    assert!(ended.contains("Test failover ended"), "{ended}");
    let s = site.status();
    assert_eq!(s["sites"][0]["drill"]["running"], false, "{s}");
    assert_eq!(s["sites"][0]["activity"], "Protecting", "{s}");
    let history = site.ok(&["history"]);
    assert!(
        history.contains("end the test failover of job \"GCSServer to GCSHOSTB\" on GCSHOSTB"),
        "{history}"
    );
    // Nothing left to end.
    let again = site.run(&["failover", "hq", "--test", "--end", "--yes"]);
    assert_eq!(again.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("no test failover of job"), "{stderr}");
    assert_eq!(
        site.code(&["failover", "hq", "--end", "--yes"]),
        2,
        "--end needs --test"
    );
}
