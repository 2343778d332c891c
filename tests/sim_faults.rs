//! Every `sim fault` verb on the world, and how the controller's view tells them apart.

use galaxy_ha::manifest::spec::Startup;
use galaxy_ha::model::operation::{Operation, Place};
use galaxy_ha::observed::{Activity, Health, ServiceStatus, VmRole, VmState};
use galaxy_ha::platform::sim::{Fault, FaultError};

use crate::sim_support::*;

#[test]
fn host_down_stops_its_vms_and_hides_the_host_and_its_job() {
    let mut w = protected();
    w.host_down(B).expect("down");
    let o = w.observe();
    assert!(!o.host(B).expect("B").reachable);
    assert!(
        o.job.is_none(),
        "the job lives on the target, which is down"
    );
    assert_eq!(o.live_hosts(), vec![A]);
    w.host_down(A).expect("down");
    let o = w.observe();
    assert!(o.live_hosts().is_empty());
    assert!(w.hosts().iter().all(|h| h.vms.iter().all(|v| !v.running)));
    assert!(
        w.hosts()
            .iter()
            .all(|h| h.services.iter().all(|s| !s.running))
    );
}

#[test]
fn host_up_brings_services_back_per_startup_type_and_leaves_vms_off() {
    let mut w = protected();
    w.execute(&Operation::SetServiceStartup {
        place: Place::Host(A.into()),
        service: "Double-Take Management Service".into(),
        startup: Startup::Manual,
    })
    .expect("manual");
    w.host_down(A).expect("down");
    w.advance(secs(60));
    w.host_up(A).expect("up");
    let o = w.observe();
    let a = o.host(A).expect("A");
    assert!(a.reachable);
    assert_eq!(
        a.vms[0].state,
        VmState::Off,
        "a failed host does not start System Galaxy by itself"
    );
    let status = |name: &str| a.services.iter().find(|s| s.name == name).map(|s| s.status);
    assert_eq!(status("Double-Take"), Some(ServiceStatus::Running));
    assert_eq!(
        status("Double-Take Management Service"),
        Some(ServiceStatus::Stopped)
    );
}

#[test]
fn only_the_link_between_the_hosts_down_is_told_apart_from_the_live_host_down() {
    let mut w = protected();
    w.link_down(A, B).expect("link");
    w.advance(secs(30));
    let o = w.observe();
    assert!(
        o.host(A).expect("A").reachable,
        "the controller still sees the live host"
    );
    assert_eq!(o.live_hosts(), vec![A]);
    let j = o.job.expect("job");
    assert_eq!(j.activity, Activity::ServerCommunicationError);
    assert!(j.monitor_status.failed_queries >= 3);

    let mut w = protected();
    w.link_down("controller", A).expect("link");
    w.advance(secs(30));
    let o = w.observe();
    assert!(!o.host(A).expect("A").reachable);
    assert_eq!(
        o.job.expect("job").activity,
        Activity::Protecting,
        "the target still reaches the source"
    );
    w.link_up("CONTROLLER", "gcshosta")
        .expect("names are case-insensitive");
    assert!(w.observe().host(A).expect("A").reachable);
}

#[test]
fn link_faults_reject_unknown_ends_and_a_link_to_itself() {
    let mut w = world();
    assert_eq!(
        w.link_down(A, "GCSHOSTZ"),
        Err(FaultError::UnknownHost("GCSHOSTZ".into()))
    );
    assert!(matches!(
        w.link_down(A, "gcshosta"),
        Err(FaultError::SameEnds(_))
    ));
    assert!(matches!(
        w.vm_start("nope"),
        Err(FaultError::UnknownHost(_))
    ));
}

#[test]
fn service_stop_on_the_target_stops_replication() {
    let mut w = protected();
    w.service_stop(B, "double-take").expect("stop");
    let o = w.observe();
    let s = o
        .host(B)
        .expect("B")
        .services
        .iter()
        .find(|s| s.name == "Double-Take")
        .cloned()
        .expect("svc");
    assert_eq!(
        (s.status, s.startup),
        (ServiceStatus::Stopped, Startup::Automatic)
    );
    w.advance(secs(30));
    let j = job(&w);
    assert_eq!(j.health, Health::Error);
    assert!(
        j.replication_queue_bytes > 0,
        "nothing is sent while Double-Take is stopped on the target"
    );
    assert!(matches!(
        w.service_stop(B, "Spooler"),
        Err(FaultError::UnknownService { .. })
    ));
    w.host_down(A).expect("down");
    assert_eq!(
        w.service_stop(A, "Double-Take"),
        Err(FaultError::HostDown(A.into()))
    );
}

#[test]
fn port_close_removes_tcp_and_udp_rules() {
    let mut w = protected();
    assert_eq!(w.observe().host(A).expect("A").firewall.len(), 8);
    w.port_close(A, 6320).expect("close");
    let fw = w.observe().host(A).expect("A").firewall.clone();
    assert_eq!(fw.len(), 6);
    assert!(fw.iter().all(|r| r.port != 6320));
}

#[test]
fn vm_start_of_the_replica_provokes_split_brain_and_fails_the_job() {
    let mut w = protected();
    w.vm_start(B).expect("start replica");
    let o = w.observe();
    assert_eq!(o.live_hosts(), vec![A, B]);
    let vm = &o.host(B).expect("B").vms[0];
    assert_eq!(
        (vm.role, vm.state),
        (VmRole::SystemGalaxy, VmState::Running)
    );
    assert_eq!(o.job.expect("job").activity, Activity::Failed);
    assert_eq!(w.vm_start(B), Err(FaultError::NoVmToStart(B.into())));
    w.advance(secs(10));
    assert_ledger(&w);
}

#[test]
fn vm_start_after_host_up_restarts_system_galaxy() {
    let mut w = world();
    w.host_down(A).expect("down");
    assert_eq!(w.vm_start(A), Err(FaultError::HostDown(A.into())));
    w.host_up(A).expect("up");
    w.advance(secs(30));
    assert!(w.events().buffered > 0);
    w.vm_start(A).expect("start");
    w.advance(secs(1));
    assert_eq!(w.observe().live_hosts(), vec![A]);
    assert_eq!(w.events().buffered, 0);
}

#[test]
fn shutdown_fails_refuses_the_next_clean_shutdown_only_and_never_a_turn_off() {
    let mut w = protected();
    assert_eq!(w.shutdown_fails(B), Err(FaultError::NoVmRunning(B.into())));
    w.shutdown_fails(A).expect("fault");
    let stop = |turn_off| Operation::StopVm {
        host: A.into(),
        vm: "GCSServer".into(),
        turn_off,
    };
    let refused = w
        .execute(&stop(false))
        .expect_err("the guest does not shut down");
    assert!(
        refused.to_string().contains("did not shut down"),
        "{refused}"
    );
    assert_eq!(w.observe().live_hosts(), vec![A], "still running");
    // The next clean shutdown goes through, and a turn-off always does.
    w.execute(&stop(false)).expect("clean shutdown");
    assert!(w.observe().live_hosts().is_empty());
    w.vm_start(A).expect("start");
    w.shutdown_fails(A).expect("fault");
    w.execute(&stop(true)).expect("turned off");
    assert!(w.observe().live_hosts().is_empty());
}

#[test]
fn shutdown_times_out_reports_a_failure_yet_leaves_the_guest_off_cleanly() {
    let mut w = protected();
    w.shutdown_times_out(A).expect("fault");
    let timed_out = w
        .execute(&Operation::StopVm {
            host: A.into(),
            vm: "GCSServer".into(),
            turn_off: false,
        })
        .expect_err("Stop-VM gives up");
    assert!(timed_out.to_string().contains("timed out"), "{timed_out}");
    assert!(
        w.observe().live_hosts().is_empty(),
        "the guest went off anyway"
    );
    assert_eq!(w.events().lost, 0, "cleanly: nothing queued is lost");
    assert_ledger(&w);
}

#[test]
fn start_vm_boots_system_galaxy_where_it_is_off_and_leaves_a_running_one_alone() {
    let mut w = protected();
    let start = |host: &str, vm: &str| Operation::StartVm {
        host: host.into(),
        vm: vm.into(),
    };
    w.execute(&start(A, "GCSServer"))
        .expect("already running: nothing to do");
    assert_eq!(w.observe().live_hosts(), vec![A]);
    w.execute(&Operation::StopVm {
        host: A.into(),
        vm: "GCSServer".into(),
        turn_off: false,
    })
    .expect("clean shutdown");
    assert!(w.observe().live_hosts().is_empty());
    w.execute(&start(A, "GCSServer")).expect("started");
    assert_eq!(w.observe().live_hosts(), vec![A]);
    let missing = w
        .execute(&start(A, "NoSuchVm"))
        .expect_err("Hyper-V finds no such VM");
    assert!(missing.to_string().contains("unable to find"), "{missing}");
    w.host_down(A).expect("down");
    assert!(w.execute(&start(A, "GCSServer")).is_err(), "unreachable");
}

#[test]
fn email_drift_changes_the_settings() {
    let mut w = world();
    w.email_drift(A).expect("drift");
    let first = w
        .observe()
        .host(A)
        .and_then(|h| h.email.clone())
        .expect("set");
    w.email_drift(A).expect("drift again");
    let second = w
        .observe()
        .host(A)
        .and_then(|h| h.email.clone())
        .expect("set");
    assert_ne!(first, second);
    assert!(w.observe().host(B).and_then(|h| h.email.clone()).is_none());
}

#[test]
fn job_stop_stops_the_job() {
    let mut w = world();
    assert_eq!(w.job_stop(), Err(FaultError::NoJob));
    let mut w = protected();
    w.job_stop().expect("stop");
    let j = job(&w);
    assert_eq!((j.activity, j.health), (Activity::Stopped, Health::Warning));
    let stored = w.events().stored;
    w.advance(secs(60));
    assert!(w.events().stored > stored);
    assert_eq!(w.events().in_flight, 0);
}

#[test]
fn faults_parse_from_the_cli_words() {
    let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        Fault::parse("host-down", &args(&[A])),
        Ok(Fault::HostDown { host: A.into() })
    );
    assert_eq!(
        Fault::parse("link-down", &args(&["controller", B])),
        Ok(Fault::LinkDown {
            a: "controller".into(),
            b: B.into()
        })
    );
    assert_eq!(
        Fault::parse("port-close", &args(&[A, "6320"])),
        Ok(Fault::PortClose {
            host: A.into(),
            port: 6320
        })
    );
    assert_eq!(Fault::parse("job-stop", &[]), Ok(Fault::JobStop));
    assert!(matches!(
        Fault::parse("port-close", &args(&[A, "x"])),
        Err(FaultError::Usage(_))
    ));
    assert!(matches!(
        Fault::parse("host-down", &[]),
        Err(FaultError::Usage(_))
    ));
    assert!(
        matches!(Fault::parse("meteor", &[]), Err(FaultError::Usage(m)) if m.contains("host-down"))
    );
    for kind in Fault::KINDS {
        // Every listed kind is known to the parser (arity errors only).
        let err = Fault::parse(kind, &args(&["a", "b", "c"]));
        assert!(
            matches!(err, Err(FaultError::Usage(m)) if m.starts_with("usage")),
            "{kind}"
        );
    }
    let mut w = world();
    w.inject(&Fault::parse("host-down", &args(&[B])).expect("parse"))
        .expect("inject");
    assert!(!w.observe().host(B).expect("B").reachable);
}
