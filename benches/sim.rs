//! Simulated lab benchmark: 24 virtual hours of one site.

use std::time::{Duration, Instant};

/// 24 virtual hours of one site with panels producing 5 events/s: protected for 12 hours,
/// then the live host fails, the monitor's condition is met, the job fails over, and the
/// new live host runs for the rest of the day. Target: under 1 s of real time.
pub fn bench_sim_24h() -> Vec<crate::Figure> {
    use galaxy_ha::manifest::spec::{Startup, Threshold};
    use galaxy_ha::model::operation::{FailoverKind, MonitorOptions, NewJob, Operation, Place};
    use galaxy_ha::observed::{Activity, Protocol};
    use galaxy_ha::platform::sim::{Params, World};

    let spec =
        galaxy_ha::manifest::sample::guide_site(galaxy_ha::manifest::spec::FailoverMode::Manual)
            .spec;
    let params = Params {
        event_rate_per_sec: 5,
        ..Params::default()
    };
    let ok = |r: Result<(), galaxy_ha::platform::PlatformError>| {
        if let Err(e) = r {
            panic!("bench step refused: {e}");
        }
    };
    let started = Instant::now();
    let mut w = World::with_params("bench", &spec, 1, params);
    for place in [
        Place::Host("GCSHOSTA".into()),
        Place::Host("GCSHOSTB".into()),
        Place::Guest("GCSHOSTA".into()),
    ] {
        for (service, startup) in [
            ("Double-Take", Startup::Automatic),
            ("Double-Take Management Service", Startup::AutomaticDelayed),
        ] {
            ok(w.execute(&Operation::SetServiceStartup {
                place: place.clone(),
                service: service.into(),
                startup,
            }));
            ok(w.execute(&Operation::StartService {
                place: place.clone(),
                service: service.into(),
            }));
        }
    }
    for host in ["GCSHOSTA", "GCSHOSTB"] {
        ok(w.execute(&Operation::OpenFirewallPort {
            host: host.into(),
            port: 6320,
            protocol: Protocol::Tcp,
        }));
    }
    ok(w.execute(&Operation::CreateJob(NewJob {
        snapshots: None,
        name: "GCSServer to GCSHOSTB".into(),
        vm: "GCSServer".into(),
        source: "GCSHOSTA".into(),
        target: "GCSHOSTB".into(),
        replica: "GCSServer_Replica_GCSHOSTB".into(),
        replica_path: r"D:\HVRA_Replicas\10.100.0.45".into(),
        monitor: MonitorOptions {
            interval: Duration::from_secs(10),
            threshold: Threshold::TotalTime(Duration::from_secs(300)),
        },
    })));
    let hour = Duration::from_secs(3600);
    w.advance(12 * hour);
    let protecting = w.observe().job.map(|j| j.activity) == Some(Activity::Protecting);
    if let Err(e) = w.host_down("GCSHOSTA") {
        panic!("host-down: {e}");
    }
    while !w
        .observe()
        .job
        .is_some_and(|j| j.monitor_status.condition_met)
    {
        let step = w.next_event_in().unwrap_or(Duration::from_secs(1));
        w.advance(step);
    }
    ok(w.execute(&Operation::Failover {
        snapshot: None,
        job: "GCSServer to GCSHOSTB".into(),
        target: "GCSHOSTB".into(),
        mode: FailoverKind::Live,
        apply_queued_data: true,
    }));
    let left = (24 * hour).saturating_sub(w.elapsed());
    w.advance(left);
    let real = started.elapsed();
    let e = w.events();
    let activity = w.observe().job.map(|j| j.activity.label());
    vec![
        crate::Figure::held(
            "24 virtual hours of one site (5 events/s, failover at 12 h)",
            crate::report::human(real),
            "< 1 s",
            real < Duration::from_secs(1) && protecting,
        ),
        crate::Figure::shown(
            "… its events",
            format!(
                "produced {}, stored {}, buffered {}, in flight {}, lost {} (the source queue at the failure); final activity {}",
                e.produced,
                e.stored,
                e.buffered,
                e.in_flight,
                e.lost,
                activity.unwrap_or("none")
            ),
        ),
    ]
}
