//! The HTTP API of `galaxy-ha run` against a controller on the simulated lab: status and
//! plan as the CLI prints them, health and readiness, and `/metrics` read by a real
//! OpenMetrics parser (python3-prometheus-client).

use std::collections::BTreeSet;
use std::fs;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::run_support::*;

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// The CLI's JSON of `ARGS --format json` on a copy of the controller's manifest and state.
fn cli_json(c: &Controller, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = c.cli(&all);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn status_plan_health_and_readiness_answer_as_the_cli_does() {
    let c = Controller::start("automatic", 60);
    let health = http_get(c.port, "/healthz").unwrap();
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));
    let ready = http_get(c.port, "/readyz").unwrap();
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(
        count_log(&c.log(), &["non-loopback"]),
        0,
        "loopback needs no warning"
    );

    let site = c.wait_site("protecting", Duration::from_secs(60), |s| {
        s["activity"] == "Protecting"
    });
    let r = http_get(c.port, "/api/v1/status").unwrap();
    assert!(
        r.headers.contains("content-type: application/json"),
        "{}",
        r.headers
    );
    let api: Value = serde_json::from_str(&r.body).unwrap();
    let cli = cli_json(&c, &["status"]);
    assert_eq!(api["format_version"], cli["format_version"]);
    assert_eq!(keys(&api), keys(&cli));
    assert_eq!(keys(&api["sites"][0]), keys(&cli["sites"][0]));
    assert_eq!(keys(&api["sites"][0]["job"]), keys(&cli["sites"][0]["job"]));
    assert_eq!(site["name"], "hq");
    assert_eq!(site["live_host"], "GCSHOSTA");
    assert_eq!(site["standby_host"], "GCSHOSTB");
    assert_eq!(site["job"]["target_data_state"], "OK");
    assert_eq!(site["live_host"], cli["sites"][0]["live_host"]);
    let types: BTreeSet<&str> = site["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    for t in [
        "Ready",
        "Protected",
        "FailoverReady",
        "ManifestStale",
        "Maintenance",
        "DrillOverdue",
        "Degraded",
    ] {
        assert!(types.contains(t), "{t} missing from {types:?}");
    }

    let plan = http_get(c.port, "/api/v1/sites/hq/plan").unwrap();
    assert_eq!(plan.status, 200, "{}", plan.body);
    let plan: Value = serde_json::from_str(&plan.body).unwrap();
    let cli_plan = cli_json(&c, &["plan"]);
    assert_eq!(plan["format_version"], cli_plan["format_version"]);
    assert_eq!(keys(&plan["sites"][0]), keys(&cli_plan["sites"][0]));
    assert_eq!(plan["sites"].as_array().unwrap().len(), 1);
    assert_eq!(plan["sites"][0]["name"], "hq");
    assert!(plan["sites"][0]["actions"].is_array());

    let history = http_get(c.port, "/api/v1/sites/hq/history").unwrap();
    assert_eq!(history.status, 200);
    let history: Value = serde_json::from_str(&history.body).unwrap();
    let events = history["events"].as_array().unwrap();
    assert!(!events.is_empty() && events.len() <= 10, "{history}");

    for path in [
        "/api/v1/sites/nowhere/plan",
        "/api/v1/sites/nowhere/history",
    ] {
        let r = http_get(c.port, path).unwrap();
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        assert!(r.body.contains("nowhere"), "{}", r.body);
    }
}

#[test]
fn readyz_says_why_while_no_manifest_is_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("hq.yaml"),
        "apiVersion: galaxy-ha/v1\nkind: Nonsense\n",
    )
    .unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let log = tmp.path().join("log");
    let _run = start_run(&dir, &tmp.path().join("s"), &log, &["--listen", &listen]);
    wait_for_log(&log, &["dashboard on"], 0, Duration::from_secs(10));
    eventually(Duration::from_secs(10), "readyz 503 with why", || {
        http_get(port, "/readyz")
            .is_ok_and(|r| r.status == 503 && r.body.contains("no valid site manifest"))
    });
    let health = http_get(port, "/healthz").unwrap();
    assert_eq!(health.status, 200);
    assert_eq!(api_status(port)["sites"], serde_json::json!([]));
}

/// Parses OpenMetrics text with prometheus_client's parser; one sample a line:
/// `[name, labels, value]`.
fn parse_openmetrics(text: &str) -> Vec<(String, serde_json::Map<String, Value>, f64)> {
    const SCRIPT: &str = r#"
import sys, json
from prometheus_client.openmetrics.parser import text_string_to_metric_families
for f in text_string_to_metric_families(sys.stdin.read()):
    for s in f.samples:
        print(json.dumps([s.name, s.labels, s.value]))
"#;
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("metrics.txt");
    fs::write(&input, text).unwrap();
    let out = Command::new(crate::support::programs::python())
        .arg("-c")
        .arg(SCRIPT)
        .stdin(fs::File::open(&input).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "the OpenMetrics parser rejected /metrics (or prometheus_client is missing; scripts/test installs it):\n{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v[0].as_str().unwrap().to_string(),
                v[1].as_object().unwrap().clone(),
                v[2].as_f64().unwrap(),
            )
        })
        .collect()
}

fn value(
    samples: &[(String, serde_json::Map<String, Value>, f64)],
    name: &str,
    labels: &[(&str, &str)],
) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).and_then(Value::as_str) == Some(*v))
        })
        .map(|s| s.2)
}

#[test]
fn metrics_are_openmetrics_with_the_site_state() {
    let c = Controller::start("automatic", 60);
    c.wait_site("protecting", Duration::from_secs(60), |s| {
        s["activity"] == "Protecting"
    });
    // A pass after the API said protecting has published the gauges too.
    std::thread::sleep(Duration::from_millis(1500));
    let r = http_get(c.port, "/metrics").unwrap();
    assert_eq!(r.status, 200);
    assert!(
        r.headers
            .contains("content-type: application/openmetrics-text"),
        "{}",
        r.headers
    );
    assert!(r.body.ends_with("# EOF\n"), "{}", r.body);
    let samples = parse_openmetrics(&r.body);
    let hq = ("site", "hq");
    assert_eq!(
        value(
            &samples,
            "galaxy_ha_site_activity",
            &[hq, ("activity", "Protecting")]
        ),
        Some(1.0)
    );
    let activities = samples
        .iter()
        .filter(|(n, _, _)| n == "galaxy_ha_site_activity")
        .count();
    assert_eq!(activities, 1, "one current activity");
    assert_eq!(
        value(
            &samples,
            "galaxy_ha_site_live_host",
            &[hq, ("host", "GCSHOSTA")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &samples,
            "galaxy_ha_site_condition",
            &[hq, ("type", "Protected")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &samples,
            "galaxy_ha_site_condition",
            &[hq, ("type", "Maintenance")]
        ),
        Some(0.0)
    );
    assert_eq!(
        value(&samples, "galaxy_ha_site_drill_running", &[hq]),
        Some(0.0),
        "no drill runs"
    );
    for name in [
        "galaxy_ha_site_replication_queue_bytes",
        "galaxy_ha_site_recovery_point_latency_seconds",
        "galaxy_ha_alerts_pending",
        "galaxy_ha_site_failover_condition_met",
        "galaxy_ha_alerts_delivered_total",
        "galaxy_ha_alerts_failed_total",
        "galaxy_ha_pass_duration_seconds_count",
    ] {
        assert!(value(&samples, name, &[hq]).is_some(), "{name} missing");
    }
    assert!(
        value(
            &samples,
            "galaxy_ha_actions_total",
            &[hq, ("kind", "create-job"), ("outcome", "done")]
        )
        .is_some_and(|v| v >= 1.0),
        "{}",
        r.body
    );

    // While the source is missed, the monitor's remaining time is exported.
    c.host_down("GCSHOSTA");
    c.wait_site("source missed", Duration::from_secs(30), |s| {
        s["failover_monitor_remaining_s"].is_u64()
    });
    std::thread::sleep(Duration::from_millis(200));
    let samples = parse_openmetrics(&http_get(c.port, "/metrics").unwrap().body);
    assert!(
        value(
            &samples,
            "galaxy_ha_site_failover_monitor_remaining_seconds",
            &[hq]
        )
        .is_some()
            || value(
                &samples,
                "galaxy_ha_site_live_host",
                &[hq, ("host", "GCSHOSTB")]
            )
            .is_some(),
        "no monitor countdown and no failover"
    );
}

#[test]
fn a_non_loopback_listen_address_needs_protection_or_insecure_listen_and_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("hq.yaml"), guide_manifest("manual")).unwrap();
    let port = free_port();
    let listen = format!("0.0.0.0:{port}");
    let log = tmp.path().join("log");
    let mut refused = start_run(&dir, &tmp.path().join("s"), &log, &["--listen", &listen]);
    let status = refused.child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    let text = fs::read_to_string(&log).unwrap();
    assert!(text.contains("is not a loopback address"), "{text}");
    assert!(text.contains("--insecure-listen"), "{text}");

    let _run = start_run(
        &dir,
        &tmp.path().join("s"),
        &log,
        &["--listen", &listen, "--insecure-listen"],
    );
    wait_for_log(&log, &["non-loopback"], 0, Duration::from_secs(10));
    // Only ever asked over loopback.
    wait_ready(port, &log, Duration::from_secs(20));
    assert_eq!(http_get(port, "/healthz").unwrap().body, "ok");
}

#[test]
fn the_dashboard_should_link_the_last_runs_to_their_printable_reports() {
    let c = Controller::start("manual", 60);
    c.wait_site("protecting", Duration::from_secs(60), |s| {
        s["activity"] == "Protecting"
    });
    let out = c.cli(&["failover", "hq", "--test", "--yes"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The drill verifies itself, ends, and its cleanup is checked.
    let site = c.wait_site("drill finished", Duration::from_secs(60), |s| {
        s["last_drill"]["result"] == "pass"
    });
    let run = site["last_drill"]["run"].as_str().unwrap().to_string();
    // Status shows the drill finished from the pass that finished it; the dashboard lists
    // its report once that pass's journal is published (the next pass at the latest).
    let link = format!("<a href=\"/reports/hq/{run}\">{run}</a> drill PASS");
    eventually(
        Duration::from_secs(30),
        "the dashboard links the run",
        || {
            http_get(c.port, "/")
                .is_ok_and(|d| d.body.contains("data-field=\"runs\"") && d.body.contains(&link))
        },
    );
    let report = http_get(c.port, &format!("/reports/hq/{run}")).unwrap();
    assert_eq!(report.status, 200);
    assert!(
        report.body.starts_with("<!DOCTYPE html>"),
        "{}",
        report.body
    );
    assert!(report.body.contains("heartbeat"), "{}", report.body);
    let missing = http_get(c.port, "/reports/hq/drill-19990101T000000Z").unwrap();
    assert_eq!(missing.status, 404);
    assert!(
        missing.body.contains("galaxy-ha report"),
        "{}",
        missing.body
    );
}
