//! What the controller must remember about a site between passes and across restarts:
//! the live host it established, the acknowledged primary, the failover latch, alerts
//! already sent, conditions' transition times, actions in back-off and any disruptive
//! action in flight. A document with a format version; where it is kept is the stores'
//! business (the `store` module).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::names::HostName;
use crate::model::operation::Operation;
pub use crate::model::operation::{FailoverCause, FailoverRecord};

/// The memory format. A field added later comes with a new version: a document of a version
/// this program does not know, or with a field it does not know, is refused rather than
/// rewritten without what it cannot read (a rolled-back binary would lose it).
pub const FORMAT_VERSION: u32 = 1;

/// A site's memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Memory {
    pub format_version: u32,
    /// The galaxy-ha version that last wrote the memory, so a refusal can name it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub written_by: Option<String>,
    /// The live host the controller last established (adoption, failover, switchover).
    pub live_host: Option<HostName>,
    /// The value of `spec.primary` when the live host was last established; a manifest
    /// `primary` equal to it asks for nothing.
    pub acknowledged_primary: Option<HostName>,
    pub live_since: Option<Timestamp>,
    pub last_failover: Option<FailoverRecord>,
    pub last_test_failover: Option<Timestamp>,
    /// Set when a failover is issued; cleared once the job is `Protecting` again. While set,
    /// no automatic failover happens: one failure, at most one failover.
    pub failover_latched: bool,
    /// A planned switchover in progress (the VM was shut down cleanly to move it).
    pub switchover: Option<Switchover>,
    /// Alerts already raised, by condition key: one alert per condition change.
    pub alerted: BTreeSet<String>,
    /// When each condition type last changed status.
    pub transitions: BTreeMap<String, Transition>,
    /// Actions that failed, retried with capped exponential back-off.
    pub failures: BTreeMap<String, Failure>,
    /// A disruptive action whose intent was written but whose outcome was not.
    pub in_flight: Option<InFlight>,
    /// Since when the controller has not seen System Galaxy on the live host, while the
    /// failover monitor still does; a warning waits two monitor intervals so that the first
    /// moments of a real failure (before the monitor's next query) are not called a link fault.
    pub controller_missed_since: Option<Timestamp>,
    /// The last pass at which the controller did not see System Galaxy on the live host.
    /// System Galaxy just seen again (a host back, a person's start) is missed by the failover
    /// monitor until its next query: for two monitor intervals that is not a link fault.
    pub controller_missed_at: Option<Timestamp>,
    /// The site's spec at the last pass, so that history records each manifest change once.
    ///
    /// Shared, not copied: memory is cloned for every pass's plan, and a spec is the largest
    /// thing it holds.
    pub spec_seen: Option<std::sync::Arc<crate::manifest::spec::SiteSpec>>,
    /// Since when each host has not answered the controller (the first pass that missed it),
    /// so that `status` can say how long a host has been silent. Written only when a host
    /// stops or starts answering: idle passes still write nothing.
    pub unreachable_since: BTreeMap<HostName, Timestamp>,
    /// A job created to protect System Galaxy again (after a failover, or replacing a
    /// stopped job): `replication-resumed` is raised when it first protects.
    pub resuming: Option<Resuming>,
    /// When maintenance last ended while the live host was missed: a failure seen during
    /// maintenance gets a fresh countdown of the failover monitor's threshold from then, so
    /// that the end of maintenance never fires a failover at once. Cleared once the live
    /// host is seen again or the countdown has run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance_ended: Option<Timestamp>,
    /// How long System Galaxy was down in the site's last planned switchover, from the start
    /// of its clean shutdown until the controller saw it live on the other host: what the
    /// plan of the next one expects.
    #[serde(skip_serializing_if = "Option::is_none", with = "humantime_serde")]
    pub last_switchover_downtime: Option<std::time::Duration>,
    /// A failover a person forced while the failover monitor still reached System Galaxy on
    /// the old live host, which may run it still: held until the controller sees that host
    /// without System Galaxy running (shut down by a person, or fenced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_brain_pending: Option<SplitBrainPending>,
    /// The last planned switchover backed out (its clean shutdown failed), so that status
    /// says why spec.primary is not the live host. Cleared when the primary is live again
    /// or a switchover starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backed_out: Option<BackedOut>,
    /// The last failover committed (its commit window ended, a person ran `galaxy-ha
    /// failover --commit`, or spec.primary named the new live host): replication may resume
    /// towards the old host, and the failover can no longer be rolled back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committed: Option<Committed>,
    /// A rollback a person asked for (`galaxy-ha failover --rollback`) in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<Rollback>,
    /// How long, in all, the recovery point latency was above `spec.rpoTarget` in spells
    /// that have ended (the one under way counts from the `RpoMet` condition's transition).
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub rpo_missed: Option<std::time::Duration>,
    /// The drill under way: its test replica, its checks so far and who started it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drill: Option<crate::model::drill::Drill>,
    /// The last drill that finished, with its result: what status shows and what makes the
    /// site verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_drill: Option<crate::model::drill::Drill>,
    /// What the last drill that passed proved, so that a manifest change to the hosts, the VM
    /// or the job makes the site `Unverified` until the next one passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<crate::model::drill::Verified>,
    /// The last readiness check (`spec.readiness.every`): when, and what a failover would
    /// lack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness: Option<Readiness>,
    /// When the last drill that passed started: what `DrillOverdue` counts from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_drill_passed: Option<Timestamp>,
}

/// See [`Memory::readiness`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Readiness {
    pub checked: Timestamp,
    /// Why a failover now would fail or harm; empty when ready.
    pub lacking: Vec<String>,
}

/// See [`Memory::committed`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Committed {
    /// The failover committed ([`FailoverRecord::at`]).
    pub failover_at: Timestamp,
    pub at: Timestamp,
    pub by: CommitBy,
}

/// What committed a failover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommitBy {
    /// `galaxy-ha failover SITE --commit`.
    Person,
    /// `spec.failover.commitWindow` ran out while System Galaxy ran on the new live host.
    Window,
    /// `spec.primary` names the new live host.
    Manifest,
}

impl CommitBy {
    pub fn words(self) -> &'static str {
        match self {
            CommitBy::Person => "by a person (galaxy-ha failover --commit)",
            CommitBy::Window => "by its commit window running out (spec.failover.commitWindow)",
            CommitBy::Manifest => "by spec.primary naming the new live host",
        }
    }
}

/// See [`Memory::rollback`]: System Galaxy moves back from `from` (where the failover took
/// it) to `to`, its VM there untouched since the failover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollback {
    pub from: HostName,
    pub to: HostName,
    /// The failover rolled back ([`FailoverRecord::at`]).
    pub failover_at: Timestamp,
    pub started: Timestamp,
    /// When the controller first saw System Galaxy live on `to` again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_at: Option<Timestamp>,
}

/// See [`Memory::backed_out`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackedOut {
    /// The host the switchover was moving System Galaxy to.
    pub to: HostName,
    pub at: Timestamp,
    /// Why the clean shutdown failed.
    pub error: String,
}

/// See [`Memory::split_brain_pending`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitBrainPending {
    /// The old live host, where System Galaxy may still run; the forced failover made the
    /// other host of the pair live, and a fence keeps that one.
    pub host: HostName,
    pub since: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resuming {
    pub job: String,
    /// Why it was created, for the alert.
    pub why: String,
    /// When the controller first saw the job being made, for the run's report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Switchover {
    pub from: HostName,
    pub to: HostName,
    pub started: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub status: bool,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub attempts: u32,
    pub retry_at: Timestamp,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InFlight {
    pub action_id: String,
    pub op: Operation,
    pub at: Timestamp,
    /// For a failover: the record to keep once the world shows it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<FailoverRecord>,
}

/// Why memory could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    /// The file exists but is not a memory document; acting on a guess could repeat a failover.
    #[error(
        "{path}: memory is unreadable ({message}); refusing to act on uncertain memory. Inspect it, restore it from a backup, or remove it to re-adopt the site as it is"
    )]
    Corrupt { path: PathBuf, message: String },
    /// A newer galaxy-ha wrote it: reading it here would drop what this version does not
    /// know, and the next write would lose it for good.
    #[error(
        "{path}: memory format {found} was written by {writer}; this galaxy-ha ({ours}) reads format {FORMAT_VERSION} and will not rewrite it. Run the newer galaxy-ha, or, to start this site's memory afresh, move the file away"
    )]
    Newer {
        path: PathBuf,
        found: u64,
        writer: String,
        ours: &'static str,
    },
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Memory {
    /// Reads a memory document (`where_` names it in errors): a `format_version` is
    /// required, one newer than [`FORMAT_VERSION`] is refused, and so is any unknown field.
    ///
    /// # Errors
    /// [`MemoryError::Newer`] or [`MemoryError::Corrupt`]; nothing is guessed.
    pub fn decode(bytes: &[u8], where_: &Path) -> Result<Memory, MemoryError> {
        let corrupt = |message: String| MemoryError::Corrupt {
            path: where_.to_path_buf(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
        let Some(doc) = value.as_object() else {
            return Err(corrupt("not a JSON object".into()));
        };
        let Some(version) = doc
            .get("format_version")
            .and_then(serde_json::Value::as_u64)
        else {
            return Err(corrupt("no format_version".into()));
        };
        if version > u64::from(FORMAT_VERSION) {
            let writer = doc
                .get("written_by")
                .and_then(serde_json::Value::as_str)
                .map_or_else(
                    || "a newer galaxy-ha".to_string(),
                    |v| format!("galaxy-ha {v}"),
                );
            return Err(MemoryError::Newer {
                path: where_.to_path_buf(),
                found: version,
                writer,
                ours: env!("CARGO_PKG_VERSION"),
            });
        }
        serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))
    }

    /// The document a store writes: this format, this program's version.
    pub fn to_document(&self) -> Vec<u8> {
        let mut doc = self.clone();
        doc.format_version = FORMAT_VERSION;
        doc.written_by = Some(env!("CARGO_PKG_VERSION").to_string());
        serde_json::to_vec_pretty(&doc).expect("memory serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(text: &str) -> Result<Memory, MemoryError> {
        Memory::decode(text.as_bytes(), Path::new("memory.json"))
    }

    #[test]
    fn memory_from_a_newer_version_is_refused_naming_its_writer() {
        let err = decode(r#"{"format_version": 2, "written_by": "0.9.0", "future_field": 1}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("memory format 2 was written by galaxy-ha 0.9.0"),
            "{err}"
        );
        assert!(err.contains("will not rewrite it"), "{err}");
        let err = decode(r#"{"format_version": 7}"#).unwrap_err().to_string();
        assert!(err.contains("written by a newer galaxy-ha"), "{err}");
    }

    #[test]
    fn a_document_without_its_version_or_with_unknown_fields_is_refused() {
        for text in [
            "{}",
            "[]",
            r#"{"live_host": "A"}"#,
            r#"{"format_version": 1, "x": 1}"#,
        ] {
            assert!(
                matches!(decode(text), Err(MemoryError::Corrupt { .. })),
                "{text} must be refused"
            );
        }
    }

    #[test]
    fn what_save_writes_reads_back_the_same() {
        let memory = Memory {
            live_host: Some("GCSHOSTA".into()),
            failover_latched: true,
            ..Memory::default()
        };
        let back = Memory::decode(&memory.to_document(), Path::new("m")).unwrap();
        assert_eq!(back.live_host, memory.live_host);
        assert!(back.failover_latched);
        assert_eq!(back.format_version, FORMAT_VERSION);
        assert_eq!(back.written_by.as_deref(), Some(env!("CARGO_PKG_VERSION")));
        // A memory of an earlier galaxy-ha, without `written_by`, still reads.
        assert!(decode(r#"{"format_version": 1, "live_host": "A"}"#).is_ok());
    }
}
