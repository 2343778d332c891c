//! Chaos: many random schedules of faults on the lab with the controller passing (the
//! harness the test suite runs 300 of), and what they found.

use galaxy_ha::chaos::{self, Options};

/// Schedules the report runs; `GALAXY_HA_CHAOS_CASES` changes it.
const CASES: u64 = 3000;

pub fn bench_chaos() -> Vec<crate::Figure> {
    let options = Options::from_env(CASES).expect("chaos variables");
    let f = chaos::run(&options).expect("chaos run");
    for case in f.failed.iter().take(3) {
        eprintln!("{}", chaos::describe_failure(case));
    }
    let per_hour = f.passes as f64 / (f.virtual_time.as_secs_f64() / 3600.0).max(1e-9);
    let not_protecting = f
        .failed
        .iter()
        .filter(|c| {
            c.violations
                .iter()
                .any(|v| v.invariant == chaos::Invariant::Converged)
        })
        .count();
    vec![
        crate::Figure::held(
            "schedules run",
            format!(
                "{} ({:.0} virtual hours, {} in real time)",
                f.schedules,
                f.virtual_time.as_secs_f64() / 3600.0,
                crate::report::human(f.took)
            ),
            "≥ 300 (the test suite's count)",
            f.schedules >= 300,
        ),
        crate::Figure::shown(
            "faults injected",
            format!(
                "{} (hosts, links, services, ports, VM starts, e-mail drift, job stops)",
                f.faults
            ),
        ),
        crate::Figure::shown(
            "controller crashes at a durable step / stops and restarts",
            format!("{} / {}", f.crashes, f.stops),
        ),
        crate::Figure::shown(
            "manifest edits / failover commands",
            format!("{} / {}", f.edits, f.commands),
        ),
        crate::Figure::shown(
            "controller passes",
            format!("{} ({per_hour:.0} per virtual hour)", f.passes),
        ),
        crate::Figure::shown(
            "failovers",
            format!(
                "{} ({} asked by a person, {} answering a failure)",
                f.failovers, f.asked_failovers, f.failure_failovers
            ),
        ),
        crate::Figure::held(
            "invariant violations (the safety invariants of architecture.md, after every step)",
            f.violations.to_string(),
            "0",
            f.violations == 0,
        ),
        crate::Figure::held(
            "schedules not protecting an hour after every fault healed",
            not_protecting.to_string(),
            "0",
            not_protecting == 0,
        ),
        crate::Figure::held(
            "events lost beyond the source queue at a hard failure",
            format!(
                "{} (of {} produced; {} lost in source queues at hard failures)",
                f.lost_beyond_source_queue, f.events_produced, f.events_lost
            ),
            "0",
            f.lost_beyond_source_queue == 0,
        ),
    ]
}
