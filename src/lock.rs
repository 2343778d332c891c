//! One controller per state dir: an exclusive lock on `STATE/lock`, held for the process's
//! life and released by the OS if it dies. A fleet member locks `STATE/controllers/ID/`
//! instead, and no lone controller may lock a state dir a fleet works from.
//!
//! One controller per pair: a controller (or `apply`, `failover`) also locks each host name
//! and address of a pair on real hosts in one directory of the machine
//! ([`crate::dirs::pair_lock_dir`]), so that a second state dir never puts a second
//! controller on the same pair.

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
        "another galaxy-ha process holds {path} ({holder}); only one controller may work on a state dir at a time. If it is `apply` or `failover`, let it finish; if it is the service (`galaxy-ha run`), it acts on the manifests itself: change the manifest (`galaxy-ha failover` reaches the service directly). Never give another --state-dir to get past this: two controllers would drive one pair"
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
    /// Another controller of this machine drives a host or address of this pair.
    #[error(
        "site {site}: {what} is driven by another galaxy-ha controller on this machine ({holder}; lock {path}); only one controller may drive a pair. Act through that controller (change the manifest it watches), or stop it first"
    )]
    Pair {
        site: String,
        what: String,
        holder: String,
        path: PathBuf,
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
        let file = open_lock(&path).map_err(|source| match source.kind() {
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                LockError::NotWritable {
                    path: state_dir.to_path_buf(),
                    lock: path.clone(),
                    source,
                }
            }
            _ => io(source),
        })?;
        match hold(&file, &path) {
            Ok(None) => {}
            Ok(Some(holder)) => return Err(LockError::Held { holder, path }),
            Err(source) => return Err(LockError::Io { path, source }),
        }
        record(&file, &std::process::id().to_string());
        Ok(StateLock { _file: file })
    }
}

/// Takes the lock file at `path` without waiting: the held file, or `None` when another
/// process holds it.
///
/// # Errors
/// The file cannot be made or locked.
pub fn try_take(path: &Path) -> std::io::Result<Option<File>> {
    let file = open_lock(path)?;
    Ok(hold(&file, path)?.is_none().then_some(file))
}

/// Another process holds the lock file at `path`; a missing file is held by nobody.
pub fn is_held(path: &Path) -> bool {
    path.exists() && matches!(open_lock(path).map(|f| hold(&f, path)), Ok(Ok(Some(_))))
}

/// A lock file, created if it is missing, open for reading and writing.
fn open_lock(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
}

/// Takes the lock on `file` without waiting: `Some(holder)` when another process has it, as
/// that process recorded itself (`pid unknown` where the file cannot be read: Windows locks
/// are mandatory).
fn hold(file: &File, path: &Path) -> std::io::Result<Option<String>> {
    match file.try_lock() {
        Ok(()) => Ok(None),
        Err(TryLockError::WouldBlock) => {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let text = text.trim();
            Ok(Some(if text.is_empty() {
                "pid unknown".to_string()
            } else if text.starts_with("pid ") {
                text.to_string()
            } else {
                format!("pid {text}")
            }))
        }
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// Records the holder in its lock file, for the message another process will print.
fn record(file: &File, holder: &str) {
    let _ = file.set_len(0);
    let _ = std::io::Write::write_all(&mut &*file, holder.as_bytes());
}

/// The pair of one site, locked machine-wide; dropping it releases the pair.
#[derive(Debug)]
pub struct PairLock {
    _files: Vec<File>,
}

impl PairLock {
    /// Locks every host name and address of `site`'s pair without waiting; `None` on the lab,
    /// whose pairs are each site's own.
    ///
    /// # Errors
    /// `Pair` when another process drives one of them; `Io` when the lock directory cannot
    /// be used.
    pub fn acquire(
        site: &crate::manifest::Site,
        state_dir: &Path,
    ) -> Result<Option<PairLock>, LockError> {
        Self::acquire_in(&crate::dirs::pair_lock_dir(), site, state_dir)
    }

    fn acquire_in(
        dir: &Path,
        site: &crate::manifest::Site,
        state_dir: &Path,
    ) -> Result<Option<PairLock>, LockError> {
        let keys = crate::manifest::claims::pair_of(&site.manifest);
        if keys.is_empty() {
            return Ok(None);
        }
        let mut files = Vec::new();
        for key in keys {
            let name: String = key
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let path = dir.join(format!("galaxy-ha-pair-{name}.lock"));
            let io = |source| LockError::Io {
                path: path.clone(),
                source,
            };
            std::fs::create_dir_all(dir).map_err(io)?;
            // Another account's file is locked through a read-only handle.
            let file = open_lock(&path)
                .or_else(|_| File::open(&path))
                .map_err(io)?;
            match hold(&file, &path) {
                Ok(None) => {}
                Ok(Some(holder)) => {
                    return Err(LockError::Pair {
                        site: site.name.clone(),
                        what: key.replace(':', " "),
                        holder,
                        path,
                    });
                }
                Err(source) => return Err(io(source)),
            }
            record(
                &file,
                &format!(
                    "pid {}, site {}, state dir {}",
                    std::process::id(),
                    site.name,
                    state_dir.display()
                ),
            );
            files.push(file);
        }
        Ok(Some(PairLock { _files: files }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::sample::real_site_yaml;

    fn site(name: &str, hosts: [&str; 2], addresses: [&str; 3]) -> crate::manifest::Site {
        crate::manifest::Site {
            name: name.to_string(),
            path: PathBuf::from(format!("{name}.yaml")),
            manifest: serde_saphyr::from_str(&real_site_yaml(name, hosts, addresses)).unwrap(),
        }
    }

    #[test]
    fn a_second_controller_cannot_lock_a_host_or_address_of_a_pair_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let hq = site(
            "hq",
            ["GCSHOSTA", "GCSHOSTB"],
            ["10.1.0.1", "10.1.0.2", "10.1.0.3"],
        );
        let held = PairLock::acquire_in(dir.path(), &hq, Path::new("/srv/a")).unwrap();
        assert!(held.is_some());
        // The same computer name in other letters, under another site name and state dir.
        let west = site(
            "west",
            ["gcshosta", "OTHERB"],
            ["10.9.0.1", "10.9.0.2", "10.9.0.3"],
        );
        let refused = PairLock::acquire_in(dir.path(), &west, Path::new("/srv/b")).unwrap_err();
        let text = refused.to_string();
        assert!(text.contains("host gcshosta"), "{text}");
        assert!(text.contains("site hq, state dir /srv/a"), "{text}");
        // Another pair is free, and the first is free again once released.
        let other = site(
            "east",
            ["EASTA", "EASTB"],
            ["10.2.0.1", "10.2.0.2", "10.2.0.3"],
        );
        assert!(PairLock::acquire_in(dir.path(), &other, Path::new("/srv/c")).is_ok());
        drop(held);
        assert!(PairLock::acquire_in(dir.path(), &west, Path::new("/srv/b")).is_ok());
    }

    #[test]
    fn the_lab_locks_no_pair() {
        let dir = tempfile::tempdir().unwrap();
        let lab = crate::manifest::Site {
            name: "hq".into(),
            path: PathBuf::from("hq.yaml"),
            manifest: crate::manifest::sample::guide_site(
                crate::manifest::spec::FailoverMode::Automatic,
            ),
        };
        assert!(
            PairLock::acquire_in(dir.path(), &lab, Path::new("s"))
                .unwrap()
                .is_none()
        );
        assert!(
            PairLock::acquire_in(dir.path(), &lab, Path::new("s"))
                .unwrap()
                .is_none()
        );
    }
}
