//! Scenario tests of the engine through the real binary on the simulated lab (docs/architecture.md, README).

use serde_json::Value;

use crate::support::cli::Site;
use crate::support::{A, B, manifest_yaml};

#[test]
fn fresh_lab_should_converge_and_then_plan_nothing() {
    let site = Site::new("manual");
    assert_eq!(site.code(&["plan"]), 2, "a fresh lab has changes pending");
    let out = site.ok(&["apply", "--yes", "--wait"]);
    assert!(out.contains("converged"), "{out}");
    assert_eq!(site.code(&["plan"]), 0, "converged: no changes");
    assert_eq!(site.condition("Protected"), "True");
    assert_eq!(site.condition("Ready"), "True");
    let job = &site.show()["job"];
    assert_eq!(job["source"], A);
    assert_eq!(job["target"], B);
}

#[test]
fn plan_json_should_have_the_documented_shape() {
    let site = Site::new("manual");
    let out = site.run(&["plan", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format_version"], 1);
    let action = &v["sites"][0]["actions"][0];
    for key in ["id", "kind", "description", "reason", "disruptive"] {
        assert!(!action[key].is_null(), "action lacks {key}: {action}");
    }
    assert_eq!(v["sites"][0]["name"], "hq");
}

#[test]
fn apply_without_a_terminal_should_refuse_unless_yes() {
    let site = Site::new("manual");
    let out = site.run(&["apply"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --yes"));
    assert_eq!(site.code(&["plan"]), 2, "nothing was applied");
}

#[test]
fn automatic_failover_should_come_after_the_threshold_and_within_one_interval() {
    let site = Site::new("automatic");
    site.converge();
    site.ok(&["sim", "fault", "host-down", A]);
    let failed_at = site.elapsed_s();
    let mut failover_at = None;
    for _ in 0..40 {
        site.ok(&["apply", "--yes"]);
        if site.failovers() > 0 {
            failover_at = Some(site.elapsed_s());
            break;
        }
        site.ok(&["sim", "advance", "10s"]);
    }
    let waited = failover_at.expect("failed over") - failed_at;
    assert!(
        (300..=310).contains(&waited),
        "failover {waited}s after the failure"
    );
    // More passes never make a second failover.
    site.passes("30s", 10);
    assert_eq!(site.failovers(), 1);
}

#[test]
fn manual_mode_should_alert_once_and_wait_for_the_failover_command() {
    let site = Site::new("manual");
    site.converge();
    site.ok(&["sim", "fault", "host-down", A]);
    let log = site.passes("30s", 16);
    assert_eq!(
        log.matches("alert=\"condition-met\"").count(),
        1,
        "one alert, not one per pass:\n{log}"
    );
    assert_eq!(site.failovers(), 0, "manual mode waits");
    let out = site.ok(&["failover", "hq", "--yes"]);
    assert!(out.contains("Failover started"), "{out}");
    assert_eq!(site.failovers(), 1);
    assert_eq!(site.show()["job"]["activity"], "failing-over");
}

#[test]
fn failover_should_refuse_while_synchronizing() {
    let site = Site::new("manual");
    site.ok(&["apply", "--yes"]);
    site.ok(&["sim", "advance", "4m"]);
    let out = site.run(&["failover", "hq", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Synchronizing"), "{err}");
    assert_eq!(site.failovers(), 0);
}

#[test]
fn test_failover_should_leave_the_job_protecting() {
    let site = Site::new("manual");
    site.converge();
    site.ok(&["failover", "hq", "--test", "--yes"]);
    let show = site.show();
    assert_eq!(show["job"]["activity"], "protecting");
    assert_eq!(show["failovers"], 0);
    let hb = show["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == B)
        .unwrap()
        .clone();
    assert_eq!(hb["vm_state"], "isolated", "{hb}");
    assert!(site.status()["sites"][0]["last_test_failover"].is_string());
}

#[test]
fn only_the_link_between_the_hosts_down_should_warn_and_not_fail_over() {
    let site = Site::new("automatic");
    site.converge();
    site.ok(&["sim", "fault", "link-down", A, B]);
    let log = site.passes("1m", 12);
    assert!(log.contains("link-down"), "{log}");
    assert_eq!(site.failovers(), 0);
}

#[test]
fn only_the_controller_link_to_the_live_host_down_should_not_fail_over() {
    let site = Site::new("automatic");
    site.converge();
    site.ok(&["sim", "fault", "link-down", "controller", A]);
    let log = site.passes("1m", 12);
    assert!(log.contains("link-down"), "{log}");
    assert_eq!(site.failovers(), 0);
}

/// The state of System Galaxy's VM on `host`, as `sim show --json` gives it.
fn vm_state(show: &serde_json::Value, host: &str) -> serde_json::Value {
    show["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == host)
        .unwrap()["vm_state"]
        .clone()
}

#[test]
fn system_galaxy_started_on_the_standby_should_be_fenced_in_the_next_pass() {
    let site = Site::new("automatic");
    site.converge();
    site.ok(&["sim", "fault", "vm-start", B]);
    let out = site.ok(&["apply", "--yes"]);
    assert!(out.contains("split-brain"), "{out}");
    let show = site.show();
    assert_eq!(vm_state(&show, A), "running");
    assert_ne!(vm_state(&show, B), "running");
    assert_eq!(site.failovers(), 0);
    // The fence explains itself: both hosts seen running it, and why GCSHOSTA keeps it.
    let history = site.ok(&["history"]);
    for words in [
        &format!("The controller: System Galaxy runs on {A} (votes to act)"),
        &format!("The controller: System Galaxy runs on {B} (votes to act)"),
        &format!("Memory: {A} is the live host since"),
        "Rule: rule 1 (fence split brain)",
    ] {
        assert!(history.contains(words), "{words:?} missing:\n{history}");
    }
}

#[test]
fn an_automatic_failover_should_explain_itself_in_history_and_in_its_alert() {
    let site = Site::new("automatic");
    site.converge();
    site.ok(&["sim", "fault", "host-down", A]);
    for _ in 0..40 {
        site.ok(&["apply", "--yes"]);
        if site.failovers() > 0 {
            break;
        }
        site.ok(&["sim", "advance", "10s"]);
    }
    assert_eq!(site.failovers(), 1);
    let history = site.ok(&["history"]);
    for words in [
        &format!(
            "The failover monitor on {B} (the link between the hosts): misses System Galaxy on {A}: "
        ),
        &format!("The controller: cannot reach {A}, the live host since "),
        &format!("The controller: reaches {B}, the standby host, where the replica is"),
        "Condition for failure: total time to failure 5m, met at ",
        "Target data state: good",
        "Recovery point latency: ",
        "Rule: rule 7 (live host failed): failover mode automatic",
        // The failover alert carries the same words.
        &format!("failing over to {B}. Why: The failover monitor on {B}"),
    ] {
        assert!(history.contains(words), "{words:?} missing:\n{history}");
    }
    let json = site.ok(&["history", "--format", "json"]);
    assert!(json.contains("Condition for failure: "), "{json}");
    // The journal keeps the views with their times: the condition met one threshold after
    // the monitor's first miss, and not after the failover was issued.
    let journal = site.journal();
    let intent = journal
        .iter()
        .find(|e| e["kind"] == "failover" && e["event"] == "intent")
        .expect("the failover's intent");
    let decision = &intent["decision"];
    assert_eq!(decision["views"].as_array().unwrap().len(), 3, "{decision}");
    assert_eq!(decision["target_data_good"], true);
    let at = |v: &Value| v.as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    let first_miss = at(&decision["views"][0]["since"]);
    let met = at(&decision["condition_met_at"]);
    assert_eq!(met.duration_since(first_miss).as_secs(), 300, "{decision}");
    assert!(met <= at(&intent["at"]), "{decision}");
}

#[test]
fn drifted_settings_should_be_corrected() {
    let yaml = manifest_yaml("manual")
        + "  notifications:\n    email:\n      smtp:\n        server: 127.0.0.1\n      from: ha@example.com\n      to: [ops@example.com]\n";
    let site = Site::with_yaml(&yaml);
    site.converge();
    site.ok(&["sim", "fault", "service-stop", B, "Double-Take"]);
    site.ok(&["sim", "fault", "port-close", A, "6320"]);
    site.ok(&["sim", "fault", "email-drift", B]);
    let out = site.run(&["plan"]);
    assert_eq!(out.status.code(), Some(2));
    let plan = String::from_utf8_lossy(&out.stdout);
    for want in [
        "start service \"Double-Take\" on GCSHOSTB",
        "open firewall port 6320/TCP on GCSHOSTA",
        "set e-mail notification on GCSHOSTB",
    ] {
        assert!(plan.contains(want), "plan lacks {want}:\n{plan}");
    }
    site.converge();
    assert_eq!(site.code(&["plan"]), 0);
}

#[test]
fn maintenance_should_do_nothing_not_even_fail_over() {
    let site = Site::new("automatic");
    site.converge();
    let yaml = std::fs::read_to_string(site.manifest()).unwrap()
        + "  maintenance:\n    reason: SQL Server patching\n";
    std::fs::write(site.manifest(), yaml).unwrap();
    site.ok(&["sim", "fault", "host-down", A]);
    site.ok(&["sim", "fault", "port-close", B, "6320"]);
    let log = site.passes("1m", 10);
    assert!(log.contains("maintenance"), "{log}");
    assert_eq!(site.failovers(), 0);
    let status = site.status();
    assert!(
        status["sites"][0]["conditions"]
            .to_string()
            .contains("SQL Server patching")
    );
    let plan = String::from_utf8_lossy(&site.run(&["plan"]).stdout).to_string();
    assert!(
        plan.contains("open firewall port 6320/TCP on GCSHOSTB"),
        "still planned: {plan}"
    );
}

#[test]
fn after_an_unplanned_failover_the_manifest_is_stale_and_nothing_fails_back() {
    let site = Site::new("automatic");
    site.converge();
    site.ok(&["sim", "fault", "host-down", A]);
    site.passes("10s", 40);
    assert_eq!(site.failovers(), 1);
    site.ok(&["sim", "fault", "host-up", A]);
    site.converge();
    assert_eq!(site.condition("ManifestStale"), "True");
    let status = site.status();
    assert_eq!(status["sites"][0]["live_host"], B);
    let stale = status["sites"][0]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "ManifestStale")
        .unwrap()["message"]
        .clone();
    assert!(
        stale
            .as_str()
            .unwrap()
            .contains("set spec.primary: GCSHOSTB"),
        "{stale}"
    );
    site.passes("10m", 6);
    assert_eq!(site.failovers(), 1, "never a failback nobody asked for");
    assert_eq!(site.status()["sites"][0]["live_host"], B);
}

#[test]
fn a_planned_switchover_should_lose_no_event() {
    let site = Site::new("manual");
    site.converge();
    site.ok(&["sim", "advance", "1h"]);
    site.edit("primary: GCSHOSTA", "primary: GCSHOSTB");
    // The plan shows the switchover whole; `apply --wait` reports every step that ran.
    let plan = String::from_utf8_lossy(&site.run(&["plan"]).stdout).into_owned();
    assert!(plan.contains("then: fail over job"), "{plan}");
    assert!(plan.contains("unprotected until"), "{plan}");
    // The figures: the lab timed the job's mirror; no switchover was measured yet.
    assert!(plan.contains("this job's mirror ran at"), "{plan}");
    assert!(
        plan.contains("no switchover of this site measured yet"),
        "{plan}"
    );
    let out = site.ok(&["apply", "--yes", "--wait", "--timeout", "2h"]);
    for step in [
        "applied: shut down VM",
        "applied: fail over job",
        "applied: delete job",
        "applied: create job",
    ] {
        assert!(out.contains(step), "{step}: {out}");
    }
    let show = site.show();
    assert_eq!(show["job"]["source"], B);
    assert_eq!(show["job"]["target"], A);
    assert_eq!(show["failovers"], 1);
    assert_eq!(show["events"]["lost"], 0, "{}", show["events"]);
    assert_eq!(site.condition("ManifestStale"), "False");
    // The way back expects the downtime this switchover had.
    site.edit("primary: GCSHOSTB", "primary: GCSHOSTA");
    let plan = String::from_utf8_lossy(&site.run(&["plan"]).stdout).into_owned();
    assert!(
        plan.contains("as the site's last switchover took"),
        "{plan}"
    );
}

/// Asks for a switchover to B through the manifest with the lab's `fault` on A's next clean
/// shutdown, and runs six passes 10 s apart; their output. A pass whose shutdown fails exits
/// non-zero, as any pass with a failed action does.
fn switchover_with(site: &Site, fault: &str) -> String {
    site.ok(&["sim", "fault", fault, A]);
    site.edit("primary: GCSHOSTA", "primary: GCSHOSTB");
    let mut log = String::new();
    for _ in 0..6 {
        let out = site.run(&["apply", "--yes"]);
        log.push_str(&String::from_utf8_lossy(&out.stdout));
        log.push_str(&String::from_utf8_lossy(&out.stderr));
        site.ok(&["sim", "advance", "10s"]);
    }
    log
}

#[test]
fn a_switchover_whose_clean_shutdown_fails_should_back_out_and_never_turn_the_vm_off() {
    let site = Site::new("manual");
    site.converge();
    let log = switchover_with(&site, "shutdown-fails");
    assert!(
        log.contains("did not shut down"),
        "the failure is shown: {log}"
    );
    assert!(log.contains("backed out"), "{log}");
    // One attempt: no retry of the shutdown, and never a turn-off to go on.
    assert_eq!(log.matches("  failed: shut down VM").count(), 1, "{log}");
    assert!(!log.contains("turn off"), "{log}");
    let show = site.show();
    assert_eq!(vm_state(&show, A), "running", "System Galaxy stays on {A}");
    assert_eq!(show["job"]["source"], A);
    assert_eq!(show["job"]["activity"], "protecting");
    assert_eq!(show["failovers"], 0);
    assert_eq!(show["events"]["lost"], 0, "{}", show["events"]);
    let history = site.ok(&["history"]);
    assert!(
        history.contains("switchover from GCSHOSTA to GCSHOSTB is backed out"),
        "{history}"
    );
    assert!(history.contains("ask again"), "{history}");
    // Status says why spec.primary is not the live host, and the back-out is not alerted
    // twice (no manifest-stale alert beside it).
    let stale = site.condition_of("ManifestStale");
    assert_eq!(stale["status"], "True", "{stale}");
    assert_eq!(stale["reason"], "SwitchoverBackedOut", "{stale}");
    assert!(
        stale["message"]
            .as_str()
            .unwrap()
            .contains("did not shut down"),
        "{stale}"
    );
    assert!(!history.contains("manifest-stale"), "{history}");
    // Asked again once the guest shuts down: the switchover goes through, without waiting
    // for the failed shutdown's back-off.
    let out = site.ok(&["failover", "hq", "--yes"]);
    assert!(out.contains("applied: fail over job"), "{out}");
    site.passes("30s", 2);
    assert_eq!(site.show()["job"]["source"], B);
    assert_eq!(site.failovers(), 1);
    assert_eq!(site.show()["events"]["lost"], 0);
}

#[test]
fn a_switchover_whose_shutdown_times_out_should_back_out_and_start_system_galaxy_again() {
    let site = Site::new("manual");
    site.converge();
    // Stop-VM gives up, yet the guest goes off: the switchover backs out and starts it again
    // where it ran, rather than fail over on a shutdown it could not confirm.
    let log = switchover_with(&site, "shutdown-times-out");
    assert!(log.contains("timed out"), "{log}");
    assert!(
        log.contains("applied: start VM \"GCSServer\" on GCSHOSTA"),
        "{log}"
    );
    assert!(log.contains("it is started again there"), "{log}");
    let show = site.show();
    assert_eq!(
        vm_state(&show, A),
        "running",
        "System Galaxy is back on {A}"
    );
    assert_ne!(vm_state(&show, B), "running");
    assert_eq!(show["job"]["source"], A);
    assert_eq!(show["failovers"], 0);
    assert_eq!(show["events"]["lost"], 0, "{}", show["events"]);
    let history = site.ok(&["history"]);
    assert!(
        history.contains("start VM \"GCSServer\" on GCSHOSTA [done]"),
        "{history}"
    );
}

#[test]
fn a_second_controller_on_the_same_state_dir_should_exit_1() {
    let site = Site::new("manual");
    let state = site.dir.path().join(".galaxy-ha");
    let _held = galaxy_ha::lock::StateLock::acquire(&state).unwrap();
    let out = site.run(&["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("only one controller may work on a state dir"),
        "{err}"
    );
}

#[test]
fn a_drill_running_when_the_live_host_fails_should_end_first_and_never_delay_the_failover() {
    let site = Site::new("automatic");
    site.converge();
    site.ok(&["failover", "hq", "--test", "--yes"]);
    site.ok(&["sim", "fault", "host-down", A]);
    // The lab's drill runs 10 minutes; the monitor's condition is met after 5.
    site.passes("10s", 33);
    assert_eq!(
        site.failovers(),
        1,
        "failed over within the drill's 10 minutes"
    );
    let history = site.ok(&["history"]);
    let ended = history
        .find("end the test failover of job")
        .unwrap_or_else(|| panic!("the drill was ended: {history}"));
    let failed_over = history
        .find("fail over job \"GCSServer to GCSHOSTB\" to GCSHOSTB")
        .unwrap_or_else(|| panic!("a failover: {history}"));
    assert!(ended < failed_over, "the drill ends first: {history}");
}

#[test]
fn under_resume_approve_replication_resumes_only_when_a_person_runs_resume() {
    let site = Site::new("automatic");
    site.edit("  failover:\n", "  resume: approve\n  failover:\n");
    site.converge();
    site.ok(&["sim", "fault", "host-down", A]);
    site.passes("10s", 40);
    assert_eq!(site.failovers(), 1);
    site.ok(&["sim", "fault", "host-up", A]);
    site.passes("10s", 6);
    let status = site.status();
    assert_eq!(status["sites"][0]["activity"], "Failed Over", "{status}");
    let plan = site.ok(&["plan"]);
    assert!(plan.contains("galaxy-ha resume hq"), "{plan}");
    let approval = status["sites"][0]["approval"].as_str().unwrap_or_default();
    assert!(approval.starts_with("galaxy-ha resume hq -m "), "{status}");

    let said = site.ok(&["resume", "hq", "--yes"]);
    assert!(
        said.contains("Replication resumes towards GCSHOSTA"),
        "{said}"
    );
    site.converge();
    let job = &site.status()["sites"][0]["job"];
    assert_eq!(
        (job["source"].as_str(), job["target"].as_str()),
        (Some(B), Some(A))
    );
    let history = site.ok(&["history"]);
    assert!(history.contains("galaxy-ha resume hq"), "{history}");
    assert!(history.contains("asked by"), "{history}");
    // Nothing failed over now: a second resume is refused, saying why.
    let out = site.run(&["resume", "hq", "--yes"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("nothing to resume"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_forced_failover_should_hold_split_brain_pending_until_the_old_host_is_fenced() {
    let site = Site::new("manual");
    site.converge();
    // The controller loses GCSHOSTA; the failover monitor on GCSHOSTB still reaches it.
    site.ok(&["sim", "fault", "link-down", "controller", A]);
    site.passes("10s", 2);
    let out = site.run(&["failover", "hq", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("still reaches System Galaxy") && err.contains("--force"),
        "refused, pointing at --force: {err}"
    );
    assert_eq!(site.failovers(), 0);
    let out = site.ok(&["failover", "hq", "--force", "--yes"]);
    assert!(out.contains("applied: fail over job"), "{out}");
    assert_eq!(site.failovers(), 1);
    // The lab's failover takes two minutes.
    site.passes("30s", 6);
    let show = site.show();
    assert_eq!(vm_state(&show, B), "running");
    assert_eq!(
        vm_state(&show, A),
        "running",
        "the controller cannot see {A}, where System Galaxy still runs"
    );
    let degraded = site.condition_of("Degraded");
    assert_eq!(degraded["reason"], "SplitBrainPending", "{degraded}");
    let history = site.ok(&["history"]);
    assert!(
        history.contains("galaxy-ha failover hq --force"),
        "{history}"
    );
    assert_eq!(
        history.matches("split-brain-pending").count(),
        1,
        "one alert, not one per pass: {history}"
    );
    // The controller sees GCSHOSTA again, running too: it is fenced there, never on the
    // host the forced failover made live; then the pending split brain clears.
    site.ok(&["sim", "fault", "link-up", "controller", A]);
    site.passes("10s", 3);
    let show = site.show();
    assert_eq!(vm_state(&show, B), "running");
    assert_ne!(vm_state(&show, A), "running");
    // Degraded still (replication waits for the failover's commit), but not for this.
    let degraded = site.condition_of("Degraded");
    assert_ne!(degraded["reason"], "SplitBrainPending", "{degraded}");
    assert!(
        !degraded["message"]
            .as_str()
            .unwrap()
            .contains("split brain"),
        "{degraded}"
    );
    let history = site.ok(&["history"]);
    assert!(
        history.contains(&format!(
            "a person forced the failover from {A} to {B} (galaxy-ha failover --force)"
        )),
        "the fence says why it kept {B}: {history}"
    );
    assert!(history.contains("all clear"), "{history}");
}
