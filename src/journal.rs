//! The site's journal, `STATE/sites/SITE/journal.jsonl`: one JSON line per event, appended
//! and fsynced. A disruptive action's intent is written before it is issued and its outcome
//! after, so that history shows what was attempted even when the controller died in between.

use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::memory::site_dir;
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
    /// The site's manifest changed since the last pass (a merge, a pull, an edit).
    ManifestChanged {
        /// The git commit of the manifest file, when its directory is a git checkout.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        commit: Option<String>,
        /// What changed, in the manifest's words (e.g. `spec.primary: GCSHOSTA → GCSHOSTB`).
        changes: Vec<String>,
    },
}

pub fn path(state_dir: &Path, site: &str) -> PathBuf {
    site_dir(state_dir, site).join("journal.jsonl")
}

/// Appends one entry and fsyncs it. A last line left without its end (a crash in the middle
/// of a write, a damaged file) is ended first, so that it does not swallow this entry.
///
/// # Errors
/// Any I/O error: the caller must not issue the action then.
pub fn append(state_dir: &Path, site: &str, entry: &Entry) -> std::io::Result<()> {
    let path = path(state_dir, site);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(&path)?;
    let len = file.metadata()?.len();
    if len > 0 {
        let mut last = [0u8];
        file.seek(SeekFrom::Start(len - 1))?;
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            line.insert(0, b'\n');
        }
    }
    file.write_all(&line)?;
    file.sync_data()
}

/// Reads the journal, skipping (and counting) lines that are not entries, e.g. a line torn
/// by a crash or damaged by hand.
///
/// # Errors
/// The file exists but cannot be read.
pub fn read(state_dir: &Path, site: &str) -> std::io::Result<(Vec<Entry>, usize)> {
    let path = path(state_dir, site);
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(e),
    };
    let mut entries = Vec::new();
    let mut skipped = 0;
    for line in std::io::BufReader::new(file).split(b'\n') {
        let line = line?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Entry>(&line) {
            Ok(e) => entries.push(e),
            Err(_) => skipped += 1,
        }
    }
    Ok((entries, skipped))
}
