//! Table tests of the pure planner's commit window (rule 8) and rollback (rule 8b).

use std::time::Duration;

use galaxy_ha::memory::{CommitBy, FailoverCause, FailoverRecord, Failure, Memory, Rollback};
use galaxy_ha::observed::*;
use galaxy_ha::plan::{self, ActionKind, AlertKind, Approval, Operation};

use crate::planner_rules::{RESUME_STEPS, acts, alerts};
use crate::support::*;

fn ago(minutes: i64) -> jiff::Timestamp {
    now() - jiff::SignedDuration::from_mins(minutes)
}

/// A failed over from A to B `minutes` ago; A back, its VM off; System Galaxy on B.
fn failed_over() -> Observed {
    let mut o = healthy();
    o.hosts[0].vms = vec![sg_vm("GCSServer", VmState::Off)];
    o.hosts[1].vms = vec![sg_vm("GCSServer_Replica_GCSHOSTB", VmState::Running)];
    o.job.as_mut().unwrap().activity = Activity::FailedOver;
    o
}

fn after_failover(minutes: i64, cause: FailoverCause) -> Memory {
    Memory {
        live_host: Some(B.into()),
        acknowledged_primary: Some(A.into()),
        failover_latched: true,
        last_failover: Some(FailoverRecord::new(ago(minutes), A.into(), B.into(), cause)),
        ..Memory::default()
    }
}

fn automatic(window: Option<Duration>) -> galaxy_ha::manifest::spec::Manifest {
    let mut m = manifest("automatic");
    if let Some(w) = window {
        m.spec_mut().failover.commit_window = w;
    }
    m
}

#[test]
fn rule8_holds_replication_inside_the_commit_window_and_says_until_when() {
    let p = plan::plan(
        &automatic(None),
        &failed_over(),
        &after_failover(10, FailoverCause::Automatic),
        now(),
    );
    assert_eq!(acts(&p), vec![], "{:#?}", p.actions);
    assert_eq!(
        p.commit_until,
        Some(ago(10) + jiff::SignedDuration::from_mins(60))
    );
    assert!(p.memory.committed.is_none());
    assert!(
        p.waiting.iter().any(|w| w.contains("--rollback")),
        "{:?}",
        p.waiting
    );
}

#[test]
fn rule8_commits_and_resumes_when_the_window_ends_the_manifest_names_the_new_host_or_there_is_none()
{
    let o = failed_over();
    // (spec, minutes since the failover, cause, committed by)
    let mut named_b = automatic(None);
    named_b.spec_mut().primary = B.into();
    let cases = [
        (
            automatic(None),
            60,
            FailoverCause::Automatic,
            Some(CommitBy::Window),
        ),
        (
            automatic(None),
            61,
            FailoverCause::Approved,
            Some(CommitBy::Window),
        ),
        (
            named_b,
            5,
            FailoverCause::Automatic,
            Some(CommitBy::Manifest),
        ),
        (
            automatic(Some(Duration::ZERO)),
            1,
            FailoverCause::Automatic,
            None,
        ),
        (automatic(None), 1, FailoverCause::Switchover, None),
    ];
    for (m, minutes, cause, by) in cases {
        let p = plan::plan(&m, &o, &after_failover(minutes, cause), now());
        assert_eq!(
            acts(&p),
            RESUME_STEPS,
            "{minutes} min, {cause:?}: {:?}",
            p.waiting
        );
        assert_eq!(
            p.memory.committed.as_ref().map(|c| c.by),
            by,
            "{minutes} min, {cause:?}"
        );
        assert_eq!(p.commit_until, None);
    }
}

#[test]
fn rule8_the_window_never_commits_while_system_galaxy_is_not_running_on_the_new_host() {
    let mut o = failed_over();
    o.hosts[1].vms[0].state = VmState::Off;
    let p = plan::plan(
        &automatic(None),
        &o,
        &after_failover(90, FailoverCause::Automatic),
        now(),
    );
    assert_eq!(acts(&p), vec![]);
    assert!(p.memory.committed.is_none());
}

#[test]
fn a_person_commits_only_an_open_commit_and_rolls_back_only_with_both_hosts() {
    let m = automatic(None);
    let o = failed_over();
    let mem = after_failover(10, FailoverCause::Automatic);
    assert!(matches!(
        plan::approve_commit(&m.spec, &o, &mem),
        Ok(Approval::Commit { ref to }) if to == B
    ));
    let Ok(Approval::Rollback { old_vm, open }) = plan::approve_rollback(&m.spec, &o, &mem) else {
        panic!("rollback refused")
    };
    assert_eq!(
        (old_vm.as_str(), open.failover.from.as_str()),
        ("GCSServer", A)
    );
    // Committed, a planned switchover, no window, A away, System Galaxy already on A.
    let mut committed = mem.clone();
    committed.committed = Some(galaxy_ha::memory::Committed {
        failover_at: ago(10),
        at: ago(5),
        by: CommitBy::Person,
    });
    let mut no_window = m.clone();
    no_window.spec_mut().failover.commit_window = Duration::ZERO;
    let mut a_away = o.clone();
    a_away.hosts[0].reachable = false;
    let mut both = o.clone();
    both.hosts[0].vms[0].state = VmState::Running;
    for (spec, o, mem, words) in [
        (&m, &o, &committed, "was committed at"),
        (
            &m,
            &o,
            &after_failover(10, FailoverCause::Switchover),
            "planned switchover",
        ),
        (&no_window, &o, &mem, "commitWindow is 0s"),
        (&m, &a_away, &mem, "cannot be reached"),
        (&m, &both, &mem, "runs on GCSHOSTA already"),
    ] {
        let err = plan::approve_rollback(&spec.spec, o, mem).unwrap_err();
        assert!(err.contains(words), "{words:?}: {err}");
    }
}

/// A rollback from B back to A, asked just now.
fn rolling_back() -> Memory {
    Memory {
        rollback: Some(Rollback {
            from: B.into(),
            to: A.into(),
            failover_at: ago(10),
            started: now(),
            live_at: None,
        }),
        ..after_failover(10, FailoverCause::Automatic)
    }
}

#[test]
fn rule8b_a_rollback_shuts_down_cleanly_then_starts_the_old_vm_only_while_none_runs() {
    let m = automatic(None);
    // Still running on B: the clean shutdown, nothing else (never a turn-off, never a start).
    let p = plan::plan(&m, &failed_over(), &rolling_back(), now());
    assert_eq!(acts(&p), vec![ActionKind::StopVm], "{:?}", p.actions);
    assert!(p.actions.iter().any(|a| matches!(
        &a.op,
        Operation::StopVm { host, turn_off: false, .. } if host == B
    )));
    // Off on B: A's old VM starts.
    let mut off = failed_over();
    off.hosts[1].vms[0].state = VmState::Off;
    let p = plan::plan(&m, &off, &rolling_back(), now());
    assert_eq!(acts(&p), vec![ActionKind::StartVm]);
    assert!(p.actions.iter().any(|a| matches!(
        &a.op,
        Operation::StartVm { host, vm } if host == A && vm == "GCSServer"
    )));
    assert!(p.memory.rollback.is_some());
    // Running on A now: rule 8 deletes the failed-over job, the rollback's alert says so.
    let mut back = off.clone();
    back.hosts[0].vms[0].state = VmState::Running;
    let p = plan::plan(&m, &back, &rolling_back(), now());
    assert_eq!(acts(&p), vec![ActionKind::DeleteJob], "{:?}", p.actions);
    assert!(alerts(&p).contains(&AlertKind::Rollback));
    assert!(
        !alerts(&p).contains(&AlertKind::FailureDetected),
        "a rollback is no failure"
    );
    // The job gone: the rollback is over, rule 4 protects A again.
    let mut gone = back.clone();
    gone.job = None;
    gone.hosts[1].vms[0].role = VmRole::SystemGalaxy;
    let p = plan::plan(&m, &gone, &rolling_back(), now());
    assert!(p.memory.rollback.is_none());
}

#[test]
fn rule8b_a_rollback_stops_rather_than_turn_off_or_leave_system_galaxy_down() {
    let m = automatic(None);
    // The clean shutdown failed and System Galaxy still runs on B: stop, do nothing else.
    let mut failed = rolling_back();
    failed.failures.insert(
        format!("hq/stop-vm/{B}/GCSServer_Replica_GCSHOSTB"),
        Failure {
            attempts: 1,
            retry_at: now(),
            error: "the guest refused to shut down".into(),
        },
    );
    let p = plan::plan(&m, &failed_over(), &failed, now());
    assert_eq!(acts(&p), vec![], "{:?}", p.actions);
    assert!(p.memory.rollback.is_none());
    assert!(alerts(&p).contains(&AlertKind::Rollback));
    assert!(p.commit_until.is_some(), "the commit stays open");
    // Off on B and A gone: System Galaxy starts again on B.
    let mut o = failed_over();
    o.hosts[1].vms[0].state = VmState::Off;
    o.hosts[0].reachable = false;
    let p = plan::plan(&m, &o, &rolling_back(), now());
    assert!(
        p.actions.iter().any(|a| matches!(
            &a.op,
            Operation::StartVm { host, .. } if host == B
        )),
        "{:?}",
        p.actions
    );
    assert!(p.memory.rollback.is_none());
}
