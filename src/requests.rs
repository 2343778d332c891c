//! A person's request to the controller that runs on a state dir, and its answer: how
//! `galaxy-ha failover` reaches `galaxy-ha run` instead of being refused by its lock.
//!
//! The channel is the state dir itself: the command writes `STATE/requests/ID.request.json`,
//! the controller performs it on the site's next pass (it looks for requests every second)
//! and writes `ID.answer.json`, which the command reads and removes. Only the accounts that
//! may write the state dir (the controller's own, and administrators) can ask; on Unix the
//! directory is created `0700` and each file `0600`. Nothing listens on a port or a socket
//! for it, and a request written while the controller restarts is performed once it is back.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use crate::model::ask::Ask;

/// Who asked: the operating system account and the machine it ran on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    pub user: String,
    pub host: String,
}

impl Requester {
    /// The account running this process, as Windows or Unix names it.
    pub fn current() -> Requester {
        let env = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
        };
        let user = env(&["USERNAME", "USER", "LOGNAME"]).unwrap_or_else(|| "unknown".into());
        let user = match env(&["USERDOMAIN"]) {
            Some(domain) if cfg!(windows) => format!("{domain}\\{user}"),
            _ => user,
        };
        let host = env(&["COMPUTERNAME", "HOSTNAME"])
            .or_else(|| {
                std::fs::read_to_string("/etc/hostname")
                    .ok()
                    .map(|h| h.trim().to_string())
                    .filter(|h| !h.is_empty())
            })
            .unwrap_or_else(|| "unknown".into());
        Requester { user, host }
    }
}

impl std::fmt::Display for Requester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} on {}", self.user, self.host)
    }
}

/// One request, as the command writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub id: String,
    pub site: String,
    pub ask: Ask,
    pub by: Requester,
    pub at: Timestamp,
}

impl Request {
    pub fn new(site: &str, ask: Ask, by: Requester) -> Request {
        let at = Timestamp::now();
        Request {
            id: format!("{}-{}", at.as_millisecond(), std::process::id()),
            site: site.to_string(),
            ask,
            by,
            at,
        }
    }
}

/// The controller's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum Answer {
    /// Carried out; the message says what happens next.
    Done { message: String },
    /// Not done: why, in words for the admin.
    Refused { why: String },
    /// Tried and failed.
    Failed { error: String },
}

/// Why a request could not be written, read or answered.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a request galaxy-ha can read: {message}")]
    Unreadable { path: PathBuf, message: String },
}

/// `STATE/requests/`.
pub fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join("requests")
}

fn request_path(state_dir: &Path, id: &str) -> PathBuf {
    dir(state_dir).join(format!("{id}.request.json"))
}

fn answer_path(state_dir: &Path, id: &str) -> PathBuf {
    dir(state_dir).join(format!("{id}.answer.json"))
}

/// Creates the directory only its owner can enter (on Unix).
fn ensure_dir(state_dir: &Path) -> Result<(), RequestError> {
    let path = dir(state_dir);
    let io = |source| RequestError::Io {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(&path).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), RequestError> {
    let io = |source| RequestError::Io {
        path: path.to_path_buf(),
        source,
    };
    crate::state::write_atomic(path, bytes).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    Ok(())
}

/// Held by the controller that performs requests, for its life: `serving.lock` in the
/// requests directory. A command finds the state dir locked by `apply` or `failover` as well
/// as by `run`; only this lock says a controller is there to answer.
pub struct Serving {
    _file: std::fs::File,
}

fn serving_lock(state_dir: &Path) -> PathBuf {
    dir(state_dir).join("serving.lock")
}

/// Takes the serving lock (the controller, once it holds the state dir's own lock).
///
/// # Errors
/// The requests directory or its lock cannot be made, or another process serves.
pub fn serve(state_dir: &Path) -> Result<Serving, RequestError> {
    ensure_dir(state_dir)?;
    let path = serving_lock(state_dir);
    let io = |source| RequestError::Io {
        path: path.clone(),
        source,
    };
    match crate::lock::try_take(&path).map_err(io)? {
        Some(file) => Ok(Serving { _file: file }),
        None => Err(io(std::io::Error::other(
            "another controller performs the requests of this state dir",
        ))),
    }
}

/// A controller performs requests on this state dir now.
pub fn served(state_dir: &Path) -> bool {
    crate::lock::is_held(&serving_lock(state_dir))
}

/// Writes a request for the controller.
///
/// # Errors
/// The state dir cannot be written (this account may not administer the controller).
pub fn submit(state_dir: &Path, request: &Request) -> Result<(), RequestError> {
    ensure_dir(state_dir)?;
    let bytes = serde_json::to_vec_pretty(request).expect("a request serializes");
    write(&request_path(state_dir, &request.id), &bytes)
}

/// The requests waiting for a site, oldest first, and those that cannot be read (with the
/// path, so that they are answered and not read again).
pub fn pending(state_dir: &Path, site: &str) -> Vec<Result<Request, RequestError>> {
    let Ok(entries) = std::fs::read_dir(dir(state_dir)) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".request.json"))
        })
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| {
            let read = std::fs::read(&path)
                .map_err(|source| RequestError::Io {
                    path: path.clone(),
                    source,
                })
                .and_then(|bytes| {
                    serde_json::from_slice::<Request>(&bytes).map_err(|e| {
                        RequestError::Unreadable {
                            path: path.clone(),
                            message: e.to_string(),
                        }
                    })
                });
            match read {
                Ok(r) if r.site != site => None,
                other => Some(other),
            }
        })
        .collect()
}

/// Any request at all is waiting: the controller wakes the sites to look.
pub fn any_pending(state_dir: &Path) -> bool {
    std::fs::read_dir(dir(state_dir)).is_ok_and(|mut entries| {
        entries.any(|e| {
            e.ok()
                .and_then(|e| e.file_name().into_string().ok())
                .is_some_and(|n| n.ends_with(".request.json"))
        })
    })
}

/// Answers a request and removes it, so that it is performed once.
///
/// # Errors
/// The answer cannot be written.
pub fn answer(state_dir: &Path, id: &str, answer: &Answer) -> Result<(), RequestError> {
    let bytes = serde_json::to_vec_pretty(answer).expect("an answer serializes");
    write(&answer_path(state_dir, id), &bytes)?;
    let path = request_path(state_dir, id);
    std::fs::remove_file(&path).map_err(|source| RequestError::Io { path, source })
}

/// Removes a request file that cannot be read, answering nothing: nobody can be waiting on
/// an id that cannot be read.
pub fn discard(path: &Path) {
    let _ = std::fs::remove_file(path);
}

/// How waiting for an answer ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Waited {
    Answered(Answer),
    /// `timeout` passed first.
    TimedOut,
    /// No controller serves the state dir any more (it stopped before it answered).
    NoController,
}

/// Waits for the answer to a request, `progress` called about every second with the time
/// waited. A request not answered in time, or whose controller stopped, is withdrawn,
/// unless the controller took it meanwhile: nothing is performed later that nobody awaits.
///
/// # Errors
/// The answer exists but cannot be read.
pub fn wait(
    state_dir: &Path,
    id: &str,
    timeout: Duration,
    mut progress: impl FnMut(Duration),
) -> Result<Waited, RequestError> {
    let start = std::time::Instant::now();
    let path = answer_path(state_dir, id);
    let mut last = Duration::ZERO;
    loop {
        match std::fs::read(&path) {
            Ok(bytes) => {
                let _ = std::fs::remove_file(&path);
                return serde_json::from_slice(&bytes)
                    .map(Waited::Answered)
                    .map_err(|e| RequestError::Unreadable {
                        path,
                        message: e.to_string(),
                    });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(RequestError::Io { path, source }),
        }
        let waited = start.elapsed();
        // Once a second: whether a controller still serves, and the caller's progress.
        let second = waited.as_secs() > last.as_secs();
        let ended = if waited >= timeout {
            Some(Waited::TimedOut)
        } else if second && !served(state_dir) {
            Some(Waited::NoController)
        } else {
            None
        };
        if let Some(ended) = ended {
            // Withdrawn only if still waiting: a request being performed is answered.
            let _ = std::fs::remove_file(request_path(state_dir, id));
            if answer_path(state_dir, id).exists() {
                continue;
            }
            return Ok(ended);
        }
        if second {
            last = waited;
            progress(waited);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_seen_by_its_site_only_answered_once_and_its_answer_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let by = Requester {
            user: "alice".into(),
            host: "ADMIN-PC".into(),
        };
        let request = Request::new("hq", Ask::Test, by.clone());
        submit(dir.path(), &request).unwrap();
        assert!(any_pending(dir.path()));
        assert!(pending(dir.path(), "branch").is_empty());
        let seen = pending(dir.path(), "hq");
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].as_ref().unwrap(), &request);
        let done = Answer::Done {
            message: "started".into(),
        };
        answer(dir.path(), &request.id, &done).unwrap();
        assert!(pending(dir.path(), "hq").is_empty());
        let got = wait(dir.path(), &request.id, Duration::from_secs(1), |_| {}).unwrap();
        assert_eq!(got, Waited::Answered(done));
        // Read once: a second wait finds nothing.
        let serving = serve(dir.path()).unwrap();
        let again = wait(dir.path(), &request.id, Duration::ZERO, |_| {}).unwrap();
        assert_eq!(again, Waited::TimedOut);
        drop(serving);
        // With no controller serving, a request is withdrawn at once, not waited on.
        let lone = Request::new("hq", Ask::Failover, by.clone());
        submit(dir.path(), &lone).unwrap();
        let gone = wait(dir.path(), &lone.id, Duration::from_secs(3600), |_| {}).unwrap();
        assert_eq!(gone, Waited::NoController);
        assert!(pending(dir.path(), "hq").is_empty());
        assert_eq!(by.to_string(), "alice on ADMIN-PC");
        // Served only while a controller holds the serving lock.
        assert!(!served(dir.path()));
        let serving = serve(dir.path()).unwrap();
        assert!(served(dir.path()));
        drop(serving);
        assert!(!served(dir.path()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(super::dir(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }
}
