//! `galaxy-ha failover` while `galaxy-ha run` holds the state dir: the request goes to the
//! running controller, which carries it out on its next pass, journals who asked and
//! answers; the command waits and reports. Never a second controller, never "use another
//! --state-dir".

use std::time::Duration;

use crate::run_support::Controller;

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_drill_and_a_failover_approved_while_the_controller_runs_are_carried_out_by_it() {
    let c = Controller::start("manual", 60);
    c.wait_site("protecting", Duration::from_secs(60), |s| {
        s["activity"] == "Protecting"
    });

    // `apply` asks the controller for a pass now and reports what it did.
    let out = c.cli(&["apply", "--yes", "--wait"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("asks it for a pass now"), "{said}");
    assert!(said.contains("Site hq: 0 applied, 0 failed"), "{said}");
    assert!(said.contains("Site hq: converged"), "{said}");

    // A drill, started and ended through the controller (held: once verified it would end
    // by itself).
    let out = c.cli(&["failover", "hq", "--test", "--hold", "--yes"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("the request goes to it"), "{said}");
    assert!(said.contains("Test failover started"), "{said}");
    assert!(!said.contains("--state-dir"), "{said}");
    c.wait_site("drill running", Duration::from_secs(30), |s| {
        s["drill"]["running"] == true
    });
    let out = c.cli(&["failover", "hq", "--test", "--end", "--yes"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("Test failover ended"), "{said}");
    c.wait_site("drill ended", Duration::from_secs(30), |s| {
        s["drill"]["running"] == false
    });

    // The live host fails; manual mode waits for a person, who approves from the CLI.
    c.host_down("GCSHOSTA");
    c.wait_site("waiting for approval", Duration::from_secs(60), |s| {
        s["approval"].is_string()
    });
    // As the alert says it: no -m, the controller's record names the manifests.
    let out = c.cli_as_alert(&["failover", "hq", "--yes"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("Failover started"), "{said}");
    c.wait_site("failed over to GCSHOSTB", Duration::from_secs(60), |s| {
        s["live_host"] == "GCSHOSTB"
    });

    // The journal says who asked, before what it led to.
    let out = c.cli(&["history", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let items: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = items["events"].as_array().expect("history events");
    let asked: Vec<&serde_json::Value> = items
        .iter()
        .filter(|i| {
            i["outcome"]
                .as_str()
                .is_some_and(|o| o.starts_with("asked by "))
        })
        .collect();
    let whats: Vec<&str> = asked.iter().filter_map(|i| i["what"].as_str()).collect();
    assert_eq!(
        whats,
        [
            "galaxy-ha apply --site hq",
            "galaxy-ha failover hq --test --hold",
            "galaxy-ha failover hq --test --end",
            "galaxy-ha failover hq"
        ],
        "{items:#?}"
    );
    let failover_at = items
        .iter()
        .position(|i| i["category"] == "failover" && i["outcome"] == "done")
        .expect("the failover is in the history");
    let asked_at = items
        .iter()
        .position(|i| i["what"] == "galaxy-ha failover hq")
        .unwrap();
    assert!(asked_at < failover_at, "{items:#?}");
    // An account that may read both rights' tokens (here the controller's own) asks with the
    // operate right unless told otherwise, and the journal says so.
    let journal = std::fs::read_to_string(c.tmp.path().join("s/sites/hq/journal.jsonl")).unwrap();
    let rights: Vec<serde_json::Value> = journal
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "asked")
        .map(|e| e["right"].clone())
        .collect();
    assert_eq!(rights.len(), 4, "{journal}");
    assert!(rights.iter().all(|r| r == "operate"), "{rights:?}");

    // A request the controller refuses comes back with why: nothing runs to fail over to.
    let out = c.cli(&["failover", "hq", "--test", "--end", "--yes"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("no test failover"), "{}", text(&out));
}

#[test]
fn a_command_given_no_manifests_where_no_controller_ran_says_how_to_name_them() {
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
        .args(["failover", "hq", "--yes", "--state-dir"])
        .arg(tmp.path())
        .output()
        .unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("-m PATH"), "{said}");
    assert!(said.contains("service.json"), "{said}");
    // For monitoring, the same is UNKNOWN.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
        .args(["status", "--check", "--state-dir"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).starts_with("GALAXY-HA UNKNOWN - no manifests given"),
        "{}",
        text(&out)
    );
}

/// The body of a message, its quoted-printable soft line breaks undone.
fn body(message: &str) -> String {
    message.replace("=\r\n", "").replace("=\n", "")
}

#[test]
fn maintenance_then_a_fresh_countdown_then_resume_on_approval_while_the_controller_runs() {
    let port = crate::run_support::free_port();
    let mail = tempfile::tempdir().unwrap();
    let sink = crate::run_support::SmtpSink::start(port, mail.path());
    let spec = format!(
        "  resume: approve\n  notifications:\n    email:\n      smtp:\n        server: 127.0.0.1\n        port: {port}\n        security: none\n      from: galaxy-ha@example.test\n      to: [ops@example.test]\n      include: [information, warning, error]\n"
    );
    let c = Controller::start_with("automatic", 60, &spec);
    c.wait_site("protecting", Duration::from_secs(60), |s| {
        s["activity"] == "Protecting"
    });
    let has_mail = |words: &str| sink.messages().iter().any(|m| body(m).contains(words));

    // In maintenance the live host fails: the controller watches and says so, and does not
    // fail over.
    c.edit_manifest(|m| m + "  maintenance:\n    reason: patching the hosts\n");
    c.wait_site("in maintenance", Duration::from_secs(20), |s| {
        s["maintenance"].is_string()
    });
    c.host_down("GCSHOSTA");
    crate::run_support::eventually(
        Duration::from_secs(60),
        "an alert that the site would fail over but is in maintenance",
        || has_mail("the site is in maintenance: patching the hosts"),
    );
    assert_eq!(
        c.wait_site("still on A", Duration::from_secs(5), |_| true)["live_host"],
        "GCSHOSTA"
    );

    // Maintenance ends: a fresh countdown of the monitor's threshold (5 minutes), then the
    // failover.
    c.edit_manifest(|m| m.replace("  maintenance:\n    reason: patching the hosts\n", ""));
    c.wait_site("failed over to GCSHOSTB", Duration::from_secs(60), |s| {
        s["live_host"] == "GCSHOSTB"
    });
    let out = c.cli(&["history", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let events = doc["events"].as_array().expect("history events");
    let at = |pred: &dyn Fn(&serde_json::Value) -> bool| -> jiff::Timestamp {
        let e = events
            .iter()
            .rfind(|e| pred(e))
            .unwrap_or_else(|| panic!("{doc:#}"));
        e["at"].as_str().unwrap().parse().unwrap()
    };
    let ended = at(&|e| {
        e["what"]
            .as_str()
            .is_some_and(|w| w.starts_with("manifest") && w.ends_with("changed"))
    });
    let failed_over = at(&|e| {
        e["what"]
            .as_str()
            .is_some_and(|w| w.starts_with("fail over job"))
    });
    let waited = failed_over.duration_since(ended);
    assert!(
        waited >= jiff::SignedDuration::from_mins(5),
        "the failover waited a fresh countdown after maintenance ended ({waited:?}): {doc:#}"
    );

    // The old live host is back: under `resume: approve` nothing is recreated until a
    // person runs the command the alert gives, as written.
    c.host_up("GCSHOSTA");
    let site = c.wait_site("waiting for resume", Duration::from_secs(60), |s| {
        s["approval"]
            .as_str()
            .is_some_and(|a| a.contains("galaxy-ha resume hq"))
    });
    assert_eq!(site["job"]["source"], "GCSHOSTA", "{site}");
    crate::run_support::eventually(
        Duration::from_secs(30),
        "the failover-finished alert naming the resume command",
        || has_mail("galaxy-ha resume hq"),
    );
    let out = c.cli_as_alert(&["resume", "hq", "--yes"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    c.wait_site("protecting from GCSHOSTB", Duration::from_secs(120), |s| {
        s["activity"] == "Protecting" && s["job"]["source"] == "GCSHOSTB"
    });
    let history = text(&c.cli(&["history"]));
    assert!(history.contains("asked by "), "{history}");
    crate::run_support::eventually(
        Duration::from_secs(30),
        "the replication-resumed alert",
        || {
            sink.messages().iter().any(|m| {
                crate::run_support::header(m, "Subject")
                    .is_some_and(|s| s.contains("replication-resumed"))
            })
        },
    );
}
