//! The site's journal: one entry per event. A disruptive action's intent is written before it
//! is issued and its outcome after, so that history shows what was attempted even when the
//! controller died in between. Where entries are kept is the stores' business
//! (the `store` module).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::ask::Ask;
use crate::model::operation::{ActionKind, Operation};

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub at: Timestamp,
    /// The action's stable id; empty for entries that are not actions (manifest changes).
    #[serde(default)]
    pub action_id: String,
    /// The action's kind; `None` for entries that are not actions.
    #[serde(default)]
    pub kind: Option<ActionKind>,
    /// The action's one-line description, for history.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Which rule planned it and why, for history.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// The evidence of an automatic decision, on the intent of the action it led to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Box<crate::model::Decision>>,
    #[serde(flatten)]
    pub event: Event,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "event")]
pub enum Event {
    /// About to issue; the operation in full.
    Intent { op: Operation },
    /// Issued and accepted.
    Done,
    /// Issued and refused or failed.
    Failed { error: String },
    /// Found after a restart: the intent's outcome as the world showed it.
    Recovered { note: String },
    /// A person asked for what the entry's description names (`galaxy-ha failover hq`),
    /// from this account and machine; what it led to follows.
    Asked {
        ask: Ask,
        user: String,
        host: String,
        /// The right the running controller granted the request, by name (`drill` or
        /// `operate`, see the `rights` module); none when the command acted itself.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        right: Option<String>,
    },
    /// The site's manifest changed since the last pass (a merge, a pull, an edit).
    ManifestChanged {
        /// The git commit of the manifest file, when its directory is a git checkout.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        commit: Option<String>,
        /// That commit's author (`Name <email>`): who changed the manifest.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        author: Option<String>,
        /// What changed, in the manifest's words (e.g. `spec.primary: GCSHOSTA → GCSHOSTB`).
        changes: Vec<String>,
    },
    /// A run (failover, switchover, rollback, resume, drill) ended: its facts for the report.
    RunFinished { run: Box<crate::model::run::Run> },
}
