//! Chaos: random schedules of faults run against the simulated lab while the controller
//! passes, with the safety invariants of docs/architecture.md checked after every step, and the site required to
//! be protecting an hour after every fault healed.
//!
//! A schedule is drawn from one seed (faults on hosts, every link, services, ports, VMs and
//! the job; controller crashes at a durable step and stops; manifest edits of `primary`,
//! maintenance, mode and interval; people's `failover` commands), so a failure names its seed
//! and replays exactly from it: `GALAXY_HA_CHAOS_SEED=SEED` (or `galaxy-ha sim chaos --seed
//! SEED`). The test suite, the benchmark report and `galaxy-ha sim chaos` all run it.

mod check;
mod driver;
mod intents;
mod invariant;
mod schedule;
mod trace;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use driver::{CaseReport, QUIET_END, run_case, run_case_with};
pub use invariant::{Invariant, Violation};
pub use schedule::{Command, Edit, Extras, Schedule, Step};

/// How many schedules to run (the test suite runs 300 when it is not set).
pub const CASES_ENV: &str = "GALAXY_HA_CHAOS_CASES";
/// Replays the one schedule of this seed.
pub const SEED_ENV: &str = "GALAXY_HA_CHAOS_SEED";

/// Hours of faults in a schedule, before the heal and the quiet hour.
pub const DEFAULT_HOURS: u32 = 3;

/// Which schedules to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Seeds `first_seed .. first_seed + cases`.
    pub first_seed: u64,
    pub cases: u64,
    pub hours: u32,
    /// What to add to each seed's schedule (guest faults, forced failovers).
    pub extras: Extras,
}

/// A chaos variable that does not hold a number.
#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    #[error("{name}={value:?} is not an unsigned integer")]
    Env { name: &'static str, value: String },
    #[error("cannot create a state dir for a schedule: {0}")]
    Io(#[from] std::io::Error),
}

fn env_number(name: &'static str) -> Result<Option<u64>, ChaosError> {
    match std::env::var(name) {
        Ok(value) => value
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ChaosError::Env { name, value }),
        Err(_) => Ok(None),
    }
}

impl Options {
    /// `cases` schedules from seed 1, unless `GALAXY_HA_CHAOS_SEED` asks to replay one or
    /// `GALAXY_HA_CHAOS_CASES` for another count.
    ///
    /// # Errors
    /// A variable that is not a number (a typo must not silently run something else).
    pub fn from_env(cases: u64) -> Result<Options, ChaosError> {
        Ok(match env_number(SEED_ENV)? {
            Some(seed) => Options {
                first_seed: seed,
                cases: 1,
                hours: DEFAULT_HOURS,
                extras: Extras::default(),
            },
            None => Options {
                first_seed: 1,
                cases: env_number(CASES_ENV)?.unwrap_or(cases),
                hours: DEFAULT_HOURS,
                extras: Extras::default(),
            },
        })
    }
}

/// What a run of many schedules did and found, for the test and the benchmark report.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub schedules: u64,
    pub steps: u64,
    pub faults: u64,
    pub crashes: u64,
    pub stops: u64,
    pub edits: u64,
    pub commands: u64,
    pub passes: u64,
    pub failovers: u64,
    pub asked_failovers: u64,
    pub failure_failovers: u64,
    /// System Galaxy started again by the controller (switchovers backing out).
    pub vm_starts: u64,
    /// Failovers forced while the failover monitor still reached the live host.
    pub forced_failovers: u64,
    /// Live failovers to a snapshot instead of the newest data.
    pub snapshot_failovers: u64,
    /// Failovers a person committed before their window ended, and rolled back.
    pub commits: u64,
    pub rollbacks: u64,
    pub alerts: u64,
    pub virtual_time: Duration,
    pub events_produced: u64,
    pub events_lost: u64,
    pub lost_beyond_source_queue: u64,
    pub violations: u64,
    /// The schedules that broke an invariant, by seed.
    pub failed: Vec<CaseReport>,
    /// Real time the run took.
    pub took: Duration,
}

impl Figures {
    fn add(&mut self, case: CaseReport) {
        self.schedules += 1;
        self.steps += case.steps as u64;
        self.faults += u64::from(case.faults);
        self.crashes += u64::from(case.crashes);
        self.stops += u64::from(case.stops);
        self.edits += u64::from(case.edits);
        self.commands += u64::from(case.commands);
        self.passes += case.passes;
        self.failovers += u64::from(case.failovers);
        self.asked_failovers += u64::from(case.asked_failovers);
        self.failure_failovers += u64::from(case.failure_failovers);
        self.vm_starts += u64::from(case.vm_starts);
        self.forced_failovers += u64::from(case.forced_failovers);
        self.snapshot_failovers += u64::from(case.snapshot_failovers);
        self.commits += u64::from(case.commits);
        self.rollbacks += u64::from(case.rollbacks);
        self.alerts += case.alerts;
        self.virtual_time += case.virtual_time;
        self.events_produced += case.events.produced;
        self.events_lost += case.events.lost;
        self.lost_beyond_source_queue += case.lost_beyond_source_queue;
        self.violations += case.violations.len() as u64;
        if !case.violations.is_empty() {
            self.failed.push(case);
        }
    }

    /// One line per figure.
    pub fn summary(&self) -> String {
        format!(
            "schedules {}  virtual hours {:.0}  steps {}  faults injected {}  controller crashes {}  stops {}  manifest edits {}  failover commands {}  passes {}\n\
             failovers {} (asked by a person {}, answering a failure {})  forced {}  to a snapshot {}  committed early {}  rolled back {}  System Galaxy started again {}  alerts {}  events produced {}  lost {}  lost beyond the source queue {}\n\
             invariant violations {}  ({:.1} s)",
            self.schedules,
            self.virtual_time.as_secs_f64() / 3600.0,
            self.steps,
            self.faults,
            self.crashes,
            self.stops,
            self.edits,
            self.commands,
            self.passes,
            self.failovers,
            self.asked_failovers,
            self.failure_failovers,
            self.forced_failovers,
            self.snapshot_failovers,
            self.commits,
            self.rollbacks,
            self.vm_starts,
            self.alerts,
            self.events_produced,
            self.events_lost,
            self.lost_beyond_source_queue,
            self.violations,
            self.took.as_secs_f64()
        )
    }
}

/// How to replay one schedule (with the flags of its extras).
pub fn replay_hint(seed: u64, extras: Extras) -> String {
    format!(
        "replay: {SEED_ENV}={seed} cargo test --test main chaos::   or   galaxy-ha sim chaos --seed {seed}{}",
        extras.flags()
    )
}

/// What a failed schedule broke, with its steps and how to replay it.
pub fn describe_failure(case: &CaseReport) -> String {
    let mut text = format!(
        "schedule seed {} broke {} invariant(s):\n",
        case.seed,
        case.violations.len()
    );
    for v in case.violations.iter().take(10) {
        text.push_str(&format!("  {v}\n"));
    }
    if !case.trace.is_empty() {
        text.push_str("every step, with the world and memory after it:\n");
        for line in &case.trace {
            text.push_str(&format!("  {line}\n"));
        }
        text.push_str(&replay_hint(case.seed, case.extras));
        text.push('\n');
        return text;
    }
    text.push_str("steps up to the first violation:\n");
    let skip = case.trail.len().saturating_sub(60);
    if skip > 1 {
        text.push_str(&format!(
            "  {}\n  ... {} earlier steps\n",
            case.trail[0],
            skip - 1
        ));
    }
    for line in case.trail.iter().skip(if skip > 1 { skip } else { 0 }) {
        text.push_str(&format!("  {line}\n"));
    }
    text.push_str(&replay_hint(case.seed, case.extras));
    text.push('\n');
    text
}

/// Runs the schedules on every core, each on its own lab and state dir.
///
/// # Errors
/// A state dir cannot be created.
pub fn run(options: &Options) -> Result<Figures, ChaosError> {
    run_reporting(options, |_| {})
}

/// [`run`], calling `done` with whether each schedule held as it finishes: a long soak shows
/// its progress, and a failure as soon as it happens.
///
/// # Errors
/// A state dir cannot be created.
pub fn run_reporting(options: &Options, done: impl Fn(bool) + Sync) -> Result<Figures, ChaosError> {
    let started = std::time::Instant::now();
    let next = AtomicU64::new(0);
    let results: Mutex<Vec<CaseReport>> = Mutex::new(Vec::new());
    let error: Mutex<Option<std::io::Error>> = Mutex::new(None);
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    std::thread::scope(|scope| {
        for _ in 0..threads.min(usize::try_from(options.cases).unwrap_or(usize::MAX).max(1)) {
            // Each schedule applies thousands of actions; their log lines would drown the
            // figures and the failures.
            scope.spawn(|| {
                let _quiet =
                    tracing::subscriber::set_default(tracing::subscriber::NoSubscriber::default());
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= options.cases {
                        return;
                    }
                    match run_case_with(
                        options.first_seed.wrapping_add(i),
                        options.hours,
                        options.cases == 1,
                        options.extras,
                    ) {
                        Ok(case) => {
                            done(case.violations.is_empty());
                            results.lock().unwrap_or_else(|p| p.into_inner()).push(case);
                        }
                        Err(e) => {
                            *error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                            return;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e.into());
    }
    let mut cases = results.into_inner().unwrap_or_else(|p| p.into_inner());
    cases.sort_by_key(|c| c.seed);
    let mut figures = Figures::default();
    for case in cases {
        figures.add(case);
    }
    figures.took = started.elapsed();
    Ok(figures)
}
