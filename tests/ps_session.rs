//! The warm PowerShell session against a fake `powershell.exe` that speaks its protocol
//! (`support/fake_powershell.py`): one session per host kept across scripts, each script's
//! text sent once, secrets on standard input only, framing that stray output cannot confuse,
//! and a fresh session after an error, a timeout, `maxScripts` or the memory ceiling.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use galaxy_ha::manifest::spec::{
    PowershellSpec, RunnerKind, SecretSource, SessionMode, SessionSpec,
};
use galaxy_ha::model::ActionKind;
use galaxy_ha::platform::powershell::scripts::{ScriptKind, script};
use galaxy_ha::platform::powershell::{HostTarget, PowershellRunner, RunError, Runner};
use serde_json::{Value, json};

const SECRET: &str = "warm-Tr0ub4dor&3";

/// A directory with the fake `powershell.exe` first on the runner's `PATH`.
struct Fake {
    dir: tempfile::TempDir,
}

impl Fake {
    fn new() -> Fake {
        let dir = tempfile::tempdir().expect("dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/fake_powershell.py");
        let exe = dir.path().join("powershell.exe");
        std::fs::write(
            &exe,
            format!(
                "#!/bin/sh\nFAKE_DIR='{}' exec '{}' '{}' \"$@\"\n",
                dir.path().display(),
                crate::support::programs::python().display(),
                script.display()
            ),
        )
        .expect("write fake");
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::fs::write(dir.path().join("cred"), format!("{SECRET}\n")).expect("secret");
        Fake { dir }
    }

    fn behave(&self, how: Value) {
        std::fs::write(self.dir.path().join("behaviour"), how.to_string()).expect("behaviour");
    }

    fn runner(&self, session: SessionSpec) -> PowershellRunner {
        let spec = PowershellSpec {
            runner: RunnerKind::Remoting,
            username: Some("CORP\\svc".into()),
            credential_from: Some(SecretSource::File(self.dir.path().join("cred"))),
            session,
            ..PowershellSpec::default()
        };
        PowershellRunner::new(&spec)
            .with_path(format!("{}:/usr/bin:/bin", self.dir.path().display()))
    }

    /// What the fake logged: one entry per process start and per script.
    fn log(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("log.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("log line"))
            .collect()
    }

    fn sessions_started(&self) -> usize {
        self.log().iter().filter(|e| e["started"] == true).count()
    }

    fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

fn warm() -> SessionSpec {
    SessionSpec::default()
}

fn host(name: &str) -> HostTarget {
    HostTarget {
        name: name.into(),
        address: "10.100.0.43".into(),
    }
}

const OBSERVE: ScriptKind = ScriptKind::Observe;
const STOP_VM: ScriptKind = ScriptKind::Act(ActionKind::StopVm);

/// Runs a script; its answer (the fake's JSON on the first line).
fn run(runner: &PowershellRunner, on: &str, kind: ScriptKind) -> Result<Value, RunError> {
    run_within(runner, on, kind, Duration::from_secs(20))
}

fn run_within(
    runner: &PowershellRunner,
    on: &str,
    kind: ScriptKind,
    timeout: Duration,
) -> Result<Value, RunError> {
    let out = runner.run(
        &host(on),
        script(kind),
        &json!({"vm": "GCSServer"}),
        timeout,
    )?;
    Ok(serde_json::from_str(out.lines().next().expect("a line")).expect("json answer"))
}

#[test]
fn a_hosts_scripts_should_share_one_warm_session_each_script_sent_once() {
    let fake = Fake::new();
    let runner = fake.runner(warm());
    let first = run(&runner, "GCSHOSTA", OBSERVE).expect("observe");
    let second = run(&runner, "GCSHOSTA", OBSERVE).expect("observe again");
    let action = run(&runner, "GCSHOSTA", STOP_VM).expect("stop");
    let other = run(&runner, "GCSHOSTB", OBSERVE).expect("observe B");
    assert_eq!(first["pid"], second["pid"], "one session for host A");
    assert_eq!(first["pid"], action["pid"]);
    assert_ne!(first["pid"], other["pid"], "host B has its own session");
    assert_eq!(
        [&first["n"], &second["n"], &action["n"]],
        [&json!(1), &json!(2), &json!(3)]
    );
    assert_eq!(first["scriptSent"], true);
    assert_eq!(
        second["scriptSent"], false,
        "the observe script is sent once"
    );
    assert_eq!(action["scriptSent"], true);
    assert_eq!(first["input"]["vm"], "GCSServer");
    assert_eq!(fake.sessions_started(), 2);
    let ids: Vec<u32> = runner.session_ids().into_iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), 2, "both sessions are kept warm");
    // The credential travels in the request on standard input, never argv or environment.
    for entry in fake.log().iter().filter(|e| e["kind"].is_string()) {
        assert_eq!(entry["envelope"]["credential"]["password"], SECRET);
        assert_eq!(entry["envelope"]["remote"], true);
    }
    for pid in [&first["pid"], &other["pid"]] {
        for what in ["argv", "env"] {
            let text =
                std::fs::read_to_string(fake.path().join(format!("{pid}.{what}"))).expect("logged");
            assert!(!text.contains(SECRET), "secret in {what}");
        }
    }
}

#[test]
fn a_session_should_be_replaced_after_max_scripts() {
    let fake = Fake::new();
    let runner = fake.runner(SessionSpec {
        max_scripts: 2,
        ..warm()
    });
    let pids: Vec<Value> = (0..5)
        .map(|_| run(&runner, "GCSHOSTA", OBSERVE).expect("observe")["pid"].clone())
        .collect();
    assert_eq!(pids[0], pids[1]);
    assert_ne!(pids[1], pids[2]);
    assert_eq!(pids[2], pids[3]);
    assert_ne!(pids[3], pids[4]);
    assert_eq!(fake.sessions_started(), 3);
}

#[test]
fn a_session_past_its_memory_ceiling_should_be_replaced() {
    let fake = Fake::new();
    let runner = fake.runner(SessionSpec {
        max_memory_mib: 100,
        ..warm()
    });
    fake.behave(json!({"memory": 90 << 20}));
    let a = run(&runner, "GCSHOSTA", OBSERVE).expect("observe")["pid"].clone();
    fake.behave(json!({"memory": 101 << 20}));
    let b = run(&runner, "GCSHOSTA", OBSERVE).expect("observe")["pid"].clone();
    let c = run(&runner, "GCSHOSTA", OBSERVE).expect("observe")["pid"].clone();
    assert_eq!(a, b, "under the ceiling the session is kept");
    assert_ne!(b, c, "past it the session is replaced");
}

#[test]
fn an_error_should_be_reported_as_the_process_would_and_replace_the_session() {
    let fake = Fake::new();
    let runner = fake.runner(warm());
    let a = run(&runner, "GCSHOSTA", OBSERVE).expect("observe")["pid"].clone();
    fake.behave(json!({"stop-vm": "refuse"}));
    let err = run(&runner, "GCSHOSTA", STOP_VM).expect_err("refused");
    assert!(
        matches!(&err, RunError::Refused { system: "Carbonite", message, .. } if message.contains("failing over")),
        "{err}"
    );
    let b = run(&runner, "GCSHOSTA", OBSERVE).expect("observe")["pid"].clone();
    assert_ne!(a, b, "a fresh session after the error");
}

#[test]
fn a_session_that_hangs_should_be_killed_at_the_timeout_and_replaced() {
    let fake = Fake::new();
    let runner = fake.runner(warm());
    let a = run(&runner, "GCSHOSTA", OBSERVE).expect("observe")["pid"].clone();
    fake.behave(json!({"observe": "hang"}));
    let start = Instant::now();
    let err = run_within(&runner, "GCSHOSTA", OBSERVE, Duration::from_millis(800))
        .expect_err("times out");
    assert!(matches!(err, RunError::Timeout { .. }), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "killed, not waited for"
    );
    let pid = a.as_u64().expect("pid");
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "the hung session's process is gone"
    );
    fake.behave(json!({}));
    let b = run(&runner, "GCSHOSTA", OBSERVE).expect("observe")["pid"].clone();
    assert_ne!(a, b);
}

#[test]
fn a_session_that_dies_should_rerun_a_read_only_script_alone_but_never_an_action() {
    let fake = Fake::new();
    let runner = fake.runner(warm());
    fake.behave(json!({"observe": "die", "stop-vm": "die"}));
    let observed = run(&runner, "GCSHOSTA", OBSERVE).expect("observe answered by a process");
    assert_eq!(observed["kind"], "process");
    let err = run(&runner, "GCSHOSTA", STOP_VM).expect_err("the action is not run twice");
    assert!(
        err.to_string()
            .contains("no answer from the PowerShell session")
            && err.to_string().contains("crashed"),
        "{err}"
    );
    let stops = fake.log().iter().filter(|e| e["kind"] == "stop-vm").count();
    assert_eq!(
        stops, 1,
        "the action reached a session once and nothing else"
    );
}

#[test]
fn a_garbled_frame_should_end_the_session() {
    let fake = Fake::new();
    let runner = fake.runner(warm());
    fake.behave(json!({"observe": "garble"}));
    let observed = run(&runner, "GCSHOSTA", OBSERVE).expect("observe answered by a process");
    assert_eq!(observed["kind"], "process");
    assert!(
        runner.session_ids().is_empty(),
        "the garbling session is not kept"
    );
}

#[test]
fn a_host_whose_session_never_starts_should_run_its_scripts_one_process_each() {
    let fake = Fake::new();
    let runner = fake.runner(warm());
    fake.behave(json!({"ready": "never"}));
    for _ in 0..5 {
        let answer = run(&runner, "GCSHOSTA", STOP_VM).expect("run in a process");
        assert_eq!(
            answer["kind"], "process",
            "never sent to a session, so run alone"
        );
    }
    assert_eq!(
        fake.sessions_started(),
        3,
        "three sessions are tried, then the host's scripts run one process each"
    );
}

#[test]
fn sessions_should_never_be_shared_between_runners() {
    let fake = Fake::new();
    let one = fake.runner(warm());
    let two = fake.runner(warm());
    let a = run(&one, "GCSHOSTA", OBSERVE).expect("observe")["pid"].clone();
    let b = run(&two, "GCSHOSTA", OBSERVE).expect("observe")["pid"].clone();
    assert_ne!(a, b);
}

#[test]
fn per_script_mode_should_start_a_process_for_every_script() {
    let fake = Fake::new();
    let runner = fake.runner(SessionSpec {
        mode: SessionMode::PerScript,
        ..warm()
    });
    let a = run(&runner, "GCSHOSTA", OBSERVE).expect("observe");
    let b = run(&runner, "GCSHOSTA", OBSERVE).expect("observe");
    assert_eq!(a["kind"], "process");
    assert_ne!(a["pid"], b["pid"]);
    assert_eq!(fake.sessions_started(), 0);
}

#[test]
fn ending_a_runner_should_let_its_sessions_end() {
    let fake = Fake::new();
    let runner = fake.runner(warm());
    let pid = run(&runner, "GCSHOSTA", OBSERVE).expect("observe")["pid"]
        .as_u64()
        .expect("pid");
    drop(runner);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    // A zombie has no cmdline; a live process does.
    let alive = std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| !c.is_empty());
    assert!(!alive, "the session's process ended when its input closed");
}
