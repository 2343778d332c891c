//! Watching the manifest directory: debounced file events (edit, new file, rename over a file,
//! a `git checkout` of the whole directory) become one "reload" signal each.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use tokio::sync::mpsc;

/// Events closer together than this make one reload: a checkout rewriting many files is one.
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// A running watch; dropping it stops watching.
pub type Watch = Debouncer<RecommendedWatcher, RecommendedCache>;

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The operating system refused to watch the directory.
    #[error("cannot watch {path}: {source}")]
    Notify {
        path: PathBuf,
        #[source]
        source: notify::Error,
    },
}

/// The directory to watch for `-m PATH`: the directory itself, or a file's directory.
pub fn directory_of(manifests: &Path) -> PathBuf {
    if manifests.is_dir() {
        return manifests.to_path_buf();
    }
    match manifests.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Whether an event path can change the set of manifests (editors' swap files cannot).
fn concerns_manifests(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// Whether an event can change what a file holds. Reading a file is not a change: the
/// watcher also reports files being opened, and the controller opens the manifests when it
/// reads them, so a reload would otherwise set off the next one.
fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

/// Watches `dir` (not recursively: the state dir may live inside it) and sends `()` after
/// each debounced burst of events that touches a manifest.
///
/// # Errors
/// The directory cannot be watched.
pub fn watch(dir: &Path) -> Result<(Watch, mpsc::UnboundedReceiver<()>), WatchError> {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut debouncer = new_debouncer(DEBOUNCE, None, move |result: DebounceEventResult| {
        let relevant = match result {
            Ok(events) => events.iter().any(|e| {
                e.need_rescan()
                    || (changes_content(&e.kind)
                        && (e.paths.is_empty() || e.paths.iter().any(|p| concerns_manifests(p))))
            }),
            Err(errors) => {
                for e in errors {
                    tracing::warn!("manifest watch: {e}");
                }
                // Events may have been lost: reload to be sure.
                true
            }
        };
        if relevant {
            let _ = tx.send(());
        }
    })
    .map_err(|source| WatchError::Notify {
        path: dir.to_path_buf(),
        source,
    })?;
    debouncer
        .watch(dir, RecursiveMode::NonRecursive)
        .map_err(|source| WatchError::Notify {
            path: dir.to_path_buf(),
            source,
        })?;
    Ok((debouncer, rx))
}

#[cfg(test)]
mod tests {
    use notify::event::{CreateKind, ModifyKind, RemoveKind, RenameMode};

    use super::*;

    #[test]
    fn opening_or_reading_a_manifest_is_no_change_but_writing_one_is() {
        for quiet in [
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            EventKind::Access(AccessKind::Read),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
        ] {
            assert!(!changes_content(&quiet), "{quiet:?}");
        }
        for change in [
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            EventKind::Modify(ModifyKind::Any),
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            EventKind::Create(CreateKind::File),
            EventKind::Remove(RemoveKind::File),
            EventKind::Any,
        ] {
            assert!(changes_content(&change), "{change:?}");
        }
    }
}
