//! One controller per state dir: an exclusive lock on `STATE/lock`, held for the process's
//! life and released by the OS if it dies. A fleet member locks `STATE/controllers/ID/`
//! instead, and no lone controller may lock a state dir a fleet works from.

use std::fs::File;
use std::path::{Path, PathBuf};

use std::fs::TryLockError;

/// A held lock; dropping it releases the state dir.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another controller (or `apply`) works on this state dir.
    #[error(
        "another galaxy-ha process holds {path} ({holder}); only one controller may work on a state dir at a time. If it is `apply` or `failover`, let it finish; if it is the service (`galaxy-ha run`), it acts on the manifests itself: change the manifest, or stop the service first. Never give another --state-dir to get past this: two controllers would drive one pair"
    )]
    Held {
        path: PathBuf,
        /// `pid N`, or `pid unknown` where the lock keeps others from reading the file
        /// (Windows locks are mandatory).
        holder: String,
    },
    /// Fleet controllers (`run --coordination etcd`) work from this state dir: a lone
    /// controller or `apply` would act beside them, on sites they own.
    #[error(
        "{path} belongs to a fleet of controllers (run --coordination etcd): acting on its sites from here would act beside the controller that owns them. In a fleet, approve a failover or a switchover by setting spec.primary in the manifest; if the fleet is gone for good, remove {path} first"
    )]
    Fleet { path: PathBuf },
    /// The state dir's path names something that is not a directory.
    #[error(
        "the state dir {path} is not a directory; give --state-dir (or GALAXY_HA_STATE_DIR) a directory"
    )]
    NotADirectory { path: PathBuf },
    /// The state dir refuses new files (permissions, a read-only or immutable directory).
    #[error(
        "the state dir {path} is not writable ({lock}: {source}); let the controller's account write there, or give another --state-dir"
    )]
    NotWritable {
        path: PathBuf,
        lock: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl StateLock {
    /// Takes the lock without waiting.
    ///
    /// # Errors
    /// `Held` when another process has it.
    pub fn acquire(state_dir: &Path) -> Result<StateLock, LockError> {
        let fleet = state_dir.join("controllers");
        if fleet.is_dir() {
            return Err(LockError::Fleet { path: fleet });
        }
        let path = state_dir.join("lock");
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let not_a_dir = || LockError::NotADirectory {
            path: state_dir.to_path_buf(),
        };
        if std::fs::metadata(state_dir).is_ok_and(|m| !m.is_dir()) {
            return Err(not_a_dir());
        }
        std::fs::create_dir_all(state_dir).map_err(|source| {
            if state_dir.ancestors().skip(1).any(|a| a.is_file()) {
                not_a_dir()
            } else {
                io(source)
            }
        })?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                    LockError::NotWritable {
                        path: state_dir.to_path_buf(),
                        lock: path.clone(),
                        source,
                    }
                }
                _ => io(source),
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let pid = std::fs::read_to_string(&path).unwrap_or_default();
                let pid = pid.trim();
                return Err(LockError::Held {
                    holder: format!("pid {}", if pid.is_empty() { "unknown" } else { pid }),
                    path,
                });
            }
            Err(TryLockError::Error(source)) => return Err(LockError::Io { path, source }),
        }
        // Record the holder for the message another process will print.
        let _ = file.set_len(0);
        let _ = std::io::Write::write_all(&mut &file, std::process::id().to_string().as_bytes());
        Ok(StateLock { _file: file })
    }
}
