//! What the PowerShell platform's scripts cost on real hosts, a process per script against
//! one warm session per host: the lab answers the scripts and its clock moves by what each
//! would cost under the stated latency model (`Latency::ASSUMED`, docs/powershell.md). The
//! same scenario runs in both modes: a converged site's pass, the live host failing until the
//! automatic failover, and the job's recreation once the old host is back.

use std::time::Duration;

use galaxy_ha::alert::LogSink;
use galaxy_ha::execute::Records;
use galaxy_ha::manifest::Site;
use galaxy_ha::manifest::spec::{FailoverMode, SessionMode};
use galaxy_ha::plan::ActionKind;
use galaxy_ha::platform::Platform;
use galaxy_ha::platform::powershell::latency::Latency;
use galaxy_ha::platform::powershell::{PowershellPlatform, ScriptKind, SimRunner};
use galaxy_ha::platform::sim::World;
use galaxy_ha::reconcile;

/// What one mode's scenario cost, in the lab's (modelled) time.
struct Costs {
    /// A pass on a converged site: observing both hosts.
    pass: Duration,
    /// The failover script alone.
    failover: Duration,
    /// The pass that issued the failover, observe included.
    failover_pass: Duration,
    /// From the old host being back to the job protecting again, every script.
    resume: Duration,
    resume_scripts: usize,
    /// From the failover monitor's condition being met to the failover being issued.
    late: Duration,
}

/// What the scripts cost, all of them or those of one kind.
fn total(spent: &[(ScriptKind, Duration)], only: Option<ScriptKind>) -> Duration {
    spent
        .iter()
        .filter(|(k, _)| only.is_none_or(|o| o == *k))
        .map(|(_, d)| *d)
        .sum()
}

fn scenario(mode: SessionMode) -> Costs {
    let manifest = galaxy_ha::manifest::sample::guide_site(FailoverMode::Automatic);
    let dir = tempfile::tempdir().expect("temp dir");
    let site = Site {
        name: "hq".into(),
        path: dir.path().join("hq.yaml"),
        manifest,
    };
    let runner = SimRunner::new(World::new("hq", &site.manifest.spec, 7))
        .with_latency(Latency::ASSUMED, mode);
    let mut platform = PowershellPlatform::new(&site, runner);
    let mut store = Records::new(dir.path(), "hq");
    let mut alerts = LogSink::default();
    let converge = |platform: &mut PowershellPlatform<SimRunner>,
                    store: &mut Records,
                    alerts: &mut LogSink| {
        reconcile::converge(
            &site,
            platform,
            store,
            alerts,
            Duration::from_secs(7200),
            |_, _| {},
        )
        .expect("the site converges");
    };
    converge(&mut platform, &mut store, &mut alerts);
    platform.runner().take_spent();
    reconcile::pass(&site, &mut platform, &mut store, &mut alerts).expect("a pass");
    let pass = total(&platform.runner().take_spent(), None);

    platform
        .runner()
        .world()
        .host_down("GCSHOSTA")
        .expect("host down");
    let (mut failover, mut failover_pass) = (Duration::ZERO, Duration::ZERO);
    let (mut condition, mut late) = (None, Duration::ZERO);
    for _ in 0..10_000 {
        let started = platform.now();
        let outcome =
            reconcile::pass(&site, &mut platform, &mut store, &mut alerts).expect("a pass");
        let spent = platform.runner().take_spent();
        // The lab answers each script once its cost has passed: the pass saw the hosts, and
        // planned, when its observe scripts were done.
        let observed = started
            + jiff::SignedDuration::try_from(total(&spent, Some(ScriptKind::Observe)))
                .unwrap_or_default();
        // The lab's monitor counts its misses at its queries, so the condition it reports
        // may have been met up to a query period before: no later than this pass's start,
        // which the monitor's remaining time scheduled.
        if let Some(at) = crate::timing::condition_at(&outcome, observed) {
            condition.get_or_insert(at.min(started));
        }
        if outcome
            .report
            .applied
            .iter()
            .any(|a| a.kind() == ActionKind::Failover)
        {
            failover = total(&spent, Some(ScriptKind::Act(ActionKind::Failover)));
            failover_pass = total(&spent, None);
            let met = condition.expect("the condition was seen before the failover");
            late = crate::timing::span(met, crate::timing::issued_at(&outcome, observed));
            break;
        }
        platform.sleep(outcome.requeue_after);
    }
    assert!(
        failover > Duration::ZERO,
        "{mode:?}: the failover was issued"
    );
    platform.sleep(Duration::from_secs(600));
    platform
        .runner()
        .world()
        .host_up("GCSHOSTA")
        .expect("host up");
    platform.runner().take_spent();
    converge(&mut platform, &mut store, &mut alerts);
    let spent = platform.runner().take_spent();
    Costs {
        pass,
        failover,
        failover_pass,
        resume: total(&spent, None),
        resume_scripts: spent.len(),
        late,
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

pub fn bench_sessions() -> Vec<crate::Figure> {
    let cold = scenario(SessionMode::PerScript);
    let warm = scenario(SessionMode::Warm);
    let l = Latency::ASSUMED;
    let side = |what: &str, a: Duration, b: Duration| {
        crate::Figure::shown(
            what,
            format!(
                "{} a process per script, {} warm ({:.1}× less)",
                secs(a),
                secs(b),
                a.as_secs_f64() / b.as_secs_f64().max(1e-9)
            ),
        )
    };
    vec![
        crate::Figure::shown(
            "latency model (assumed)",
            format!(
                "process start {}, WinRM session {}, DoubleTake import {}, New-DtServer {}, guest session {}, per cmdlet {}, per warm request {}",
                secs(l.process_start),
                secs(l.remote_session),
                secs(l.module_import),
                secs(l.dt_connect),
                secs(l.guest_session),
                secs(l.per_cmdlet),
                secs(l.per_request)
            ),
        ),
        side(
            "observe pass, converged site (2 hosts)",
            cold.pass,
            warm.pass,
        ),
        side("failover script", cold.failover, warm.failover),
        side(
            "pass that issues the failover (observe + failover)",
            cold.failover_pass,
            warm.failover_pass,
        ),
        side(
            &format!(
                "resume: the old host back → protecting, every pass's scripts ({} warm)",
                warm.resume_scripts
            ),
            cold.resume,
            warm.resume,
        ),
        side(
            "failover issued after the monitor's condition is met (5m, every 10s)",
            cold.late,
            warm.late,
        ),
        crate::Figure::held(
            "failover issued after the condition, warm session's timings",
            secs(warm.late),
            "≤ 1 s",
            warm.late <= Duration::from_secs(1),
        ),
        crate::Figure::held(
            "warm observe pass against a process per script",
            format!(
                "{:.1}× less",
                cold.pass.as_secs_f64() / warm.pass.as_secs_f64().max(1e-9)
            ),
            "≥ 3× less",
            warm.pass * 3 <= cold.pass,
        ),
    ]
}
