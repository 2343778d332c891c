//! Alerts by e-mail to a loopback SMTP server (aiosmtpd): `alert test`, subjects and bodies,
//! and the outbox across an SMTP outage and a controller restart.

use std::collections::BTreeSet;
use std::fs;
use std::time::Duration;

use crate::run_support::*;

#[test]
fn alert_test_sends_to_every_recipient_and_reports_a_dead_server() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let file = tmp.path().join("t1.yaml");
    fs::write(&file, manifest("t1", "10s", Some(port))).unwrap();
    let test = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
            .args(["alert", "test", "-m"])
            .arg(&file)
            .output()
            .unwrap()
    };
    let down = test();
    assert_eq!(down.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&down.stdout);
    assert!(
        stdout.contains("test message failed") && stdout.contains(&format!("127.0.0.1:{port}")),
        "{stdout}"
    );

    let sink = SmtpSink::start(port, &tmp.path().join("mail"));
    let up = test();
    assert_eq!(
        up.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&up.stdout)
    );
    let mail = sink.messages();
    assert_eq!(mail.len(), 1);
    let subject = header(&mail[0], "Subject").unwrap();
    assert!(
        subject.starts_with("[Galaxy HA test] Information t1: test (event 4100)"),
        "{subject}"
    );
    let to = header(&mail[0], "To").unwrap();
    assert!(
        to.contains("ops@example.test") && to.contains("oncall@example.test"),
        "{to}"
    );
    assert!(mail[0].contains("e-mail notification works"));
}

#[test]
fn alerts_survive_an_outage_and_a_restart_and_arrive_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let (dir, state) = (tmp.path().join("m"), tmp.path().join("s"));
    let outbox = state.join("outbox");
    fs::create_dir_all(&dir).unwrap();
    let good = manifest("s1", "10s", Some(port));
    let invalid = |host: &str| good.replace("primary: GCSHOSTA", &format!("primary: {host}"));
    let file = dir.join("s1.yaml");
    fs::write(&file, &good).unwrap();

    // The mail server is down: two distinct invalid edits queue two alerts.
    let log1 = tmp.path().join("log1");
    let mut run = start_run(&dir, &state, &log1, &["--alert-retry", "200ms"]);
    wait_for_log(
        &log1,
        &["pass started", "site=s1"],
        0,
        Duration::from_secs(10),
    );
    fs::write(&file, invalid("GCSHOSTX")).unwrap();
    eventually(Duration::from_secs(5), "first alert queued", || {
        file_count(&outbox) == 1
    });
    // The same error set again raises nothing new.
    fs::write(&file, invalid("GCSHOSTX") + "\n").unwrap();
    fs::write(&file, invalid("GCSHOSTY")).unwrap();
    eventually(Duration::from_secs(5), "second alert queued", || {
        file_count(&outbox) == 2
    });
    wait_for_log(
        &log1,
        &["not delivered, kept in the outbox"],
        0,
        Duration::from_secs(5),
    );
    assert!(
        run.terminate(Duration::from_secs(5))
            .is_some_and(|s| s.success())
    );

    // Restarted, still down: a third alert joins the two pending ones.
    fs::write(&file, &good).unwrap();
    let log2 = tmp.path().join("log2");
    let mut run = start_run(&dir, &state, &log2, &["--alert-retry", "200ms"]);
    wait_for_log(
        &log2,
        &["pass started", "site=s1"],
        0,
        Duration::from_secs(10),
    );
    fs::write(&file, invalid("GCSHOSTZ")).unwrap();
    eventually(Duration::from_secs(20), "third alert queued", || {
        file_count(&outbox) == 3
    });
    std::thread::sleep(Duration::from_millis(500));

    // The server comes back: each alert arrives once, and the outbox empties.
    let sink = SmtpSink::start(port, &tmp.path().join("mail"));
    eventually(Duration::from_secs(15), "outbox delivered", || {
        file_count(&outbox) == 0
    });
    // The server writes a message down after accepting it: wait for the three, then a
    // little longer for any fourth.
    eventually(Duration::from_secs(15), "three messages written", || {
        sink.messages().len() >= 3
    });
    std::thread::sleep(Duration::from_millis(700));
    let mail = sink.messages();
    assert_eq!(mail.len(), 3, "exactly once each");
    let ids: BTreeSet<String> = mail
        .iter()
        .filter_map(|m| header(m, "Message-ID"))
        .collect();
    assert_eq!(ids.len(), 3, "distinct Message-IDs: {ids:?}");
    let mut hosts = BTreeSet::new();
    for m in &mail {
        let subject = header(m, "Subject").unwrap();
        assert!(
            subject.starts_with(
                "[Galaxy HA test] Error s1: manifest-invalid (event 4109) - manifest "
            ),
            "{subject}"
        );
        // The body is quoted-printable: undo its soft line breaks.
        let m = m.replace("=\r\n", "").replace("=\n", "");
        assert!(m.contains("s1.yaml:") && m.contains("spec.primary"), "{m}");
        assert!(
            m.contains("Site:") && m.contains("manifest-invalid (event 4109)"),
            "{m}"
        );
        hosts.extend(
            ["GCSHOSTX", "GCSHOSTY", "GCSHOSTZ"]
                .into_iter()
                .filter(|h| m.contains(h)),
        );
    }
    assert_eq!(hosts.len(), 3, "one e-mail for each distinct error set");

    // Fixed: the all-clear follows, once.
    fs::write(&file, &good).unwrap();
    eventually(Duration::from_secs(15), "the all-clear written", || {
        sink.messages().len() >= 4
    });
    std::thread::sleep(Duration::from_millis(700));
    let mail = sink.messages();
    assert_eq!(mail.len(), 4, "one all-clear");
    let clear: Vec<&String> = mail
        .iter()
        .filter(|m| {
            header(m, "Subject")
                .is_some_and(|s| s.contains("Information s1: all-clear (event 4113)"))
        })
        .collect();
    assert_eq!(clear.len(), 1, "{mail:?}");
    let body = clear[0].replace("=\r\n", "").replace("=\n", "");
    assert!(body.contains("s1.yaml is valid again"), "{body}");
    assert!(
        run.terminate(Duration::from_secs(5))
            .is_some_and(|s| s.success())
    );
}
