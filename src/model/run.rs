//! A run: one failover, switchover, rollback, resume or drill from its start to its end, with
//! the facts an auditor asks for (how long System Galaxy was down, what could be lost, how
//! long the site was unprotected, the result). The planner writes one when a run ends; the
//! journal keeps it; `galaxy-ha report` joins it with the journal's steps.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::drill::Drill;
use crate::model::names::HostName;
pub use crate::model::terms::run_id;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunKind {
    Failover,
    Switchover,
    Rollback,
    Resume,
    Drill,
}

impl RunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Failover => "failover",
            RunKind::Switchover => "switchover",
            RunKind::Rollback => "rollback",
            RunKind::Resume => "resume",
            RunKind::Drill => "drill",
        }
    }

    /// The history category of the journal entries that are this run's steps.
    pub fn categories(self) -> &'static [&'static str] {
        match self {
            RunKind::Failover => &["failover", "alert"],
            RunKind::Switchover => &["switchover", "failover", "alert"],
            RunKind::Rollback => &["rollback", "alert"],
            RunKind::Resume => &["resume", "alert"],
            RunKind::Drill => &["drill", "alert"],
        }
    }
}

/// A run that ended, as the planner saw it end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Unique on the site: the kind and the start time (`failover-20261203T134500Z`).
    pub id: String,
    pub kind: RunKind,
    pub started: Timestamp,
    pub finished: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<HostName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<HostName>,
    /// `pass` or `fail`.
    pub result: String,
    /// Why, in a sentence.
    pub summary: String,
    /// What decided it, when no person asked: `automatic`, `approved`, `forced`,
    /// `switchover`, `the schedule`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// How long System Galaxy ran nowhere, as the controller measured it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downtime_s: Option<u64>,
    /// From the run's start until the job protected System Galaxy again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unprotected_s: Option<u64>,
    /// The replication queue last reported before the failover: what may not have reached
    /// the replica (lost, at a hard failure of the source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_bytes: Option<u64>,
    /// The recovery point used: the newest data with its latency, or a snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point: Option<String>,
    /// A drill's record: who, notes, each check with its time, the cleanup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drill: Option<Box<Drill>>,
}

impl Run {
    /// A drill's run, as it stands: `result` and `summary` say where it is.
    pub fn of_drill(d: &Drill, finished: Timestamp, result: String, summary: String) -> Run {
        Run {
            id: d.run.clone(),
            kind: RunKind::Drill,
            started: d.started,
            finished,
            from: None,
            to: Some(d.host.clone()),
            result,
            summary,
            cause: Some(d.start.by.clone()),
            downtime_s: None,
            unprotected_s: None,
            queue_bytes: None,
            recovery_point: None,
            drill: Some(Box::new(d.clone())),
        }
    }
}

/// A moment after which `spec.hooks` run: System Galaxy live on the new host (a failover,
/// a switchover), or a run that ended (a rollback, a resume, a drill).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookPoint {
    pub run: String,
    pub kind: RunKind,
    pub from: Option<HostName>,
    pub to: Option<HostName>,
    /// `live` after a failover or switchover; the run's result otherwise.
    pub result: String,
}
