//! What the controller must remember about a site between passes and across restarts:
//! the live host it established, the acknowledged primary, the failover latch, alerts
//! already sent, conditions' transition times, actions in back-off and any disruptive
//! action in flight. Kept in `STATE/sites/SITE/memory.json`, written atomically.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::plan::action::Operation;

/// The memory format; grows compatibly (unknown fields are kept out by `default`).
pub const FORMAT_VERSION: u32 = 1;

/// A site's memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Memory {
    pub format_version: u32,
    /// The live host the controller last established (adoption, failover, switchover).
    pub live_host: Option<String>,
    /// The value of `spec.primary` when the live host was last established; a manifest
    /// `primary` equal to it asks for nothing.
    pub acknowledged_primary: Option<String>,
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
    pub spec_seen: Option<crate::manifest::spec::SiteSpec>,
    /// Since when each host has not answered the controller (the first pass that missed it),
    /// so that `status` can say how long a host has been silent. Written only when a host
    /// stops or starts answering: idle passes still write nothing.
    pub unreachable_since: BTreeMap<String, Timestamp>,
    /// A job created to protect System Galaxy again (after a failover, or replacing a
    /// stopped job): `replication-resumed` is raised when it first protects.
    pub resuming: Option<Resuming>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resuming {
    pub job: String,
    /// Why it was created, for the alert.
    pub why: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailoverCause {
    /// The condition for failure was met and the controller agreed.
    Automatic,
    /// A person approved it (`galaxy-ha failover`, or `spec.primary`).
    Approved,
    /// A planned switchover: both hosts healthy, no data lost.
    Switchover,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailoverRecord {
    pub at: Timestamp,
    pub from: String,
    pub to: String,
    pub cause: FailoverCause,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Switchover {
    pub from: String,
    pub to: String,
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
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// `STATE/sites/SITE/`.
pub fn site_dir(state_dir: &Path, site: &str) -> PathBuf {
    state_dir.join("sites").join(site)
}

impl Memory {
    /// Reads `STATE/sites/SITE/memory.json`; a site never seen has empty memory.
    ///
    /// # Errors
    /// A file that exists but cannot be read or parsed.
    pub fn load(state_dir: &Path, site: &str) -> Result<Memory, MemoryError> {
        let path = site_dir(state_dir, site).join("memory.json");
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| MemoryError::Corrupt {
                path: path.clone(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Memory {
                format_version: FORMAT_VERSION,
                ..Memory::default()
            }),
            Err(source) => Err(MemoryError::Io { path, source }),
        }
    }

    /// Writes memory atomically: a crash leaves the old or the new file, never a torn one.
    ///
    /// # Errors
    /// Any I/O error (the old memory is then intact).
    pub fn save(&self, state_dir: &Path, site: &str) -> Result<(), MemoryError> {
        let path = site_dir(state_dir, site).join("memory.json");
        let mut doc = self.clone();
        doc.format_version = FORMAT_VERSION;
        let bytes = serde_json::to_vec_pretty(&doc).expect("memory serializes");
        crate::state::write_atomic(&path, &bytes).map_err(|source| MemoryError::Io { path, source })
    }
}
