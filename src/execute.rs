//! Runs a plan through a platform: journals intent before every disruptive action and its
//! outcome after, keeps memory on disk after each disruptive step, and reports what was
//! applied, what failed and what was skipped.

use crate::model::drill::{Drill, DrillStart};
use std::path::Path;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::alert::{Alert, AlertSink};
use crate::journal::{Entry, Event};
use crate::memory::{Failure, InFlight, Memory, MemoryError};
use crate::model::operation::{Action, AlertKind, FailoverKind, Operation};
use crate::plan::{Plan, error_policy};
use crate::platform::Platform;
use crate::store::{FileStore, SiteStore, StoreError};

/// What one apply did.
#[derive(Debug, Default)]
pub struct ApplyReport {
    pub applied: Vec<Action>,
    pub failed: Vec<(Action, String)>,
    /// Planned but not applied (maintenance).
    pub skipped: Vec<Action>,
}

impl ApplyReport {
    pub fn is_clean(&self) -> bool {
        self.failed.is_empty()
    }

    /// `Site hq: 3 applied, 0 failed, 0 skipped`: what `apply` and the controller report.
    pub fn summary(&self, site: &str) -> String {
        format!(
            "Site {site}: {} applied, {} failed, {} skipped",
            self.applied.len(),
            self.failed.len(),
            self.skipped.len()
        )
    }

    /// `failed: DESCRIPTION: ERROR`, one per failed action.
    pub fn failures(&self) -> Vec<String> {
        self.failed
            .iter()
            .map(|(action, error)| format!("failed: {}: {error}", action.description))
            .collect()
    }
}

/// Why a plan stopped part-way. Whatever it was, no action after it was issued, and no
/// disruptive action whose intent could not be kept.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    /// Memory or the journal could not be written, or this controller may not act on the
    /// site now (a fleet member without the lease, etcd away).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A crash injected by a test at this step.
    #[error("injected crash at step {0}")]
    Crashed(u32),
}

impl From<MemoryError> for ExecuteError {
    fn from(e: MemoryError) -> Self {
        ExecuteError::Store(e.into())
    }
}

/// A site's records (memory and journal) as one pass writes them: each durable step counted,
/// so that a test can "crash" before any of them, and memory written only when it changed.
/// The records themselves live in a [`SiteStore`] (files, or etcd in a fleet).
pub struct Records<'a> {
    /// Memory and journal: files in `state_dir` unless [`Records::on`] names another store.
    backend: Arc<dyn SiteStore>,
    pub state_dir: &'a Path,
    pub site: &'a str,
    /// Stop dead before the durable step with this number (1-based), as a killed process would.
    pub crash_at: Option<u32>,
    steps: u32,
    /// What is on disk, so that a pass that changed nothing writes nothing.
    saved: Option<Memory>,
    /// See [`Records::writing_only_changes`].
    only_changes: bool,
}

impl<'a> Records<'a> {
    pub fn new(state_dir: &'a Path, site: &'a str) -> Self {
        Records {
            backend: Arc::new(FileStore::new(state_dir)),
            state_dir,
            site,
            crash_at: None,
            steps: 0,
            saved: None,
            only_changes: false,
        }
    }

    /// Keeps memory and journal in `backend` instead of the state dir's files.
    pub fn on(mut self, backend: Arc<dyn SiteStore>) -> Self {
        self.backend = backend;
        self
    }

    pub fn backend(&self) -> &dyn SiteStore {
        self.backend.as_ref()
    }

    /// `Ok` when this controller may issue an action on the site now.
    fn may_act(&self) -> Result<(), ExecuteError> {
        Ok(self.backend.may_act(self.site)?)
    }

    /// A store that trusts the memory a pass loads to be what is on disk, so that a pass
    /// which changes nothing writes nothing: the service's idle passes then cost no disk
    /// writes. (The others write memory once a pass, which also counts as a durable step
    /// where the crash tests stop.)
    pub fn writing_only_changes(mut self) -> Self {
        self.only_changes = true;
        self
    }

    /// The memory a pass loaded, which is on disk already.
    pub(crate) fn knows(&mut self, memory: &Memory) {
        if self.only_changes {
            self.saved = Some(memory.clone());
        }
    }

    /// Counts a durable step; fails when a test asked to crash here.
    fn step(&mut self) -> Result<(), ExecuteError> {
        self.steps += 1;
        match self.crash_at {
            Some(n) if n == self.steps => Err(ExecuteError::Crashed(n)),
            _ => Ok(()),
        }
    }

    /// Durable steps counted so far.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    fn save(&mut self, memory: &Memory) -> Result<(), ExecuteError> {
        if self.saved.as_ref() == Some(memory) {
            return Ok(());
        }
        self.step()?;
        self.backend.save(self.site, memory)?;
        self.saved = Some(memory.clone());
        Ok(())
    }

    fn journal(
        &mut self,
        at: Timestamp,
        action: &Action,
        event: Event,
    ) -> Result<(), ExecuteError> {
        self.step()?;
        let entry = Entry {
            at,
            action_id: action.id.clone(),
            kind: Some(action.kind()),
            description: action.description.clone(),
            reason: action.reason.clone(),
            decision: matches!(event, Event::Intent { .. })
                .then(|| action.decision.clone())
                .flatten(),
            event,
        };
        Ok(self.backend.append(self.site, &entry)?)
    }
}

/// Applies a plan.
///
/// Runs a step of `spec.hooks` on this machine, journals what it printed, and alerts when
/// it failed: a hook never undoes the run it follows, and is not retried (a hook point is
/// one pass).
fn hook(
    plan: &Plan,
    action: &crate::model::Action,
    now: jiff::Timestamp,
    store: &mut Records,
    alerts: &mut dyn AlertSink,
    report: &mut ApplyReport,
) -> Result<(), ExecuteError> {
    let Operation::RunHook {
        run,
        kind,
        step,
        command,
        timeout,
        env,
    } = &action.op
    else {
        return Ok(());
    };
    let mut logged = action.clone();
    let event = match crate::hooks::run(command, env, *timeout) {
        Ok(ran) => {
            tracing::info!(site = %plan.site, run = %run, "hook spec.hooks.{}[{step}] ran in {}: {}", kind.as_str(), humantime::format_duration(ran.took), ran.output);
            logged.description = format!("{}; it printed: {}", action.description, ran.output);
            report.applied.push(action.clone());
            Event::Done
        }
        Err(e) => {
            let message = format!(
                "the step spec.hooks.{}[{step}] after {run} failed: {e}. The {} itself is not undone; do by hand what the step does",
                kind.as_str(),
                kind.as_str()
            );
            let raised = Alert {
                site: plan.site.clone(),
                kind: AlertKind::HookFailed,
                severity: crate::model::operation::Severity::Warning,
                key: format!("hook-failed/{run}/{step}"),
                message,
                at: now,
                action: Some("run the step by hand".into()),
            };
            let alert_event = match alerts.raise(&raised) {
                Ok(()) => Event::Done,
                Err(alert_error) => Event::Failed {
                    error: alert_error.to_string(),
                },
            };
            // The alert in history, as the planned ones are.
            let alert_action = crate::model::Action {
                id: format!("{}/alert/{}", plan.site, raised.key),
                description: format!("{}: {}", AlertKind::HookFailed.as_str(), raised.message),
                reason: action.reason.clone(),
                disruptive: false,
                op: Operation::Alert {
                    alert: AlertKind::HookFailed,
                    severity: raised.severity,
                    key: raised.key.clone(),
                    message: raised.message.clone(),
                    action: raised.action.clone(),
                },
                failover: None,
                decision: None,
                drill: None,
            };
            store.journal(now, &alert_action, alert_event)?;
            report.failed.push((action.clone(), e.to_string()));
            Event::Failed {
                error: e.to_string(),
            }
        }
    };
    store.journal(now, &logged, event)?;
    Ok(())
}

/// # Guarantees
/// A disruptive action is issued only after its intent is in memory (`in_flight`) and in the
/// journal; memory is on disk after each one, so a crash never repeats it. No action is
/// issued at an instant the store does not allow it (a fleet member without the lease).
///
/// # Errors
/// Memory or journal could not be written (the pass stops there), or an injected crash.
pub fn execute(
    plan: &Plan,
    platform: &mut dyn Platform,
    store: &mut Records,
    alerts: &mut dyn AlertSink,
) -> Result<ApplyReport, ExecuteError> {
    let mut memory = plan.memory.clone();
    let mut report = ApplyReport::default();
    if let Some((action, note)) = &plan.recovered {
        store.journal(
            platform.now(),
            action,
            Event::Recovered { note: note.clone() },
        )?;
    }
    if plan.maintenance.is_some() {
        report.skipped = plan
            .actions
            .iter()
            .filter(|a| !matches!(a.op, Operation::Alert { .. }))
            .cloned()
            .collect();
    }
    // A job or replica step that failed leaves the next ones on wrong ground (a replica
    // removed after a delete that did not happen, a job created beside one still there):
    // they wait for the next pass.
    let mut job_step_failed = false;
    for action in plan.actionable() {
        store.may_act()?;
        let now = platform.now();
        if job_step_failed && touches_job(&action.op) {
            tracing::warn!(site = %plan.site, action = %action.id, "skipped: an earlier job step of this plan failed: {}", action.description);
            report.skipped.push(action.clone());
            continue;
        }
        if let Operation::Alert {
            alert,
            severity,
            key,
            message,
            action: todo,
        } = &action.op
        {
            if *alert == AlertKind::FailoverStarted && !failover_started(&report) {
                // Only a failover Carbonite accepted has started; a refused one is retried
                // and alerted when it starts.
                report.skipped.push(action.clone());
                continue;
            }
            let raised = Alert {
                site: plan.site.clone(),
                kind: *alert,
                severity: *severity,
                key: key.clone(),
                message: message.clone(),
                at: now,
                action: todo.clone(),
            };
            let event = match alerts.raise(&raised) {
                Ok(()) => {
                    memory.alerted.insert(key.clone());
                    report.applied.push(action.clone());
                    Event::Done
                }
                Err(e) => {
                    report.failed.push((action.clone(), e.to_string()));
                    Event::Failed {
                        error: e.to_string(),
                    }
                }
            };
            // The alert's words, for history.
            let mut logged = action.clone();
            logged.description = format!("{}: {message}", alert.as_str());
            store.journal(now, &logged, event)?;
            continue;
        }
        if let Operation::RunHook { .. } = &action.op {
            hook(plan, action, now, store, alerts, &mut report)?;
            continue;
        }
        if action.disruptive {
            memory.in_flight = Some(InFlight {
                action_id: action.id.clone(),
                op: action.op.clone(),
                at: now,
                failover: action.failover.clone(),
            });
            store.save(&memory)?;
            store.journal(
                now,
                action,
                Event::Intent {
                    op: action.op.clone(),
                },
            )?;
        }
        store.step()?;
        // Checked again at the last moment: the intent's write proved the lease then, and
        // this proves it is still held now.
        store.may_act()?;
        let outcome = platform.execute(&action.op);
        let event = match &outcome {
            Ok(()) => {
                if let Some(record) = &action.failover {
                    memory.failover_latched = true;
                    memory.last_failover = Some(record.clone());
                }
                if let Operation::Failover {
                    mode: FailoverKind::Test,
                    target,
                    ..
                } = &action.op
                {
                    memory.last_test_failover = Some(now);
                    let start = action
                        .drill
                        .as_deref()
                        .cloned()
                        .unwrap_or_else(|| DrillStart {
                            by: "not recorded".into(),
                            notes: None,
                            hold: false,
                        });
                    memory.drill = Some(Drill::new(target.clone(), now, start));
                }
                memory.failures.remove(&action.id);
                report.applied.push(action.clone());
                tracing::info!(site = %plan.site, action = %action.id, "applied: {}", action.description);
                Event::Done
            }
            Err(e) => {
                let attempts = memory.failures.get(&action.id).map_or(0, |f| f.attempts) + 1;
                let wait =
                    SignedDuration::try_from(error_policy(attempts)).unwrap_or(SignedDuration::MAX);
                memory.failures.insert(
                    action.id.clone(),
                    Failure {
                        attempts,
                        retry_at: now.checked_add(wait).unwrap_or(now),
                        error: e.to_string(),
                    },
                );
                report.failed.push((action.clone(), e.to_string()));
                job_step_failed |= touches_job(&action.op);
                tracing::warn!(site = %plan.site, action = %action.id, attempts, "failed: {}: {e}", action.description);
                Event::Failed {
                    error: e.to_string(),
                }
            }
        };
        store.journal(now, action, event)?;
        if action.disruptive {
            memory.in_flight = None;
            store.save(&memory)?;
        }
    }
    store.save(&memory)?;
    Ok(report)
}

/// Steps on the job or its replica, which depend on the ones before them in a plan.
fn touches_job(op: &Operation) -> bool {
    matches!(
        op,
        Operation::CreateJob(_)
            | Operation::UpdateJob { .. }
            | Operation::DeleteJob { .. }
            | Operation::RemoveReplica { .. }
            | Operation::Failover { .. }
    )
}

/// A live failover was applied in this pass: the executor issues a plan's failover before
/// its `failover-started` alert, which is raised only once Carbonite accepted the failover.
fn failover_started(report: &ApplyReport) -> bool {
    report.applied.iter().any(|a| {
        matches!(
            a.op,
            Operation::Failover {
                mode: FailoverKind::Live,
                ..
            }
        )
    })
}
