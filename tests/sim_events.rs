//! Panel events: the ledger holds after every step, a switchover loses nothing, a failure
//! loses exactly the source queue, and a seed gives one history.

use galaxy_ha::model::operation::{FailoverKind, Operation};
use galaxy_ha::observed::Activity;
use galaxy_ha::platform::sim::World;
use proptest::prelude::*;

use crate::sim_support::*;

/// A protected world whose link sends one event per second while panels produce five, so
/// the replication queue is never empty.
fn congested() -> World {
    let mut w = protected();
    let p = w.params_mut();
    p.event_rate_per_sec = 5;
    p.link_bytes_per_sec = 2048;
    w.advance(secs(120));
    assert!(w.events().in_flight > 0);
    w
}

#[test]
fn planned_switchover_loses_no_events() {
    let mut w = congested();
    let queued = job(&w).replication_queue_bytes;
    assert!(queued > 0);
    w.execute(&Operation::StopVm {
        host: A.into(),
        vm: VM.into(),
        turn_off: false,
    })
    .expect("clean shutdown");
    let j = job(&w);
    assert_eq!(
        j.replication_queue_bytes, 0,
        "a clean shutdown flushes the source queue to the target"
    );
    assert!(j.target_queue_bytes >= queued);
    w.advance(secs(30));
    assert_eq!(activity(&w), Some(Activity::ServerCommunicationError));
    w.execute(&failover(B, FailoverKind::Live, true))
        .expect("failover");
    run_until(&mut w, 5, |w| activity(w) == Some(Activity::FailedOver));
    w.advance(secs(5));
    let e = w.events();
    assert_eq!(e.lost, 0);
    assert_eq!((e.buffered, e.in_flight), (0, 0));
    assert_eq!(e.produced, e.stored);
}

#[test]
fn host_failure_loses_exactly_the_source_queue() {
    let mut w = congested();
    let queued = w.job().map(|j| j.source_queue.len()).expect("job");
    assert!(queued > 0);
    w.host_down(A).expect("down");
    assert_eq!(w.events().lost, queued);
    run_until(&mut w, 10, |w| job(w).monitor_status.condition_met);
    w.execute(&failover(B, FailoverKind::Live, true))
        .expect("failover");
    run_until(&mut w, 5, |w| activity(w) == Some(Activity::FailedOver));
    w.advance(secs(5));
    let e = w.events();
    assert_eq!(
        e.lost, queued,
        "events produced while no VM was live waited in the panels"
    );
    assert_eq!(e.produced, e.stored + e.lost);
}

#[test]
fn failover_discarding_the_target_queue_loses_it() {
    let mut w = protected();
    let p = w.params_mut();
    p.event_rate_per_sec = 5;
    p.apply_bytes_per_sec = 2048;
    w.advance(secs(60));
    let target_queue = w.job().map(|j| j.target_queue.len()).expect("job");
    assert!(target_queue > 0);
    let lost_before = w.events().lost;
    let source_queue = w.job().map(|j| j.source_queue.len()).expect("job");
    w.execute(&failover(B, FailoverKind::Live, false))
        .expect("failover");
    assert_eq!(w.events().lost, lost_before + source_queue + target_queue);
    assert_ledger(&w);
}

#[test]
fn events_wait_in_the_panels_while_no_vm_is_live_and_are_sent_later() {
    let mut w = world();
    w.execute(&Operation::StopVm {
        host: A.into(),
        vm: VM.into(),
        turn_off: false,
    })
    .expect("stop");
    w.advance(secs(100));
    let e = w.events();
    assert_eq!(e.buffered, e.produced - e.stored);
    assert!(e.buffered >= 80);
    w.vm_start(A).expect("start");
    w.advance(secs(1));
    let e = w.events();
    assert_eq!((e.buffered, e.lost), (0, 0));
    assert_eq!(e.produced, e.stored);
}

#[test]
fn production_follows_the_configured_rate_with_jitter() {
    let mut w = world();
    w.params_mut().event_rate_per_sec = 5;
    w.advance(secs(3600));
    let n = w.events().produced;
    assert!(
        (17_000..=19_000).contains(&n),
        "{n} events in an hour at 5/s"
    );
    let mut exact = world();
    exact.params_mut().event_jitter_percent = 0;
    exact.advance(secs(3600));
    assert_eq!(exact.events().produced, 3600);
}

fn scenario(w: &mut World) {
    w.params_mut().event_rate_per_sec = 3;
    w.advance(secs(300));
    w.link_down(A, B).expect("link");
    w.advance(secs(77));
    w.link_up(A, B).expect("link");
    w.advance(secs(500));
    w.host_down(A).expect("down");
    w.advance(secs(400));
    let _ = w.execute(&failover(B, FailoverKind::Live, true));
    w.advance(secs(1000));
}

#[test]
fn one_seed_gives_one_history() {
    let (mut a, mut b) = (protected(), protected());
    scenario(&mut a);
    scenario(&mut b);
    assert_eq!(a, b);
    assert_eq!(
        serde_json::to_string(&a.snapshot()).expect("json"),
        serde_json::to_string(&b.snapshot()).expect("json")
    );
    let mut c = World::new("hq", &spec(), seed() ^ 1);
    let mut d = World::new("hq", &spec(), seed());
    c.advance(secs(600));
    d.advance(secs(600));
    assert_ne!(
        c.events().produced,
        d.events().produced,
        "the seed drives the jitter"
    );
}

#[test]
fn a_world_saved_and_loaded_mid_run_continues_the_same_history() {
    let mut straight = protected();
    scenario(&mut straight);
    let mut w = protected();
    w.params_mut().event_rate_per_sec = 3;
    w.advance(secs(300));
    w.link_down(A, B).expect("link");
    w.advance(secs(77));
    let json = serde_json::to_string(&w).expect("save");
    let mut w: World = serde_json::from_str(&json).expect("load");
    w.link_up(A, B).expect("link");
    w.advance(secs(500));
    w.host_down(A).expect("down");
    w.advance(secs(400));
    let _ = w.execute(&failover(B, FailoverKind::Live, true));
    w.advance(secs(1000));
    assert_eq!(w, straight);
}

#[derive(Debug, Clone)]
enum Step {
    Advance(u64),
    HostDown(bool),
    HostUp(bool),
    LinkDown(u8),
    LinkUp(u8),
    VmStart(bool),
    StopVm(bool, bool),
    Failover(bool, bool),
    Create(bool),
    Delete(bool),
    JobStop,
    Baseline,
}

fn host(a: bool) -> &'static str {
    if a { A } else { B }
}

fn link(i: u8) -> (&'static str, &'static str) {
    match i % 3 {
        0 => (A, B),
        1 => ("controller", A),
        _ => ("controller", B),
    }
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (1u64..900).prop_map(Step::Advance),
        1 => any::<bool>().prop_map(Step::HostDown),
        2 => any::<bool>().prop_map(Step::HostUp),
        1 => any::<u8>().prop_map(Step::LinkDown),
        2 => any::<u8>().prop_map(Step::LinkUp),
        1 => any::<bool>().prop_map(Step::VmStart),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(h, t)| Step::StopVm(h, t)),
        2 => (any::<bool>(), any::<bool>()).prop_map(|(l, a)| Step::Failover(l, a)),
        2 => any::<bool>().prop_map(Step::Create),
        1 => any::<bool>().prop_map(Step::Delete),
        1 => Just(Step::JobStop),
        1 => Just(Step::Baseline),
    ]
}

/// Applies a step; refusals and fault errors are fine, they are part of the exploration.
fn apply(w: &mut World, s: &Step) {
    match *s {
        Step::Advance(n) => w.advance(secs(n)),
        Step::HostDown(a) => w.host_down(host(a)).expect("known host"),
        Step::HostUp(a) => w.host_up(host(a)).expect("known host"),
        Step::LinkDown(i) => w.link_down(link(i).0, link(i).1).expect("link"),
        Step::LinkUp(i) => w.link_up(link(i).0, link(i).1).expect("link"),
        Step::VmStart(a) => {
            let _ = w.vm_start(host(a));
        }
        Step::StopVm(a, turn_off) => {
            let vms: Vec<String> = w
                .host(host(a))
                .map(|h| h.vms.iter().map(|v| v.name.to_string()).collect())
                .unwrap_or_default();
            for vm in vms {
                let _ = w.execute(&Operation::StopVm {
                    host: host(a).into(),
                    vm: vm.into(),
                    turn_off,
                });
            }
        }
        Step::Failover(live, apply) => {
            if let Some(target) = w.job().map(|j| j.target.clone()) {
                let mode = if live {
                    FailoverKind::Live
                } else {
                    FailoverKind::Test
                };
                let _ = w.execute(&failover(&target, mode, apply));
            }
        }
        Step::Create(a) => {
            let _ = w.execute(&Operation::CreateJob(new_job(host(a), host(!a))));
        }
        Step::Delete(replica) => {
            if let Some(j) = w.job().cloned() {
                let _ = w.execute(&Operation::DeleteJob {
                    job: j.name,
                    target: j.target,
                    delete_replica: replica,
                });
            }
        }
        Step::JobStop => {
            let _ = w.job_stop();
        }
        Step::Baseline => {
            let reachable: Vec<&str> = [A, B].into_iter().filter(|h| w.reachable(h)).collect();
            if reachable.len() == 2 {
                baseline(w);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_event_is_stored_buffered_lost_or_in_flight_after_every_step(steps in prop::collection::vec(step(), 1..40)) {
        let mut w = protected();
        // The link carries two events a second of the four produced, so queues are rarely empty.
        w.params_mut().event_rate_per_sec = 4;
        w.params_mut().link_bytes_per_sec = 4096;
        let mut twin = w.clone();
        for s in &steps {
            apply(&mut w, s);
            let e = w.events();
            prop_assert_eq!(e.produced, e.stored + e.buffered + e.lost + e.in_flight, "after {:?}: {:?}", s, e);
        }
        for s in &steps {
            apply(&mut twin, s);
        }
        prop_assert_eq!(w, twin, "the same steps gave two histories");
    }
}
