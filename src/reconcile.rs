//! One reconcile pass for one site — observe, plan, journal, execute — and the loop that
//! repeats it until the site converges (`apply --wait`, the demo, tests).
//!
//! [`reconcile`] is the only code that acts on a site: the service's passes (each fleet site
//! too), `apply`, `failover`, the demo, the chaos driver and the tests all go through it, so
//! that every caller journals a manifest change, keeps memory and issues actions the same
//! way. The callers keep only what is theirs: when to pass again, what to show, whom to ask.

use crate::model::drill::DrillStart;
use std::path::Path;
use std::time::Duration;

use crate::alert::AlertSink;
use crate::execute::{self, ApplyReport, ExecuteError, Records};
use crate::journal;
use crate::manifest::Site;
use crate::memory::{Memory, MemoryError};
use crate::model::operation::{ActionKind, Operation};
use crate::observed::{Job, Observed};
use crate::plan::{self, Approval, ConditionType, Plan};
use crate::platform::{Platform, PlatformError};
use crate::requests::{Ask, Requester};
use crate::store::{FileStore, SiteStore, StoreError};

/// What one pass saw, what it did, and when the site wants the next one.
#[derive(Debug)]
pub struct Outcome {
    pub observed: Observed,
    /// Memory as the pass found it (the plan's `memory` is what it left).
    pub memory: Memory,
    pub plan: Plan,
    /// Empty for a dry run.
    pub report: ApplyReport,
    /// When to pass again: at once (a second) after anything was done, since the world is
    /// moving; otherwise at the platform's next change, at most one monitor interval.
    pub requeue_after: Duration,
}

/// What [`reconcile`] may do with what it plans.
#[derive(Debug)]
pub enum Mode {
    /// Observe and plan; change nothing (`run --dry-run`).
    DryRun,
    /// Observe, plan, and carry the plan out: one pass of the controller.
    Apply,
    /// Carry out a plan a person was shown and confirmed (`apply`, `failover`). It is not
    /// planned again, so what runs is what they agreed to.
    Confirmed(Box<Look>),
}

/// Shown what a pass saw, at the platform's time, before it acts.
pub type Seen<'c> = &'c mut dyn FnMut(&Look, jiff::Timestamp);

/// What a reconcile writes to and tells, for one site.
pub struct Context<'c, 's> {
    /// Memory and the journal.
    pub store: &'c mut Records<'s>,
    pub alerts: &'c mut dyn AlertSink,
    /// Shown what the pass saw before it acts: the service publishes it, so that the
    /// dashboard shows a failover while it runs rather than after.
    pub seen: Option<Seen<'c>>,
}

impl<'c, 's> Context<'c, 's> {
    pub fn new(store: &'c mut Records<'s>, alerts: &'c mut dyn AlertSink) -> Self {
        Context {
            store,
            alerts,
            seen: None,
        }
    }
}

impl Outcome {
    /// Nothing left to do and the site is protecting.
    pub fn converged(&self) -> bool {
        self.plan
            .condition(ConditionType::Ready)
            .is_some_and(|c| c.status)
    }
}

/// Why a reconcile did not finish. The variants are what a caller acts on: the site could
/// not be seen (retry with back-off), the store refused (the same, or wait for the fleet's
/// lease: [`ReconcileError::is_coordination`]), a plan stopped part-way, or `converge` ran
/// out of time.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("site {site}: cannot observe: {source}")]
    Observe {
        site: String,
        #[source]
        source: PlatformError,
    },
    /// Memory or the journal could not be read or written, or the fleet forbids acting.
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Execute(#[from] ExecuteError),
    /// `converge` ran out of time.
    #[error("site {site}: not converged after {waited}: {why}")]
    Timeout {
        site: String,
        waited: String,
        why: String,
    },
}

impl From<MemoryError> for ReconcileError {
    fn from(e: MemoryError) -> Self {
        ReconcileError::Store(e.into())
    }
}

impl ReconcileError {
    /// Only coordination stood in the way (no lease, etcd away), not the site itself.
    pub fn is_coordination(&self) -> bool {
        match self {
            ReconcileError::Store(e) | ReconcileError::Execute(ExecuteError::Store(e)) => {
                e.is_coordination()
            }
            _ => false,
        }
    }
}

/// What a look at a site found: the observation, the memory and the plan they make.
#[derive(Debug, Clone)]
pub struct Look {
    pub observed: Observed,
    pub memory: Memory,
    pub plan: Plan,
}

/// Observes and plans without acting or remembering anything.
///
/// # Errors
/// Memory cannot be read, or the platform cannot observe.
pub fn look(
    site: &Site,
    platform: &mut dyn Platform,
    state_dir: &Path,
) -> Result<Look, ReconcileError> {
    look_in(site, platform, &FileStore::new(state_dir))
}

/// [`look`] with memory from `store`.
///
/// # Errors
/// As [`look`].
pub fn look_in(
    site: &Site,
    platform: &mut dyn Platform,
    store: &dyn SiteStore,
) -> Result<Look, ReconcileError> {
    let memory = store.load(&site.name)?;
    let observed = platform
        .observe()
        .map_err(|source| ReconcileError::Observe {
            site: site.name.clone(),
            source,
        })?;
    let plan = plan::plan(&site.manifest, &observed, &memory, platform.now());
    Ok(Look {
        observed,
        memory,
        plan,
    })
}

/// A person's `ask`, checked against what `look` found: the approval and the look whose
/// plan carries it out, its alerts saying who asked. Refused in maintenance, and whenever
/// the planner's rules refuse it (a split brain, a job that cannot fail over, ...).
///
/// # Errors
/// Why not, in words for the admin.
pub fn approve(
    site: &Site,
    look: Look,
    ask: &Ask,
    by: &Requester,
    now: jiff::Timestamp,
) -> Result<(Approval, Look), String> {
    if let Some(why) = &look.plan.maintenance {
        return Err(format!(
            "the site is in maintenance ({why}); remove spec.maintenance first"
        ));
    }
    let approval = match ask {
        Ask::EndTest => plan::approve_end(&look.observed),
        Ask::Test | Ask::Drill(_) => {
            plan::approve(&site.manifest, &look.observed, &look.memory, true)
        }
        Ask::Failover => plan::approve(&site.manifest, &look.observed, &look.memory, false),
        Ask::ForcedFailover => plan::approve_forced(&site.manifest, &look.observed, &look.memory),
        Ask::Resume => plan::approve_resume(&look.observed),
        Ask::Commit => plan::approve_commit(&site.manifest.spec, &look.observed, &look.memory),
        Ask::Rollback => plan::approve_rollback(&site.manifest.spec, &look.observed, &look.memory),
        Ask::SnapshotFailover(choice) => {
            plan::approve_snapshot(&site.manifest, &look.observed, &look.memory, choice)
        }
        Ask::Apply => return Err("`apply` asks for a pass, not an approval".into()),
    }?;
    let mut plan = plan::approved(&site.manifest, &look.observed, &look.memory, now, &approval);
    // A commit changes only memory when the old host is away: nothing to carry out is
    // still something done.
    let commits = matches!(approval, Approval::Commit { .. });
    if !commits && plan.actions.iter().all(|a| a.kind() == ActionKind::Alert) {
        return Err(format!(
            "there is nothing to do now: {}",
            plan.waiting.join("; ")
        ));
    }
    for action in &mut plan.actions {
        if let Operation::Alert { message, .. } = &mut action.op {
            message.push_str(&format!(" (asked by {by})"));
        }
        if let (Some(d), ActionKind::TestFailover) = (ask.drill(), action.kind()) {
            action.drill = Some(Box::new(DrillStart {
                by: by.to_string(),
                notes: d.notes,
                hold: d.hold,
            }));
        }
    }
    Ok((approval, Look { plan, ..look }))
}

/// Journals who asked for what, before it is carried out.
///
/// # Errors
/// The journal cannot be written: nothing may be done then.
pub fn journal_ask(
    store: &dyn SiteStore,
    site: &str,
    ask: &Ask,
    by: &Requester,
    now: jiff::Timestamp,
) -> Result<(), ReconcileError> {
    let entry = journal::Entry {
        at: now,
        action_id: String::new(),
        kind: None,
        decision: None,
        description: ask.command(site),
        reason: String::new(),
        event: journal::Event::Asked {
            ask: ask.clone(),
            user: by.user.clone(),
            host: by.host.clone(),
            right: by.right.map(|r| r.to_string()),
        },
    };
    Ok(store.append(site, &entry)?)
}

/// What happens after an approval was carried out, in words for the admin.
pub fn approved_next(site: &str, approval: &Approval) -> String {
    match approval {
        Approval::Test { .. } => format!(
            "Test failover started: the replica boots without network; replication keeps protecting. End it with: galaxy-ha failover {site} --test --end"
        ),
        Approval::EndTest { .. } => {
            "Test failover ended: the isolated replica is off; replication keeps protecting."
                .to_string()
        }
        Approval::Failover { .. } => format!(
            "Failover started. Replication resumes in the other direction once the old live host answers and the failover is committed: by its window (spec.failover.commitWindow), by galaxy-ha failover {site} --commit, or by setting spec.primary to the new live host. Until then galaxy-ha failover {site} --rollback undoes it."
        ),
        Approval::Resume { towards } => format!(
            "Replication resumes towards {towards}: the failed-over job is deleted (its replica, now the live VM, is kept), the stale VM's configuration on {towards} is removed (its disks are kept), and a new job is created."
        ),
        Approval::Switchover { to, .. } => format!(
            "Switchover started: System Galaxy shuts down cleanly, then goes live on {to}; the controller carries it through. Then set spec.primary: {to} in the manifest."
        ),
        Approval::Commit { to } => format!(
            "Failover committed: System Galaxy stays on {to}; replication resumes towards the old live host as soon as it answers. Set spec.primary: {to} in the manifest."
        ),
        Approval::Rollback { open, .. } => format!(
            "Rollback started: System Galaxy shuts down cleanly on {}, then starts on {}; the controller carries it through and recreates the job from {} to {}.",
            open.failover.to, open.failover.from, open.failover.from, open.failover.to
        ),
    }
}

/// The plan alone, as `plan` shows it.
///
/// # Errors
/// As [`look`].
pub fn dry_run(
    site: &Site,
    platform: &mut dyn Platform,
    store: &Records,
) -> Result<Plan, ReconcileError> {
    Ok(look_in(site, platform, store.backend())?.plan)
}

/// Journals the site's manifest when it differs from the one the last pass saw (with its
/// git commit), and remembers it in the plan's memory.
fn remember_manifest(
    site: &Site,
    plan: &mut Plan,
    store: &dyn SiteStore,
    now: jiff::Timestamp,
) -> Result<(), ReconcileError> {
    let spec = &site.manifest.spec;
    if let Some(seen) = &plan.memory.spec_seen {
        // The same copy: every pass after the first, without comparing the spec field by field.
        if std::sync::Arc::ptr_eq(seen, spec) {
            return Ok(());
        }
        // Memory read back (from the store, after a restart or a takeover) holds its own copy
        // of the spec: share the manifest's instead, and have the store keep that.
        if seen == spec {
            plan.memory.spec_seen = Some(spec.clone());
            store.share(&site.name, &plan.memory);
            return Ok(());
        }
    }
    let changes = match &plan.memory.spec_seen {
        Some(old) => crate::manifest::diff::diff(old, spec),
        None => vec![format!(
            "first seen by the controller ({})",
            site.path.display()
        )],
    };
    let commit = crate::git::last_commit(&site.path);
    let entry = journal::Entry {
        at: now,
        action_id: String::new(),
        kind: None,
        decision: None,
        description: format!("manifest {} changed", site.path.display()),
        reason: String::new(),
        event: journal::Event::ManifestChanged {
            commit: commit.as_ref().map(|c| c.id.clone()),
            author: commit.map(|c| c.author),
            changes,
        },
    };
    store.append(&site.name, &entry)?;
    plan.memory.spec_seen = Some(spec.clone());
    Ok(())
}

/// Journals each run that ended in this pass, before the pass's memory is saved: a run
/// journaled twice (the controller stopped in between) is one run to `galaxy-ha report`,
/// one never journaled would be lost.
fn journal_runs(
    site: &Site,
    plan: &Plan,
    store: &dyn SiteStore,
    now: jiff::Timestamp,
) -> Result<(), ReconcileError> {
    for run in &plan.finished_runs {
        let entry = journal::Entry {
            at: now,
            action_id: String::new(),
            kind: None,
            decision: None,
            description: format!("{} {} ended: {}", run.kind.as_str(), run.id, run.result),
            reason: run.summary.clone(),
            event: journal::Event::RunFinished {
                run: Box::new(run.clone()),
            },
        };
        store.append(&site.name, &entry)?;
    }
    Ok(())
}

/// Observes, plans, and (unless `mode` is a dry run) journals a changed manifest and carries
/// the plan out.
///
/// # Errors
/// Memory cannot be read or written, the platform cannot observe, or the journal fails.
pub fn reconcile(
    site: &Site,
    platform: &mut dyn Platform,
    ctx: &mut Context,
    mode: Mode,
) -> Result<Outcome, ReconcileError> {
    let interval = site.manifest.spec.failover.monitor.pass_every();
    let (look, act) = match mode {
        Mode::DryRun => (look_in(site, platform, ctx.store.backend())?, false),
        Mode::Apply => (look_in(site, platform, ctx.store.backend())?, true),
        Mode::Confirmed(look) => (*look, true),
    };
    if let Some(seen) = ctx.seen.as_mut() {
        seen(&look, platform.now());
    }
    let Look {
        observed,
        memory,
        mut plan,
    } = look;
    if !act {
        return Ok(Outcome {
            observed,
            memory,
            plan,
            report: ApplyReport::default(),
            requeue_after: interval,
        });
    }
    ctx.store.knows(&memory);
    remember_manifest(site, &mut plan, ctx.store.backend(), platform.now())?;
    journal_runs(site, &plan, ctx.store.backend(), platform.now())?;
    let report = execute::execute(&plan, platform, ctx.store, ctx.alerts)?;
    let requeue_after = if report.applied.is_empty() {
        come_back_after(&observed, interval)
    } else {
        Duration::from_secs(1)
    };
    Ok(Outcome {
        observed,
        memory,
        plan,
        report,
        requeue_after,
    })
}

/// One pass of the controller: [`reconcile`] in [`Mode::Apply`].
///
/// # Errors
/// As [`reconcile`].
pub fn pass(
    site: &Site,
    platform: &mut dyn Platform,
    store: &mut Records,
    alerts: &mut dyn AlertSink,
) -> Result<Outcome, ReconcileError> {
    reconcile(
        site,
        platform,
        &mut Context::new(store, alerts),
        Mode::Apply,
    )
}

/// Runs passes until the site converges or `timeout` (platform time) passes. Between passes
/// it waits for the platform's next change, at most one monitor interval (on the simulated
/// lab that is a jump of the virtual clock).
///
/// # Errors
/// As [`pass`], or `Timeout` with what the site still waits for.
pub fn converge(
    site: &Site,
    platform: &mut dyn Platform,
    store: &mut Records,
    alerts: &mut dyn AlertSink,
    timeout: Duration,
    mut progress: impl FnMut(&Outcome, &dyn Platform),
) -> Result<Outcome, ReconcileError> {
    let start = platform.now();
    loop {
        let outcome = pass(site, platform, store, alerts)?;
        progress(&outcome, platform);
        if outcome.converged() {
            return Ok(outcome);
        }
        let waited = platform.now().duration_since(start);
        let waited = Duration::try_from(waited).unwrap_or_default();
        if waited >= timeout {
            let mut why: Vec<String> = outcome.plan.waiting.clone();
            why.extend(
                outcome
                    .report
                    .failed
                    .iter()
                    .map(|(a, e)| format!("{} failed: {e}", a.description)),
            );
            if why.is_empty() {
                why.push(format!(
                    "{} action(s) still pending",
                    outcome.plan.actions.len()
                ));
            }
            return Err(ReconcileError::Timeout {
                site: site.name.clone(),
                waited: humantime::format_duration(Duration::from_secs(waited.as_secs()))
                    .to_string(),
                why: why.join("; "),
            });
        }
        platform.sleep(
            outcome
                .requeue_after
                .min(timeout.saturating_sub(waited).max(Duration::from_secs(1))),
        );
    }
}

/// When a pass that did nothing should look again: after the interval, or the moment the
/// failover monitor's condition for failure comes due if that is sooner (its remaining
/// time), so that a failover is not issued up to an interval late. At least a second.
pub fn come_back_after(observed: &Observed, interval: Duration) -> Duration {
    observed
        .job
        .as_ref()
        .and_then(Job::condition_due_in)
        .map_or(interval, |due| due.min(interval))
        .max(Duration::from_secs(1))
}
