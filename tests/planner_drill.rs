//! Table tests of the pure planner's drill rule: checks inside the test replica, the verdict,
//! the end, the cleanup, and the record of the run.

use galaxy_ha::memory::Memory;
use galaxy_ha::model::drill::{Drill, DrillStart};
use galaxy_ha::observed::*;
use galaxy_ha::plan::{self, ActionKind, AlertKind, ConditionType};

use crate::planner_rules::{acts, alerts};
use crate::support::*;

fn ago(minutes: i64) -> jiff::Timestamp {
    now() - jiff::SignedDuration::from_mins(minutes)
}

/// What the guest of the test replica shows.
#[derive(Clone, Copy)]
struct Guest {
    heartbeat: Option<&'static str>,
    services_run: bool,
    ports: bool,
}

const ANSWERS: Guest = Guest {
    heartbeat: Some("OK"),
    services_run: true,
    ports: true,
};

/// Healthy, with the replica on B booted isolated (or not running when `guest` is `None`).
fn drilling(guest: Option<Guest>) -> Observed {
    let mut o = healthy();
    let replica = o.hosts[1]
        .vms
        .iter_mut()
        .find(|v| v.role == VmRole::Replica)
        .expect("a replica on B");
    if let Some(g) = guest {
        replica.state = VmState::Running;
        replica.isolated = true;
        replica.heartbeat = g.heartbeat.map(String::from);
        replica.services = services()
            .into_iter()
            .map(|mut s| {
                if !g.services_run {
                    s.status = ServiceStatus::Stopped;
                }
                s
            })
            .collect();
        replica.listening = g.ports.then(|| vec![6320, 6325, 6330, 6332]);
    }
    o
}

fn with_drill(started_minutes_ago: i64) -> Memory {
    let mut m = adopted();
    m.drill = Some(Drill::new(
        B.into(),
        ago(started_minutes_ago),
        DrillStart {
            by: "admin on console".into(),
            notes: Some("Q4".into()),
            hold: false,
        },
    ));
    m
}

#[test]
fn the_drill_should_end_only_once_every_check_passed_or_its_time_ran_out() {
    let m = manifest("manual");
    // (what the guest shows, minutes since the start, ends, passed)
    let table: [(Guest, i64, bool, Option<bool>); 6] = [
        (ANSWERS, 2, true, Some(true)),
        (
            Guest {
                heartbeat: Some("No Contact"),
                ..ANSWERS
            },
            2,
            false,
            None,
        ),
        (
            Guest {
                heartbeat: None,
                services_run: false,
                ports: false,
            },
            10,
            false,
            None,
        ),
        (
            Guest {
                services_run: false,
                ..ANSWERS
            },
            16,
            true,
            Some(false),
        ),
        (
            Guest {
                ports: false,
                ..ANSWERS
            },
            16,
            true,
            Some(false),
        ),
        (
            Guest {
                heartbeat: Some("OkApplicationsHealthy"),
                ..ANSWERS
            },
            1,
            true,
            Some(true),
        ),
    ];
    for (i, (guest, minutes, ends, passed)) in table.into_iter().enumerate() {
        let p = plan::plan(&m, &drilling(Some(guest)), &with_drill(minutes), now());
        assert_eq!(
            acts(&p).contains(&ActionKind::EndTestFailover),
            ends,
            "row {i}: {:#?}",
            p.actions
        );
        let d = p
            .memory
            .drill
            .as_ref()
            .expect("still running until its cleanup");
        assert_eq!(d.verdict.as_ref().map(|v| v.passed), passed, "row {i}");
        assert!(!d.checks.is_empty(), "row {i}: the checks are kept");
        assert!(
            !alerts(&p).contains(&AlertKind::DrillFailed),
            "row {i}: alerted when it finishes, not when it ends"
        );
    }
}

#[test]
fn a_finished_drill_should_check_its_cleanup_record_the_run_and_alert_only_a_failure() {
    let m = manifest("manual");
    // Passed: the end asked, then the replica is off.
    let p = plan::plan(&m, &drilling(Some(ANSWERS)), &with_drill(2), now());
    let p = plan::plan(&m, &drilling(None), &p.memory, now());
    let d = p.memory.last_drill.as_ref().expect("finished");
    assert_eq!(d.result(), "pass");
    assert!(d.cleanup.as_ref().unwrap().passed);
    assert!(p.memory.drill.is_none());
    assert_eq!(p.memory.last_drill_passed, Some(ago(2)));
    assert!(p.memory.verified.is_some(), "the site is verified");
    assert!(!alerts(&p).contains(&AlertKind::DrillFailed));
    assert_eq!(p.finished_runs.len(), 1);
    assert_eq!(p.finished_runs[0].id, d.run);
    assert_eq!(
        p.condition(ConditionType::Unverified).map(|c| c.status),
        Some(false)
    );

    // Failed in time: one alert when it finishes, naming what failed.
    let silent = Guest {
        heartbeat: Some("No Contact"),
        services_run: false,
        ports: false,
    };
    let p = plan::plan(&m, &drilling(Some(silent)), &with_drill(16), now());
    let p = plan::plan(&m, &drilling(None), &p.memory, now());
    assert_eq!(p.memory.last_drill.as_ref().unwrap().result(), "fail");
    assert_eq!(alerts(&p), vec![AlertKind::DrillFailed]);
    assert!(p.memory.verified.is_none());

    // The test replica outlives its end by five minutes: the cleanup fails and alerts.
    let mut m2 = with_drill(30);
    let p = plan::plan(&m, &drilling(Some(ANSWERS)), &m2, now());
    m2 = p.memory.clone();
    m2.drill.as_mut().unwrap().end_asked = Some(ago(6));
    let p = plan::plan(&m, &drilling(Some(ANSWERS)), &m2, now());
    assert!(
        acts(&p).contains(&ActionKind::EndTestFailover),
        "asked again"
    );
    assert_eq!(alerts(&p), vec![AlertKind::DrillFailed]);
    let cleanup = p.memory.drill.as_ref().unwrap().cleanup.clone().unwrap();
    assert!(!cleanup.passed, "{cleanup:?}");
}

#[test]
fn a_test_replica_no_drill_accounts_for_should_be_adopted_and_checked() {
    let m = manifest("manual");
    let p = plan::plan(&m, &drilling(Some(ANSWERS)), &adopted(), now());
    let d = p.memory.drill.as_ref().expect("adopted");
    assert!(
        d.start.by.contains("not started through galaxy-ha"),
        "{d:?}"
    );
    assert!(acts(&p).contains(&ActionKind::EndTestFailover));
}
