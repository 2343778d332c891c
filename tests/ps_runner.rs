//! The real runner against a fake `powershell.exe` first on PATH: the credential reaches the
//! script on standard input only (never argv or the environment), and a script that hangs is
//! killed at its timeout. These run each script in a process of its own (`perScript`); the
//! warm session has its own tests (`ps_session`).

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use galaxy_ha::manifest::spec::{
    PowershellSpec, RunnerKind, SecretSource, SessionMode, SessionSpec,
};
use galaxy_ha::platform::powershell::scripts::{ScriptKind, script};
use galaxy_ha::platform::powershell::{HostTarget, PowershellRunner, RunError, Runner};

const SECRET: &str = "Tr0ub4dor&3-secret";

fn fake(dir: &std::path::Path, body: &str) {
    let path = dir.join("powershell.exe");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write fake");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn runner(dir: &std::path::Path) -> PowershellRunner {
    let secret = dir.join("cred");
    std::fs::write(&secret, format!("{SECRET}\n")).expect("secret");
    let spec = PowershellSpec {
        runner: RunnerKind::Remoting,
        username: Some("CORP\\svc".into()),
        credential_from: Some(SecretSource::File(secret)),
        session: per_script(),
        ..PowershellSpec::default()
    };
    let path = format!("{}:/usr/bin:/bin", dir.display());
    PowershellRunner::new(&spec).with_path(path)
}

fn per_script() -> SessionSpec {
    SessionSpec {
        mode: SessionMode::PerScript,
        ..SessionSpec::default()
    }
}

fn host() -> HostTarget {
    HostTarget {
        name: "GCSHOSTA".into(),
        address: "10.100.0.43".into(),
    }
}

#[test]
fn the_credential_should_reach_the_script_on_stdin_only() {
    let dir = tempfile::tempdir().expect("dir");
    let log = dir.path().join("log");
    fake(
        dir.path(),
        &format!(
            "printf '%s\\n' \"$@\" > {l}.argv\nenv > {l}.env\ncat > {l}.stdin\ncp \"$6\" {l}.script\nprintf '{{\"ok\":true}}'",
            l = log.display()
        ),
    );
    let out = runner(dir.path())
        .run(
            &host(),
            script(ScriptKind::Act(galaxy_ha::model::ActionKind::StopVm)),
            &serde_json::json!({"vm": "GCSServer"}),
            Duration::from_secs(20),
        )
        .expect("runs");
    assert_eq!(out, r#"{"ok":true}"#);
    let read =
        |ext: &str| std::fs::read_to_string(format!("{}.{ext}", log.display())).expect("log");
    let argv = read("argv");
    assert!(
        argv.starts_with("-NoProfile\n-NonInteractive\n-ExecutionPolicy\nBypass\n-File\n"),
        "{argv}"
    );
    assert!(!argv.contains(SECRET), "secret in argv");
    assert!(!read("env").contains(SECRET), "secret in the environment");
    assert!(
        !read("script").contains(SECRET),
        "secret in the script file"
    );
    assert_eq!(
        read("script"),
        script(ScriptKind::Act(galaxy_ha::model::ActionKind::StopVm)).text
    );
    let stdin: serde_json::Value = serde_json::from_str(&read("stdin")).expect("json stdin");
    assert_eq!(stdin["credential"]["password"], SECRET);
    assert_eq!(stdin["credential"]["username"], "CORP\\svc");
    assert_eq!(stdin["computer"], "GCSHOSTA");
    assert_eq!(stdin["remote"], true);
    assert_eq!(stdin["input"]["vm"], "GCSServer");
}

#[test]
fn a_script_that_hangs_should_be_killed_at_its_timeout() {
    let dir = tempfile::tempdir().expect("dir");
    fake(dir.path(), "exec sleep 30");
    let start = Instant::now();
    let err = runner(dir.path())
        .run(
            &host(),
            script(ScriptKind::Observe),
            &serde_json::json!({}),
            Duration::from_millis(500),
        )
        .expect_err("times out");
    assert!(matches!(err, RunError::Timeout { .. }), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "killed, not waited for"
    );
}

#[test]
fn exit_statuses_should_map_to_clear_errors() {
    let dir = tempfile::tempdir().expect("dir");
    fake(
        dir.path(),
        "cat >/dev/null; echo 'Carbonite|job \"x\" is failing over' >&2; exit 2",
    );
    let err = runner(dir.path())
        .run(
            &host(),
            script(ScriptKind::Act(galaxy_ha::model::ActionKind::DeleteJob)),
            &serde_json::json!({}),
            Duration::from_secs(20),
        )
        .expect_err("refused");
    assert!(
        matches!(&err, RunError::Refused { system: "Carbonite", message, .. } if message.contains("failing over")),
        "{err}"
    );
    fake(
        dir.path(),
        "cat >/dev/null; echo 'unreachable|WinRM cannot complete the operation' >&2; exit 3",
    );
    let err = runner(dir.path())
        .run(
            &host(),
            script(ScriptKind::Observe),
            &serde_json::json!({}),
            Duration::from_secs(20),
        )
        .expect_err("unreachable");
    assert!(matches!(err, RunError::Unreachable { .. }), "{err}");
    fake(dir.path(), "cat >/dev/null; echo boom >&2; exit 7");
    let err = runner(dir.path())
        .run(
            &host(),
            script(ScriptKind::Observe),
            &serde_json::json!({}),
            Duration::from_secs(20),
        )
        .expect_err("failed");
    assert!(
        err.to_string().contains("exit status 7") && err.to_string().contains("boom"),
        "{err}"
    );
}

#[test]
fn a_missing_credential_should_fail_before_anything_runs() {
    let dir = tempfile::tempdir().expect("dir");
    fake(dir.path(), "exit 0");
    let spec = PowershellSpec {
        runner: RunnerKind::Remoting,
        username: Some("svc".into()),
        credential_from: Some(SecretSource::Env("GALAXY_HA_TEST_UNSET_VARIABLE_42".into())),
        session: per_script(),
        ..PowershellSpec::default()
    };
    let err = PowershellRunner::new(&spec)
        .with_path(dir.path().as_os_str())
        .run(
            &host(),
            script(ScriptKind::Observe),
            &serde_json::json!({}),
            Duration::from_secs(5),
        )
        .expect_err("no credential");
    assert!(
        err.to_string().contains("GALAXY_HA_TEST_UNSET_VARIABLE_42"),
        "{err}"
    );
}

#[test]
fn the_guest_credential_should_reach_the_script_on_stdin_apart_from_the_hosts() {
    const GUEST_SECRET: &str = "guest-only-s3cret";
    let dir = tempfile::tempdir().expect("dir");
    let log = dir.path().join("log");
    fake(
        dir.path(),
        &format!(
            "printf '%s\\n' \"$@\" > {l}.argv\nenv > {l}.env\ncat > {l}.stdin",
            l = log.display()
        ),
    );
    let guest = dir.path().join("guest.cred");
    std::fs::write(&guest, format!("{GUEST_SECRET}\n")).expect("secret");
    // `runner: local` uses no host credential; the guest still gets its own.
    let spec = PowershellSpec {
        runner: RunnerKind::Local,
        guest_username: Some("GCSSERVER\\dtadmin".into()),
        guest_credential_from: Some(SecretSource::File(guest)),
        session: per_script(),
        ..PowershellSpec::default()
    };
    let path = format!("{}:/usr/bin:/bin", dir.path().display());
    PowershellRunner::new(&spec)
        .with_path(path)
        .run(
            &host(),
            script(ScriptKind::Act(galaxy_ha::model::ActionKind::CreateJob)),
            &serde_json::json!({}),
            Duration::from_secs(20),
        )
        .expect("runs");
    let read =
        |ext: &str| std::fs::read_to_string(format!("{}.{ext}", log.display())).expect("log");
    assert!(!read("argv").contains(GUEST_SECRET));
    assert!(!read("env").contains(GUEST_SECRET));
    let stdin: serde_json::Value = serde_json::from_str(&read("stdin")).expect("json stdin");
    assert_eq!(stdin["guestCredential"]["password"], GUEST_SECRET);
    assert_eq!(stdin["guestCredential"]["username"], "GCSSERVER\\dtadmin");
    assert!(
        stdin["credential"].is_null(),
        "no host credential with runner: local"
    );
}

#[cfg(not(windows))]
#[test]
fn without_powershell_the_error_should_say_what_to_do_instead() {
    let dir = tempfile::tempdir().expect("dir");
    let spec = PowershellSpec::default();
    let err = PowershellRunner::new(&spec)
        .with_path(dir.path().as_os_str())
        .run(
            &host(),
            script(ScriptKind::Observe),
            &serde_json::json!({}),
            Duration::from_secs(5),
        )
        .expect_err("no powershell.exe");
    let msg = err.to_string();
    assert!(msg.contains("cannot start powershell.exe"), "{msg}");
    assert!(msg.contains("exists only on Windows"), "{msg}");
    assert!(msg.contains("platform: simulated"), "{msg}");
}
