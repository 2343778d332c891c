//! The lab refuses what Carbonite, Hyper-V and Windows would refuse, in their kind of words,
//! and a refused operation changes nothing.

use galaxy_ha::manifest::spec::Startup;
use galaxy_ha::model::operation::{FailoverKind, Operation, Place};
use galaxy_ha::platform::PlatformError;
use galaxy_ha::platform::sim::World;

use crate::sim_support::*;

/// Executes `op`, expects a refusal by `system` whose message contains `words`, and checks
/// the world did not change.
fn refused(w: &mut World, op: Operation, system: &str, words: &str) {
    let before = w.clone();
    match w.execute(&op) {
        Err(PlatformError::Refused { system: s, message }) => {
            assert_eq!(s, system, "refused by the wrong system: {message}");
            assert!(
                message.contains(words),
                "{message:?} does not contain {words:?}"
            );
        }
        other => panic!("expected {system} to refuse {op:?}, got {other:?}"),
    }
    assert_eq!(*w, before, "a refused operation changed the world");
}

fn unreachable(w: &mut World, op: Operation, host: &str) {
    let before = w.clone();
    match w.execute(&op) {
        Err(PlatformError::Unreachable { host: h }) => assert_eq!(h, host),
        other => panic!("expected {host} unreachable for {op:?}, got {other:?}"),
    }
    assert_eq!(*w, before);
}

#[test]
fn a_job_onto_the_host_running_system_galaxy_is_refused_for_total_loss_of_data() {
    let mut w = world();
    baseline(&mut w);
    refused(
        &mut w,
        Operation::CreateJob(new_job(B, A)),
        "Carbonite",
        "total loss of data",
    );
}

#[test]
fn a_job_whose_source_host_does_not_run_the_vm_is_refused() {
    let mut w = world();
    baseline(&mut w);
    w.execute(&Operation::StopVm {
        host: A.into(),
        vm: VM.into(),
        turn_off: false,
    })
    .expect("stop");
    refused(
        &mut w,
        Operation::CreateJob(new_job(A, B)),
        "Carbonite",
        "not running",
    );
}

#[test]
fn a_job_with_source_equal_to_target_is_refused() {
    let mut w = world();
    baseline(&mut w);
    refused(
        &mut w,
        Operation::CreateJob(new_job(A, A)),
        "Carbonite",
        "same server",
    );
}

#[test]
fn a_job_is_refused_while_double_take_is_not_running() {
    let mut w = world();
    refused(
        &mut w,
        Operation::CreateJob(new_job(A, B)),
        "Carbonite",
        "not running",
    );
}

#[test]
fn a_second_job_and_a_job_name_that_exists_are_refused() {
    let mut w = protected();
    refused(
        &mut w,
        Operation::CreateJob(new_job(A, B)),
        "Carbonite",
        "already exists",
    );
    let mut other = new_job(A, B);
    other.name = "another".into();
    other.replica = "another replica".into();
    refused(
        &mut w,
        Operation::CreateJob(other),
        "Carbonite",
        "already protected",
    );
}

#[test]
fn a_replica_name_that_exists_on_the_target_is_refused() {
    let mut w = protected();
    w.execute(&Operation::DeleteJob {
        job: format!("{VM} to {B}"),
        target: B.into(),
        delete_replica: false,
    })
    .expect("delete keeping the replica");
    refused(
        &mut w,
        Operation::CreateJob(new_job(A, B)),
        "Hyper-V",
        "already exists",
    );
}

#[test]
fn failover_is_refused_while_provisioning_or_synchronizing() {
    let mut w = world();
    baseline(&mut w);
    create(&mut w, A, B);
    refused(
        &mut w,
        failover(B, FailoverKind::Live, true),
        "Carbonite",
        "provisioning",
    );
    w.advance(secs(200));
    refused(
        &mut w,
        failover(B, FailoverKind::Live, true),
        "Carbonite",
        "synchronizing",
    );
    refused(
        &mut w,
        failover(B, FailoverKind::Test, true),
        "Carbonite",
        "synchronizing",
    );
}

#[test]
fn failover_is_refused_once_failed_over_and_for_a_stopped_or_unknown_job() {
    let mut w = protected();
    refused(
        &mut w,
        failover(A, FailoverKind::Live, true),
        "Carbonite",
        "no job named",
    );
    w.execute(&failover(B, FailoverKind::Live, true))
        .expect("failover while protecting is allowed");
    refused(
        &mut w,
        failover(B, FailoverKind::Live, true),
        "Carbonite",
        "already failed over",
    );
    w.advance(secs(120));
    refused(
        &mut w,
        failover(B, FailoverKind::Live, true),
        "Carbonite",
        "already failed over",
    );

    let mut w = protected();
    w.job_stop().expect("stop");
    refused(
        &mut w,
        failover(B, FailoverKind::Live, true),
        "Carbonite",
        "stopped",
    );
}

#[test]
fn live_failover_is_refused_during_a_test_failover() {
    let mut w = protected();
    w.execute(&failover(B, FailoverKind::Test, true))
        .expect("test");
    refused(
        &mut w,
        failover(B, FailoverKind::Live, true),
        "Carbonite",
        "test failover",
    );
    refused(
        &mut w,
        failover(B, FailoverKind::Test, true),
        "Carbonite",
        "test failover",
    );
    refused(
        &mut w,
        Operation::DeleteJob {
            job: format!("{VM} to {B}"),
            target: B.into(),
            delete_replica: true,
        },
        "Carbonite",
        "is running",
    );
}

#[test]
fn acting_on_an_unreachable_host_is_refused_as_unreachable() {
    let mut w = protected();
    w.link_down("controller", B).expect("link");
    unreachable(&mut w, failover(B, FailoverKind::Live, true), B);
    unreachable(
        &mut w,
        Operation::StopVm {
            host: B.into(),
            vm: "x".into(),
            turn_off: true,
        },
        B,
    );
    unreachable(
        &mut w,
        Operation::StartService {
            place: Place::Host(B.into()),
            service: "Double-Take".into(),
        },
        B,
    );
    unreachable(
        &mut w,
        Operation::OpenFirewallPort {
            host: B.into(),
            port: 6320,
            protocol: galaxy_ha::observed::Protocol::Tcp,
        },
        B,
    );
    w.host_down(A).expect("down");
    unreachable(
        &mut w,
        Operation::StopVm {
            host: A.into(),
            vm: VM.into(),
            turn_off: true,
        },
        A,
    );
    unreachable(&mut w, Operation::CreateJob(new_job(A, B)), A);
}

#[test]
fn hyper_v_refuses_unknown_and_running_vms() {
    let mut w = protected();
    refused(
        &mut w,
        Operation::StopVm {
            host: A.into(),
            vm: "nope".into(),
            turn_off: false,
        },
        "Hyper-V",
        "unable to find",
    );
    refused(
        &mut w,
        Operation::RemoveReplica {
            host: A.into(),
            vm: VM.into(),
        },
        "Hyper-V",
        "running",
    );
    refused(
        &mut w,
        Operation::RemoveReplica {
            host: B.into(),
            vm: "nope".into(),
        },
        "Hyper-V",
        "unable to find",
    );
    refused(
        &mut w,
        Operation::RemoveReplica {
            host: B.into(),
            vm: format!("{VM}_Replica_{B}").into(),
        },
        "Carbonite",
        "delete the job",
    );
    refused(
        &mut w,
        Operation::StartService {
            place: Place::Guest(B.into()),
            service: "Double-Take".into(),
        },
        "Hyper-V",
        "no running System Galaxy",
    );
}

#[test]
fn windows_refuses_unknown_and_disabled_services_and_unknown_hosts() {
    let mut w = world();
    refused(
        &mut w,
        Operation::StartService {
            place: Place::Host(A.into()),
            service: "Spooler".into(),
        },
        "Windows",
        "Cannot find any service",
    );
    w.execute(&Operation::SetServiceStartup {
        place: Place::Host(A.into()),
        service: "Double-Take".into(),
        startup: Startup::Disabled,
    })
    .expect("disable");
    refused(
        &mut w,
        Operation::StartService {
            place: Place::Host(A.into()),
            service: "Double-Take".into(),
        },
        "Windows",
        "disabled",
    );
    refused(
        &mut w,
        Operation::StopVm {
            host: "GCSHOSTZ".into(),
            vm: VM.into(),
            turn_off: false,
        },
        "Windows",
        "no host named",
    );
}

#[test]
fn e_mail_settings_are_refused_while_double_take_is_not_running() {
    let mut w = world();
    let settings = galaxy_ha::observed::EmailSettings {
        server: "mailserver.domain.com".into(),
        port: 587,
        security: galaxy_ha::manifest::spec::SmtpSecurity::Starttls,
        username: Some("galaxy-alerts".into()),
        from: "galaxy-ha@domain.com".into(),
        to: vec!["security-ops@domain.com".into()],
        subject_prefix: "[Galaxy HA]".into(),
        add_event_description: false,
        include: vec![
            galaxy_ha::manifest::spec::EventLevel::Warning,
            galaxy_ha::manifest::spec::EventLevel::Error,
        ],
        exclude_event_ids: String::new(),
    };
    let op = Operation::SetEmailNotification {
        host: A.into(),
        settings: settings.clone(),
    };
    refused(&mut w, op.clone(), "Carbonite", "not running");
    baseline(&mut w);
    w.execute(&op).expect("set e-mail");
    assert_eq!(
        w.observe().host(A).and_then(|h| h.email.clone()),
        Some(settings)
    );
}

#[test]
fn editing_or_deleting_a_job_that_is_failing_over_is_refused() {
    let mut w = protected();
    w.execute(&failover(B, FailoverKind::Live, true))
        .expect("failover");
    refused(
        &mut w,
        Operation::UpdateJob {
            snapshots: None,
            job: format!("{VM} to {B}"),
            target: B.into(),
            monitor: monitor(),
        },
        "Carbonite",
        "failing over",
    );
    refused(
        &mut w,
        Operation::DeleteJob {
            job: format!("{VM} to {B}"),
            target: B.into(),
            delete_replica: false,
        },
        "Carbonite",
        "failing over",
    );
}
