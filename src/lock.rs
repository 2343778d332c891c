//! One controller per state dir: an exclusive lock on `STATE/lock`, held for the process's
//! life and released by the OS if it dies.

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
        "another galaxy-ha process holds {path} ({holder}); only one controller may work on a state dir at a time. Stop it, or use another --state-dir"
    )]
    Held {
        path: PathBuf,
        /// `pid N`, or `pid unknown` where the lock keeps others from reading the file
        /// (Windows locks are mandatory).
        holder: String,
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
        let path = state_dir.join("lock");
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(state_dir).map_err(io)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io)?;
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
