//! Follows a site's journal as it grows: every line must read back, and every outcome of a
//! disruptive action must follow its intent (intent before, outcome after: docs/architecture.md).

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::invariant::Invariant;
use crate::journal::{Entry, Event};
use crate::model::operation::{ActionKind, Operation};

/// Where the journal was read up to, and the intents still waiting for their outcome.
#[derive(Debug, Default)]
pub struct Intents {
    offset: u64,
    open: BTreeMap<String, Operation>,
}

impl Intents {
    /// The entries written since the last look, and what is wrong with them.
    pub fn read(&mut self, state_dir: &Path, site: &str) -> (Vec<Entry>, Vec<(Invariant, String)>) {
        let path = crate::store::files::journal_path(state_dir, site);
        let mut problems = Vec::new();
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == self.offset) {
            return (Vec::new(), problems);
        }
        let mut text = Vec::new();
        let read = std::fs::File::open(&path).and_then(|mut f| {
            f.seek(SeekFrom::Start(self.offset))?;
            f.read_to_end(&mut text)
        });
        match read {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Vec::new(), problems),
            Err(e) => {
                problems.push((Invariant::JournalIntact, format!("{}: {e}", path.display())));
                return (Vec::new(), problems);
            }
        }
        self.offset += text.len() as u64;
        let mut entries = Vec::new();
        for line in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            match serde_json::from_slice::<Entry>(line) {
                Ok(entry) => entries.push(entry),
                Err(e) => problems.push((
                    Invariant::JournalIntact,
                    format!(
                        "unreadable journal line ({e}): {}",
                        String::from_utf8_lossy(line)
                    ),
                )),
            }
        }
        for entry in &entries {
            match &entry.event {
                Event::Intent { op } => {
                    self.open.insert(entry.action_id.clone(), op.clone());
                }
                // A restart may find an intent whose outcome was written just before the crash:
                // its recovery note is then a second outcome, not an unjournaled action.
                Event::Recovered { .. } => {
                    self.open.remove(&entry.action_id);
                }
                Event::Done | Event::Failed { .. } => {
                    let opened = self.open.remove(&entry.action_id).is_some();
                    if disruptive(entry.kind) && !opened {
                        problems.push((
                            Invariant::JournaledFirst,
                            format!(
                                "{} {} has an outcome but no intent before it",
                                entry.action_id,
                                entry.kind.map_or("", ActionKind::as_str)
                            ),
                        ));
                    }
                }
                Event::ManifestChanged { .. } | Event::Asked { .. } | Event::RunFinished { .. } => {
                }
            }
        }
        (entries, problems)
    }

    /// The intents still without an outcome, by action id.
    pub fn open(&self) -> Vec<String> {
        self.open.keys().cloned().collect()
    }
}

/// The kinds whose intent is journaled before they are issued.
fn disruptive(kind: Option<ActionKind>) -> bool {
    kind.is_some_and(ActionKind::disruptive)
}
