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

    // A drill, started and ended through the controller.
    let out = c.cli(&["failover", "hq", "--test", "--yes"]);
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
            "galaxy-ha failover hq --test",
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
