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
fn the_page_is_self_contained_phone_sized_and_marks_a_stale_card() {
    use galaxy_ha::http::{Shared, SiteView, dashboard};
    use std::time::SystemTime;
    let tmp = tempfile::tempdir().unwrap();
    let shared = Shared::new(tmp.path().to_path_buf());
    let view = |published: SystemTime| SiteView {
        status: galaxy_ha::status::SiteStatus {
            name: "hq".into(),
            verdict: "System Galaxy running on GCSHOSTA, protected <ok>".into(),
            live_host: Some("GCSHOSTA".into()),
            ..Default::default()
        },
        plan_json: "{}".into(),
        recent: std::sync::Arc::from([]),
        reports: std::sync::Arc::from([]),
        published,
        interval: Duration::from_secs(10),
    };
    let now = SystemTime::now();
    shared.publish(view(now - Duration::from_secs(5)));
    let page = dashboard::render(&shared, now);
    assert!(
        !page.contains("://"),
        "the dashboard must not load anything from the network"
    );
    assert!(page.contains("name=\"viewport\""));
    assert!(page.contains("protected &lt;ok&gt;"), "escaped: {page}");
    assert_eq!(field(&page, "pass_age"), Some("last pass 5s ago"));

    // Three intervals without a pass: the card says it may be out of date.
    shared.publish(view(now - Duration::from_secs(31)));
    let page = dashboard::render(&shared, now);
    assert!(page.contains("class=\"age stale\""), "{page}");
    assert!(
        field(&page, "pass_age").is_some_and(
            |a| a.starts_with("last pass 31s ago — older than 3 monitor intervals (30s)")
        ),
        "{page}"
    );
}

/// The page as served, read without running any script.
fn page(port: u16) -> String {
    let r = http_get(port, "/").unwrap();
    assert_eq!(r.status, 200);
    r.body
}

#[test]
fn the_dashboard_reads_without_javascript_and_shows_what_a_person_must_do() {
    let c = Controller::start("manual", 60);
    c.wait_site("protecting", Duration::from_secs(60), |s| {
        s["activity"] == "Protecting"
    });
    let html = page(c.port);
    assert!(!html.contains("loading"), "{html}");
    assert_eq!(field(&html, "live_host"), Some("GCSHOSTA"));
    assert_eq!(field(&html, "failover_mode"), Some("manual"));
    assert_eq!(field(&html, "running_on"), Some("GCSHOSTA"));
    assert!(
        field(&html, "verdict")
            .is_some_and(|v| v.starts_with("System Galaxy running on GCSHOSTA, protected")),
        "{html}"
    );
    assert!(field(&html, "pass_age").is_some_and(|a| a.starts_with("last pass ")));
    assert!(html.contains("data-condition=\"FailoverReady\""));
    assert!(
        html.contains("GCSServer_Replica_GCSHOSTB — Off (replica)"),
        "{html}"
    );

    // The live host fails; manual mode: the card says to approve, and how.
    c.host_down("GCSHOSTA");
    let site = c.wait_site("waiting for approval", Duration::from_secs(60), |s| {
        s["approval"].is_string()
    });
    let html = page(c.port);
    let command = site["approval"].as_str().unwrap();
    assert!(
        command.starts_with("galaxy-ha failover hq -m "),
        "{command}"
    );
    assert!(html.contains("Waiting for your approval"), "{html}");
    assert!(
        field(&html, "verdict").is_some_and(|v| v.contains("System Galaxy DOWN")),
        "{html}"
    );

    // Screenshot of the real page as it loads: no virtual time for scripts to draw it (the
    // server did), so what a plain `--screenshot` captures is the whole dashboard.
    let shot = c.tmp.path().join("dashboard.png");
    let out = Command::new(chromium_path())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--hide-scrollbars",
            "--window-size=1280,1100",
        ])
        .arg(format!(
            "--user-data-dir={}",
            c.tmp.path().join("shot").display()
        ))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("http://127.0.0.1:{}/", c.port))
        .stdin(Stdio::null())
        .output()
        .expect("start chromium");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(
        png.len() > 20_000,
        "a page, not a blank: {} bytes",
        png.len()
    );
    // `GALAXY_HA_UPDATE_DOCS=1 cargo test --test main dashboard` refreshes the README's picture.
    if std::env::var_os("GALAXY_HA_UPDATE_DOCS").is_some() {
        fs::copy(
            &shot,
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/dashboard.png"),
        )
        .expect("docs/dashboard.png written");
    }
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
