//! Runs one schedule on the lab with the controller passing every monitor interval, as the
//! service does: crashes and stops restart it from its state dir, people's edits and
//! commands happen between passes, and at the end every fault heals and the site gets an
//! hour of quiet. The checker looks after every step.

use std::path::Path;
use std::time::Duration;

use super::check::{Before, Checker};
use super::invariant::{Invariant, Violation};
use super::schedule::{Command, Edit, Extras, Schedule, Step};
use crate::alert::{Alert, AlertError, AlertSink};
use crate::execute::{ExecuteError, Records};
use crate::manifest::Site;
use crate::manifest::spec::MaintenanceSpec;
use crate::model::names::HostName;
use crate::plan::{self, Approval};
use crate::platform::Platform;
use crate::platform::sim::{EventCounts, Fault, Lab, World};
use crate::reconcile::{self, ReconcileError};

/// The site every schedule runs on: the guide's.
const SITE: &str = "hq";

/// How long the site gets, once every fault healed, to be protecting again.
pub const QUIET_END: Duration = Duration::from_secs(3600);

/// What one schedule did and found.
#[derive(Debug, Clone)]
pub struct CaseReport {
    pub seed: u64,
    /// What the schedule had beside its seed's steps.
    pub extras: Extras,
    pub steps: usize,
    /// Faults the lab accepted (a `host-up` of a host that is up changes nothing and is not
    /// counted).
    pub faults: u32,
    /// Controller crashes at a durable step, and stops.
    pub crashes: u32,
    pub stops: u32,
    pub edits: u32,
    /// People's `failover` commands carried out (refused ones are not counted).
    pub commands: u32,
    pub passes: u64,
    /// Live failovers the lab carried out; those people asked for; those that answered a
    /// failure of the live host.
    pub failovers: u32,
    pub asked_failovers: u32,
    pub failure_failovers: u32,
    /// System Galaxy started again by the controller (a switchover backing out).
    pub vm_starts: u32,
    /// Failovers forced while the failover monitor still reached the live host.
    pub forced_failovers: u32,
    /// Live failovers to a snapshot instead of the newest data.
    pub snapshot_failovers: u32,
    /// Failovers a person committed before their window ended, and rolled back.
    pub commits: u32,
    pub rollbacks: u32,
    pub alerts: u64,
    pub virtual_time: Duration,
    pub events: EventCounts,
    pub lost_beyond_source_queue: u64,
    pub violations: Vec<Violation>,
    /// The schedule as text, one step a line, up to the first violation.
    pub trail: Vec<String>,
    /// With tracing on: every step with the world and memory after it.
    pub trace: Vec<String>,
}

/// Counts alerts; delivery is the outbox's business, tested elsewhere.
#[derive(Debug, Default)]
struct Counting(u64);

impl AlertSink for Counting {
    fn raise(&mut self, _alert: &Alert) -> Result<(), AlertError> {
        self.0 += 1;
        Ok(())
    }
}

/// One schedule in progress.
struct Case<'a> {
    state_dir: &'a Path,
    site: Site,
    lab: Lab,
    store: Records<'a>,
    alerts: Counting,
    checker: Checker,
    report: CaseReport,
    /// The controller runs (between a stop and its restart it does not).
    up: bool,
    /// The last pass found the site converged with nothing to do or wait for: until the next
    /// step or the lab's next change, further passes would plan the same nothing.
    idle: bool,
    trace: bool,
}

/// A state dir for one schedule: in memory (`/dev/shm`) where there is one, since every
/// memory write and journal line is fsynced and a disk would make the schedules wait on it.
fn state_dir() -> std::io::Result<tempfile::TempDir> {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::Builder::new()
            .prefix("galaxy-ha-chaos")
            .tempdir_in(shm)
    {
        return Ok(dir);
    }
    tempfile::tempdir()
}

/// Runs the schedule of `seed` (about `hours` of virtual time, then the heal and an hour);
/// with `trace`, the report keeps the world and memory after every step.
///
/// # Errors
/// The temporary state dir cannot be created.
pub fn run_case(seed: u64, hours: u32, trace: bool) -> std::io::Result<CaseReport> {
    run_case_with(seed, hours, trace, Extras::default())
}

/// [`run_case`], with `extras` added to the seed's schedule.
///
/// # Errors
/// As [`run_case`].
pub fn run_case_with(
    seed: u64,
    hours: u32,
    trace: bool,
    extras: Extras,
) -> std::io::Result<CaseReport> {
    let schedule = Schedule::generate(seed, hours).with(extras);
    let dir = state_dir()?;
    let mut manifest = crate::manifest::sample::guide_site(schedule.mode);
    if extras.snapshots {
        let spec = manifest.spec_mut();
        spec.snapshots = Some(crate::manifest::spec::SnapshotsSpec {
            every: std::time::Duration::from_secs(15 * 60),
            keep: 4,
        });
        spec.failover.on_bad_data = crate::manifest::spec::OnBadData::Snapshot;
    }
    let site = Site {
        name: SITE.into(),
        path: dir.path().join("hq.yaml"),
        manifest,
    };
    let lab = Lab::new(World::new(SITE, &site.manifest.spec, seed));
    let mut case = Case {
        state_dir: dir.path(),
        site,
        lab,
        store: Records::new(dir.path(), SITE),
        alerts: Counting::default(),
        checker: Checker::default(),
        report: CaseReport {
            seed,
            extras,
            steps: schedule.steps.len(),
            faults: 0,
            crashes: 0,
            stops: 0,
            edits: 0,
            commands: 0,
            passes: 0,
            failovers: 0,
            asked_failovers: 0,
            failure_failovers: 0,
            vm_starts: 0,
            forced_failovers: 0,
            snapshot_failovers: 0,
            commits: 0,
            rollbacks: 0,
            alerts: 0,
            virtual_time: Duration::ZERO,
            events: EventCounts::default(),
            lost_beyond_source_queue: 0,
            violations: Vec::new(),
            trail: Vec::new(),
            trace: Vec::new(),
        },
        up: true,
        idle: false,
        trace,
    };
    for (i, step) in schedule.steps.iter().enumerate() {
        case.checker.at(i, case.lab.world());
        case.step(step);
        case.traced(&format!("{i:>4}  {step}"));
    }
    case.checker.at(schedule.steps.len(), case.lab.world());
    case.heal();
    case.traced(&format!("{:>4}  heal", schedule.steps.len()));
    // A failover just before the heal waits for its commit window before it resumes.
    let window = case.site.manifest.spec.failover.commit_window;
    case.quiet(QUIET_END + window);
    case.settled();
    case.traced("      quiet hour and a last pass");
    case.checker.finish(dir.path(), SITE);
    Ok(case.finish(&schedule))
}

impl Case<'_> {
    fn traced(&mut self, what: &str) {
        if !self.trace {
            return;
        }
        let memory = crate::store::files::load_memory(self.state_dir, SITE).ok();
        let line = super::trace::line(
            what,
            self.lab.world(),
            memory.as_ref(),
            &self.site.manifest.spec,
            self.up,
        );
        self.report.trace.push(line);
    }

    fn step(&mut self, step: &Step) {
        match step {
            Step::Fault(fault) => self.fault(fault),
            Step::Quiet(d) => self.quiet(*d),
            Step::Crash { at } => self.store.crash_at = Some(self.store.steps() + at),
            Step::ControllerDown(d) => {
                self.up = false;
                self.report.stops += 1;
                self.advance(*d);
                self.restart();
            }
            Step::Edit(edit) => self.edit(edit),
            Step::Command(command) => self.command(*command),
        }
    }

    fn fault(&mut self, fault: &Fault) {
        let before = Before::of(self.lab.world(), &self.site.manifest.spec);
        let unchanged = self.lab.world().clone();
        if self.lab.world_mut().inject(fault).is_ok() && *self.lab.world() != unchanged {
            self.report.faults += 1;
            self.idle = false;
        }
        self.checker.after_fault(fault, &before, self.lab.world());
    }

    /// Time passes with the controller passing every monitor interval while it is up.
    fn quiet(&mut self, d: Duration) {
        let end = self.lab.world().elapsed() + d;
        loop {
            let now = self.lab.world().elapsed();
            if now >= end {
                return;
            }
            if self.up {
                self.pass();
            }
            let left = end.saturating_sub(self.lab.world().elapsed());
            let interval = self.site.manifest.spec.failover.monitor.pass_every();
            let step = if self.idle {
                self.lab.next_change().unwrap_or(left).max(interval)
            } else {
                interval
            };
            self.advance(step.min(left).max(Duration::from_millis(1)));
        }
    }

    fn advance(&mut self, d: Duration) {
        let before = Before::of(self.lab.world(), &self.site.manifest.spec);
        self.lab.sleep(d);
        self.checker.after_time(&before, self.lab.world());
    }

    fn pass(&mut self) {
        let before = Before::of(self.lab.world(), &self.site.manifest.spec);
        self.report.passes += 1;
        match reconcile::pass(&self.site, &mut self.lab, &mut self.store, &mut self.alerts) {
            Ok(outcome) => {
                self.checker
                    .after_pass(&before, self.lab.world(), self.state_dir, SITE, true);
                self.idle = outcome.converged()
                    && outcome.plan.actions.is_empty()
                    && outcome.plan.waiting.is_empty();
            }
            Err(ReconcileError::Execute(ExecuteError::Crashed(_))) => {
                self.checker
                    .after_pass(&before, self.lab.world(), self.state_dir, SITE, false);
                self.report.crashes += 1;
                self.restart();
            }
            Err(e) => {
                self.checker.report(Invariant::PassFailed, e.to_string());
                self.idle = false;
            }
        }
    }

    /// A new controller process: nothing survives but the state dir.
    fn restart(&mut self) {
        self.store = Records::new(self.state_dir, SITE);
        self.up = true;
        self.idle = false;
    }

    /// The live host as `status` shows it: memory's, else where System Galaxy runs.
    fn live_host(&self) -> Option<HostName> {
        crate::store::files::load_memory(self.state_dir, SITE)
            .ok()
            .and_then(|m| m.live_host)
            .or_else(|| {
                self.lab
                    .world()
                    .hosts()
                    .iter()
                    .find(|h| h.up && h.live_vm().is_some())
                    .map(|h| h.name.clone())
            })
    }

    fn edit(&mut self, edit: &Edit) {
        let now = self.lab.now();
        let live = self.live_host();
        let spec = self.site.manifest.spec_mut();
        let old = spec.clone();
        match edit {
            Edit::Primary(host) => spec.primary = host.into(),
            Edit::MaintenanceOn { until } => {
                spec.maintenance = Some(MaintenanceSpec {
                    reason: "chaos schedule".into(),
                    host: None,
                    until: until.and_then(|d| {
                        jiff::SignedDuration::try_from(d)
                            .ok()
                            .and_then(|d| now.checked_add(d).ok())
                    }),
                });
            }
            Edit::MaintenanceOff => spec.maintenance = None,
            Edit::Mode(mode) => spec.failover.mode = *mode,
            Edit::Interval(d) => spec.failover.monitor.interval = *d,
        }
        if *spec == old {
            return;
        }
        if let Edit::Primary(host) = edit {
            self.checker.primary_edited(host, live.as_ref());
        }
        self.report.edits += 1;
        self.idle = false;
    }

    /// A person's `galaxy-ha failover SITE --yes`: it takes the state dir's lock, so the
    /// controller is stopped around it, as a person would have to.
    fn command(&mut self, command: Command) {
        let test = command == Command::TestFailover;
        let Ok(look) = reconcile::look(&self.site, &mut self.lab, self.state_dir) else {
            return;
        };
        if look.plan.maintenance.is_some() {
            return;
        }
        let (manifest, observed, memory) = (&self.site.manifest, &look.observed, &look.memory);
        let approval = match command {
            Command::ForcedFailover => plan::approve_forced(manifest, observed, memory),
            Command::Commit => plan::approve_commit(&manifest.spec, observed, memory),
            Command::Rollback => plan::approve_rollback(&manifest.spec, observed, memory),
            Command::SnapshotFailover => {
                plan::approve_snapshot(manifest, observed, memory, "latest-good")
            }
            Command::Failover | Command::TestFailover => {
                plan::approve(manifest, observed, memory, test)
            }
        };
        let Ok(approval) = approval else {
            return;
        };
        match &approval {
            Approval::Switchover { to, .. } => self.checker.failover_commanded(to, false),
            // A move back to the old host that a person asked for.
            Approval::Rollback { open, .. } => {
                self.report.rollbacks += 1;
                self.checker.failover_commanded(&open.failover.from, false);
            }
            Approval::Commit { .. } => self.report.commits += 1,
            Approval::Failover {
                op: crate::plan::Operation::Failover { target, .. },
                forced,
                ..
            } => self.checker.failover_commanded(target, *forced),
            _ => {}
        }
        let plan = plan::approved(
            &self.site.manifest,
            &look.observed,
            &look.memory,
            self.lab.now(),
            &approval,
        );
        let before = Before::of(self.lab.world(), &self.site.manifest.spec);
        let mut store = Records::new(self.state_dir, SITE);
        if let Err(e) = reconcile::reconcile(
            &self.site,
            &mut self.lab,
            &mut reconcile::Context::new(&mut store, &mut self.alerts),
            reconcile::Mode::Confirmed(Box::new(reconcile::Look { plan, ..look })),
        ) {
            self.checker.report(Invariant::PassFailed, e.to_string());
        }
        self.checker
            .after_pass(&before, self.lab.world(), self.state_dir, SITE, false);
        self.report.commands += 1;
        self.restart();
    }

    /// Every fault heals: hosts up, links up, maintenance over. A host that failed does not
    /// start System Galaxy by itself, so when it runs nowhere a person starts it where the
    /// controller says it was live.
    fn heal(&mut self) {
        let hosts: Vec<String> = self
            .site
            .manifest
            .spec
            .hosts
            .iter()
            .map(|h| h.name.to_string())
            .collect();
        let mut ends = hosts.clone();
        ends.push("controller".into());
        let mut faults = Vec::new();
        for (i, a) in ends.iter().enumerate() {
            for b in &ends[i + 1..] {
                faults.push(Fault::LinkUp {
                    a: a.clone(),
                    b: b.clone(),
                });
            }
        }
        faults.extend(hosts.iter().map(|h| Fault::HostUp { host: h.clone() }));
        for fault in &faults {
            let before = Before::of(self.lab.world(), &self.site.manifest.spec);
            let _ = self.lab.world_mut().inject(fault);
            self.checker.after_fault(fault, &before, self.lab.world());
        }
        // A replica's bad data is mended by hand (a new mirror).
        let _ = self.lab.world_mut().inject(&Fault::TargetDataGood);
        self.site.manifest.spec_mut().maintenance = None;
        self.store.crash_at = None;
        if !self.up {
            self.restart();
        }
        self.idle = false;
        let runs_somewhere = self
            .lab
            .world()
            .hosts()
            .iter()
            .any(|h| h.up && h.live_vm().is_some());
        if !runs_somewhere {
            let live = self.live_host();
            let order = hosts
                .iter()
                .filter(|h| live.as_ref().is_some_and(|l| l == *h))
                .chain(hosts.iter());
            for host in order {
                if self.lab.world_mut().vm_start(host).is_ok() {
                    break;
                }
            }
        }
    }

    /// After the quiet hour: one more pass must find the site converged and protecting.
    fn settled(&mut self) {
        let before = Before::of(self.lab.world(), &self.site.manifest.spec);
        match reconcile::pass(&self.site, &mut self.lab, &mut self.store, &mut self.alerts) {
            Ok(outcome) => {
                self.checker
                    .after_pass(&before, self.lab.world(), self.state_dir, SITE, true);
                if !outcome.converged() {
                    let conditions: Vec<String> = outcome
                        .plan
                        .conditions
                        .iter()
                        .filter(|c| c.status != (c.kind == plan::ConditionType::Ready))
                        .map(|c| format!("{}={} ({})", c.kind.as_str(), c.status, c.message))
                        .collect();
                    self.checker.report(
                        Invariant::Converged,
                        format!(
                            "not converged an hour after every fault healed: job {:?}; waiting: {:?}; actions: {:?}; {}",
                            self.lab.world().job().map(|j| (&j.name, j.activity())),
                            outcome.plan.waiting,
                            outcome
                                .plan
                                .actions
                                .iter()
                                .map(|a| a.description.clone())
                                .collect::<Vec<_>>(),
                            conditions.join("; ")
                        ),
                    );
                }
            }
            Err(e) => self.checker.report(Invariant::PassFailed, e.to_string()),
        }
    }

    fn finish(mut self, schedule: &Schedule) -> CaseReport {
        let world = self.lab.world();
        let mut report = self.report;
        report.failovers = world.failovers();
        report.asked_failovers = self.checker.asked_failovers;
        report.failure_failovers = self.checker.failure_failovers;
        report.vm_starts = self.checker.vm_starts;
        report.forced_failovers = self.checker.forced_failovers;
        report.snapshot_failovers = self.checker.snapshot_failovers;
        report.alerts = self.alerts.0;
        report.virtual_time = world.elapsed();
        report.events = world.events();
        report.lost_beyond_source_queue = self.checker.lost_beyond_source_queue;
        report.violations = std::mem::take(&mut self.checker.violations);
        if let Some(first) = report.violations.first() {
            report.trail = std::iter::once(format!("mode {:?}", schedule.mode))
                .chain(
                    schedule
                        .steps
                        .iter()
                        .take(first.step + 1)
                        .enumerate()
                        .map(|(i, s)| format!("{i:>4}  {s}")),
                )
                .collect();
            if first.step >= schedule.steps.len() {
                report.trail.push(format!(
                    "{:>4}  heal every fault, then {} quiet",
                    schedule.steps.len(),
                    humantime::format_duration(QUIET_END)
                ));
            }
        }
        report
    }
}
