//! What the chaos schedules found, each pinned by a table test of the planner so that it
//! stays fixed whatever the schedules draw.

use galaxy_ha::observed::*;
use galaxy_ha::plan::{self, ActionKind, Operation, Plan};

use crate::support::*;

fn kinds(p: &Plan) -> Vec<ActionKind> {
    p.actions.iter().map(|a| a.kind()).collect()
}

#[test]
fn a_stopped_or_failed_job_should_be_recreated_while_system_galaxy_runs_on_the_live_host() {
    for activity in [Activity::Stopped, Activity::Failed] {
        let mut o = healthy();
        o.job.as_mut().unwrap().activity = activity;
        let p = plan::plan(&manifest("manual"), &o, &adopted(), now());
        // Delete the job keeping its replica's disks, remove the old replica's configuration
        // (its disks stay), create afresh in the same direction; replication-resumed says so
        // once the new job protects.
        assert!(
            matches!(
                p.actions.iter().map(|a| &a.op).collect::<Vec<_>>()[..],
                [
                    Operation::DeleteJob { delete_replica: false, target: t, .. },
                    Operation::RemoveReplica { host: r, .. },
                    Operation::CreateJob(job),
                ] if *t == B && *r == B && job.source == A && job.target == B
            ),
            "{activity}: {:#?}",
            p.actions
        );
        let resuming = p
            .memory
            .resuming
            .as_ref()
            .expect("remembered for the alert");
        assert!(
            resuming.why.contains("replication had stopped"),
            "{resuming:?}"
        );
    }
}

#[test]
fn a_stopped_job_should_be_kept_while_its_replica_runs_or_system_galaxy_runs_nowhere() {
    // A test failover's replica is up: the job waits for it to end.
    let mut o = healthy();
    o.job.as_mut().unwrap().activity = Activity::Stopped;
    o.hosts[1].vms[0].state = VmState::Running;
    o.hosts[1].vms[0].isolated = true;
    let p = plan::plan(&manifest("manual"), &o, &adopted(), now());
    assert!(
        !kinds(&p).contains(&ActionKind::DeleteJob),
        "{:#?}",
        p.actions
    );
    assert!(
        p.waiting.iter().any(|w| w.contains("recreated once")),
        "{:?}",
        p.waiting
    );

    // The live host failed: the stopped job is still the way to the replica.
    let mut o = live_host_down(std::time::Duration::from_secs(400));
    o.job.as_mut().unwrap().activity = Activity::Stopped;
    let p = plan::plan(&manifest("manual"), &o, &adopted(), now());
    assert!(
        !kinds(&p).contains(&ActionKind::DeleteJob),
        "{:#?}",
        p.actions
    );
}

#[test]
fn a_split_brain_should_be_fenced_even_in_maintenance() {
    let mut m = manifest("manual");
    m.spec_mut().maintenance = serde_saphyr::from_str("reason: SQL Server patching\n").unwrap();
    let mut o = healthy();
    o.hosts[1].vms[0] = sg_vm("GCSServer_Replica_GCSHOSTB", VmState::Running);
    let p = plan::plan(&m, &o, &adopted(), now());
    assert!(p.maintenance.is_none(), "the fence is carried out");
    assert!(
        p.condition(plan::ConditionType::Maintenance)
            .unwrap()
            .status,
        "the site still reports maintenance"
    );
    assert!(
        p.actionable().iter().any(|a| matches!(
            &a.op,
            Operation::StopVm { host, turn_off: true, .. } if host == B
        )),
        "{:#?}",
        p.actions
    );
    assert!(
        p.actionable()
            .iter()
            .all(|a| matches!(a.op, Operation::StopVm { .. } | Operation::Alert { .. })),
        "nothing but the fence: {:#?}",
        p.actions
    );
}

#[test]
fn a_person_should_not_fail_over_while_the_failover_monitor_still_reaches_the_live_host() {
    // The controller lost its link to A; the job on B still sees System Galaxy on A.
    let mut o = healthy();
    o.hosts[0] = HostState::unreachable(A);
    let refused =
        plan::approve(&manifest("manual"), &o, &adopted(), false).expect_err("one view only");
    assert!(
        refused.contains("still reaches System Galaxy on GCSHOSTA"),
        "{refused}"
    );
    // Both views lost it: the person's approval is a failover.
    let o = live_host_down(std::time::Duration::from_secs(30));
    assert!(matches!(
        plan::approve(&manifest("manual"), &o, &adopted(), false),
        Ok(plan::Approval::Failover { .. })
    ));
}

#[test]
fn a_switchover_should_not_start_while_the_job_is_not_connected() {
    // The link between the hosts dropped a moment ago: the console still says Protecting.
    let mut o = healthy();
    o.job.as_mut().unwrap().connected_since = None;
    let mut m = manifest("manual");
    m.spec_mut().primary = B.into();
    let p = plan::plan(&m, &o, &adopted(), now());
    assert!(
        !kinds(&p).contains(&ActionKind::StopVm),
        "no clean shutdown: {:#?}",
        p.actions
    );
    assert!(
        p.waiting.iter().any(|w| w.contains("connected")),
        "{:?}",
        p.waiting
    );
    let refused =
        plan::approve(&manifest("manual"), &o, &adopted(), false).expect_err("not connected");
    assert!(refused.contains("not connected"), "{refused}");
    // Connected again: the switchover starts.
    let p = plan::plan(&m, &healthy(), &adopted(), now());
    assert!(kinds(&p).contains(&ActionKind::StopVm), "{:#?}", p.actions);
}

#[test]
fn a_primary_set_to_the_live_host_during_a_switchover_should_not_move_system_galaxy_back() {
    // A person ran `failover` (a switchover from B to A) and, while it ran, set spec.primary
    // to B, the live host then. Once A is live, spec.primary: B is stale, not a request.
    let mut m = manifest("manual");
    m.spec_mut().primary = B.into();
    let memory = galaxy_ha::memory::Memory {
        live_host: Some(B.into()),
        acknowledged_primary: Some(A.into()),
        switchover: Some(galaxy_ha::memory::Switchover {
            from: B.into(),
            to: A.into(),
            started: now(),
        }),
        ..galaxy_ha::memory::Memory::default()
    };
    let mut failed_over = healthy();
    failed_over.hosts[1].vms = vec![sg_vm("GCSServer_Replica_GCSHOSTB", VmState::Off)];
    failed_over.hosts[0].vms = vec![sg_vm("GCSServer_Replica_GCSHOSTA", VmState::Running)];
    failed_over.job = Some(job(B, A, Activity::FailedOver));
    let p = plan::plan(&m, &failed_over, &memory, now());
    assert_eq!(p.live_host.as_deref(), Some(A));
    // Replication resumed from A to B and protects: nothing moves back.
    let p = plan::plan(&m, &healthy(), &p.memory, now());
    assert!(
        !kinds(&p).contains(&ActionKind::StopVm),
        "no switchover back: {:#?}",
        p.actions
    );
    assert!(
        p.condition(plan::ConditionType::ManifestStale)
            .unwrap()
            .status
    );
}

#[test]
fn an_intent_found_open_after_a_restart_should_get_its_outcome_in_the_journal() {
    use galaxy_ha::execute::{ExecuteError, Records};
    use galaxy_ha::journal::Event;
    use galaxy_ha::platform::Platform;
    use galaxy_ha::reconcile::{self, ReconcileError};

    // Crash at each durable step in turn until one lands after the failover was issued and
    // before its outcome was written.
    for crash_at in 1..20 {
        let mut rig = Rig::new("automatic");
        rig.converge();
        rig.lab.world_mut().host_down(A).unwrap();
        rig.lab.sleep(std::time::Duration::from_secs(400));
        let mut store = Records::new(rig.dir.path(), "hq");
        store.crash_at = Some(crash_at);
        match reconcile::pass(&rig.site, &mut rig.lab, &mut store, &mut rig.alerts) {
            Err(ReconcileError::Execute(ExecuteError::Crashed(_))) => {}
            other => panic!("no crash at step {crash_at}: {other:?}"),
        }
        let issued = rig.lab.world().failovers() == 1;
        let Some(flight) = rig.memory().in_flight.filter(|_| issued) else {
            continue;
        };
        rig.pass();
        let (entries, skipped) =
            galaxy_ha::store::files::read_journal(rig.dir.path(), "hq").unwrap();
        assert_eq!(skipped, 0);
        let last = entries
            .iter()
            .rev()
            .find(|e| e.action_id == flight.action_id)
            .expect("the failover is journaled");
        assert!(
            matches!(&last.event, Event::Recovered { note } if note.contains("had started")),
            "{last:?}"
        );
        assert!(rig.memory().in_flight.is_none());
        assert_eq!(rig.lab.world().failovers(), 1, "not issued again");
        return;
    }
    panic!("no crash point fell between the failover and its outcome");
}

/// Memory of a switchover from A to B under way.
fn switching() -> galaxy_ha::memory::Memory {
    galaxy_ha::memory::Memory {
        switchover: Some(galaxy_ha::memory::Switchover {
            from: A.into(),
            to: B.into(),
            started: now(),
        }),
        ..adopted()
    }
}

#[test]
fn a_switchover_that_cannot_fail_over_should_be_abandoned_once_system_galaxy_runs_again() {
    // The job failed during the switchover; a person started System Galaxy on A again.
    let mut o = healthy();
    o.job.as_mut().unwrap().activity = Activity::Synchronizing;
    o.job.as_mut().unwrap().mirror_remaining_bytes = 1 << 30;
    let p = plan::plan(&manifest("manual"), &o, &switching(), now());
    assert!(p.memory.switchover.is_none(), "abandoned");
    assert!(!kinds(&p).contains(&ActionKind::StopVm), "{:#?}", p.actions);
    assert!(p.actions.iter().any(|a| matches!(&a.op,
        Operation::Alert { key, .. } if key.starts_with("switchover-abandoned"))));

    // Shut down and the job cannot fail over: it waits, says so, and keeps the switchover.
    let mut off = o.clone();
    off.hosts[0].vms[0] = sg_vm("GCSServer", VmState::Off);
    let p = plan::plan(&manifest("manual"), &off, &switching(), now());
    assert!(p.memory.switchover.is_some());
    assert!(
        p.actions.iter().any(|a| matches!(&a.op,
        Operation::Alert { key, .. } if key.starts_with("switchover-stuck"))),
        "{:#?}",
        p.actions
    );

    // Still protecting and connected: the switchover goes on (the shutdown is issued again).
    let p = plan::plan(&manifest("manual"), &healthy(), &switching(), now());
    assert!(p.memory.switchover.is_some());
    assert!(kinds(&p).contains(&ActionKind::StopVm), "{:#?}", p.actions);
}

#[test]
fn a_switchover_should_not_start_while_a_test_failover_runs() {
    let mut o = healthy();
    o.hosts[1].vms[0].state = VmState::Running;
    o.hosts[1].vms[0].isolated = true;
    let refused =
        plan::approve(&manifest("manual"), &o, &adopted(), false).expect_err("test replica up");
    assert!(refused.contains("test failover"), "{refused}");
    let mut m = manifest("manual");
    m.spec_mut().primary = B.into();
    let p = plan::plan(&m, &o, &adopted(), now());
    assert!(!kinds(&p).contains(&ActionKind::StopVm), "{:#?}", p.actions);
}

#[test]
fn a_failover_superseded_by_system_galaxy_running_on_the_old_host_should_resume_from_it() {
    // A failed over to B while cut off; B then failed; A, which ran on, is seen again.
    let memory = galaxy_ha::memory::Memory {
        live_host: Some(B.into()),
        failover_latched: true,
        ..adopted()
    };
    let mut o = healthy();
    o.hosts[1].vms = vec![sg_vm("GCSServer_Replica_GCSHOSTB", VmState::Off)];
    o.job = Some(job(A, B, Activity::FailedOver));
    let p = plan::plan(&manifest("automatic"), &o, &memory, now());
    assert_eq!(p.live_host.as_deref(), Some(A));
    assert!(
        p.actions.iter().any(|a| matches!(&a.op,
            Operation::DeleteJob { delete_replica: false, target, .. } if target == B)),
        "{:#?}",
        p.actions
    );
    assert!(!kinds(&p).contains(&ActionKind::Failover));
}

#[test]
fn a_site_whose_live_host_just_vanished_should_not_be_ready() {
    // The job's monitor has not queried since A went down: it still says Protecting.
    let mut o = healthy();
    o.hosts[0] = HostState::unreachable(A);
    let p = plan::plan(&manifest("automatic"), &o, &adopted(), now());
    assert!(!p.condition(plan::ConditionType::Ready).unwrap().status);
    let protected = p.condition(plan::ConditionType::Protected).unwrap();
    assert!(!protected.status);
    assert_eq!(protected.reason, "LiveHostUnseen");
}
