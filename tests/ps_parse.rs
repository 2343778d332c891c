//! Reading recorded observe output, written from the documented object shapes with Windows
//! PowerShell 5.1's quirks: `/Date(ms)/` dates, wrapped arrays, enums as numbers.

use std::time::Duration;

use galaxy_ha::manifest::spec::{Startup, Threshold};
use galaxy_ha::observed::{Activity, Health, ServiceStatus, VmRole, VmState};
use galaxy_ha::platform::powershell::parse::{self, ParseError};

/// GCSHOSTB while protecting: services, two ports, the replica off, the job.
const PROTECTING_B: &str = r#"{"formatVersion":1,"computerName":"GCSHOSTB","psVersion":"5.1.17763.592",
"services":[{"name":"Double-Take","status":"Running","startType":"Automatic","delayedAutoStart":false},
            {"name":"Double-Take Management Service","status":4,"startType":2,"delayedAutoStart":true}],
"firewall":{"value":[{"port":6320,"protocol":"TCP"},{"port":6320,"protocol":"UDP"}],"Count":2},
"vms":{"name":"GCSServer_Replica_GCSHOSTB","state":3,"isolated":false,"guestServices":null},
"email":null,
"jobs":[{"id":"6c7f2a4e-0000-0000-0000-000000000001","name":"GCSServer to GCSHOSTB",
  "replicaName":"GCSServer_Replica_GCSHOSTB","highLevelState":"Protecting","health":"Ok",
  "permillageComplete":1000,"targetState":"OK","mirrorBytesRemaining":0,
  "replicationBytesQueued":4096,"diskQueueBytes":0,"targetQueueBytes":2048,
  "recoveryPointLatencyMs":1500,"totalBytesSent":42949672960,
  "startTime":"/Date(1767600180000)/",
  "monitor":{"intervalMs":10000,"totalTimeMs":300000,"consecutiveFailures":null,"useConsecutiveFailures":false,"waitForUser":true},
  "monitorStatus":{"alive":false,"failoverConditionMet":false,"warningConditionMet":true,"remainingMs":240000}}],
"doubleTakeError":null}"#;

#[test]
fn a_protecting_target_should_read_as_observed() {
    let doc = parse::document("GCSHOSTB", PROTECTING_B).expect("parses");
    let (host, jobs) = parse::host("GCSHOSTB", &doc, "GCSServer", "GCSHOSTA").expect("reads");
    assert!(host.reachable);
    assert_eq!(host.services.len(), 2);
    assert_eq!(host.services[1].status, ServiceStatus::Running);
    assert_eq!(host.services[1].startup, Startup::AutomaticDelayed);
    assert_eq!(host.firewall.len(), 2);
    assert_eq!(host.vms.len(), 1, "a single VM written as an object");
    assert_eq!(host.vms[0].state, VmState::Off);
    assert_eq!(host.vms[0].role, VmRole::Replica);
    let job = &jobs[0];
    assert_eq!(job.source, "GCSHOSTA");
    assert_eq!(job.target, "GCSHOSTB");
    assert_eq!(job.activity, Activity::Protecting);
    assert_eq!(job.percent, None);
    assert_eq!(job.health, Health::Ok);
    assert!(job.target_data_ok);
    assert_eq!(job.recovery_point_latency, Duration::from_millis(1500));
    assert_eq!(
        job.connected_since.map(|t| t.to_string()).as_deref(),
        Some("2026-01-05T08:03:00Z")
    );
    assert_eq!(
        job.monitor.threshold,
        Threshold::TotalTime(Duration::from_secs(300))
    );
    assert!(job.monitor.wait_for_user);
    assert!(!job.monitor_status.source_alive);
    assert_eq!(job.monitor_status.missed_for, Duration::from_secs(60));
    assert_eq!(job.monitor_status.failed_queries, 6);
}

#[test]
fn dates_should_read_in_every_form_windows_powershell_writes() {
    use serde_json::json;
    let at = |v| parse::date(&v).expect("date").map(|t| t.to_string());
    assert_eq!(
        at(json!("/Date(1767600000000)/")).as_deref(),
        Some("2026-01-05T08:00:00Z")
    );
    assert_eq!(
        at(json!("/Date(1767600000000+0100)/")).as_deref(),
        Some("2026-01-05T08:00:00Z")
    );
    assert_eq!(
        at(json!("2026-01-05T08:00:00Z")).as_deref(),
        Some("2026-01-05T08:00:00Z")
    );
    assert_eq!(at(json!(null)), None);
    let wrapped = parse::normalize(
        json!({"startTime": {"value": "/Date(0)/", "DisplayHint": 2, "DateTime": "Thursday, January 1, 1970"}}),
    );
    assert_eq!(wrapped["startTime"], "/Date(0)/");
    assert!(parse::date(&json!("yesterday")).is_err());
}

#[test]
fn a_carbonite_enum_written_as_a_number_should_be_named_in_the_error() {
    let text = PROTECTING_B.replace(r#""highLevelState":"Protecting""#, r#""highLevelState":3"#);
    let doc = parse::document("GCSHOSTB", &text).expect("parses");
    let err = parse::host("GCSHOSTB", &doc, "GCSServer", "GCSHOSTA").expect_err("refused");
    let msg = err.to_string();
    assert!(msg.contains("jobs[0].highLevelState"), "{msg}");
    assert!(msg.contains("number"), "{msg}");
}

#[test]
fn an_unknown_job_state_should_be_named_in_the_error() {
    let text = PROTECTING_B.replace(
        r#""highLevelState":"Protecting""#,
        r#""highLevelState":"Reticulating""#,
    );
    let doc = parse::document("GCSHOSTB", &text).expect("parses");
    let err = parse::host("GCSHOSTB", &doc, "GCSServer", "GCSHOSTA").expect_err("refused");
    assert!(
        matches!(&err, ParseError::Value { field, .. } if field == "jobs[0].highLevelState"),
        "{err}"
    );
}

#[test]
fn a_missing_field_should_be_named_with_its_path() {
    let text = PROTECTING_B.replace(r#""replicaName":"GCSServer_Replica_GCSHOSTB","#, "");
    let err = parse::document("GCSHOSTB", &text).expect_err("refused");
    assert!(
        matches!(&err, ParseError::Shape { field, .. } if field.starts_with("jobs[0]")),
        "{err}"
    );
    assert!(err.to_string().contains("replicaName"), "{err}");
}

#[test]
fn empty_and_foreign_output_should_be_clear_errors() {
    assert_eq!(
        parse::document("GCSHOSTA", "  \r\n").expect_err("empty"),
        ParseError::Empty {
            host: "GCSHOSTA".into()
        }
    );
    let e = parse::document("GCSHOSTA", "WARNING: something\n{").expect_err("not json");
    assert!(e.to_string().contains("not JSON"), "{e}");
    let v2 = PROTECTING_B.replace(r#""formatVersion":1"#, r#""formatVersion":2"#);
    assert!(matches!(
        parse::document("GCSHOSTB", &v2),
        Err(ParseError::Version { found: 2, .. })
    ));
}

#[test]
fn a_running_replica_with_network_should_read_as_system_galaxy() {
    let text = PROTECTING_B
        .replace(r#""state":3,"isolated":false,"guestServices":null"#, r#""state":"Running","isolated":false,"guestServices":[{"name":"Double-Take","status":"Stopped","startType":"Manual"}]"#)
        .replace(r#""highLevelState":"Protecting""#, r#""highLevelState":"FailedOver""#);
    let doc = parse::document("GCSHOSTB", &text).expect("parses");
    let (host, _) = parse::host("GCSHOSTB", &doc, "GCSServer", "GCSHOSTA").expect("reads");
    assert_eq!(host.vms[0].role, VmRole::SystemGalaxy);
    assert!(host.vms[0].is_live());
    assert_eq!(host.vms[0].services[0].status, ServiceStatus::Stopped);
}
