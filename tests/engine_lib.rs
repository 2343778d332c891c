//! Engine scenarios through the library on the simulated lab, for situations no `sim fault`
//! verb makes directly.

use std::time::Duration;

use galaxy_ha::model::operation::{MonitorOptions, Operation};
use galaxy_ha::observed::Activity;
use galaxy_ha::plan::{ActionKind, AlertKind};
use galaxy_ha::platform::Platform;

use crate::support::{A, B, Rig};

#[test]
fn a_job_in_the_wrong_direction_should_be_deleted_and_recreated() {
    let mut rig = Rig::new("manual");
    rig.converge();
    // Someone moves System Galaxy by hand: shuts it down on A and starts the replica on B.
    rig.lab
        .execute(&Operation::StopVm {
            host: A.into(),
            vm: "GCSServer".into(),
            turn_off: false,
        })
        .unwrap();
    rig.lab.world_mut().vm_start(B).unwrap();
    rig.lab.save().unwrap();
    let o = rig.pass();
    let kinds: Vec<ActionKind> = o.report.applied.iter().map(|a| a.kind()).collect();
    assert!(
        kinds.contains(&ActionKind::DeleteJob),
        "{kinds:?} {:#?} {:#?}",
        o.report.failed,
        o.plan.actions
    );
    assert!(kinds.contains(&ActionKind::CreateJob), "{kinds:?}");
    assert!(
        rig.alerts
            .raised
            .iter()
            .any(|a| a.kind == AlertKind::WrongDirection)
    );
    let out = rig.converge();
    let job = out.observed.job.unwrap();
    assert_eq!((job.source.as_str(), job.target.as_str()), (B, A));
    assert_eq!(job.activity, Activity::Protecting);
    assert_eq!(rig.lab.world().failovers(), 0);
}

#[test]
fn a_drifted_failover_monitor_should_be_updated_in_place() {
    let mut rig = Rig::new("manual");
    rig.converge();
    let job = rig.lab.observe().unwrap().job.unwrap();
    rig.lab
        .execute(&Operation::UpdateJob {
            snapshots: None,
            job: job.name.clone(),
            target: job.target.clone(),
            monitor: MonitorOptions {
                interval: Duration::from_secs(60),
                threshold: job.monitor.threshold,
            },
        })
        .unwrap();
    let o = rig.pass();
    assert_eq!(
        o.report
            .applied
            .iter()
            .map(|a| a.kind())
            .collect::<Vec<_>>(),
        vec![ActionKind::UpdateJob]
    );
    let after = rig.lab.observe().unwrap().job.unwrap();
    assert_eq!(after.monitor.interval, Duration::from_secs(10));
    assert_eq!(after.name, job.name, "updated in place, not recreated");
}

#[test]
fn a_scheduled_drill_should_run_a_test_failover_and_leave_the_job_protecting() {
    let mut rig = Rig::new("manual");
    rig.site.manifest.spec_mut().drills =
        serde_saphyr::from_str("testFailoverEvery: 30d\nscheduled: true\n").unwrap();
    let out = rig.converge();
    assert_eq!(
        out.observed.job.as_ref().unwrap().activity,
        Activity::Protecting
    );
    let memory = rig.memory();
    assert!(memory.last_test_failover.is_some(), "the drill ran");
    assert_eq!(
        rig.lab.world().failovers(),
        0,
        "a test failover is not a failover"
    );
    assert!(
        !out.plan
            .condition(galaxy_ha::plan::ConditionType::DrillOverdue)
            .unwrap()
            .status
    );
    // Within the month nothing more happens.
    rig.run_for(Duration::from_secs(3600));
    assert_eq!(rig.memory().last_test_failover, memory.last_test_failover);
}

#[test]
fn memory_read_back_should_share_the_manifests_spec_instead_of_holding_a_copy() {
    use galaxy_ha::store::{FileStore, SiteStore};
    let mut rig = Rig::new("manual");
    rig.converge();
    let store = FileStore::new(rig.dir.path());
    let entries = store.journal(&rig.site.name).unwrap().0.len();
    assert!(entries > 0, "the converge was journaled");
    // Each pass reads memory back from the state dir: the spec it remembers is a copy until
    // the pass sees it equal to the manifest's.
    let o = rig.pass();
    let read = o.memory.spec_seen.as_ref().expect("remembered");
    assert!(
        !std::sync::Arc::ptr_eq(read, &rig.site.manifest.spec),
        "memory as read from the file is its own copy"
    );
    let kept = o.plan.memory.spec_seen.as_ref().expect("still remembered");
    assert!(std::sync::Arc::ptr_eq(kept, &rig.site.manifest.spec));
    assert_eq!(
        store.journal(&rig.site.name).unwrap().0.len(),
        entries,
        "sharing the spec is not a manifest change"
    );
}
