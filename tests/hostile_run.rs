//! `galaxy-ha run` in a hostile world: stalled HTTP connections during a failure, a restart
//! while an invalid edit is on disk, signals, TLS and a bearer token, a dry run beside the
//! controller.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::run_support::*;

/// `galaxy-ha ARGS -m ROOT/good --state-dir ROOT/s`: the lab verbs on a valid copy of the
/// manifest, whatever the watched one holds.
fn lab(root: &Path, args: &[&str]) -> std::process::Output {
    if !root.join("good").exists() {
        fs::create_dir_all(root.join("good")).unwrap();
        fs::copy(root.join("m/hq.yaml"), root.join("good/hq.yaml")).unwrap();
    }
    Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
        .args(args)
        .arg("-m")
        .arg(root.join("good"))
        .arg("--state-dir")
        .arg(root.join("s"))
        .output()
        .unwrap()
}

/// The lab's world as `sim show --format json` prints it.
fn world(root: &Path) -> serde_json::Value {
    let out = lab(root, &["sim", "show", "--format", "json"]);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("sim show: {e}: {}", String::from_utf8_lossy(&out.stderr));
    })
}

fn live_host(root: &Path) -> Option<String> {
    let out = lab(root, &["status", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    doc["sites"][0]["live_host"].as_str().map(str::to_string)
}

/// Takes a host down in the lab, again until the world file shows it (a pass in progress may
/// save over a fault written at the same moment).
fn host_down(root: &Path, host: &str) {
    eventually(Duration::from_secs(10), "host down", || {
        lab(root, &["sim", "fault", "host-down", host]);
        std::thread::sleep(Duration::from_millis(300));
        world(root)["hosts"]
            .as_array()
            .is_some_and(|h| h.iter().any(|h| h["name"] == host && h["up"] == false))
    });
}

fn signal(run: &Running, name: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{name}"), &run.child.id().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -{name}");
}

/// Keeps `n` connections open that each sent half a request, reopening any the server
/// closes, until `stop`.
fn hold(port: u16, n: usize, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        let mut opened = 0;
        while !stop.load(Ordering::SeqCst) {
            held.retain(|s| {
                let mut byte = [0u8; 1];
                s.set_nonblocking(true).ok();
                // Still open: nothing to read yet. Closed: EOF or a reset.
                match (&*s).read(&mut byte) {
                    Err(e) => e.kind() == std::io::ErrorKind::WouldBlock,
                    Ok(n) => n > 0,
                }
            });
            while held.len() < n {
                match TcpStream::connect(("127.0.0.1", port)) {
                    Ok(mut s) => {
                        let _ = s.write_all(b"GET / HTTP/1.1\r\n");
                        opened += 1;
                        held.push(s);
                    }
                    Err(_) => break,
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        opened
    })
}

#[test]
fn stalled_connections_beyond_the_limit_do_not_delay_a_failover() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = root.join("m");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("hq.yaml"), guide_manifest("automatic")).unwrap();
    let port = free_port();
    let log = root.join("log");
    // 128 descriptors: without a connection limit, 300 stalled connections would take them
    // all, and no pass could open memory.json.
    let child = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 128 && exec "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_galaxy-ha"))
        .args(["run", "-m"])
        .arg(&dir)
        .arg("--state-dir")
        .arg(root.join("s"))
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--sim-speed",
            "60",
        ])
        .env("RUST_LOG", "warn,galaxy_ha=debug")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let _run = Running { child };
    wait_ready(port, &log, Duration::from_secs(30));
    eventually(Duration::from_secs(60), "protecting", || {
        world(root)["job"]["activity"] == "protecting"
    });

    let stop = Arc::new(AtomicBool::new(false));
    let holder = hold(port, 300, stop.clone());
    wait_for_log(
        &log,
        &["too many HTTP connections"],
        0,
        Duration::from_secs(10),
    );

    let down = Instant::now();
    host_down(root, "GCSHOSTA");
    // Five minutes of monitor at 60 times the wall clock: 5 s, and a few passes more.
    eventually(Duration::from_secs(30), "failover while stalled", || {
        world(root)["failovers"] == 1
    });
    let took = down.elapsed();
    stop.store(true, Ordering::SeqCst);
    let opened = holder.join().unwrap();

    assert!(opened >= 300, "held {opened} connections");
    assert!(took < Duration::from_secs(30), "failover took {took:?}");
    let text = fs::read_to_string(&log).unwrap();
    assert!(!text.contains("Too many open files"), "{text}");
    assert!(!text.contains("pass failed"), "{text}");
    // Once they are gone, the HTTP side answers again.
    eventually(Duration::from_secs(20), "healthz again", || {
        http_get(port, "/healthz").is_ok_and(|r| r.status == 200)
    });
    eventually(Duration::from_secs(20), "live on B", || {
        live_host(root).as_deref() == Some("GCSHOSTB")
    });
}

#[test]
fn a_stalled_request_is_closed_after_the_header_timeout() {
    let c = Controller::start("manual", 1);
    let mut s = TcpStream::connect(("127.0.0.1", c.port)).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let start = Instant::now();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(8) && took < Duration::from_secs(25),
        "closed after {took:?}"
    );
}

#[test]
fn a_restart_on_an_invalid_edit_keeps_the_site_on_its_last_good_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = root.join("m");
    fs::create_dir_all(&dir).unwrap();
    let good = guide_manifest("automatic");
    fs::write(dir.join("hq.yaml"), &good).unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let log = root.join("log");
    let args = ["--listen", listen.as_str(), "--sim-speed", "60"];
    let mut run = start_run(&dir, &root.join("s"), &log, &args);
    wait_ready(port, &log, Duration::from_secs(30));
    eventually(Duration::from_secs(60), "protecting", || {
        world(root)["job"]["activity"] == "protecting"
    });
    write_by_rename(
        &dir.join("hq.yaml"),
        &good.replace("primary: GCSHOSTA", "primary: GCSHOSTC"),
    );
    wait_for_log(&log, &["manifest-invalid"], 0, Duration::from_secs(10));
    assert_eq!(
        run.terminate(Duration::from_secs(10)).unwrap().code(),
        Some(0)
    );

    let log2 = root.join("log2");
    let _run = start_run(&dir, &root.join("s"), &log2, &args);
    wait_for_log(&log2, &["last good manifest"], 0, Duration::from_secs(20));
    eventually(Duration::from_secs(20), "listed as invalid", || {
        http_get(port, "/api/v1/status").is_ok_and(|r| {
            let doc: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
            doc["sites"][0]["name"] == "hq"
                && doc["sites"][0]["conditions"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c["type"] == "ManifestInvalid"))
        })
    });
    let ready = http_get(port, "/readyz").unwrap();
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert!(
        ready.body.contains("site hq: its manifest is invalid"),
        "{}",
        ready.body
    );
    assert!(ready.body.contains("GCSHOSTC"), "{}", ready.body);
    let metrics = http_get(port, "/metrics").unwrap().body;
    assert!(
        metrics.contains(r#"galaxy_ha_site_condition{site="hq",type="ManifestInvalid"} 1"#),
        "{metrics}"
    );

    // The site is managed: a host failure still gets its failover.
    host_down(root, "GCSHOSTA");
    let start = Instant::now();
    while world(root)["failovers"] != 1 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no failover on the kept manifest; world {}; log:\n{}",
            world(root),
            fs::read_to_string(&log2).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // Fixed: ready again (once a pass has finished), the condition gone.
    write_by_rename(
        &dir.join("hq.yaml"),
        &good.replace("primary: GCSHOSTA", "primary: GCSHOSTB"),
    );
    wait_ready(port, &log2, Duration::from_secs(30));
    wait_for_log(
        &log2,
        &["all clear: manifest", "is valid again"],
        0,
        Duration::from_secs(10),
    );
    let metrics = http_get(port, "/metrics").unwrap().body;
    assert!(!metrics.contains("ManifestInvalid"), "{metrics}");
}

#[test]
fn a_site_with_memory_and_no_usable_manifest_is_listed_not_ready_and_alerted() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = root.join("m");
    fs::create_dir_all(&dir).unwrap();
    let good = guide_manifest("automatic");
    fs::write(dir.join("hq.yaml"), &good).unwrap();
    let out = cli_at(root, &["apply", "--yes"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Memory, but no kept manifest (an older controller kept none).
    assert!(root.join("s/sites/hq/memory.json").exists());
    let _ = fs::remove_file(root.join("s/sites/hq/last-good-manifest.json"));
    fs::write(
        dir.join("hq.yaml"),
        good.replace("primary: GCSHOSTA", "primary: X"),
    )
    .unwrap();
    fs::write(
        dir.join("two.yaml"),
        guide_manifest("manual").replace("name: hq", "name: two"),
    )
    .unwrap();
    let port = free_port();
    let log = root.join("log");
    let _run = start_run(
        &dir,
        &root.join("s"),
        &log,
        &["--listen", &format!("127.0.0.1:{port}")],
    );
    wait_for_log(&log, &["NOT managed"], 0, Duration::from_secs(20));
    eventually(Duration::from_secs(20), "listed", || {
        http_get(port, "/api/v1/status").is_ok_and(|r| {
            let doc: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
            doc["sites"].as_array().is_some_and(|sites| {
                sites
                    .iter()
                    .any(|s| s["name"] == "hq" && r.body.contains("ManifestInvalid"))
            })
        })
    });
    let ready = http_get(port, "/readyz").unwrap();
    assert_eq!(ready.status, 503);
    assert!(ready.body.contains("site hq"), "{}", ready.body);
}

#[test]
fn sighup_reloads_the_manifests_and_sigusr1_is_ignored() {
    let mut c = Controller::start("manual", 1);
    let log = c.log();
    signal(c.process(), "HUP");
    wait_for_log(&log, &["SIGHUP received"], 0, Duration::from_secs(10));
    for name in ["USR1", "USR2"] {
        signal(c.process(), name);
        let needle = format!("SIG{name} received: ignored");
        wait_for_log(&log, &[needle.as_str()], 0, Duration::from_secs(10));
    }
    assert!(
        c.process().child.try_wait().unwrap().is_none(),
        "still running"
    );
    assert_eq!(http_get(c.port, "/healthz").unwrap().status, 200);
    let status = c.process().terminate(Duration::from_secs(10)).unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(count_log(&log, &["controller stopped"]), 1);
}

#[test]
fn a_dry_run_watches_beside_the_running_controller_without_the_lock() {
    let c = Controller::start("manual", 1);
    let log = c.tmp.path().join("dry");
    let _dry = start_run(
        &c.tmp.path().join("m"),
        &c.tmp.path().join("s"),
        &log,
        &["--dry-run", "--listen", "127.0.0.1:0"],
    );
    wait_for_log(&log, &["dry run, nothing done"], 0, Duration::from_secs(20));
    assert_eq!(count_log(&log, &["another galaxy-ha process holds"]), 0);
}

/// A self-signed certificate for 127.0.0.1 and its key, as PEM files in `dir`.
fn certificate(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, Vec<u8>) {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    fs::write(&c, cert.cert.pem()).unwrap();
    fs::write(&k, cert.signing_key.serialize_pem()).unwrap();
    (c, k, cert.cert.der().to_vec())
}

/// `GET path` over TLS, trusting only `root`; the raw answer.
fn https_get(port: u16, path: &str, token: Option<&str>, root: &[u8]) -> String {
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(root.to_vec()))
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn tls_and_a_bearer_token_protect_every_path_but_healthz() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("hq.yaml"), guide_manifest("manual")).unwrap();
    let (cert, key, root) = certificate(tmp.path());
    let token = tmp.path().join("token");
    fs::write(&token, "Kestrel-Otter-2718\n").unwrap();
    let port = free_port();
    let log = tmp.path().join("log");
    let listen = format!("127.0.0.1:{port}");
    let _run = start_run(
        &dir,
        &tmp.path().join("s"),
        &log,
        &[
            "--listen",
            &listen,
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
            "--auth-token-file",
            token.to_str().unwrap(),
        ],
    );
    wait_for_log(&log, &["dashboard on https://"], 0, Duration::from_secs(20));
    let health = https_get(port, "/healthz", None, &root);
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let refused = https_get(port, "/api/v1/status", None, &root);
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    let wrong = https_get(port, "/metrics", Some("guess"), &root);
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");
    let status = https_get(port, "/api/v1/status", Some("Kestrel-Otter-2718"), &root);
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert!(status.contains(r#""format_version""#), "{status}");
    let text = fs::read_to_string(&log).unwrap();
    assert!(
        !text.contains("Kestrel-Otter-2718"),
        "the token is never logged"
    );
}

#[test]
fn a_letter_whose_send_began_before_a_crash_is_sent_once_more_with_its_message_id() {
    use galaxy_ha::alert::Alert;
    use galaxy_ha::alert::outbox::Outbox;
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let (dir, state) = (tmp.path().join("m"), tmp.path().join("s"));
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("s1.yaml"), manifest("s1", "10s", Some(port))).unwrap();
    let site = galaxy_ha::manifest::load(&[dir.join("s1.yaml")])
        .unwrap()
        .remove(0);
    let email = site
        .manifest
        .spec
        .notifications
        .clone()
        .unwrap()
        .email
        .unwrap();
    // What a controller killed during the SMTP conversation leaves: a letter marked as
    // being sent.
    let outbox = Outbox::new(&state);
    let alert = Alert {
        site: "s1".into(),
        kind: galaxy_ha::model::operation::AlertKind::FailoverStarted,
        severity: galaxy_ha::model::operation::Severity::Error,
        key: "failover-started".into(),
        message: "System Galaxy on GCSHOSTA failed; failing over to GCSHOSTB".into(),
        action: None,
        at: jiff::Timestamp::now(),
    };
    let id = outbox.push(&alert, &email).unwrap();
    outbox.mark(&outbox.pending().remove(0)).unwrap();

    let sink = SmtpSink::start(port, &tmp.path().join("mail"));
    let log = tmp.path().join("log");
    let _run = start_run(&dir, &state, &log, &["--alert-retry", "200ms"]);
    eventually(Duration::from_secs(20), "outbox delivered", || {
        outbox.pending().is_empty()
    });
    wait_for_log(
        &log,
        &["may have it already", &id],
        0,
        Duration::from_secs(5),
    );
    std::thread::sleep(Duration::from_millis(500));
    let mail = sink.messages();
    let ours: Vec<&String> = mail
        .iter()
        .filter(|m| header(m, "Message-ID").as_deref() == Some(&format!("<{id}@galaxy-ha>")))
        .collect();
    assert_eq!(
        ours.len(),
        1,
        "sent once more, with its Message-ID: {mail:?}"
    );
}
