//! Secrets never appear in output, logs, state files or e-mails (docs/architecture.md): every command
//! and the service run with an SMTP password and a host credential set, and everything they
//! leave behind is searched for them.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::run_support::{Running, SmtpSink, eventually, free_port, wait_for_log};

const SMTP_PASSWORD: &str = "s3cr3t-SMTP-Pa55word";
const HOST_CREDENTIAL: &str = "h0st-Cr3d-Pa55word";

fn site(port: u16) -> String {
    format!(
        "{}  notifications:\n    email:\n      smtp:\n        server: 127.0.0.1\n        port: {port}\n        security: none\n        username: galaxy-alerts\n        passwordFrom: {{ env: GALAXY_HA_TEST_SMTP_PASSWORD }}\n      from: ha@example.test\n      to: [ops@example.test]\n      include: [information, warning, error]\n",
        galaxy_ha::manifest::sample::guide_site_yaml(
            galaxy_ha::manifest::spec::FailoverMode::Automatic
        )
    )
}

const POWERSHELL_SITE: &str = "apiVersion: galaxy-ha/v1\nkind: RedundantServer\nmetadata:\n  name: branch\nspec:\n  platform:\n    kind: powershell\n    powershell:\n      runner: remoting\n      username: CORP\\\\galaxy-ha\n      credentialFrom: { env: GALAXY_HA_TEST_HOST_CREDENTIAL }\n  hosts:\n    - name: BRHOSTA\n      address: 127.0.0.2\n    - name: BRHOSTB\n      address: 127.0.0.3\n  primary: BRHOSTA\n  vm:\n    name: BRServer\n    address: 127.0.0.4\n";

fn galaxy(args: &[&str], dir: &Path, state: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
        .args(args)
        .arg("-m")
        .arg(dir)
        .arg("--state-dir")
        .arg(state)
        .env("GALAXY_HA_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
        .env("GALAXY_HA_TEST_HOST_CREDENTIAL", HOST_CREDENTIAL)
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    both(&out)
}

/// Standard output and standard error together: a secret in either is a leak.
fn both(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn every_file(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            every_file(&path, out);
        } else {
            out.push((
                path.display().to_string(),
                fs::read(&path).unwrap_or_default(),
            ));
        }
    }
}

#[test]
fn no_command_nor_the_service_leaks_a_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, state, mail) = (
        tmp.path().join("m"),
        tmp.path().join("s"),
        tmp.path().join("mail"),
    );
    fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let sink = SmtpSink::start_with_login(port, &mail, "galaxy-alerts", SMTP_PASSWORD);
    fs::write(dir.join("hq.yaml"), site(port)).unwrap();
    fs::write(dir.join("branch.yaml"), POWERSHELL_SITE).unwrap();

    let mut seen = String::new();
    for args in [
        &["validate"][..],
        &["plan"],
        &["plan", "--format", "json"],
        &["apply", "--yes", "--wait", "--site", "hq"],
        &["status", "--format", "json"],
        &["status"],
        &["failover", "hq", "--test", "--yes"],
        &["history"],
        &["alert", "test"],
        &["doctor"],
        &["sim", "show", "--site", "hq"],
        &[
            "plan",
            "--assume",
            "host-down GCSHOSTA",
            "--after",
            "6m",
            "--site",
            "hq",
        ],
    ] {
        // `validate` takes paths, not -m.
        let out = if args == ["validate"] {
            let out = Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
                .arg("validate")
                .arg(&dir)
                .env("GALAXY_HA_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
                .output()
                .unwrap();
            both(&out)
        } else {
            galaxy(args, &dir, &state)
        };
        seen.push_str(&out);
    }
    // The service: a failure, alerts, a pass or two, then SIGTERM.
    let log = tmp.path().join("run.log");
    let child = Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
        .args([
            "run",
            "--sim-speed",
            "60",
            "--site",
            "hq",
            "--listen",
            "127.0.0.1:0",
            "-m",
        ])
        .arg(&dir)
        .arg("--state-dir")
        .arg(&state)
        .env("GALAXY_HA_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
        .env("GALAXY_HA_TEST_HOST_CREDENTIAL", HOST_CREDENTIAL)
        .env("RUST_LOG", "debug")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut run = Running { child };
    wait_for_log(&log, &["pass started"], 1, Duration::from_secs(20));
    galaxy(
        &["sim", "fault", "host-down", "GCSHOSTA", "--site", "hq"],
        &dir,
        &state,
    );
    eventually(Duration::from_secs(20), "the failover", || {
        fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("alert=\"failover-started\"")
    });
    // The service's own e-mails, sent with the login, are searched too.
    eventually(Duration::from_secs(20), "the failover e-mail", || {
        sink.messages()
            .iter()
            .any(|m| m.contains("failover-started"))
    });
    run.terminate(Duration::from_secs(5));
    seen.push_str(&fs::read_to_string(&log).unwrap());

    let mut files = Vec::new();
    every_file(&state, &mut files);
    every_file(&mail, &mut files);
    assert!(
        files.iter().any(|(p, _)| p.ends_with("journal.jsonl")),
        "the state was searched"
    );
    for secret in [SMTP_PASSWORD, HOST_CREDENTIAL] {
        assert!(!seen.contains(secret), "a command printed a secret");
        for (path, bytes) in &files {
            assert!(
                !String::from_utf8_lossy(bytes).contains(secret),
                "{path} holds a secret"
            );
        }
    }
    // The loopback server required the login: every e-mail searched came through it.
    let logins = fs::read_to_string(mail.join("logins")).unwrap_or_default();
    assert!(!logins.is_empty(), "the controller logged in to send");
    assert!(
        !sink.messages().is_empty(),
        "alerts were delivered with the login and searched"
    );
}
