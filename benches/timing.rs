//! How soon a failover is issued: the live host fails at each second of the monitor's query
//! period in turn; the controller passes when each pass asks to come back (as the service
//! does), on the lab's virtual clock. Two delays are reported: the controller's own (from
//! the failover monitor's condition being met to the failover being issued) and the whole
//! (from the failure), against the window the manifest configures.

use std::time::Duration;

use galaxy_ha::alert::LogSink;
use galaxy_ha::execute::Records;
use galaxy_ha::manifest::Site;
use galaxy_ha::manifest::spec::FailoverMode;
use galaxy_ha::platform::Platform;
use galaxy_ha::platform::sim::{Lab, World};
use galaxy_ha::reconcile;

/// One failure at `phase` into a converged site's monitor period: (failure → condition met,
/// condition met → failover issued), both in virtual time.
fn one(site: &Site, phase: Duration) -> (Duration, Duration) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut lab = Lab::new(World::new("timing", &site.manifest.spec, 1));
    let mut store = Records::new(dir.path(), "timing");
    let mut alerts = LogSink::default();
    reconcile::converge(
        site,
        &mut lab,
        &mut store,
        &mut alerts,
        Duration::from_secs(7200),
        |_, _| {},
    )
    .expect("the site converges");
    lab.sleep(phase);
    let failed = lab.now();
    lab.world_mut().host_down("GCSHOSTA").expect("host down");
    let mut condition = None;
    for _ in 0..10_000 {
        let outcome = reconcile::pass(site, &mut lab, &mut store, &mut alerts).expect("a pass");
        if let Some(at) = condition_at(&outcome, lab.now()) {
            condition.get_or_insert(at);
        }
        if lab.world().failovers() > 0 {
            let condition = condition.expect("the condition was seen before the failover");
            return (
                span(failed, condition),
                span(condition, issued_at(&outcome, lab.now())),
            );
        }
        lab.sleep(outcome.requeue_after);
    }
    panic!("no failover within 10,000 passes");
}

/// When the failover monitor's condition was met, if this pass saw it met: when the
/// monitor's countdown ran out (`missed_for` is how long it has missed the source, the
/// threshold how long it had to).
pub fn condition_at(outcome: &reconcile::Outcome, now: jiff::Timestamp) -> Option<jiff::Timestamp> {
    let job = outcome.observed.job.as_ref()?;
    if !job.monitor_status.condition_met {
        return None;
    }
    let threshold = job.monitor.threshold.time_to_failure(job.monitor.interval);
    let over = job.monitor_status.missed_for.saturating_sub(threshold);
    Some(now - jiff::SignedDuration::try_from(over).unwrap_or_default())
}

/// When the pass that failed over issued the failover (by its memory).
pub fn issued_at(outcome: &reconcile::Outcome, now: jiff::Timestamp) -> jiff::Timestamp {
    outcome
        .plan
        .memory
        .last_failover
        .as_ref()
        .map_or(now, |f| f.at)
}

/// The time from `a` to `b`, none when `b` is not later.
pub fn span(a: jiff::Timestamp, b: jiff::Timestamp) -> Duration {
    Duration::try_from(b.duration_since(a)).unwrap_or_default()
}

fn config(
    what: &str,
    interval: u64,
    total: Option<u64>,
    failures: Option<u32>,
) -> Vec<crate::Figure> {
    let mut manifest = galaxy_ha::manifest::sample::guide_site(FailoverMode::Automatic);
    let monitor = &mut manifest.spec_mut().failover.monitor;
    monitor.interval = Duration::from_secs(interval);
    monitor.total_time_to_failure = total.map(Duration::from_secs);
    monitor.consecutive_failures = failures;
    let window = total.unwrap_or(interval * u64::from(failures.unwrap_or(0)));
    let site = Site {
        name: "timing".into(),
        path: "timing.yaml".into(),
        manifest,
    };
    let runs: Vec<(Duration, Duration)> = (0..interval)
        .map(|s| one(&site, Duration::from_secs(s)))
        .collect();
    let late = runs.iter().map(|r| r.1).max().unwrap_or_default();
    let ratios: Vec<f64> = runs
        .iter()
        .map(|(detect, late)| (*detect + *late).as_secs_f64() / window as f64)
        .collect();
    let worst = ratios.iter().copied().fold(0.0, f64::max);
    let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
    vec![
        crate::Figure::held(
            &format!("failover issued after the monitor's condition is met ({what})"),
            format!(
                "{} at worst of {} failure phases (lab time)",
                humantime::format_duration(late),
                runs.len()
            ),
            "≤ 1 s",
            late <= Duration::from_secs(1),
        ),
        crate::Figure::shown(
            &format!("failure → failover issued, over the window ({what})"),
            format!(
                "{worst:.3} at worst, {mean:.3} mean: the monitor first misses the source at its next query, up to one interval after the failure"
            ),
        ),
    ]
}

pub fn failover_timing() -> Vec<crate::Figure> {
    let mut out = config("5m, every 10s", 10, Some(300), None);
    out.extend(config("20 failures, every 10s", 10, None, Some(20)));
    out
}
