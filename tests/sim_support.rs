//! Helpers shared by the simulated-lab tests: a manifest, a seeded world, the guide's
//! baseline, and a protected site.

use std::time::Duration;

use galaxy_ha::manifest::spec::{SiteSpec, Startup, Threshold};
use galaxy_ha::model::operation::{FailoverKind, MonitorOptions, NewJob, Operation, Place};
use galaxy_ha::observed::{Activity, Job, Protocol};
use galaxy_ha::platform::sim::{DEFAULT_SEED, SEED_ENV, World};

pub const A: &str = "GCSHOSTA";
pub const B: &str = "GCSHOSTB";
pub const VM: &str = "GCSServer";

/// The guide's site in manual mode, as YAML.
pub fn manifest_text() -> String {
    galaxy_ha::manifest::sample::guide_site_yaml(galaxy_ha::manifest::spec::FailoverMode::Manual)
}

pub fn spec() -> SiteSpec {
    std::sync::Arc::unwrap_or_clone(
        galaxy_ha::manifest::sample::guide_site(galaxy_ha::manifest::spec::FailoverMode::Manual)
            .spec,
    )
}

/// The seed from `GALAXY_HA_SIM_SEED` (printed, so a failure can be rerun), else the default.
pub fn seed() -> u64 {
    let seed = std::env::var(SEED_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    eprintln!("{SEED_ENV}={seed}");
    seed
}

pub fn world() -> World {
    World::new("hq", &spec(), seed())
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub const SERVICES: [&str; 2] = ["Double-Take", "Double-Take Management Service"];

/// What the planner's baseline does: services running and automatic on both hosts and in
/// the live VM, ports open.
pub fn baseline(w: &mut World) {
    let live: Vec<galaxy_ha::model::names::HostName> = w
        .hosts()
        .iter()
        .filter(|h| h.live_vm().is_some())
        .map(|h| h.name.clone())
        .collect();
    let mut places: Vec<Place> = [A, B]
        .iter()
        .filter(|h| w.reachable(h))
        .map(|h| Place::Host((*h).into()))
        .collect();
    places.extend(live.into_iter().map(Place::Guest));
    for place in places {
        for s in SERVICES {
            let startup = if s == "Double-Take" {
                Startup::Automatic
            } else {
                Startup::AutomaticDelayed
            };
            w.execute(&Operation::SetServiceStartup {
                place: place.clone(),
                service: s.into(),
                startup,
            })
            .expect("set startup");
            w.execute(&Operation::StartService {
                place: place.clone(),
                service: s.into(),
            })
            .expect("start service");
        }
    }
    for h in [A, B] {
        if !w.reachable(h) {
            continue;
        }
        for port in [6320, 6325, 6330, 6332] {
            for protocol in [Protocol::Tcp, Protocol::Udp] {
                w.execute(&Operation::OpenFirewallPort {
                    host: h.into(),
                    port,
                    protocol,
                })
                .expect("open port");
            }
        }
    }
}

pub fn monitor() -> MonitorOptions {
    MonitorOptions {
        interval: secs(10),
        threshold: Threshold::TotalTime(secs(300)),
    }
}

pub fn new_job(source: &str, target: &str) -> NewJob {
    NewJob {
        snapshots: None,
        name: format!("{VM} to {target}"),
        vm: VM.into(),
        source: source.into(),
        target: target.into(),
        replica: format!("{VM}_Replica_{target}").into(),
        replica_path: r"D:\HVRA_Replicas\10.100.0.45".into(),
        monitor: monitor(),
    }
}

pub fn create(w: &mut World, source: &str, target: &str) {
    w.execute(&Operation::CreateJob(new_job(source, target)))
        .expect("create job");
}

/// Jumps from transition to transition until `done` holds (at most `limit` jumps).
pub fn run_until(w: &mut World, limit: usize, done: impl Fn(&World) -> bool) {
    for _ in 0..limit {
        if done(w) {
            return;
        }
        let d = w.next_event_in().unwrap_or(secs(1));
        w.advance(d);
    }
    assert!(done(w), "condition not reached after {limit} transitions");
}

pub fn activity(w: &World) -> Option<Activity> {
    w.observe().job.map(|j| j.activity)
}

pub fn job(w: &World) -> Job {
    w.observe().job.expect("job observable")
}

/// Baseline, job A → B, run to `Protecting`.
pub fn protected() -> World {
    let mut w = world();
    baseline(&mut w);
    create(&mut w, A, B);
    run_until(&mut w, 10, |w| activity(w) == Some(Activity::Protecting));
    w
}

pub fn failover(target: &str, mode: FailoverKind, apply: bool) -> Operation {
    Operation::Failover {
        snapshot: None,
        job: format!("{VM} to {target}"),
        target: target.into(),
        mode,
        apply_queued_data: apply,
    }
}

/// `produced == stored + buffered + lost + in_flight`.
pub fn assert_ledger(w: &World) {
    let e = w.events();
    assert_eq!(
        e.produced,
        e.stored + e.buffered + e.lost + e.in_flight,
        "ledger broken: {e:?}"
    );
}
