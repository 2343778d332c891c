//! The planner's alerts a person can trust: condition-met in manual mode is an Error that
//! says what to do, a condition that clears gets its all-clear, a fence sends nothing twice,
//! and a refused failover is not announced.

use std::time::Duration;

use galaxy_ha::manifest::spec::EventLevel;
use galaxy_ha::memory::Memory;
use galaxy_ha::plan::{self, AlertKind, Operation, Plan};

use crate::support::*;

/// (kind, severity, key, action) of every alert planned.
fn alerts(p: &Plan) -> Vec<(AlertKind, EventLevel, String, Option<String>)> {
    p.actions
        .iter()
        .filter_map(|a| match &a.op {
            Operation::Alert {
                alert,
                severity,
                key,
                action,
                ..
            } => Some((*alert, *severity, key.clone(), action.clone())),
            _ => None,
        })
        .collect()
}

/// The memory after the pass, as if every alert planned was raised.
fn raised(p: &Plan) -> Memory {
    let mut m = p.memory.clone();
    for (_, _, key, _) in alerts(p) {
        m.alerted.insert(key);
    }
    m
}

#[test]
fn condition_met_in_manual_mode_is_an_error_whose_subject_says_to_approve() {
    let o = live_host_down(Duration::from_secs(400));
    let p = plan::plan(&manifest("manual"), &o, &adopted(), now());
    let met: Vec<_> = alerts(&p)
        .into_iter()
        .filter(|a| a.0 == AlertKind::ConditionMet)
        .collect();
    assert_eq!(met.len(), 1, "{:#?}", p.actions);
    assert_eq!(met[0].1, EventLevel::Error);
    assert_eq!(
        met[0].3.as_deref(),
        Some("System Galaxy DOWN, waiting for your approval: galaxy-ha failover hq")
    );
}

#[test]
fn a_cleared_condition_gets_its_all_clear_once_and_an_event_gets_none() {
    // failure-detected was raised at half the threshold; the condition is met now.
    let mut before = adopted();
    before.alerted.insert("failure-detected/GCSHOSTA".into());
    let down = live_host_down(Duration::from_secs(400));
    let p = plan::plan(&manifest("manual"), &down, &before, now());
    let mut memory = raised(&p);
    assert!(
        memory.alerted.contains("failure-detected/GCSHOSTA"),
        "not cleared while it grew into condition-met"
    );
    memory
        .alerted
        .insert("resumed/GCSServer to GCSHOSTB".into());
    // The host is back and System Galaxy runs again.
    let p = plan::plan(&manifest("manual"), &healthy(), &memory, now());
    let clear: Vec<_> = alerts(&p)
        .into_iter()
        .filter(|a| a.0 == AlertKind::AllClear)
        .collect();
    let keys: Vec<&str> = clear.iter().map(|a| a.2.as_str()).collect();
    assert_eq!(
        keys,
        [
            "all-clear/condition-met/GCSHOSTA",
            "all-clear/failure-detected/GCSHOSTA"
        ],
        "{:#?}",
        p.actions
    );
    assert!(clear.iter().all(|a| a.1 == EventLevel::Information));
    let p = plan::plan(&manifest("manual"), &healthy(), &raised(&p), now());
    assert!(alerts(&p).is_empty(), "said once: {:#?}", p.actions);
}

#[test]
fn a_fence_sends_no_alert_a_second_time() {
    // A stale manifest was alerted; then a split brain is fenced.
    let mut memory = adopted();
    memory.alerted.insert("manifest-stale/GCSHOSTA".into());
    memory.alerted.insert("drill-overdue".into());
    let mut split = healthy();
    split.hosts[1]
        .vms
        .push(sg_vm("GCSServer", galaxy_ha::observed::VmState::Running));
    let p = plan::plan(&manifest("manual"), &split, &memory, now());
    assert!(
        alerts(&p)
            .iter()
            .all(|a| a.0 == AlertKind::SplitBrainFenced),
        "{:#?}",
        p.actions
    );
    assert!(p.memory.alerted.contains("manifest-stale/GCSHOSTA"));
    assert!(p.memory.alerted.contains("drill-overdue"));
}
