//! Alerts raised by CLI commands reach the real SMTP server (aiosmtpd) through the durable
//! outbox, over STARTTLS with a certificate the test makes and SMTP AUTH: condition-met in
//! manual mode as an Error whose subject says what to do, failover-started when a person
//! approves, and absolute runbook links.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use crate::run_support::*;

const PASSWORD: &str = "s3cret-for-the-sink";

/// A certificate authority and a server certificate for 127.0.0.1 it signed, as PEM files:
/// (CA, server certificate, server key).
fn certificates(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let paths = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    );
    fs::write(&paths.0, ca_cert.pem()).unwrap();
    fs::write(&paths.1, cert.pem()).unwrap();
    fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

fn cli(manifest: &Path, state: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_galaxy-ha"));
    command
        .args(args)
        .arg("-m")
        .arg(manifest)
        .arg("--state-dir")
        .arg(state)
        .env("GALAXY_HA_TEST_SMTP_PASSWORD", PASSWORD)
        .env_remove("GALAXY_HA_RUNBOOK_URL");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "galaxy-ha {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn cli_alerts_go_out_over_starttls_with_auth_and_say_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let (ca, cert, key) = certificates(tmp.path());
    let port = free_port();
    let sink = SmtpSink::start_with_tls(
        port,
        &tmp.path().join("mail"),
        ("galaxy-alerts", PASSWORD),
        (&cert, &key),
    );
    let manifest = tmp.path().join("hq.yaml");
    fs::write(
        &manifest,
        format!(
            "{}  notifications:\n    email:\n      smtp:\n        server: 127.0.0.1\n        port: {port}\n        security: starttls\n        username: galaxy-alerts\n        passwordFrom: {{ env: GALAXY_HA_TEST_SMTP_PASSWORD }}\n        caFile: {}\n      from: galaxy-ha@example.test\n      to: [ops@example.test]\n      include: [information, warning, error]\n",
            crate::support::manifest_yaml("manual"),
            ca.display()
        ),
    )
    .unwrap();
    let state = tmp.path().join("state");
    let run = |args: &[&str]| cli(&manifest, &state, args, &[]);
    run(&["apply", "--yes", "--wait", "--timeout", "2h"]);
    run(&["sim", "fault", "host-down", "GCSHOSTA"]);
    for _ in 0..12 {
        run(&["apply", "--yes"]);
        run(&["sim", "advance", "30s"]);
    }
    run(&["apply", "--yes"]);
    cli(
        &manifest,
        &state,
        &["failover", "hq", "--yes"],
        &[(
            "GALAXY_HA_RUNBOOK_URL",
            "https://intranet.example/galaxy-ha/runbook.html",
        )],
    );

    let mail = sink.messages();
    let subject_of = |kind: &str| {
        mail.iter()
            .find(|m| header(m, "Subject").is_some_and(|s| s.contains(&format!(": {kind} ("))))
            .unwrap_or_else(|| {
                let subjects: Vec<_> = mail.iter().filter_map(|m| header(m, "Subject")).collect();
                panic!("no {kind} e-mail among {subjects:#?}")
            })
    };
    let met = subject_of("condition-met");
    assert_eq!(
        header(met, "Subject").unwrap(),
        "[Galaxy HA] Error hq: condition-met (event 4102) - System Galaxy DOWN, waiting for your approval: galaxy-ha failover hq"
    );
    let body = met.replace("=\r\n", "").replace("\r\n", "\n");
    let runbook = galaxy_ha::runbook::base();
    assert!(
        body.contains("Runbook:   file:///") && body.contains("runbook.md#alert-condition-met"),
        "an absolute runbook link: {body}"
    );
    assert!(runbook.starts_with("file:///"), "{runbook}");

    let started = subject_of("failover-started");
    let body = started.replace("=\r\n", "").replace("\r\n", "\n");
    assert!(
        body.contains(
            "Runbook:   https://intranet.example/galaxy-ha/runbook.html#alert-failover-started"
        ),
        "{body}"
    );
    assert!(body.contains("approved by a person"), "{body}");
    assert_eq!(
        mail.iter()
            .filter(|m| header(m, "Subject").is_some_and(|s| s.contains(": failover-started (")))
            .count(),
        1,
        "one failover-started"
    );

    let count = |file: &str| {
        fs::read_to_string(tmp.path().join("mail").join(file))
            .unwrap_or_default()
            .lines()
            .count()
    };
    assert!(count("starttls") >= 2, "every session started TLS");
    assert!(count("logins") >= 2, "every session logged in");
    assert!(
        fs::read_dir(state.join("outbox"))
            .map(|d| d.count())
            .unwrap_or(0)
            == 0,
        "the outbox is empty once the server accepted every letter"
    );
}
