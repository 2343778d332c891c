//! Table tests of the pure planner: one per rule of docs/architecture.md and per guard.

use std::time::Duration;

use galaxy_ha::memory::{FailoverCause, FailoverRecord, Failure, InFlight, Switchover};
use galaxy_ha::model::operation::{FailoverKind, Place};
use galaxy_ha::observed::*;
use galaxy_ha::plan::{
    self, ActionKind, AlertKind, Approval, ConditionType, Operation, Plan, approve, error_policy,
};

use crate::support::*;

fn kinds(p: &Plan) -> Vec<ActionKind> {
    p.actions.iter().map(|a| a.kind()).collect()
}

/// The kinds of the actions that are not alerts.
pub(crate) fn acts(p: &Plan) -> Vec<ActionKind> {
    kinds(p)
        .into_iter()
        .filter(|k| *k != ActionKind::Alert)
        .collect()
}

/// Rule 8's resume: the failed-over job, the stale VM, the new job.
pub(crate) const RESUME_STEPS: [ActionKind; 3] = [
    ActionKind::DeleteJob,
    ActionKind::RemoveReplica,
    ActionKind::CreateJob,
];

pub(crate) fn alerts(p: &Plan) -> Vec<AlertKind> {
    p.actions
        .iter()
        .filter_map(|a| match a.op {
            Operation::Alert { alert, .. } => Some(alert),
            _ => None,
        })
        .collect()
}

/// The plan's live failover.
fn failover_action(p: &Plan) -> &galaxy_ha::plan::Action {
    p.actions
        .iter()
        .find(|a| a.kind() == ActionKind::Failover)
        .expect("a failover")
}

fn failovers(p: &Plan) -> usize {
    p.actions
        .iter()
        .filter(|a| {
            matches!(
                a.op,
                Operation::Failover {
                    mode: FailoverKind::Live,
                    ..
                }
            )
        })
        .count()
}

fn cond(p: &Plan, kind: ConditionType) -> bool {
    p.condition(kind).unwrap().status
}

/// An automatic site adopted with A live, A missed by both views for `secs` (the
/// monitor's condition is met at 300).
fn automatic_down_for(secs: u64) -> Plan {
    run(
        "automatic",
        &live_host_down(Duration::from_secs(secs)),
        &adopted(),
    )
}

fn run(mode: &str, o: &Observed, m: &galaxy_ha::memory::Memory) -> Plan {
    plan::plan(&manifest(mode), o, m, now())
}

#[test]
fn healthy_site_should_plan_nothing_and_be_ready() {
    let p = run("manual", &healthy(), &adopted());
    assert!(p.actions.is_empty(), "{:#?}", p.actions);
    assert!(cond(&p, ConditionType::Ready));
    assert!(cond(&p, ConditionType::Protected));
    assert!(cond(&p, ConditionType::FailoverReady));
    assert!(!cond(&p, ConditionType::Degraded));
    assert_eq!(p.live_host.as_deref(), Some(A));
    assert_eq!(p.standby_host.as_deref(), Some(B));
}

#[test]
fn rule1_split_brain_should_fence_the_host_that_is_not_remembered_and_do_nothing_else() {
    let mut o = healthy();
    o.hosts[1].vms.push(sg_vm("GCSServer", VmState::Running));
    o.hosts[0].firewall.clear(); // drift that must wait for the next pass
    let p = run("automatic", &o, &adopted());
    assert_eq!(kinds(&p), vec![ActionKind::StopVm, ActionKind::Alert]);
    match &p.actions[0].op {
        Operation::StopVm { host, turn_off, .. } => {
            assert_eq!(host, B);
            assert!(turn_off, "fencing turns the VM off at once");
        }
        other => panic!("{other:?}"),
    }
    assert!(p.actions[0].disruptive);
    assert_eq!(alerts(&p), vec![AlertKind::SplitBrainFenced]);
    let d = p.actions[0]
        .decision
        .as_ref()
        .expect("the fence explains itself");
    assert_eq!(
        d.views.len(),
        3,
        "both hosts seen running, and why A is kept: {d:?}"
    );
    assert!(
        d.views[2].saw.contains("GCSHOSTA is the live host"),
        "{d:?}"
    );
}

/// A failover forced from A to B (the controller lost A; the monitor still reached it).
fn forced() -> galaxy_ha::memory::Memory {
    let mut m = adopted();
    m.split_brain_pending = Some(galaxy_ha::memory::SplitBrainPending {
        host: A.into(),
        since: now(),
    });
    m
}

#[test]
fn rule1_after_a_forced_failover_the_fence_keeps_the_host_it_made_live() {
    let mut o = healthy();
    o.hosts[1].vms.push(sg_vm("GCSServer", VmState::Running));
    // Memory still names A live (the failover had not been seen through): the person's
    // forced choice of B wins.
    let p = run("manual", &o, &forced());
    assert!(
        matches!(&p.actions[0].op, Operation::StopVm { host, turn_off: true, .. } if host == A),
        "{:?}",
        p.actions
    );
}

#[test]
fn a_forced_failover_holds_split_brain_pending_until_the_old_host_is_seen_off() {
    // A unreachable: pending, degraded, one alert.
    let mut o = healthy();
    o.hosts[0].reachable = false;
    o.hosts[1].vms.push(sg_vm("GCSServer", VmState::Running));
    let p = run("manual", &o, &forced());
    assert!(
        alerts(&p).contains(&AlertKind::SplitBrainPending),
        "{:?}",
        p.actions
    );
    assert!(p.memory.split_brain_pending.is_some());
    assert!(
        p.conditions
            .iter()
            .any(|c| c.kind == ConditionType::Degraded
                && c.status
                && c.reason == "SplitBrainPending"),
        "{:?}",
        p.conditions
    );
    // A reachable with its VM off: cleared.
    let mut o = healthy();
    o.hosts[0].vms[0].state = VmState::Off;
    o.hosts[1].vms.push(sg_vm("GCSServer", VmState::Running));
    let p = run("manual", &o, &forced());
    assert!(p.memory.split_brain_pending.is_none());
    assert!(!alerts(&p).contains(&AlertKind::SplitBrainPending));
}

#[test]
fn approve_forced_fails_over_only_what_the_controller_alone_lost_and_keeps_the_data_checks() {
    let m = manifest("manual");
    // The controller lost A; the failover monitor on B still reaches it.
    let mut o = healthy();
    o.hosts[0].reachable = false;
    let err = approve(&m, &o, &adopted(), false).unwrap_err();
    assert!(err.contains("--force"), "{err}");
    assert!(matches!(
        plan::approve_forced(&m, &o, &adopted()).unwrap(),
        Approval::Failover { forced: true, .. }
    ));
    // A real failure needs no force, and is not recorded as forced.
    assert!(matches!(
        plan::approve_forced(&m, &live_host_down(Duration::from_secs(30)), &adopted()).unwrap(),
        Approval::Failover { forced: false, .. }
    ));
    // The controller sees System Galaxy running: nothing to force.
    assert!(
        plan::approve_forced(&m, &healthy(), &adopted())
            .unwrap_err()
            .contains("nothing to force")
    );
    // Force never overrides an incomplete replica.
    o.job.as_mut().unwrap().activity = Activity::Synchronizing;
    o.job.as_mut().unwrap().mirror_remaining_bytes = 10;
    assert!(plan::approve_forced(&m, &o, &adopted()).is_err());
}

#[test]
fn rule1_split_brain_without_memory_should_keep_the_jobs_source() {
    let mut o = healthy();
    o.hosts[1].vms.push(sg_vm("GCSServer", VmState::Running));
    let mut m = adopted();
    m.live_host = None;
    let p = run("manual", &o, &m);
    assert!(matches!(&p.actions[0].op, Operation::StopVm { host, .. } if host == B));
}

#[test]
fn rule2_unreachable_host_should_get_no_actions() {
    let mut o = healthy();
    o.hosts[1].reachable = false;
    o.hosts[1].firewall.clear();
    o.hosts[1].services.clear();
    let p = run("manual", &o, &adopted());
    assert!(
        p.actions
            .iter()
            .all(|a| !a.description.contains(B) || matches!(a.op, Operation::Alert { .. })),
        "{:#?}",
        p.actions
    );
    assert!(cond(&p, ConditionType::Degraded));
    assert!(!cond(&p, ConditionType::FailoverReady));
}

#[test]
fn rule3_baseline_should_start_services_fix_startup_open_ports_and_set_email() {
    let mut o = healthy();
    o.hosts[0].services[0].status = ServiceStatus::Stopped;
    o.hosts[1].services[1].startup = startup_manual();
    o.hosts[1].firewall.retain(|r| r.port != 6330);
    let vm = &mut o.hosts[0].vms[0];
    vm.services[1].status = ServiceStatus::Stopped;
    let mut m = manifest("manual");
    m.spec_mut().notifications = serde_saphyr::from_str(
        "email:\n  smtp:\n    server: mail.example.com\n  from: ha@example.com\n  to: [ops@example.com]\n",
    )
    .unwrap();
    let p = plan::plan(&m, &o, &adopted(), now());
    let ops: Vec<&Operation> = p.actions.iter().map(|a| &a.op).collect();
    assert!(ops.contains(&&Operation::StartService {
        place: Place::Host(A.into()),
        service: "Double-Take".into()
    }));
    assert!(ops.contains(&&Operation::StartService {
        place: Place::Guest(A.into()),
        service: "Double-Take Management Service".into()
    }));
    assert!(ops.iter().any(
        |o| matches!(o, Operation::SetServiceStartup { place: Place::Host(h), .. } if h == B)
    ));
    let ports: Vec<_> = ops
        .iter()
        .filter_map(|o| match o {
            Operation::OpenFirewallPort {
                host,
                port,
                protocol,
            } => Some((host.as_str(), *port, *protocol)),
            _ => None,
        })
        .collect();
    assert_eq!(
        ports,
        vec![(B, 6330, Protocol::Tcp), (B, 6330, Protocol::Udp)]
    );
    let email_hosts: Vec<_> = ops
        .iter()
        .filter_map(|o| match o {
            Operation::SetEmailNotification { host, .. } => Some(host.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(email_hosts, vec![A, B]);
    assert!(!cond(&p, ConditionType::Ready));
}

#[test]
fn rule4_no_job_should_create_one_from_the_live_host_to_the_other() {
    let mut o = healthy();
    o.job = None;
    o.hosts[1].vms.clear();
    let p = run("manual", &o, &adopted());
    assert_eq!(kinds(&p), vec![ActionKind::CreateJob]);
    let Operation::CreateJob(job) = &p.actions[0].op else {
        unreachable!()
    };
    assert_eq!(job.source, A);
    assert_eq!(job.target, B);
    assert_eq!(job.name, "GCSServer to GCSHOSTB");
    assert_eq!(job.replica, "GCSServer_Replica_GCSHOSTB");
    assert_eq!(job.replica_path, r"D:\HVRA_Replicas\10.100.0.45");
    assert_eq!(
        job.monitor.threshold,
        galaxy_ha::manifest::spec::Threshold::TotalTime(Duration::from_secs(300))
    );
}

#[test]
fn rule4_fresh_site_with_the_vm_on_the_standby_side_should_protect_towards_the_other_host() {
    // Adopted as it is: System Galaxy runs on B, so the job goes B → A, never onto B.
    let mut o = healthy();
    o.job = None;
    o.hosts[0].vms.clear();
    o.hosts[1].vms = vec![sg_vm("GCSServer", VmState::Running)];
    let p = run("manual", &o, &Default::default());
    let Operation::CreateJob(job) = &p
        .actions
        .iter()
        .find(|a| a.kind() == ActionKind::CreateJob)
        .unwrap()
        .op
    else {
        unreachable!()
    };
    assert_eq!((job.source.as_str(), job.target.as_str()), (B, A));
    assert_eq!(p.memory.live_host.as_deref(), Some(B));
    assert_eq!(p.memory.acknowledged_primary.as_deref(), Some(A));
    assert!(
        cond(&p, ConditionType::ManifestStale),
        "adopted as it is; primary names the other host"
    );
}

#[test]
fn rule4_while_synchronizing_should_do_nothing_and_report_progress() {
    let mut o = healthy();
    let j = o.job.as_mut().unwrap();
    j.activity = Activity::Synchronizing;
    j.percent = Some(42);
    j.mirror_remaining_bytes = 1 << 30;
    let p = run("manual", &o, &adopted());
    assert!(p.actions.is_empty());
    assert!(
        p.waiting.iter().any(|w| w.contains("42%")),
        "{:?}",
        p.waiting
    );
    assert!(!cond(&p, ConditionType::Protected));
    assert!(!cond(&p, ConditionType::Ready));
}

#[test]
fn rule5_monitor_drift_should_update_the_job_in_place() {
    let mut o = healthy();
    o.job.as_mut().unwrap().monitor.interval = Duration::from_secs(30);
    let p = run("manual", &o, &adopted());
    assert_eq!(kinds(&p), vec![ActionKind::UpdateJob]);
    o.job.as_mut().unwrap().monitor.interval = Duration::from_secs(10);
    o.job.as_mut().unwrap().monitor.wait_for_user = false;
    let p = run("manual", &o, &adopted());
    assert_eq!(
        kinds(&p),
        vec![ActionKind::UpdateJob],
        "Carbonite must never fail over on its own"
    );
}

#[test]
fn rule6_wrong_direction_should_delete_and_recreate_with_an_error_alert() {
    let mut o = healthy();
    o.job = Some(job(B, A, Activity::Protecting));
    o.hosts[1].vms.clear();
    o.hosts[0]
        .vms
        .push(replica_vm("GCSServer_Replica_GCSHOSTA"));
    let p = run("manual", &o, &adopted());
    assert_eq!(
        kinds(&p),
        vec![
            ActionKind::DeleteJob,
            ActionKind::Alert,
            ActionKind::CreateJob
        ]
    );
    // No disk file is deleted, and nothing is removed from the live host: the old replica
    // stays there, off, and the alert says so with its disks.
    assert!(matches!(
        &p.actions[0].op,
        Operation::DeleteJob {
            delete_replica: false,
            ..
        }
    ));
    let Operation::CreateJob(j) = &p.actions[2].op else {
        unreachable!()
    };
    assert_eq!((j.source.as_str(), j.target.as_str()), (A, B));
    assert_eq!(alerts(&p), vec![AlertKind::WrongDirection]);
    let Operation::Alert { message, .. } = &p.actions[1].op else {
        unreachable!()
    };
    assert!(
        message.contains("remove it in Hyper-V Manager"),
        "{message}"
    );
}

#[test]
fn rule7_before_half_the_threshold_should_do_nothing() {
    let p = automatic_down_for(60);
    assert_eq!(failovers(&p), 0);
    assert!(alerts(&p).is_empty(), "{:?}", alerts(&p));
    assert!(cond(&p, ConditionType::Degraded));
}

#[test]
fn rule7_at_half_the_threshold_should_warn_once() {
    let p = automatic_down_for(150);
    assert_eq!(alerts(&p), vec![AlertKind::FailureDetected]);
    assert_eq!(failovers(&p), 0);
    let mut m = adopted();
    m.alerted = p.memory.alerted.clone();
    m.alerted.insert("failure-detected/GCSHOSTA".into());
    let again = run("automatic", &live_host_down(Duration::from_secs(200)), &m);
    assert!(
        alerts(&again).is_empty(),
        "one alert per condition, not per pass"
    );
}

#[test]
fn rule7_recovery_before_the_threshold_should_reset_the_alert() {
    let mut m = adopted();
    m.alerted.insert("failure-detected/GCSHOSTA".into());
    let p = run("automatic", &healthy(), &m);
    assert!(!p.memory.alerted.contains("failure-detected/GCSHOSTA"));
}

#[test]
fn rule7_condition_met_in_automatic_mode_should_fail_over_once() {
    let p = automatic_down_for(300);
    assert_eq!(failovers(&p), 1);
    let a = failover_action(&p);
    assert!(a.disruptive);
    assert!(
        matches!(&a.op, Operation::Failover { target, apply_queued_data: true, .. } if target == B)
    );
    assert_eq!(a.failover.as_ref().unwrap().cause, FailoverCause::Automatic);
    assert!(alerts(&p).contains(&AlertKind::FailoverStarted));
    // It explains itself: three views, two of them voting, and the figures it went with.
    let d = a.decision.as_ref().expect("the decision's evidence");
    let votes: Vec<bool> = d.views.iter().map(|v| v.votes_to_act).collect();
    assert_eq!(votes, [true, true, false], "{d:?}");
    assert_eq!(d.target_data_good, Some(true));
    assert_eq!(
        d.condition_met_at,
        Some(now()),
        "missed for exactly the threshold"
    );
    assert!(d.rule.starts_with("rule 7"), "{d:?}");
}

#[test]
fn rule7_the_decision_dates_the_condition_one_threshold_after_the_first_miss() {
    let p = automatic_down_for(340);
    let a = failover_action(&p);
    let d = a.decision.as_ref().unwrap();
    let first_miss = d.views[0].since.unwrap();
    assert_eq!(now().duration_since(first_miss).as_secs(), 340);
    assert_eq!(
        d.condition_met_at
            .unwrap()
            .duration_since(first_miss)
            .as_secs(),
        300
    );
    // An alert-only or non-automatic action carries no decision.
    assert!(
        p.actions
            .iter()
            .filter(|a| a.kind() != ActionKind::Failover)
            .all(|a| a.decision.is_none())
    );
}

#[test]
fn rule7_condition_met_in_manual_mode_should_alert_once_and_wait() {
    let p = run(
        "manual",
        &live_host_down(Duration::from_secs(310)),
        &adopted(),
    );
    assert_eq!(failovers(&p), 0);
    assert_eq!(alerts(&p), vec![AlertKind::ConditionMet]);
    let Operation::Alert { message, .. } = &p.actions[0].op else {
        unreachable!()
    };
    assert!(message.contains("galaxy-ha failover hq"), "{message}");
    assert!(message.contains("spec.primary: GCSHOSTB"), "{message}");
    let mut m = adopted();
    m.alerted.insert("condition-met/GCSHOSTA".into());
    assert!(
        run("manual", &live_host_down(Duration::from_secs(400)), &m)
            .actions
            .is_empty()
    );
}

#[test]
fn rule7_primary_set_to_the_standby_should_approve_a_manual_failover() {
    let mut m = manifest("manual");
    m.spec_mut().primary = B.into();
    let p = plan::plan(
        &m,
        &live_host_down(Duration::from_secs(310)),
        &adopted(),
        now(),
    );
    assert_eq!(failovers(&p), 1);
    assert_eq!(
        p.actions
            .iter()
            .find_map(|a| a.failover.clone())
            .unwrap()
            .cause,
        FailoverCause::Approved
    );
}

#[test]
fn rule7_only_the_link_between_the_hosts_down_should_warn_and_never_fail_over() {
    let mut o = healthy();
    let j = o.job.as_mut().unwrap();
    j.activity = Activity::ServerCommunicationError;
    j.monitor_status = MonitorStatus {
        source_alive: false,
        missed_for: Duration::from_secs(3600),
        failed_queries: 360,
        remaining: Duration::ZERO,
        condition_met: true,
    };
    let p = run("automatic", &o, &adopted());
    assert_eq!(failovers(&p), 0);
    assert_eq!(alerts(&p), vec![AlertKind::LinkDown]);
}

#[test]
fn rule7_system_galaxy_just_seen_again_is_no_link_fault_until_the_monitor_had_time() {
    // The live host is back and System Galaxy runs again; the monitor has not queried it
    // since: that is no broken link.
    let mut o = healthy();
    let j = o.job.as_mut().unwrap();
    j.activity = Activity::ServerCommunicationError;
    j.monitor_status.source_alive = false;
    j.monitor_status.missed_for = Duration::from_secs(600);
    let mut mem = adopted();
    mem.controller_missed_at = Some(now() - jiff::SignedDuration::from_secs(10));
    let p = run("manual", &o, &mem);
    assert!(alerts(&p).is_empty(), "{:?}", alerts(&p));
    assert!(cond(&p, ConditionType::Degraded));
    // Two monitor intervals on, the monitor should have seen it: now it is the link.
    mem.controller_missed_at = Some(now() - jiff::SignedDuration::from_secs(20));
    let p = run("manual", &o, &mem);
    assert_eq!(alerts(&p), vec![AlertKind::LinkDown]);
}

#[test]
fn rule7_only_the_controller_link_down_should_never_fail_over() {
    let mut o = healthy();
    o.hosts[0].reachable = false;
    o.hosts[0].vms.clear();
    let p = run("automatic", &o, &adopted());
    assert_eq!(failovers(&p), 0);
    assert!(
        alerts(&p).is_empty(),
        "the monitor may not have queried yet: no warning at once"
    );
    assert_eq!(p.memory.controller_missed_since, Some(now()));
    let mut m = adopted();
    m.controller_missed_since = Some(now() - jiff::SignedDuration::from_secs(20));
    let p = run("automatic", &o, &m);
    assert_eq!(failovers(&p), 0);
    assert_eq!(
        alerts(&p),
        vec![AlertKind::LinkDown],
        "after two monitor intervals it is a link fault"
    );
}

#[test]
fn rule7_max_data_loss_exceeded_should_wait_for_approval() {
    let mut m = manifest("automatic");
    m.spec_mut().failover.max_data_loss = Some(Duration::from_secs(30));
    let mut o = live_host_down(Duration::from_secs(300));
    o.job.as_mut().unwrap().recovery_point_latency = Duration::from_secs(45);
    let p = plan::plan(&m, &o, &adopted(), now());
    assert_eq!(failovers(&p), 0);
    let Operation::Alert { message, .. } = &p.actions[0].op else {
        panic!("{:?}", p.actions)
    };
    assert!(message.contains("maxDataLoss"), "{message}");
    o.job.as_mut().unwrap().recovery_point_latency = Duration::from_secs(20);
    assert_eq!(failovers(&plan::plan(&m, &o, &adopted(), now())), 1);
}

#[test]
fn rule7_target_data_not_ok_should_block_automatic_failover() {
    let mut o = live_host_down(Duration::from_secs(300));
    o.job.as_mut().unwrap().target_data_ok = false;
    assert_eq!(failovers(&run("automatic", &o, &adopted())), 0);
}

#[test]
fn rule7_no_second_automatic_failover_before_protecting() {
    let mut m = adopted();
    m.failover_latched = true;
    let p = run("automatic", &live_host_down(Duration::from_secs(600)), &m);
    assert_eq!(failovers(&p), 0);
    assert!(p.memory.failover_latched);
    let p = run("automatic", &healthy(), &m);
    assert!(
        !p.memory.failover_latched,
        "protecting again releases the latch"
    );
}

#[test]
fn rule8_failed_over_should_wait_for_the_old_host_then_resume_in_the_other_direction() {
    let mut o = healthy();
    o.hosts[0] = HostState {
        reachable: false,
        services: vec![],
        firewall: vec![],
        vms: vec![],
        ..o.hosts[0].clone()
    };
    o.hosts[1].vms = vec![sg_vm("GCSServer_Replica_GCSHOSTB", VmState::Running)];
    o.job.as_mut().unwrap().activity = Activity::FailedOver;
    let p = run("automatic", &o, &adopted());
    assert_eq!(p.live_host.as_deref(), Some(B));
    assert_eq!(p.memory.live_host.as_deref(), Some(B));
    assert_eq!(
        alerts(&p),
        vec![AlertKind::FailoverFinished, AlertKind::ManifestStale],
        "{:#?}",
        p.actions
    );
    assert_eq!(
        kinds(&p),
        vec![ActionKind::Alert, ActionKind::Alert],
        "only alerts while GCSHOSTA is away"
    );
    assert!(p.waiting.iter().any(|w| w.contains("GCSHOSTA to return")));

    o.hosts[0] = host(A, vec![sg_vm("GCSServer", VmState::Off)]);
    let p = run("automatic", &o, &adopted());
    assert_eq!(acts(&p), RESUME_STEPS);
    assert!(
        matches!(
            &p.actions
                .iter()
                .find(|a| a.kind() == ActionKind::DeleteJob)
                .unwrap()
                .op,
            Operation::DeleteJob {
                delete_replica: false,
                ..
            }
        ),
        "the replica is the live VM now"
    );
    let Operation::CreateJob(j) = &p
        .actions
        .iter()
        .find(|a| a.kind() == ActionKind::CreateJob)
        .unwrap()
        .op
    else {
        unreachable!()
    };
    assert_eq!((j.source.as_str(), j.target.as_str()), (B, A));
    assert_eq!(
        j.name, "GCSServer to GCSHOSTA",
        "the recreated job is renamed"
    );
    assert!(cond(&p, ConditionType::ManifestStale));
}

#[test]
fn rule9_manifest_stale_should_report_and_never_fail_back() {
    let mut o = healthy();
    o.hosts[0].vms = vec![replica_vm("GCSServer_Replica_GCSHOSTA")];
    o.hosts[1].vms = vec![sg_vm("GCSServer_Replica_GCSHOSTB", VmState::Running)];
    o.job = Some(job(B, A, Activity::Protecting));
    let mut m = adopted();
    m.live_host = Some(B.into());
    m.last_failover = Some(FailoverRecord::new(
        now(),
        A.into(),
        B.into(),
        FailoverCause::Automatic,
    ));
    let p = run("automatic", &o, &m);
    assert!(cond(&p, ConditionType::ManifestStale));
    assert_eq!(kinds(&p), vec![ActionKind::Alert]);
    assert_eq!(alerts(&p), vec![AlertKind::ManifestStale]);
    let msg = &p.condition(ConditionType::ManifestStale).unwrap().message;
    assert!(msg.contains("set spec.primary: GCSHOSTB"), "{msg}");
}

#[test]
fn rule9_primary_changed_by_a_person_should_start_a_clean_switchover() {
    let mut m = manifest("manual");
    m.spec_mut().primary = B.into();
    let p = plan::plan(&m, &healthy(), &adopted(), now());
    assert_eq!(kinds(&p), vec![ActionKind::StopVm]);
    assert!(
        matches!(&p.actions[0].op, Operation::StopVm { host, turn_off: false, .. } if host == A)
    );
    assert_eq!(p.memory.switchover.as_ref().unwrap().to, B);
    assert_eq!(p.memory.acknowledged_primary.as_deref(), Some(B));
    // The plan shows the switchover whole: the steps the next passes take, when System
    // Galaxy is down and how long the site is unprotected.
    let then: Vec<&String> = p
        .waiting
        .iter()
        .filter(|w| w.starts_with("then: "))
        .collect();
    assert_eq!(then.len(), 2, "{:?}", p.waiting);
    assert!(then[0].contains("fail over job") && then[0].contains("queued data applied"));
    assert!(then[0].contains("System Galaxy is down from its shutdown"));
    assert!(then[1].contains("delete job") && then[1].contains("create a job from GCSHOSTB"));
    assert!(then[1].contains("unprotected until"), "{}", then[1]);
    assert!(
        then[0].contains("no switchover of this site measured yet"),
        "{}",
        then[0]
    );
    assert!(then[1].contains("mirror rate is not known"), "{}", then[1]);
    // With the last switchover's downtime remembered and the job's mirror timed, the plan
    // gives both figures.
    let mut o = healthy();
    let job = o.job.as_mut().unwrap();
    job.mirror = galaxy_ha::observed::MirrorRun {
        bytes_sent: 100 << 30,
        started: Some(now() - jiff::SignedDuration::from_secs(86_400)),
        ended: Some(now() - jiff::SignedDuration::from_secs(86_400 - 1_000)),
    };
    let memory = galaxy_ha::memory::Memory {
        last_switchover_downtime: Some(Duration::from_secs(130)),
        ..adopted()
    };
    let p = plan::plan(&m, &o, &memory, now());
    let then: Vec<&String> = p
        .waiting
        .iter()
        .filter(|w| w.starts_with("then: "))
        .collect();
    assert!(
        then[0].contains("(about 3m, as the site's last switchover took; no data is lost)"),
        "{}",
        then[0]
    );
    assert!(
        then[1].contains("(about 17m: 100.00 GiB at the 102.40 MiB/s this job's mirror ran at)"),
        "{}",
        then[1]
    );
}

#[test]
fn rule9_a_switchover_asked_in_the_manifest_should_wait_for_its_window_in_the_sites_time_zone() {
    // now() is Monday 2026-01-05 09:00 UTC: 03:00 in Chicago, 09:00 in London.
    let with_window = |yaml: &str| {
        let mut m = manifest("manual");
        m.spec_mut().primary = B.into();
        m.spec_mut().switchover = serde_saphyr::from_str(yaml).unwrap();
        plan::plan(&m, &healthy(), &adopted(), now())
    };
    let weekend =
        with_window("window: {days: [Sat, Sun], hours: 01:00-05:00, timeZone: America/Chicago}\n");
    assert!(weekend.actions.is_empty(), "{:#?}", weekend.actions);
    assert!(weekend.memory.switchover.is_none());
    assert_ne!(weekend.memory.acknowledged_primary.as_deref(), Some(B));
    assert!(
        weekend.waiting.iter().any(|w| w.contains(
            "switchover window (Sat, Sun 01:00-05:00 America/Chicago): it opens Sat 2026-01-10 01:00 CST, in 4days 22h"
        )),
        "{:?}",
        weekend.waiting
    );
    let stale = weekend
        .conditions
        .iter()
        .find(|c| c.kind == ConditionType::ManifestStale)
        .unwrap();
    assert_eq!(stale.reason, "SwitchoverScheduled");
    // Inside the window in Chicago, the switchover starts; the same hours in London are over.
    let chicago =
        with_window("window: {days: [Mon], hours: 02:00-04:00, timeZone: America/Chicago}\n");
    assert_eq!(kinds(&chicago), vec![ActionKind::StopVm]);
    let london =
        with_window("window: {days: [Mon], hours: 02:00-04:00, timeZone: Europe/London}\n");
    assert!(london.actions.is_empty(), "{:#?}", london.actions);
    // A switchover already under way runs to its end when the window closes.
    let mut m = manifest("manual");
    m.spec_mut().primary = B.into();
    m.spec_mut().switchover = serde_saphyr::from_str(
        "window: {days: [Sat], hours: 01:00-05:00, timeZone: America/Chicago}\n",
    )
    .unwrap();
    let under_way = plan::plan(&m, &healthy(), &chicago.memory, now());
    assert_eq!(kinds(&under_way), vec![ActionKind::StopVm]);
}

#[test]
fn rule9_switchover_should_fail_over_with_queued_data_once_the_vm_is_off() {
    let mut m = manifest("manual");
    m.spec_mut().primary = B.into();
    let mut o = healthy();
    o.hosts[0].vms = vec![sg_vm("GCSServer", VmState::Off)];
    let p = plan::plan(&m, &o, &switching_over(), now());
    assert_eq!(failovers(&p), 1);
    let a = failover_action(&p);
    assert!(matches!(
        a.op,
        Operation::Failover {
            apply_queued_data: true,
            ..
        }
    ));
    assert_eq!(
        a.failover.as_ref().unwrap().cause,
        FailoverCause::Switchover
    );
    // Our own shutdown is no failure: only the failover is told, in a switchover's words.
    assert_eq!(alerts(&p), vec![AlertKind::FailoverStarted]);
    assert!(p.actions.iter().any(|a| matches!(&a.op,
        Operation::Alert { severity: galaxy_ha::manifest::spec::EventLevel::Warning, message, .. }
            if message.starts_with("planned switchover"))));
}

/// A switchover from A to B under way, begun now.
fn switching_over() -> galaxy_ha::memory::Memory {
    let mut mem = adopted();
    mem.acknowledged_primary = Some(B.into());
    mem.switchover = Some(Switchover {
        from: A.into(),
        to: B.into(),
        started: now(),
    });
    mem
}

/// A switchover from A to B whose clean shutdown of A failed in the last pass.
fn shutdown_failed_memory() -> galaxy_ha::memory::Memory {
    let mut mem = switching_over();
    mem.failures.insert(
        format!("hq/stop-vm/{A}/GCSServer"),
        Failure {
            attempts: 1,
            retry_at: now(),
            error: "the guest did not shut down in time".into(),
        },
    );
    mem
}

#[test]
fn rule9_a_failed_shutdown_that_left_the_vm_off_backs_out_and_starts_it_again_where_it_ran() {
    let mut m = manifest("manual");
    m.spec_mut().primary = B.into();
    let mut o = healthy();
    o.hosts[0].vms = vec![sg_vm("GCSServer", VmState::Off)];
    let p = plan::plan(&m, &o, &shutdown_failed_memory(), now());
    assert_eq!(failovers(&p), 0, "backed out: no failover");
    assert!(p.memory.switchover.is_none());
    let start = p
        .actions
        .iter()
        .find(|a| a.kind() == ActionKind::StartVm)
        .expect("System Galaxy started again");
    assert!(matches!(&start.op, Operation::StartVm { host, vm } if host == A && vm == "GCSServer"));
    assert!(start.disruptive, "journaled before it is issued");
    assert!(!acts(&p).contains(&ActionKind::StopVm), "never a turn-off");
    // Never while System Galaxy runs anywhere: here, a person started the replica on B.
    o.hosts[1].vms.push(sg_vm("GCSServer", VmState::Running));
    o.hosts[1].vms.retain(|v| v.name == "GCSServer");
    let p = plan::plan(&m, &o, &shutdown_failed_memory(), now());
    assert!(!acts(&p).contains(&ActionKind::StartVm), "{:?}", p.actions);
    // Nor on a host the controller cannot reach.
    let mut o = healthy();
    o.hosts[0].vms = vec![sg_vm("GCSServer", VmState::Off)];
    o.hosts[0].reachable = false;
    let p = plan::plan(&m, &o, &shutdown_failed_memory(), now());
    assert!(!acts(&p).contains(&ActionKind::StartVm), "{:?}", p.actions);
}

#[test]
fn rule9_switchover_should_wait_while_not_protecting() {
    let mut m = manifest("manual");
    m.spec_mut().primary = B.into();
    let mut o = healthy();
    o.job.as_mut().unwrap().activity = Activity::Synchronizing;
    let p = plan::plan(&m, &o, &adopted(), now());
    assert!(p.actions.is_empty());
    assert!(p.memory.switchover.is_none());
}

#[test]
fn rule10_maintenance_should_plan_but_apply_nothing_and_never_fail_over() {
    let mut m = manifest("automatic");
    m.spec_mut().maintenance = serde_saphyr::from_str("reason: SQL Server patching\n").unwrap();
    let mut o = live_host_down(Duration::from_secs(600));
    o.hosts[1].firewall.clear();
    let p = plan::plan(&m, &o, &adopted(), now());
    assert!(
        p.maintenance
            .as_deref()
            .unwrap()
            .contains("SQL Server patching")
    );
    assert_eq!(failovers(&p), 0);
    assert!(
        p.actions
            .iter()
            .any(|a| a.kind() == ActionKind::OpenFirewallPort)
    );
    // It acts on nothing but still says what it sees: the failure it would fail over for.
    assert!(p.actionable().iter().all(|a| a.kind() == ActionKind::Alert));
    let said: Vec<&str> = p
        .actionable()
        .iter()
        .map(|a| a.description.as_str())
        .collect();
    assert!(
        p.actionable().iter().any(|a| matches!(
            &a.op,
            galaxy_ha::model::Operation::Alert { alert: AlertKind::ConditionMet, message, .. }
                if message.contains("in maintenance: SQL Server patching")
        )),
        "{said:?}"
    );
    assert!(cond(&p, ConditionType::Maintenance));
}

#[test]
fn rule10_the_end_of_maintenance_starts_a_fresh_countdown_for_a_failure_seen_during_it() {
    let m = manifest("automatic");
    let mut memory = adopted();
    memory.transitions.insert(
        ConditionType::Maintenance.as_str().to_string(),
        galaxy_ha::memory::Transition {
            status: true,
            at: now() - jiff::SignedDuration::from_hours(1),
        },
    );
    // Missed for ten minutes: the monitor's condition has long been met.
    let o = live_host_down(Duration::from_secs(600));
    let ended = plan::plan(&m, &o, &memory, now());
    assert_eq!(failovers(&ended), 0, "nothing fires when maintenance ends");
    assert_eq!(ended.memory.maintenance_ended, Some(now()));
    assert!(
        ended.waiting.iter().any(|w| w.contains("fresh countdown")),
        "{:?}",
        ended.waiting
    );
    let mut memory = ended.memory.clone();
    memory.transitions = ended
        .conditions
        .iter()
        .map(|c| {
            (
                c.kind.as_str().to_string(),
                galaxy_ha::memory::Transition {
                    status: c.status,
                    at: c.last_transition.unwrap(),
                },
            )
        })
        .collect();
    let almost = plan::plan(&m, &o, &memory, now() + Duration::from_secs(299));
    assert_eq!(
        failovers(&almost),
        0,
        "the countdown is the monitor's 5 minutes"
    );
    let due = plan::plan(&m, &o, &almost.memory, now() + Duration::from_secs(300));
    assert_eq!(failovers(&due), 1, "{:?}", due.waiting);
    assert_eq!(due.memory.maintenance_ended, None);
}

#[test]
fn rule10_maintenance_should_end_by_itself_at_until() {
    let mut m = manifest("automatic");
    m.spec_mut().maintenance =
        serde_saphyr::from_str("reason: patching\nuntil: 2026-01-05T08:00:00Z\n").unwrap();
    let p = plan::plan(
        &m,
        &live_host_down(Duration::from_secs(600)),
        &adopted(),
        now(),
    );
    assert!(p.maintenance.is_none());
    assert_eq!(failovers(&p), 1);
    m.spec_mut().maintenance =
        serde_saphyr::from_str("reason: patching\nuntil: 2026-01-05T10:00:00Z\n").unwrap();
    let p = plan::plan(
        &m,
        &live_host_down(Duration::from_secs(600)),
        &adopted(),
        now(),
    );
    assert!(
        p.maintenance
            .as_deref()
            .unwrap()
            .contains("until 2026-01-05T10:00:00Z")
    );
}

#[test]
fn rule11_failed_action_should_wait_for_its_back_off() {
    let mut o = healthy();
    o.hosts[1]
        .firewall
        .retain(|r| r.port != 6320 || r.protocol != Protocol::Tcp);
    let id = "hq/open-firewall-port/gcshostb/6320/tcp".to_string();
    let mut m = adopted();
    m.failures.insert(
        id.clone(),
        Failure {
            attempts: 2,
            retry_at: now() + jiff::SignedDuration::from_secs(20),
            error: "refused".into(),
        },
    );
    let p = run("manual", &o, &m);
    assert!(p.actions.is_empty(), "{:?}", p.actions);
    assert!(p.memory.failures.contains_key(&id));
    m.failures.get_mut(&id).unwrap().retry_at = now();
    let p = run("manual", &o, &m);
    assert_eq!(p.actions.len(), 1);
    assert_eq!(p.actions[0].id, id);
}

#[test]
fn error_policy_should_double_from_ten_seconds_to_ten_minutes() {
    let secs: Vec<u64> = (1..=8).map(|n| error_policy(n).as_secs()).collect();
    assert_eq!(secs, vec![10, 20, 40, 80, 160, 320, 600, 600]);
    assert_eq!(error_policy(u32::MAX).as_secs(), 600);
}

#[test]
fn recovery_should_not_repeat_a_failover_the_world_shows_started() {
    let mut o = live_host_down(Duration::from_secs(400));
    o.job.as_mut().unwrap().activity = Activity::FailingOver;
    let mut m = adopted();
    let record = FailoverRecord::new(now(), A.into(), B.into(), FailoverCause::Automatic);
    m.in_flight = Some(InFlight {
        action_id: "hq/failover/GCSServer to GCSHOSTB".into(),
        op: Operation::Failover {
            snapshot: None,
            job: "GCSServer to GCSHOSTB".into(),
            target: B.into(),
            mode: FailoverKind::Live,
            apply_queued_data: true,
        },
        at: now(),
        failover: Some(record.clone()),
    });
    let p = run("automatic", &o, &m);
    assert_eq!(failovers(&p), 0);
    assert!(p.memory.in_flight.is_none());
    assert!(p.memory.failover_latched);
    assert_eq!(p.memory.last_failover, Some(record));
}

#[test]
fn recovery_should_plan_afresh_a_failover_that_never_started() {
    let o = live_host_down(Duration::from_secs(400));
    let mut m = adopted();
    m.in_flight = Some(InFlight {
        action_id: "hq/failover/GCSServer to GCSHOSTB".into(),
        op: Operation::Failover {
            snapshot: None,
            job: "GCSServer to GCSHOSTB".into(),
            target: B.into(),
            mode: FailoverKind::Live,
            apply_queued_data: true,
        },
        at: now(),
        failover: None,
    });
    let p = run("automatic", &o, &m);
    assert_eq!(failovers(&p), 1);
    assert!(p.memory.in_flight.is_none());
}

#[test]
fn approve_should_refuse_when_the_standby_is_not_ready() {
    let m = manifest("manual");
    let mut o = healthy();
    o.job.as_mut().unwrap().activity = Activity::Synchronizing;
    o.job.as_mut().unwrap().percent = Some(40);
    o.job.as_mut().unwrap().mirror_remaining_bytes = 10;
    let err = approve(&m, &o, &adopted(), false).unwrap_err();
    assert!(err.contains("Synchronizing (40%)"), "{err}");
    o.job = None;
    assert!(
        approve(&m, &o, &adopted(), false)
            .unwrap_err()
            .contains("no replication job")
    );
    let mut o = live_host_down(Duration::from_secs(10));
    o.hosts[1].reachable = false;
    assert!(
        approve(&m, &o, &adopted(), false)
            .unwrap_err()
            .contains("cannot be reached")
    );
}

#[test]
fn approve_should_switch_over_a_healthy_site_and_fail_over_a_failed_one() {
    let m = manifest("manual");
    assert_eq!(
        approve(&m, &healthy(), &adopted(), false).unwrap(),
        Approval::Switchover {
            from: A.into(),
            to: B.into()
        }
    );
    assert!(matches!(
        approve(
            &m,
            &live_host_down(Duration::from_secs(30)),
            &adopted(),
            false
        )
        .unwrap(),
        Approval::Failover { .. }
    ));
    assert!(matches!(
        approve(&m, &healthy(), &adopted(), true).unwrap(),
        Approval::Test { .. }
    ));
    assert!(
        approve(
            &m,
            &live_host_down(Duration::from_secs(30)),
            &adopted(),
            true
        )
        .is_err()
    );
}

#[test]
fn plan_should_be_deterministic() {
    let o = live_host_down(Duration::from_secs(400));
    assert_eq!(
        run("automatic", &o, &adopted()),
        run("automatic", &o, &adopted())
    );
}

#[test]
fn rule6_should_keep_the_replica_when_it_is_what_runs_system_galaxy() {
    // System Galaxy was moved by hand onto B's replica: the job A → B now targets the live host.
    let mut o = healthy();
    o.hosts[0].vms = vec![sg_vm("GCSServer", VmState::Off)];
    o.hosts[1].vms = vec![sg_vm("GCSServer_Replica_GCSHOSTB", VmState::Running)];
    o.job.as_mut().unwrap().activity = Activity::Failed;
    let p = run("manual", &o, &adopted());
    assert_eq!(p.live_host.as_deref(), Some(B));
    let delete = p
        .actions
        .iter()
        .find(|a| a.kind() == ActionKind::DeleteJob)
        .expect("wrong direction");
    assert!(
        matches!(
            delete.op,
            Operation::DeleteJob {
                delete_replica: false,
                ..
            }
        ),
        "never delete the live VM"
    );
}

#[test]
fn drills_should_raise_drill_overdue_and_run_a_scheduled_test_failover_only_while_protecting() {
    let mut m = manifest("manual");
    m.spec_mut().drills = serde_saphyr::from_str("testFailoverEvery: 90d\n").unwrap();
    let p = plan::plan(&m, &healthy(), &adopted(), now());
    assert!(cond(&p, ConditionType::DrillOverdue));
    assert_eq!(alerts(&p), vec![AlertKind::DrillOverdue]);
    assert!(
        !kinds(&p).contains(&ActionKind::TestFailover),
        "not scheduled: only the alert"
    );

    m.spec_mut().drills =
        serde_saphyr::from_str("testFailoverEvery: 90d\nscheduled: true\n").unwrap();
    let p = plan::plan(&m, &healthy(), &adopted(), now());
    assert!(kinds(&p).contains(&ActionKind::TestFailover));

    // A drill that passed a day ago: up to date. One that only started does not count once
    // it is over.
    let mut recent = adopted();
    recent.last_drill_passed = Some(now() - jiff::SignedDuration::from_hours(24));
    let p = plan::plan(&m, &healthy(), &recent, now());
    assert!(!cond(&p, ConditionType::DrillOverdue));
    assert!(p.actions.is_empty());
    let mut started_only = adopted();
    started_only.last_test_failover = Some(now() - jiff::SignedDuration::from_hours(24));
    let p = plan::plan(&m, &healthy(), &started_only, now());
    assert!(cond(&p, ConditionType::DrillOverdue));

    let mut syncing = healthy();
    syncing.job.as_mut().unwrap().activity = Activity::Synchronizing;
    assert!(
        !kinds(&plan::plan(&m, &syncing, &adopted(), now())).contains(&ActionKind::TestFailover)
    );

    m.spec_mut().maintenance = serde_saphyr::from_str("reason: patching\n").unwrap();
    assert!(
        plan::plan(&m, &healthy(), &adopted(), now())
            .actionable()
            .iter()
            .all(|a| a.kind() == ActionKind::Alert)
    );
}

#[test]
fn no_job_is_only_a_fact_when_every_hosts_double_take_answered() {
    let mut o = healthy();
    o.job = None;
    o.hosts[1].jobs_known = false;
    let p = run("manual", &o, &adopted());
    assert!(
        p.actions.iter().all(|a| !matches!(
            a.op,
            Operation::CreateJob(_) | Operation::RemoveReplica { .. }
        )),
        "the replica of a job that may exist is never removed: {:#?}",
        p.actions
    );
    assert!(cond(&p, ConditionType::Degraded));
    o.hosts[1].jobs_known = true;
    let p = run("manual", &o, &adopted());
    assert!(
        kinds(&p).contains(&ActionKind::RemoveReplica)
            && kinds(&p).contains(&ActionKind::CreateJob)
    );
}

#[test]
fn a_held_drill_should_end_by_itself_after_max_duration() {
    let mut o = healthy();
    let replica = o.hosts[1]
        .vms
        .iter_mut()
        .find(|v| v.role == VmRole::Replica)
        .expect("a replica on the standby");
    replica.state = VmState::Running;
    replica.isolated = true;
    // Verified and held for a person to look at it.
    let started = |ago: i64| {
        let mut m = adopted();
        let at = now() - jiff::SignedDuration::from_mins(ago);
        let mut drill = galaxy_ha::model::drill::Drill::new(
            B.into(),
            at,
            galaxy_ha::model::drill::DrillStart {
                by: "admin on console".into(),
                notes: None,
                hold: true,
            },
        );
        drill.verdict = Some(galaxy_ha::model::drill::Verdict {
            passed: true,
            at,
            why: "every check passed".into(),
            quiet: false,
        });
        m.drill = Some(drill);
        m.last_test_failover = Some(at);
        m
    };
    let ends = |p: &Plan| kinds(p).contains(&ActionKind::EndTestFailover);
    let m = manifest("automatic");
    assert!(
        !ends(&plan::plan(&m, &o, &started(60), now())),
        "4h by default"
    );
    assert!(ends(&plan::plan(&m, &o, &started(241), now())));
    let mut short = manifest("automatic");
    short.spec_mut().drills = serde_saphyr::from_str("maxDuration: 30m\n").unwrap();
    assert!(ends(&plan::plan(&short, &o, &started(31), now())));
    // No drill runs: nothing to end; the drill is finished instead.
    let p = plan::plan(&short, &healthy(), &started(31), now());
    assert!(!ends(&p));
    assert_eq!(
        p.memory.last_drill.as_ref().map(|d| d.result()),
        Some("pass")
    );
}

/// Windows compares host and VM names without case: a manifest spelled in lower case, hosts
/// that report upper case and memory that remembers a third spelling are one site, healthy,
/// with nothing to do: no failover, no fence, no recreated job, no stale manifest.
#[test]
fn names_that_differ_only_in_case_should_be_one_host_and_one_vm_everywhere() {
    let mut m = manifest("automatic");
    for h in &mut m.spec_mut().hosts {
        h.name = h.name.to_ascii_lowercase().into();
    }
    m.spec_mut().primary = A.to_ascii_lowercase().into();
    m.spec_mut().vm.name = m.spec.vm.name.to_ascii_uppercase().into();
    let memory = galaxy_ha::memory::Memory {
        live_host: Some("GcsHostA".into()),
        acknowledged_primary: Some("gcsHOSTa".into()),
        ..galaxy_ha::memory::Memory::default()
    };
    let p = plan::plan(&m, &healthy(), &memory, now());
    assert!(p.actions.is_empty(), "{:#?}", p.actions);
    assert!(cond(&p, ConditionType::Ready));
    assert!(cond(&p, ConditionType::Protected));
    assert!(!cond(&p, ConditionType::ManifestStale));
    assert!(!cond(&p, ConditionType::Degraded));
    assert_eq!(p.live_host.as_ref().map(|h| h.as_str()), Some("gcshosta"));
    assert!(p.live_host.as_ref().is_some_and(|h| *h == A));
    // With the live host failed, the standby is still the other host, not a third one.
    let mut down = healthy();
    down.hosts[0] = HostState::unreachable(A);
    let p = plan::plan(&m, &down, &memory, now());
    assert!(
        p.standby_host.as_ref().is_some_and(|h| *h == B),
        "{:?}",
        p.standby_host
    );
}

/// `spec.resume: approve`: with the old host back, rule 8 waits for `galaxy-ha resume` and
/// says so; the approved plan is rule 8's resume, disks kept; nothing to resume is refused.
#[test]
fn rule8_under_resume_approve_should_wait_for_a_person_then_resume_when_approved() {
    let mut m = manifest("automatic");
    m.spec_mut().resume = galaxy_ha::manifest::spec::ResumeMode::Approve;
    let mut o = healthy();
    o.hosts[0] = host(A, vec![sg_vm("GCSServer", VmState::Off)]);
    o.hosts[1].vms = vec![sg_vm("GCSServer_Replica_GCSHOSTB", VmState::Running)];
    o.job.as_mut().unwrap().activity = Activity::FailedOver;
    let p = plan::plan(&m, &o, &adopted(), now());
    assert!(
        p.actions.iter().all(|a| a.kind() == ActionKind::Alert),
        "{:#?}",
        p.actions
    );
    assert!(
        p.waiting
            .iter()
            .any(|w| w.contains("waits for a person") && w.contains("galaxy-ha resume hq")),
        "{:?}",
        p.waiting
    );
    let finished = p
        .actions
        .iter()
        .find_map(|a| match &a.op {
            Operation::Alert {
                alert: AlertKind::FailoverFinished,
                message,
                ..
            } => Some(message.clone()),
            _ => None,
        })
        .expect("failover-finished");
    assert!(finished.contains("galaxy-ha resume hq"), "{finished}");

    let approval = plan::approve_resume(&o).expect("a failed-over job can be resumed");
    let p = plan::approved(&m, &o, &adopted(), now(), &approval);
    assert_eq!(acts(&p), RESUME_STEPS);
    assert!(p.actions.iter().all(|a| !matches!(
        a.op,
        Operation::DeleteJob {
            delete_replica: true,
            ..
        }
    )));
    // Nothing failed over: nothing to resume.
    let err = plan::approve_resume(&healthy()).unwrap_err();
    assert!(err.contains("nothing to resume"), "{err}");
}

/// `spec.maintenance.host`: the named host gets no action, the other is kept as usual, and
/// nothing fails over; the site says it is in maintenance, and of which host.
#[test]
fn rule10_maintenance_of_one_host_should_keep_the_other_and_never_fail_over() {
    let mut m = manifest("automatic");
    m.spec_mut().maintenance =
        serde_saphyr::from_str("reason: patching\nhost: gcshostb\n").unwrap();
    let mut o = healthy();
    o.hosts[0].services[0].status = ServiceStatus::Stopped;
    o.hosts[1].services[0].status = ServiceStatus::Stopped;
    let p = plan::plan(&m, &o, &adopted(), now());
    let on = |host: &str| {
        p.actionable().iter().any(
            |a| matches!(&a.op, Operation::StartService { place: Place::Host(h), .. } if h == host),
        )
    };
    assert!(on(A), "{:#?}", p.actions);
    assert!(!on(B), "{:#?}", p.actions);
    assert!(
        p.waiting
            .iter()
            .any(|w| w.contains("waits for the maintenance of gcshostb")),
        "{:?}",
        p.waiting
    );
    assert!(
        p.maintenance
            .as_deref()
            .unwrap()
            .contains("(gcshostb only)")
    );
    assert!(cond(&p, ConditionType::Maintenance));
    // The live host fails while the standby is being patched: no failover.
    let p = plan::plan(
        &m,
        &live_host_down(Duration::from_secs(600)),
        &adopted(),
        now(),
    );
    assert_eq!(failovers(&p), 0, "{:#?}", p.actions);
}
