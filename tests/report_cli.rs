//! Run reports through the real binary on the lab: a drill and a failover, each in Markdown,
//! printable HTML (printed to PDF by a real Chromium) and JSON.

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::cli::Site;
use crate::support::{A, B};

/// A drill that passed, then a person's failover after A failed, committed and protected
/// again in the other direction.
fn drilled_and_failed_over() -> Site {
    let site = Site::new("manual");
    site.converge();
    site.ok(&["failover", "hq", "--test", "--notes", "Q4-drill", "--yes"]);
    site.passes("30s", 5);
    site.ok(&["sim", "fault", "host-down", A]);
    site.passes("1m", 10);
    site.ok(&["failover", "hq", "--yes"]);
    site.passes("1m", 3);
    site.ok(&["sim", "fault", "host-up", A]);
    site.ok(&["failover", "hq", "--commit", "--yes"]);
    site.converge();
    site.passes("30s", 2);
    site
}

fn runs(site: &Site) -> Vec<Value> {
    let json: Value = serde_json::from_str(&site.ok(&["report", "--format", "json"])).unwrap();
    assert_eq!(json["format_version"], 1);
    json["runs"].as_array().unwrap().clone()
}

#[test]
fn a_drill_and_a_failover_should_each_have_a_report_in_every_format() {
    let site = drilled_and_failed_over();
    let runs = runs(&site);
    let kinds: Vec<&str> = runs.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["drill", "failover", "resume"], "{runs:#?}");

    let drill = &runs[0];
    assert_eq!(drill["status"], "ended");
    assert_eq!(drill["result"], "pass");
    assert!(
        drill["id"].as_str().unwrap().starts_with("drill-2026"),
        "{drill}"
    );
    assert!(
        drill["started_by"]["command"]
            .as_str()
            .unwrap()
            .contains("galaxy-ha failover hq --test --notes"),
        "{drill}"
    );
    assert_eq!(drill["drill"]["notes"], "Q4-drill");
    assert!(
        drill["drill"]["checks"].as_array().unwrap().len() >= 7,
        "{drill}"
    );
    assert!(
        drill["steps"].as_array().unwrap().iter().any(|s| s["what"]
            .as_str()
            .unwrap()
            .starts_with("end the test failover")),
        "{drill}"
    );

    let failover = &runs[1];
    assert_eq!(failover["result"], "pass");
    assert_eq!(failover["from"], A);
    assert_eq!(failover["to"], B);
    assert!(
        failover["started_by"]["person"]
            .as_str()
            .unwrap()
            .contains(" on ")
    );
    // Missed from the host's failure until System Galaxy ran on B: minutes, not hours.
    let down = failover["downtime_s"].as_u64().unwrap();
    assert!((300..3600).contains(&down), "{failover}");
    assert!(
        failover["unprotected_s"].as_u64().unwrap() >= down,
        "{failover}"
    );
    assert!(
        failover["recovery_point"]
            .as_str()
            .unwrap()
            .starts_with("the newest data")
    );
    assert!(failover["queue_bytes"].is_u64(), "{failover}");

    // One run by id, in Markdown.
    let id = failover["id"].as_str().unwrap();
    let md = site.ok(&["report", id]);
    assert!(
        md.starts_with(&format!("## {id} — failover PASS (hq)")),
        "{md}"
    );
    assert!(md.contains("| System Galaxy down |"), "{md}");
    assert!(md.contains("| Started by | "), "{md}");
    assert!(
        md.contains("fail over job \"GCSServer to GCSHOSTB\" to GCSHOSTB"),
        "{md}"
    );
    assert!(!md.contains("drill-2026"), "only the run asked for: {md}");
    let unknown = site.run(&["report", "failover-19990101T000000Z"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no run"));

    // All of them as one page, printed to PDF by a real browser.
    let page = site.manifest().with_file_name("report.html");
    site.ok(&[
        "report",
        "--format",
        "html",
        "--out",
        page.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("href=\"http"));
    assert!(html.contains("<section id=\"drill-"), "{html}");
    assert!(html.contains("Q4-drill"));
    let pdf = page.with_extension("pdf");
    let out = Command::new(crate::support::programs::chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .arg(format!(
            "--user-data-dir={}",
            page.with_file_name("chromium").display()
        ))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .output()
        .expect("start chromium");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&pdf).expect("a PDF");
    assert!(bytes.starts_with(b"%PDF"), "a PDF");
    assert!(
        bytes.len() > 10_000,
        "pages, not a blank: {} bytes",
        bytes.len()
    );
}

#[test]
fn a_drill_under_way_should_be_reported_as_running() {
    let site = Site::new("manual");
    site.converge();
    site.ok(&["failover", "hq", "--test", "--yes"]);
    let runs = runs(&site);
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0]["status"], "running");
    assert_eq!(runs[0]["result"], "running");
    let md = site.ok(&["report", "--since", "1h"]);
    assert!(md.contains("drill RUNNING"), "{md}");
}
