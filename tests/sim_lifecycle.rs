//! The lab's job lifecycle with its timing, the failover monitor, failover and test failover.

use galaxy_ha::manifest::spec::{Startup, Threshold};
use galaxy_ha::model::operation::{FailoverKind, MonitorOptions, Operation};
use galaxy_ha::observed::{Activity, Health, ServiceStatus, VmRole, VmState};

use crate::sim_support::*;

#[test]
fn fresh_world_starts_where_the_guide_starts() {
    let w = world();
    let o = w.observe();
    assert!(o.job.is_none());
    assert_eq!(o.hosts.len(), 2);
    for h in &o.hosts {
        assert!(h.reachable);
        assert!(h.firewall.is_empty());
        assert!(h.email.is_none());
        assert_eq!(h.services.len(), 2);
        assert!(
            h.services
                .iter()
                .all(|s| s.status == ServiceStatus::Stopped && s.startup == Startup::Manual)
        );
    }
    let a = o.host(A).expect("host A");
    assert_eq!(a.vms.len(), 1);
    assert_eq!(a.vms[0].name, VM);
    assert_eq!(a.vms[0].state, VmState::Running);
    assert!(a.vms[0].is_live());
    assert!(
        a.vms[0]
            .services
            .iter()
            .all(|s| s.status == ServiceStatus::Stopped && s.startup == Startup::Manual)
    );
    assert!(o.host(B).expect("host B").vms.is_empty());
    assert_eq!(o.live_hosts(), vec![A]);
    assert_eq!(w.now().to_string(), "2026-01-05T08:00:00Z");
}

#[test]
fn job_provisions_for_three_minutes_then_synchronizes_with_a_percentage_then_protects() {
    let mut w = world();
    baseline(&mut w);
    create(&mut w, A, B);
    let j = job(&w);
    assert_eq!(
        (j.activity, j.source.as_str(), j.target.as_str()),
        (Activity::Provisioning, A, B)
    );
    assert!(j.monitor.wait_for_user, "jobs always wait for the user");
    assert!(!j.target_data_ok);
    let replica = w.observe().host(B).expect("B").vms.clone();
    assert_eq!(replica.len(), 1);
    assert_eq!(
        (replica[0].state, replica[0].role),
        (VmState::Off, VmRole::Replica)
    );

    assert_eq!(w.next_event_in(), Some(secs(180)));
    w.advance(secs(179));
    assert_eq!(activity(&w), Some(Activity::Provisioning));
    w.advance(secs(1));
    let j = job(&w);
    assert_eq!((j.activity, j.percent), (Activity::Synchronizing, Some(0)));
    // 40 GiB at 100 MiB/s: 410 one-second steps, the first one done.
    assert_eq!(w.next_event_in(), Some(secs(409)));
    w.advance(secs(205));
    let j = job(&w);
    assert_eq!(j.percent, Some(50));
    assert!(j.mirror_remaining_bytes > 0 && j.mirror_remaining_bytes < 40 << 30);
    let left = w.next_event_in().expect("sync end");
    w.advance(left - secs(1));
    assert_eq!(activity(&w), Some(Activity::Synchronizing));
    w.advance(secs(1));
    let j = job(&w);
    assert_eq!(j.activity, Activity::Protecting);
    assert_eq!(j.health, Health::Ok);
    assert!(j.target_data_ok);
    assert_eq!(j.mirror_remaining_bytes, 0);
    assert!(j.bytes_sent >= 40 << 30);
    assert!(j.connected_since.is_some());
    // The first mirror step ran in the same second provisioning ended.
    assert_eq!(w.elapsed(), secs(180 + 409));
    assert_eq!(
        w.next_event_in(),
        None,
        "a healthy protecting job changes nothing by itself"
    );
}

#[test]
fn replication_queue_fills_while_the_link_is_down_and_drains_after() {
    let mut w = protected();
    w.params_mut().event_jitter_percent = 0;
    w.link_down(A, B).expect("link");
    w.advance(secs(60));
    let j = job(&w);
    assert_eq!(j.activity, Activity::ServerCommunicationError);
    assert_eq!(j.health, Health::Error);
    assert_eq!(j.replication_queue_bytes, 60 * 2048);
    assert_eq!(j.recovery_point_latency, secs(59));
    assert!(j.monitor_status.failed_queries >= 5);
    w.link_up(A, B).expect("link");
    w.advance(secs(10));
    let j = job(&w);
    assert_eq!(
        j.activity,
        Activity::Protecting,
        "a recovery before the threshold resets the count"
    );
    assert_eq!(j.monitor_status.failed_queries, 0);
    assert_eq!(j.replication_queue_bytes, 0);
    assert_eq!(j.recovery_point_latency, secs(0));
    assert_ledger(&w);
}

#[test]
fn failover_monitor_counts_the_missed_source_until_total_time_to_failure() {
    let mut w = protected();
    w.host_down(A).expect("down");
    let first_query = w.next_event_in().expect("monitor query");
    assert!(first_query <= secs(10));
    w.advance(first_query);
    let s = job(&w).monitor_status;
    assert_eq!(
        (s.source_alive, s.failed_queries, s.condition_met),
        (false, 1, false)
    );
    assert_eq!(s.remaining, secs(300));
    assert_eq!(activity(&w), Some(Activity::ServerCommunicationError));
    w.advance(secs(100));
    let s = job(&w).monitor_status;
    assert_eq!(
        (s.missed_for, s.remaining, s.failed_queries),
        (secs(100), secs(200), 11)
    );
    assert_eq!(
        w.next_event_in(),
        Some(secs(200)),
        "the next change is the condition for failure"
    );
    w.advance(secs(200));
    let s = job(&w).monitor_status;
    assert!(s.condition_met);
    assert_eq!(s.remaining, secs(0));
    // Wait for user: the lab never fails over by itself.
    w.advance(secs(3600));
    assert_eq!(activity(&w), Some(Activity::ServerCommunicationError));
    assert!(
        w.observe()
            .host(B)
            .expect("B")
            .vms
            .iter()
            .all(|v| v.state == VmState::Off)
    );
}

#[test]
fn consecutive_failures_threshold_is_met_after_that_many_failed_queries() {
    let mut w = protected();
    w.execute(&Operation::UpdateJob {
        snapshots: None,
        job: format!("{VM} to {B}"),
        target: B.into(),
        monitor: MonitorOptions {
            interval: secs(10),
            threshold: Threshold::ConsecutiveFailures(3),
        },
    })
    .expect("update");
    w.link_down(A, B).expect("link");
    run_until(&mut w, 10, |w| job(w).monitor_status.failed_queries == 1);
    assert_eq!(job(&w).monitor_status.remaining, secs(20));
    assert_eq!(w.next_event_in(), Some(secs(20)));
    w.advance(secs(19));
    assert!(!job(&w).monitor_status.condition_met);
    w.advance(secs(1));
    let s = job(&w).monitor_status;
    assert_eq!((s.failed_queries, s.condition_met), (3, true));
}

#[test]
fn live_failover_takes_two_minutes_and_brings_the_replica_live_on_the_target() {
    let mut w = protected();
    w.host_down(A).expect("down");
    run_until(&mut w, 10, |w| job(w).monitor_status.condition_met);
    w.execute(&failover(B, FailoverKind::Live, true))
        .expect("failover while server communication error");
    assert_eq!(activity(&w), Some(Activity::FailingOver));
    assert_eq!(w.next_event_in(), Some(secs(120)));
    w.advance(secs(119));
    assert_eq!(activity(&w), Some(Activity::FailingOver));
    assert!(w.observe().live_hosts().is_empty());
    let buffered = w.events().buffered;
    assert!(buffered > 0, "panels buffer while no VM is live");
    w.advance(secs(1));
    let o = w.observe();
    assert_eq!(
        o.job.as_ref().map(|j| j.activity),
        Some(Activity::FailedOver)
    );
    assert_eq!(o.live_hosts(), vec![B]);
    let vm = &o.host(B).expect("B").vms[0];
    assert_eq!(
        (vm.state, vm.role, vm.isolated),
        (VmState::Running, VmRole::SystemGalaxy, false)
    );
    w.advance(secs(1));
    assert_eq!(
        w.events().buffered,
        0,
        "the panels sent their buffers to the new live host"
    );
    assert_ledger(&w);
}

#[test]
fn test_failover_boots_the_replica_isolated_while_the_job_keeps_protecting() {
    let mut w = protected();
    w.execute(&failover(B, FailoverKind::Test, true))
        .expect("test failover");
    let o = w.observe();
    let vm = &o.host(B).expect("B").vms[0];
    assert_eq!(
        (vm.state, vm.isolated, vm.is_live()),
        (VmState::Running, true, false)
    );
    assert_eq!(o.live_hosts(), vec![A]);
    let stored = w.events().stored;
    w.advance(secs(60));
    assert_eq!(activity(&w), Some(Activity::Protecting));
    assert!(
        w.events().stored > stored,
        "panels keep talking to the live host"
    );
    assert_eq!(w.next_event_in(), Some(secs(540)));
    w.advance(secs(540));
    assert_eq!(
        w.observe().host(B).expect("B").vms[0].state,
        VmState::Off,
        "the test replica shuts down after a while"
    );

    w.execute(&failover(B, FailoverKind::Test, true))
        .expect("second test");
    w.execute(&Operation::StopVm {
        host: B.into(),
        vm: format!("{VM}_Replica_{B}").into(),
        turn_off: false,
    })
    .expect("stop test replica");
    assert_eq!(w.observe().host(B).expect("B").vms[0].state, VmState::Off);
    assert_eq!(w.next_event_in(), None);
}

#[test]
fn deleting_a_job_can_remove_its_replica() {
    let mut w = protected();
    w.execute(&Operation::DeleteJob {
        job: format!("{VM} to {B}"),
        target: B.into(),
        delete_replica: false,
    })
    .expect("delete");
    assert!(w.observe().job.is_none());
    assert_eq!(w.observe().host(B).expect("B").vms.len(), 1, "replica kept");
    w.execute(&Operation::RemoveReplica {
        host: B.into(),
        vm: format!("{VM}_Replica_{B}").into(),
    })
    .expect("remove the stale replica");
    assert!(w.observe().host(B).expect("B").vms.is_empty());

    create(&mut w, A, B);
    w.execute(&Operation::DeleteJob {
        job: format!("{VM} to {B}"),
        target: B.into(),
        delete_replica: true,
    })
    .expect("delete with replica");
    assert!(w.observe().host(B).expect("B").vms.is_empty());
    assert_ledger(&w);
}

#[test]
fn resume_replication_after_failover_protects_in_the_other_direction() {
    let mut w = protected();
    w.host_down(A).expect("down");
    run_until(&mut w, 10, |w| job(w).monitor_status.condition_met);
    w.execute(&failover(B, FailoverKind::Live, true))
        .expect("failover");
    run_until(&mut w, 5, |w| activity(w) == Some(Activity::FailedOver));
    w.host_up(A).expect("up");
    w.execute(&Operation::DeleteJob {
        job: format!("{VM} to {B}"),
        target: B.into(),
        delete_replica: true,
    })
    .expect("delete old job; the failed-over VM is kept");
    assert_eq!(w.observe().live_hosts(), vec![B]);
    w.execute(&Operation::RemoveReplica {
        host: A.into(),
        vm: VM.into(),
    })
    .expect("remove stale VM");
    baseline(&mut w);
    create(&mut w, B, A);
    run_until(&mut w, 10, |w| activity(w) == Some(Activity::Protecting));
    let j = job(&w);
    assert_eq!((j.source.as_str(), j.target.as_str()), (B, A));
    assert_ledger(&w);
}

#[test]
fn show_text_reads_like_the_replication_console_and_hyper_v_manager() {
    let mut w = protected();
    w.link_down(A, B).expect("link");
    w.advance(secs(40));
    let text = galaxy_ha::platform::sim::render_text(&w.snapshot());
    eprintln!("{text}");
    for needle in [
        "GCSServer: Running",
        "GCSServer_Replica_GCSHOSTB [replica]: Off",
        "Server Communication Error",
        "Target data state:      OK",
        "condition for failure met in",
        "links down: GCSHOSTA<->GCSHOSTB",
        "events: produced",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
}
