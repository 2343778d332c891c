//! The pure planner: compares a site's manifest with what was observed and what the
//! controller remembers, and plans the actions that converge it (docs/architecture.md).
//!
//! `plan` does no I/O, reads no clock and draws no random numbers: table and property tests
//! call it with hand-built observations.

mod backoff;
mod baseline;
mod builder;
mod commit;
mod conditions;
mod drill;
mod failover;
mod fence;
mod hooks;
mod intent;
mod protect;
mod readiness;
mod recover;
pub mod render;
mod resume;
mod rollback;
mod rpo;
mod runs;
mod view;

use std::borrow::Cow;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use crate::model::operation::{Action, ActionKind, AlertKind, Operation};
pub use backoff::error_policy;
pub use commit::Open as OpenCommit;
pub use failover::{
    Approval, approve, approve_end, approve_forced, approve_resume, approve_snapshot,
};
pub use rollback::{approve_commit, approve_rollback};

use crate::manifest::spec::Manifest;
use crate::memory::Memory;
use crate::model::names::HostName;
use crate::observed::Observed;

/// The plan for one site in one pass: plain data in a deterministic order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub site: String,
    pub actions: Vec<Action>,
    /// Every condition type, true or false, with why.
    pub conditions: Vec<Condition>,
    /// The memory to keep if the pass completes (the executor adds what its actions did).
    pub memory: Memory,
    pub live_host: Option<HostName>,
    pub standby_host: Option<HostName>,
    /// Why nothing is done this pass, when maintenance is on: every action is listed, and only
    /// the alerts are carried out.
    pub maintenance: Option<String>,
    /// What the site waits for (progress, approvals, hosts to return), one line each.
    pub waiting: Vec<String>,
    /// A disruptive action whose intent a restart found without an outcome, and what the
    /// world showed of it: the executor journals that as the intent's outcome, so the journal
    /// never keeps an intent open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovered: Option<(Action, String)>,
    /// The one host in maintenance (`spec.maintenance.host`): the actions on it are left out
    /// (listed in `waiting`), those on the other host are carried out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_host: Option<HostName>,
    /// Rule 8 waits for `galaxy-ha resume` (`spec.resume: approve`): status names it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resume_awaits_person: bool,
    /// Rule 8 holds replication back until the last failover is committed, at the latest
    /// then (`spec.failover.commitWindow`); until then it may be rolled back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_until: Option<Timestamp>,
    /// The runs that end in this pass, for the journal (`galaxy-ha report`).
    #[serde(skip)]
    pub finished_runs: Vec<crate::model::run::Run>,
}

impl Plan {
    /// Actions to carry out. In maintenance of the whole site only the alerts: the
    /// controller acts on nothing but still says what it sees (a failure it would fail over
    /// for, a split brain). In maintenance of one host, what is left once the actions on that
    /// host were taken out.
    pub fn actionable(&self) -> Vec<&Action> {
        let site_wide = self.maintenance.is_some() && self.maintenance_host.is_none();
        self.actions
            .iter()
            .filter(|a| !site_wide || matches!(a.op, Operation::Alert { .. }))
            .collect()
    }

    pub fn condition(&self, kind: ConditionType) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.kind == kind)
    }
}

/// The condition types of `status` (README, Commands).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ConditionType {
    Ready,
    Protected,
    FailoverReady,
    ManifestStale,
    Maintenance,
    DrillOverdue,
    Degraded,
    /// The job's recovery point latency is within `spec.rpoTarget`.
    RpoMet,
    /// No drill has passed since the manifest last changed the hosts, the VM or the job.
    Unverified,
}

impl ConditionType {
    pub const ALL: [ConditionType; 9] = [
        ConditionType::Ready,
        ConditionType::Protected,
        ConditionType::FailoverReady,
        ConditionType::ManifestStale,
        ConditionType::Maintenance,
        ConditionType::DrillOverdue,
        ConditionType::Degraded,
        ConditionType::RpoMet,
        ConditionType::Unverified,
    ];

    /// Its section of the runbook.
    pub fn runbook(self) -> &'static str {
        crate::runbook::link(&format!("condition-{}", self.as_str().to_lowercase()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ConditionType::Ready => "Ready",
            ConditionType::Protected => "Protected",
            ConditionType::FailoverReady => "FailoverReady",
            ConditionType::ManifestStale => "ManifestStale",
            ConditionType::Maintenance => "Maintenance",
            ConditionType::DrillOverdue => "DrillOverdue",
            ConditionType::Degraded => "Degraded",
            ConditionType::RpoMet => "RpoMet",
            ConditionType::Unverified => "Unverified",
        }
    }
}

/// One condition, in the shape of `status --format json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    #[serde(rename = "type")]
    pub kind: ConditionType,
    pub status: bool,
    /// One CamelCase word.
    pub reason: Cow<'static, str>,
    /// Most messages are fixed words, held without a copy: every pass of every site
    /// makes its conditions again, and the status keeps them.
    pub message: Cow<'static, str>,
    pub last_transition: Option<Timestamp>,
}

/// Plans one pass for one site (rules in priority order: docs/architecture.md).
pub fn plan(manifest: &Manifest, observed: &Observed, memory: &Memory, now: Timestamp) -> Plan {
    let mut b = builder::Builder::new(manifest, observed, memory, now);
    recover::plan(&mut b);
    if fence::plan(&mut b) {
        // Rule 1: nothing else runs on a split-brained site in the same pass. The fence is the
        // one act maintenance does not hold back: two live copies of the database diverge with
        // every event, and the safety invariants allow them no longer than one pass.
        // The other rules did not run: what they alerted about is not cleared by their silence.
        b.keep_alerted();
        let mut p = b.finish();
        if let Some(why) = p.maintenance.take() {
            p.waiting
                .push(format!("split brain is fenced even in maintenance ({why})"));
        }
        return p;
    }
    fence::pending(&mut b);
    let view = view::establish(&mut b);
    baseline::plan(&mut b, &view);
    protect::plan(&mut b, &view);
    failover::plan(&mut b, &view);
    rollback::plan(&mut b);
    resume::plan(&mut b, &view);
    intent::plan(&mut b, &view);
    conditions::plan(&mut b, &view);
    runs::plan(&mut b);
    hooks::plan(&mut b);
    b.finish()
}

/// The snapshot a failover goes to, with when it was taken.
fn snapshot_taken(observed: &Observed, op: &Operation) -> Option<(String, Timestamp)> {
    let Operation::Failover {
        snapshot: Some(id), ..
    } = op
    else {
        return None;
    };
    let at = observed
        .job
        .as_ref()?
        .snapshots
        .iter()
        .find(|s| s.id == *id)?
        .at;
    Some((id.clone(), at))
}

/// The plan for a person's `galaxy-ha failover SITE`, checked by [`approve`] first.
pub fn approved(
    manifest: &Manifest,
    observed: &Observed,
    memory: &Memory,
    now: Timestamp,
    approval: &Approval,
) -> Plan {
    let mut b = builder::Builder::new(manifest, observed, memory, now);
    let view = view::establish(&mut b);
    match approval {
        Approval::Test { op } => {
            b.act(
                op.clone(),
                "approved by a person: galaxy-ha failover --test",
            );
        }
        Approval::EndTest { op } => {
            if let Some(d) = b.next.drill.as_mut() {
                d.end_on_purpose(
                    now,
                    "ended by a person (galaxy-ha failover --test --end) before every check passed",
                );
            }
            b.act(
                op.clone(),
                format!(
                    "approved by a person: galaxy-ha failover --test --end; {}",
                    match op {
                        Operation::EndTestFailover { target, .. } => {
                            observed.drill_result_on(target)
                        }
                        _ => String::new(),
                    }
                ),
            );
        }
        Approval::Failover { op, from, forced } => {
            let to = match op {
                Operation::Failover { target, .. } => target.clone(),
                _ => b.standby_host.clone().unwrap_or_default(),
            };
            let (reason, message) = if *forced {
                b.next.split_brain_pending = Some(crate::memory::SplitBrainPending {
                    host: from.into(),
                    since: now,
                });
                (
                    format!(
                        "approved by a person: galaxy-ha failover --force, although the failover monitor on {to} still reaches System Galaxy on {from}"
                    ),
                    format!(
                        "failing over from {from} to {to}, forced by a person (galaxy-ha failover --force) while the failover monitor still reaches System Galaxy on {from}: it may run on both hosts until {from} is shut down or fenced"
                    ),
                )
            } else {
                (
                    "approved by a person: galaxy-ha failover".to_string(),
                    format!(
                        "System Galaxy on {from} failed; failing over to {to}, approved by a person (galaxy-ha failover)"
                    ),
                )
            };
            let (reason, message) = match snapshot_taken(observed, op) {
                Some((id, at)) => (
                    format!("{reason} --snapshot: to snapshot {id}"),
                    format!(
                        "{message}, to snapshot {id} taken at {at}: what was replicated after it is lost"
                    ),
                ),
                None => (reason, message),
            };
            b.act_failover(
                op.clone(),
                reason.clone(),
                from,
                crate::memory::FailoverCause::Approved,
            );
            b.alert(
                AlertKind::FailoverStarted,
                crate::model::operation::Severity::Error,
                format!("failover-started/{from}"),
                message,
                reason,
            );
        }
        Approval::Switchover { from, to } => {
            // The switchover runs to its end in the next passes (rule 9); `spec.primary` is
            // left as it is, so afterwards the manifest is stale until a person updates it.
            b.next.switchover = Some(crate::memory::Switchover {
                from: from.into(),
                to: to.into(),
                started: now,
            });
            b.next.backed_out = None;
            let vm = observed.live_vm(from).map(|v| v.name.clone());
            if let Some(vm) = vm {
                b.act(
                    Operation::StopVm {
                        host: from.into(),
                        vm,
                        turn_off: false,
                    },
                    format!("approved by a person: galaxy-ha failover (planned switchover to {to}); shut System Galaxy down cleanly first"),
                );
            }
        }
        Approval::Resume { .. } => {
            // Rule 8 as it always runs, now allowed under `spec.resume: approve`.
            b.resume_approved = true;
            resume::plan(&mut b, &view);
        }
        Approval::Commit { .. } => {
            // Rule 8 as it always runs, its commit now given.
            if let Some(open) = view
                .job
                .as_ref()
                .and_then(|j| commit::open(b.spec, b.memory, j))
            {
                commit::commit(&mut b, &open, crate::memory::CommitBy::Person);
            }
            resume::plan(&mut b, &view);
        }
        Approval::Rollback { open, old_vm } => rollback::start(&mut b, open, old_vm),
    }
    conditions::plan(&mut b, &view);
    runs::plan(&mut b);
    hooks::plan(&mut b);
    b.finish()
}
