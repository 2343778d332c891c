//! The dashboard in headless Chromium against a controller on the simulated lab: the page
//! draws the site as the lab has it, follows a failover on its own, and logs nothing to
//! the console. Chromium missing fails the test (scripts/test installs it).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::run_support::*;

fn chromium_path() -> PathBuf {
    crate::support::programs::chromium()
}

/// The DOM after the page's scripts ran, and Chromium's log; at most 60 s.
fn dump_dom(port: u16, profile: &Path) -> (String, String) {
    let out = profile.with_extension("out");
    let err = profile.with_extension("err");
    let child = Command::new(chromium_path())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("http://127.0.0.1:{port}/"))
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out).unwrap())
        .stderr(fs::File::create(&err).unwrap())
        .spawn()
        .expect("start chromium");
    let mut running = Running { child };
    let start = Instant::now();
    loop {
        if let Some(status) = running.child.try_wait().unwrap() {
            let log = fs::read_to_string(&err).unwrap_or_default();
            assert!(status.success(), "chromium failed: {status:?}\n{log}");
            return (fs::read_to_string(&out).unwrap(), log);
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "chromium did not finish within 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The text of the element with `data-field="NAME"`.
fn field<'a>(dom: &'a str, name: &str) -> Option<&'a str> {
    let marker = format!("data-field=\"{name}\">");
    let at = dom.find(&marker)? + marker.len();
    dom[at..].split('<').next()
}

fn no_console_output(log: &str) {
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(
        lines.is_empty(),
        "the page wrote to the console:\n{}",
        lines.join("\n")
    );
}

#[test]
fn the_page_is_self_contained_and_phone_sized() {
    let page = galaxy_ha::http::dashboard::PAGE;
    assert!(
        !page.contains("://"),
        "the dashboard must not load anything from the network"
    );
    assert!(page.contains("name=\"viewport\""));
    assert!(page.contains("/api/v1/status"));
}

#[test]
fn the_dashboard_shows_the_lab_and_follows_a_failover() {
    let c = Controller::start("automatic", 60);
    let site = c.wait_site("protecting", Duration::from_secs(60), |s| {
        s["activity"] == "Protecting"
    });
    let profile = c.tmp.path().join("chromium");
    let (dom, log) = dump_dom(c.port, &profile);
    no_console_output(&log);
    assert!(dom.contains("data-site=\"hq\""), "{dom}");
    assert_eq!(
        field(&dom, "live_host"),
        site["live_host"].as_str(),
        "{dom}"
    );
    assert_eq!(field(&dom, "live_host"), Some("GCSHOSTA"));
    assert_eq!(field(&dom, "standby_host"), Some("GCSHOSTB"));
    assert_eq!(field(&dom, "activity"), Some("Protecting"), "{dom}");
    assert_eq!(field(&dom, "target_data_state"), Some("OK"));
    assert!(dom.contains("data-condition=\"FailoverReady\""), "{dom}");

    c.host_down("GCSHOSTA");
    let after = c.wait_site("failed over to GCSHOSTB", Duration::from_secs(60), |s| {
        s["live_host"] == "GCSHOSTB"
    });
    let (dom, log) = dump_dom(c.port, &profile);
    no_console_output(&log);
    assert_eq!(field(&dom, "live_host"), Some("GCSHOSTB"), "{dom}");
    assert_eq!(after["live_host"], "GCSHOSTB");
    assert!(
        dom.contains("failover"),
        "the journal shows the failover: {dom}"
    );
}
