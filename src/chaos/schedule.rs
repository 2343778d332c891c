//! Random schedules: what happens to a site, in what order, drawn from one seed so that a
//! failing schedule is replayed exactly from its seed.

use std::time::Duration;

use rand::rngs::SmallRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use crate::manifest::spec::{FailoverMode, SiteSpec};
use crate::platform::sim::Fault;

/// One step of a schedule.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Something happens to the hosts, links, services, VMs or the job.
    Fault(Fault),
    /// Time passes; the controller (when up) runs a pass every monitor interval.
    Quiet(Duration),
    /// The controller dies at its `at`-th durable step from now (memory write, journal line,
    /// platform call), as a killed process would, and restarts at once.
    Crash { at: u32 },
    /// The controller is stopped for a while (no passes), then started again.
    ControllerDown(Duration),
    /// A person edits the site's manifest.
    Edit(Edit),
    /// A person runs `galaxy-ha failover SITE --yes` (between two passes of the controller).
    Command(Command),
}

/// A manifest edit.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// `spec.primary` names the other host: a person asks for a switchover, or acknowledges
    /// the live host after a failover.
    Primary(String),
    /// `spec.maintenance` set, ending by itself after `until` when given.
    MaintenanceOn {
        until: Option<Duration>,
    },
    MaintenanceOff,
    /// `spec.failover.mode` flipped.
    Mode(FailoverMode),
    /// `spec.failover.monitor.interval` changed: the job's settings drift.
    Interval(Duration),
}

/// A person's command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `galaxy-ha failover SITE --yes`.
    Failover,
    /// `galaxy-ha failover SITE --test --yes`.
    TestFailover,
    /// `galaxy-ha failover SITE --force --yes`.
    ForcedFailover,
    /// `galaxy-ha failover SITE --commit --yes`.
    Commit,
    /// `galaxy-ha failover SITE --rollback --yes`.
    Rollback,
    /// `galaxy-ha failover SITE --snapshot latest-good --yes`.
    SnapshotFailover,
}

/// A schedule: the site's failover mode and the steps, all drawn from `seed`.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub seed: u64,
    pub mode: FailoverMode,
    pub steps: Vec<Step>,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = |d: &Duration| humantime::format_duration(*d).to_string();
        match self {
            Step::Fault(fault) => write!(f, "fault {fault}"),
            Step::Quiet(t) => write!(f, "quiet {}", d(t)),
            Step::Crash { at } => write!(f, "crash at durable step +{at}"),
            Step::ControllerDown(t) => write!(f, "controller down {}", d(t)),
            Step::Edit(Edit::Primary(h)) => write!(f, "edit spec.primary: {h}"),
            Step::Edit(Edit::MaintenanceOn { until: None }) => write!(f, "edit maintenance on"),
            Step::Edit(Edit::MaintenanceOn { until: Some(t) }) => {
                write!(f, "edit maintenance on for {}", d(t))
            }
            Step::Edit(Edit::MaintenanceOff) => write!(f, "edit maintenance off"),
            Step::Edit(Edit::Mode(m)) => write!(f, "edit failover.mode: {m:?}"),
            Step::Edit(Edit::Interval(t)) => write!(f, "edit monitor.interval: {}", d(t)),
            Step::Command(Command::Failover) => write!(f, "command failover --yes"),
            Step::Command(Command::TestFailover) => write!(f, "command failover --test --yes"),
            Step::Command(Command::ForcedFailover) => write!(f, "command failover --force --yes"),
            Step::Command(Command::Commit) => write!(f, "command failover --commit --yes"),
            Step::Command(Command::Rollback) => write!(f, "command failover --rollback --yes"),
            Step::Command(Command::SnapshotFailover) => {
                write!(f, "command failover --snapshot latest-good --yes")
            }
        }
    }
}

fn secs(rng: &mut SmallRng, low: u64, high: u64) -> Duration {
    Duration::from_secs(rng.random_range(low..=high))
}

/// How long a quiet spell lasts: mostly short (faults pile up within one failure window),
/// sometimes long enough for a failover, a resync and protecting again.
fn quiet(rng: &mut SmallRng) -> Duration {
    match rng.random_range(0..10) {
        0..5 => secs(rng, 5, 120),
        5..8 => secs(rng, 120, 600),
        _ => secs(rng, 600, 2700),
    }
}

/// A fault on the guide's pair: hosts, each link (including the controller's), the
/// manifest's services and ports, VM starts (split brain), e-mail drift and job stops.
fn fault(rng: &mut SmallRng, spec: &SiteSpec) -> Fault {
    let hosts: Vec<String> = spec.hosts.iter().map(|h| h.name.to_string()).collect();
    let host = |rng: &mut SmallRng| hosts.choose(rng).cloned().unwrap_or_default();
    let ends = |rng: &mut SmallRng| {
        let mut ends = hosts.clone();
        ends.push("controller".into());
        let a = rng.random_range(0..ends.len());
        let b = (a + rng.random_range(1..ends.len())) % ends.len();
        (ends[a].clone(), ends[b].clone())
    };
    match rng.random_range(0..20) {
        0..3 => Fault::HostDown { host: host(rng) },
        3..7 => Fault::HostUp { host: host(rng) },
        7..10 => {
            let (a, b) = ends(rng);
            Fault::LinkDown { a, b }
        }
        10..14 => {
            let (a, b) = ends(rng);
            Fault::LinkUp { a, b }
        }
        14..16 => Fault::ServiceStop {
            host: host(rng),
            service: spec
                .services
                .choose(rng)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
        },
        16 => Fault::PortClose {
            host: host(rng),
            port: spec
                .firewall
                .ports
                .choose(rng)
                .and_then(|p| u16::try_from(*p).ok())
                .unwrap_or(6320),
        },
        17 => Fault::VmStart { host: host(rng) },
        18 => Fault::EmailDrift { host: host(rng) },
        _ => Fault::JobStop,
    }
}

impl Schedule {
    /// A schedule of about `hours` of virtual time for the guide's site.
    pub fn generate(seed: u64, hours: u32) -> Schedule {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mode = if rng.random_bool(0.5) {
            FailoverMode::Automatic
        } else {
            FailoverMode::Manual
        };
        let spec = crate::manifest::sample::guide_site(mode).spec;
        let hosts: Vec<String> = spec.hosts.iter().map(|h| h.name.to_string()).collect();
        let budget = Duration::from_secs(u64::from(hours) * 3600);
        let mut total = Duration::ZERO;
        // The site starts where the guide starts; the first faults may hit it while it is
        // still being protected.
        let first = quiet(&mut rng);
        total += first;
        let mut steps = vec![Step::Quiet(first)];
        while total < budget {
            let step = match rng.random_range(0..100) {
                0..62 => Step::Fault(fault(&mut rng, &spec)),
                62..70 => Step::Crash {
                    at: rng.random_range(1..=6),
                },
                70..74 => Step::ControllerDown(secs(&mut rng, 30, 1800)),
                74..80 => Step::Edit(Edit::Primary(
                    hosts.choose(&mut rng).cloned().unwrap_or_default(),
                )),
                80..83 => Step::Edit(Edit::MaintenanceOn {
                    until: rng.random_bool(0.5).then(|| secs(&mut rng, 300, 3600)),
                }),
                83..87 => Step::Edit(Edit::MaintenanceOff),
                87..89 => Step::Edit(Edit::Mode(if rng.random_bool(0.5) {
                    FailoverMode::Automatic
                } else {
                    FailoverMode::Manual
                })),
                89..91 => Step::Edit(Edit::Interval(
                    [5, 10, 20]
                        .choose(&mut rng)
                        .map_or(Duration::from_secs(10), |s| Duration::from_secs(*s)),
                )),
                91..97 => Step::Command(Command::Failover),
                _ => Step::Command(Command::TestFailover),
            };
            if let Step::ControllerDown(d) = &step {
                total += *d;
            }
            steps.push(step);
            let pause = quiet(&mut rng);
            total += pause;
            steps.push(Step::Quiet(pause));
        }
        Schedule { seed, mode, steps }
    }
}

/// What a run adds to the schedules drawn from its seeds, each from a stream of its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extras {
    /// [`Schedule::with_guest_faults`].
    pub guest_faults: bool,
    /// [`Schedule::with_forced_failovers`].
    pub forced_failovers: bool,
    /// [`Schedule::with_commits`].
    pub commits: bool,
    /// [`Schedule::with_snapshots`]; the site keeps snapshots and fails over to the newest
    /// good one when its data is not good (`spec.failover.onBadData: snapshot`).
    pub snapshots: bool,
}

impl Extras {
    /// The `galaxy-ha sim chaos` flags that ask for these extras.
    pub fn flags(self) -> String {
        let mut out = String::new();
        if self.guest_faults {
            out.push_str(" --guest-faults");
        }
        if self.forced_failovers {
            out.push_str(" --forced-failovers");
        }
        if self.commits {
            out.push_str(" --commits");
        }
        if self.snapshots {
            out.push_str(" --snapshots");
        }
        out
    }
}

/// The streams guest faults and forced failovers are drawn from, apart from the schedule's
/// own so that a seed's schedule stays what it was (the soak's findings are pinned by seed).
const GUEST_STREAM: u64 = 0x6775_6573_7473;
const FORCE_STREAM: u64 = 0x666f_7263_6564;
const COMMIT_STREAM: u64 = 0x636f_6d6d_6974;
const SNAPSHOT_STREAM: u64 = 0x736e_6170_7368;

impl Schedule {
    /// The schedule with `extras` added.
    pub fn with(self, extras: Extras) -> Schedule {
        let s = if extras.guest_faults {
            self.with_guest_faults()
        } else {
            self
        };
        let s = if extras.forced_failovers {
            s.with_forced_failovers()
        } else {
            s
        };
        let s = if extras.commits { s.with_commits() } else { s };
        if extras.snapshots {
            s.with_snapshots()
        } else {
            s
        }
    }

    /// The same schedule with the replica's data going bad before about a third of the hosts
    /// failing, and half of the people's plain `failover` commands asking for the newest good
    /// snapshot instead (`--snapshot latest-good`).
    pub fn with_snapshots(mut self) -> Schedule {
        let mut rng = SmallRng::seed_from_u64(self.seed ^ SNAPSHOT_STREAM);
        let mut steps = Vec::with_capacity(self.steps.len());
        for step in self.steps {
            match step {
                Step::Fault(Fault::HostDown { .. }) if rng.random_bool(1.0 / 3.0) => {
                    steps.push(Step::Fault(Fault::TargetDataBad));
                    steps.push(step);
                }
                Step::Command(Command::Failover) if rng.random_bool(0.5) => {
                    steps.push(Step::Command(Command::SnapshotFailover));
                }
                step => steps.push(step),
            }
        }
        self.steps = steps;
        self
    }

    /// The same schedule with, after about a quarter of its quiet spells and every host
    /// coming back, a person's `failover --commit` (one in three) or `failover
    /// --rollback`. Most fall where no failover
    /// waits for its commit and are refused; the others commit a failover before its window
    /// ends, or move System Galaxy back to the host it failed over from.
    pub fn with_commits(mut self) -> Schedule {
        let mut rng = SmallRng::seed_from_u64(self.seed ^ COMMIT_STREAM);
        let mut steps = Vec::with_capacity(self.steps.len());
        for step in self.steps {
            // A quiet spell, or a host coming back: when a person looks at the site.
            let odds = match step {
                Step::Quiet(_) => 0.25,
                Step::Fault(Fault::HostUp { .. }) => 1.0,
                _ => 0.0,
            };
            steps.push(step);
            if odds > 0.0 && rng.random_bool(odds) {
                steps.push(Step::Command(if rng.random_bool(1.0 / 3.0) {
                    Command::Commit
                } else {
                    Command::Rollback
                }));
            }
        }
        self.steps = steps;
        self
    }

    /// The same schedule with, before about half of the switchovers people ask for (a
    /// `spec.primary` edit, a `failover` command), a guest that will refuse or be slow over
    /// its next clean shutdown: the switchover then backs out, and where the shutdown left
    /// System Galaxy off the controller starts it again.
    pub fn with_guest_faults(mut self) -> Schedule {
        let mut rng = SmallRng::seed_from_u64(self.seed ^ GUEST_STREAM);
        let spec = crate::manifest::sample::guide_site(self.mode).spec;
        let hosts: Vec<String> = spec.hosts.iter().map(|h| h.name.to_string()).collect();
        let mut steps = Vec::with_capacity(self.steps.len());
        for step in self.steps {
            let asks = matches!(
                step,
                Step::Edit(Edit::Primary(_)) | Step::Command(Command::Failover)
            );
            if asks && rng.random_bool(0.5) {
                let host = hosts.choose(&mut rng).cloned().unwrap_or_default();
                steps.push(Step::Fault(if rng.random_bool(0.5) {
                    Fault::ShutdownFails { host }
                } else {
                    Fault::ShutdownTimesOut { host }
                }));
            }
            steps.push(step);
        }
        self.steps = steps;
        self
    }

    /// The same schedule with about half of the people's `failover` commands given
    /// `--force`: where only the controller lost the live host, they fail over anyway and the
    /// old host's copy is fenced once it is seen.
    pub fn with_forced_failovers(mut self) -> Schedule {
        let mut rng = SmallRng::seed_from_u64(self.seed ^ FORCE_STREAM);
        for step in &mut self.steps {
            if *step == Step::Command(Command::Failover) && rng.random_bool(0.5) {
                *step = Step::Command(Command::ForcedFailover);
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_one_schedule_and_another_seed_another() {
        let a = Schedule::generate(7, 3);
        assert_eq!(a, Schedule::generate(7, 3));
        assert_ne!(a.steps, Schedule::generate(8, 3).steps);
        let quiet: Duration = a
            .steps
            .iter()
            .map(|s| match s {
                Step::Quiet(d) | Step::ControllerDown(d) => *d,
                _ => Duration::ZERO,
            })
            .sum();
        assert!(quiet >= Duration::from_secs(3 * 3600), "{quiet:?}");
    }

    #[test]
    fn links_join_two_different_ends() {
        let spec = crate::manifest::sample::guide_site(FailoverMode::Manual).spec;
        let mut rng = SmallRng::seed_from_u64(1);
        for _ in 0..500 {
            if let Fault::LinkDown { a, b } | Fault::LinkUp { a, b } = fault(&mut rng, &spec) {
                assert_ne!(a, b);
            }
        }
    }
}
