//! Table tests of the pure planner's failover to a snapshot when the target's data is not
//! good (rule 7, `spec.failover.onBadData`).

use std::time::Duration;

use galaxy_ha::manifest::spec::{Manifest, OnBadData, SnapshotsSpec};
use galaxy_ha::observed::{Observed, Snapshot};
use galaxy_ha::plan::{self, ActionKind, Operation, Plan};

use crate::support::*;

fn snapshot(id: &str, minutes_ago: i64, good: bool) -> Snapshot {
    Snapshot {
        id: id.into(),
        at: now() - jiff::SignedDuration::from_mins(minutes_ago),
        good,
        reason: "Scheduled".into(),
    }
}

/// A's failure met the condition; the replica's data is not good; three snapshots, the
/// newest not good.
fn bad_data() -> Observed {
    let mut o = live_host_down(Duration::from_secs(400));
    let job = o.job.as_mut().unwrap();
    job.target_data_ok = false;
    job.snapshots = vec![
        snapshot("s1", 30, true),
        snapshot("s2", 20, true),
        snapshot("s3", 10, false),
    ];
    o
}

fn site(on_bad_data: OnBadData, max_data_loss: Option<Duration>) -> Manifest {
    let mut m = manifest("automatic");
    let spec = m.spec_mut();
    spec.snapshots = Some(SnapshotsSpec {
        every: Duration::from_secs(600),
        keep: 3,
    });
    spec.failover.on_bad_data = on_bad_data;
    spec.failover.max_data_loss = max_data_loss;
    m
}

fn failover_snapshot(p: &Plan) -> Option<Option<String>> {
    p.actions.iter().find_map(|a| match &a.op {
        Operation::Failover { snapshot, .. } => Some(snapshot.clone()),
        _ => None,
    })
}

#[test]
fn rule7_bad_data_fails_over_to_the_newest_good_snapshot_only_when_the_manifest_allows_it() {
    let o = bad_data();
    // (onBadData, maxDataLoss, the failover planned: None = none, Some(snapshot))
    let cases = [
        (OnBadData::Wait, None, None),
        (OnBadData::Snapshot, None, Some(Some("s2".to_string()))),
        (
            OnBadData::Snapshot,
            Some(Duration::from_secs(25 * 60)),
            Some(Some("s2".to_string())),
        ),
        // The newest good snapshot is 20 minutes old: more than maxDataLoss.
        (
            OnBadData::Snapshot,
            Some(Duration::from_secs(15 * 60)),
            None,
        ),
    ];
    for (on_bad_data, max, want) in cases {
        let p = plan::plan(&site(on_bad_data, max), &o, &adopted(), now());
        assert_eq!(
            failover_snapshot(&p),
            want,
            "{on_bad_data:?} {max:?}: {:?}",
            p.waiting
        );
    }
    // No good snapshot at all: no failover, and the alert says why.
    let mut none_good = bad_data();
    for s in &mut none_good.job.as_mut().unwrap().snapshots {
        s.good = false;
    }
    let p = plan::plan(
        &site(OnBadData::Snapshot, None),
        &none_good,
        &adopted(),
        now(),
    );
    assert_eq!(failover_snapshot(&p), None);
    assert!(
        p.waiting
            .iter()
            .any(|w| w.contains("no snapshot whose data was good")),
        "{:?}",
        p.waiting
    );
    // Good data: the newest data, never a snapshot.
    let mut good = bad_data();
    good.job.as_mut().unwrap().target_data_ok = true;
    let p = plan::plan(&site(OnBadData::Snapshot, None), &good, &adopted(), now());
    assert_eq!(failover_snapshot(&p), Some(None));
}

#[test]
fn a_person_fails_over_to_the_snapshot_named_and_never_switches_over_to_one() {
    let m = site(OnBadData::Wait, None);
    let o = bad_data();
    let mem = adopted();
    for (choice, id) in [("latest", "s3"), ("latest-good", "s2"), ("S1", "s1")] {
        let approval = plan::approve_snapshot(&m, &o, &mem, choice).unwrap();
        let p = plan::approved(&m, &o, &mem, now(), &approval);
        assert_eq!(
            failover_snapshot(&p),
            Some(Some(id.to_string())),
            "{choice}"
        );
        assert!(p.actions.iter().any(|a| a.kind() == ActionKind::Alert
            && matches!(&a.op, Operation::Alert { message, .. } if message.contains(&format!("to snapshot {id}")))));
    }
    let err = plan::approve_snapshot(&m, &o, &mem, "s9").unwrap_err();
    assert!(
        err.contains("s1") && err.contains("(data not good)"),
        "{err}"
    );
    // System Galaxy runs on A: a snapshot would throw away what it recorded since.
    let mut healthy_pair = healthy();
    healthy_pair.job.as_mut().unwrap().snapshots = vec![snapshot("s1", 30, true)];
    let err = plan::approve_snapshot(&m, &healthy_pair, &mem, "latest").unwrap_err();
    assert!(err.contains("switch over"), "{err}");
}
