//! A person's request to the controller that runs on a state dir, and its answer: how
//! `galaxy-ha failover` reaches `galaxy-ha run` instead of being refused by its lock.
//!
//! The channel is the state dir itself: the command writes `ID.request.json` in a requests
//! directory, the controller performs it on the site's next pass (it looks for requests
//! every second) and writes `ID.answer.json` beside it, which the command reads and removes.
//! Nothing listens on a port or a socket for it, and a request written while the controller
//! restarts is performed once it is back.
//!
//! Each request carries the token of a right ([`crate::rights`]), which the controller
//! checks before it does anything: `drill` for test failovers, `operate` for everything.
//! There are two requests directories, one per right, so that an account given the drill
//! right never reads a request that carries the operate token:
//!
//! - `STATE/requests/`: requests with the operate token (and those with none, refused);
//! - `STATE/drill-requests/`: requests with the drill token; whatever their token, the
//!   controller grants them the drill right only.
//!
//! Each directory is created `0700` on Unix and then left as it is, so that an administrator
//! may open one to a group (setgid, `2770`); a file in it is `0600`, or `0640` where the
//! directory is open to its group (the controller and the person who asked read each
//! other's files through that group). On Windows they inherit the state dir's access.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use crate::model::ask::Ask;
use crate::rights::{Right, Token};

/// Who asked: the operating system account and the machine it ran on, and, once the
/// controller checked the request's token, the right it granted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    pub user: String,
    pub host: String,
    /// Set by the controller from the token it checked, whatever a request file says here;
    /// `None` when the command acted itself (no controller ran).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right: Option<Right>,
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
        Requester {
            user,
            host,
            right: None,
        }
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
    /// The right whose token the command read; it chooses the requests directory. The
    /// controller trusts the token, not this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right: Option<Right>,
    /// That right's token (a request written by an older galaxy-ha has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Token>,
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
            right: None,
            token: None,
        }
    }

    /// The same request carrying `right`'s token.
    pub fn with_right(mut self, right: Right, token: Token) -> Request {
        self.right = Some(right);
        self.token = Some(token);
        self
    }

    /// The requests directory it travels in: the drill right's, or the operate right's
    /// (also that of a request with no token).
    pub fn via(&self) -> Right {
        match self.right {
            Some(Right::Drill) => Right::Drill,
            _ => Right::Operate,
        }
    }
}

/// A request the controller found, with the directory it was in: one found in
/// `drill-requests/` is granted the drill right at most.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub via: Right,
    pub request: Request,
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

/// `STATE/requests/`: the operate right's requests directory.
pub fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join("requests")
}

/// `STATE/drill-requests/`: the drill right's requests directory.
pub fn drill_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("drill-requests")
}

/// The requests directory of a right.
pub fn dir_of(state_dir: &Path, via: Right) -> PathBuf {
    match via {
        Right::Operate => dir(state_dir),
        Right::Drill => drill_dir(state_dir),
    }
}

fn request_path(state_dir: &Path, via: Right, id: &str) -> PathBuf {
    dir_of(state_dir, via).join(format!("{id}.request.json"))
}

fn answer_path(state_dir: &Path, via: Right, id: &str) -> PathBuf {
    dir_of(state_dir, via).join(format!("{id}.answer.json"))
}

fn ensure_dir(state_dir: &Path, via: Right) -> Result<(), RequestError> {
    let path = dir_of(state_dir, via);
    crate::rights::make_dir(&path).map_err(|source| RequestError::Io { path, source })
}

/// Writes a request or an answer through a temporary file renamed over `path`: `0600` on
/// Unix, or `0640` where its directory is open to its group (the group through which the
/// controller and the person who asked read each other's files). The mode is set on the
/// temporary file before the rename, never through a path another member of the group could
/// have replaced with a link.
fn write(path: &Path, bytes: &[u8]) -> Result<(), RequestError> {
    let io = |source| RequestError::Io {
        path: path.to_path_buf(),
        source,
    };
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::PermissionsExt;
        let dir = path.parent().unwrap_or(Path::new("."));
        let group = std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o070 != 0);
        let mode = if group { 0o640 } else { 0o600 };
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(io)?;
        tmp.write_all(bytes).map_err(io)?;
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(path).map_err(|e| io(e.error))?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
    #[cfg(not(unix))]
    crate::state::write_atomic(path, bytes).map_err(io)
}

/// More than any request or answer.
const MAX_BYTES: u64 = 1024 * 1024;

/// Reads a request or an answer: a regular file of at most [`MAX_BYTES`], not a link, nor a
/// pipe that would keep the controller waiting (another account may put either there).
fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let not_a_request = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    if !std::fs::symlink_metadata(path)?.is_file() {
        return Err(not_a_request("not a regular file"));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_a_request("not a regular file"));
    }
    if meta.len() > MAX_BYTES {
        return Err(not_a_request("larger than any request"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_BYTES).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Held by the controller that performs requests, for its life: `serving.lock` in each
/// requests directory. A command finds the state dir locked by `apply` or `failover` as
/// well as by `run`; only this lock says a controller is there to answer.
pub struct Serving {
    _files: Vec<std::fs::File>,
}

fn serving_lock(state_dir: &Path, via: Right) -> PathBuf {
    dir_of(state_dir, via).join("serving.lock")
}

/// Takes the serving locks (the controller, once it holds the state dir's own lock), after
/// making both requests directories and the rights' token files that are missing.
///
/// # Errors
/// A requests directory, its lock or a token file cannot be made, or another process serves.
pub fn serve(state_dir: &Path) -> Result<Serving, RequestError> {
    crate::rights::ensure(state_dir).map_err(|e| match e {
        crate::rights::RightsError::Io { path, source } => RequestError::Io { path, source },
        other => RequestError::Io {
            path: crate::rights::dir(state_dir),
            source: std::io::Error::other(other.to_string()),
        },
    })?;
    let mut files = Vec::new();
    for via in [Right::Operate, Right::Drill] {
        ensure_dir(state_dir, via)?;
        let path = serving_lock(state_dir, via);
        let io = |source| RequestError::Io {
            path: path.clone(),
            source,
        };
        match crate::lock::try_take(&path).map_err(io)? {
            Some(file) => files.push(file),
            None => {
                return Err(io(std::io::Error::other(
                    "another controller performs the requests of this state dir",
                )));
            }
        }
    }
    Ok(Serving { _files: files })
}

/// A controller performs the requests of `via`'s directory now. Looked at through a
/// read-only handle: an account given a right may read the lock, not write it.
pub fn served(state_dir: &Path, via: Right) -> bool {
    std::fs::File::open(serving_lock(state_dir, via))
        .is_ok_and(|f| matches!(f.try_lock(), Err(std::fs::TryLockError::WouldBlock)))
}

/// A controller performs requests on this state dir now (as far as this account can see).
pub fn served_any(state_dir: &Path) -> bool {
    served(state_dir, Right::Operate) || served(state_dir, Right::Drill)
}

/// Writes a request for the controller, in its right's directory ([`Request::via`]).
///
/// # Errors
/// The directory cannot be written (this account was given no right to ask).
pub fn submit(state_dir: &Path, request: &Request) -> Result<(), RequestError> {
    let via = request.via();
    ensure_dir(state_dir, via)?;
    let bytes = serde_json::to_vec_pretty(request).expect("a request serializes");
    write(&request_path(state_dir, via, &request.id), &bytes)
}

/// The requests waiting for a site, oldest first, and those that cannot be read (with the
/// path, so that they are answered and not read again). A request whose id is not its file's
/// name cannot be read: its answer would be written elsewhere.
pub fn pending(state_dir: &Path, site: &str) -> Vec<Result<Received, RequestError>> {
    let mut found: Vec<(String, Right, PathBuf)> = Vec::new();
    for via in [Right::Operate, Right::Drill] {
        let Ok(entries) = std::fs::read_dir(dir_of(state_dir, via)) else {
            continue;
        };
        found.extend(entries.filter_map(|e| {
            let path = e.ok()?.path();
            let id = path
                .file_name()?
                .to_str()?
                .strip_suffix(".request.json")?
                .to_string();
            Some((id, via, path))
        }));
    }
    found.sort();
    found
        .into_iter()
        .filter_map(|(id, via, path)| {
            let unreadable = |message: String| RequestError::Unreadable {
                path: path.clone(),
                message,
            };
            let read = read_file(&path)
                .map_err(|source| match source.kind() {
                    std::io::ErrorKind::InvalidData => unreadable(source.to_string()),
                    _ => RequestError::Io {
                        path: path.clone(),
                        source,
                    },
                })
                .and_then(|bytes| {
                    serde_json::from_slice::<Request>(&bytes).map_err(|e| unreadable(e.to_string()))
                })
                .and_then(|request| {
                    if request.id == id {
                        Ok(request)
                    } else {
                        Err(unreadable("its id is not its file's name".into()))
                    }
                });
            match read {
                Ok(r) if r.site != site => None,
                // Withdrawn since the directory was read.
                Err(RequestError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    None
                }
                Ok(request) => Some(Ok(Received { via, request })),
                Err(e) => Some(Err(e)),
            }
        })
        .collect()
}

/// Any request at all is waiting: the controller wakes the sites to look.
pub fn any_pending(state_dir: &Path) -> bool {
    [Right::Operate, Right::Drill].into_iter().any(|via| {
        std::fs::read_dir(dir_of(state_dir, via)).is_ok_and(|mut entries| {
            entries.any(|e| {
                e.ok()
                    .and_then(|e| e.file_name().into_string().ok())
                    .is_some_and(|n| n.ends_with(".request.json"))
            })
        })
    })
}

/// Answers a request of `via`'s directory and removes it, so that it is performed once.
///
/// # Errors
/// The answer cannot be written.
pub fn answer(state_dir: &Path, via: Right, id: &str, answer: &Answer) -> Result<(), RequestError> {
    let bytes = serde_json::to_vec_pretty(answer).expect("an answer serializes");
    write(&answer_path(state_dir, via, id), &bytes)?;
    let path = request_path(state_dir, via, id);
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

/// Waits for the answer to a request of `via`'s directory, `progress` called about every second with the time
/// waited. A request not answered in time, or whose controller stopped, is withdrawn,
/// unless the controller took it meanwhile: nothing is performed later that nobody awaits.
///
/// # Errors
/// The answer exists but cannot be read.
pub fn wait(
    state_dir: &Path,
    via: Right,
    id: &str,
    timeout: Duration,
    mut progress: impl FnMut(Duration),
) -> Result<Waited, RequestError> {
    let start = std::time::Instant::now();
    let path = answer_path(state_dir, via, id);
    let mut last = Duration::ZERO;
    loop {
        match read_file(&path) {
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
        } else if second && !served(state_dir, via) {
            Some(Waited::NoController)
        } else {
            None
        };
        if let Some(ended) = ended {
            // Withdrawn only if still waiting: a request being performed is answered.
            let _ = std::fs::remove_file(request_path(state_dir, via, id));
            if answer_path(state_dir, via, id).exists() {
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

    fn alice() -> Requester {
        Requester {
            user: "alice".into(),
            host: "ADMIN-PC".into(),
            right: None,
        }
    }

    #[test]
    fn a_request_is_seen_by_its_site_only_answered_once_and_its_answer_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let by = alice();
        let request = Request::new("hq", Ask::Test, by.clone());
        submit(dir.path(), &request).unwrap();
        assert!(any_pending(dir.path()));
        assert!(pending(dir.path(), "branch").is_empty());
        let seen = pending(dir.path(), "hq");
        assert_eq!(seen.len(), 1);
        let received = seen[0].as_ref().unwrap();
        assert_eq!(received.request, request);
        assert_eq!(received.via, Right::Operate);
        let done = Answer::Done {
            message: "started".into(),
        };
        answer(dir.path(), Right::Operate, &request.id, &done).unwrap();
        assert!(pending(dir.path(), "hq").is_empty());
        let got = wait(
            dir.path(),
            Right::Operate,
            &request.id,
            Duration::from_secs(1),
            |_| {},
        )
        .unwrap();
        assert_eq!(got, Waited::Answered(done));
        // Read once: a second wait finds nothing.
        let serving = serve(dir.path()).unwrap();
        let again = wait(
            dir.path(),
            Right::Operate,
            &request.id,
            Duration::ZERO,
            |_| {},
        )
        .unwrap();
        assert_eq!(again, Waited::TimedOut);
        drop(serving);
        // With no controller serving, a request is withdrawn at once, not waited on.
        let lone = Request::new("hq", Ask::Failover, by.clone());
        submit(dir.path(), &lone).unwrap();
        let gone = wait(
            dir.path(),
            Right::Operate,
            &lone.id,
            Duration::from_secs(3600),
            |_| {},
        )
        .unwrap();
        assert_eq!(gone, Waited::NoController);
        assert!(pending(dir.path(), "hq").is_empty());
        assert_eq!(by.to_string(), "alice on ADMIN-PC");
        // Served only while a controller holds the serving locks.
        assert!(!served_any(dir.path()));
        let serving = serve(dir.path()).unwrap();
        assert!(served(dir.path(), Right::Operate) && served(dir.path(), Right::Drill));
        assert!(serve(dir.path()).is_err(), "one controller serves");
        drop(serving);
        assert!(!served_any(dir.path()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
            assert_eq!(mode(&super::dir(dir.path())), 0o700);
            assert_eq!(mode(&drill_dir(dir.path())), 0o700);
            assert_eq!(mode(&crate::rights::dir(dir.path())), 0o700);
        }
    }

    #[test]
    fn a_drill_request_travels_in_its_own_directory_and_carries_its_token_unseen() {
        let dir = tempfile::tempdir().unwrap();
        let _serving = serve(dir.path()).unwrap();
        let token = crate::rights::read(dir.path(), Right::Drill).unwrap();
        let request =
            Request::new("hq", Ask::Test, alice()).with_right(Right::Drill, token.clone());
        let secret =
            std::fs::read_to_string(crate::rights::token_path(dir.path(), Right::Drill)).unwrap();
        assert!(!format!("{request:?}").contains(secret.trim()));
        submit(dir.path(), &request).unwrap();
        assert!(request_path(dir.path(), Right::Drill, &request.id).exists());
        let seen = pending(dir.path(), "hq");
        let received = seen[0].as_ref().unwrap();
        assert_eq!(received.via, Right::Drill);
        assert_eq!(received.request.token.as_ref(), Some(&token));
        let done = Answer::Refused { why: "no".into() };
        answer(dir.path(), Right::Drill, &request.id, &done).unwrap();
        let got = wait(
            dir.path(),
            Right::Drill,
            &request.id,
            Duration::from_secs(1),
            |_| {},
        )
        .unwrap();
        assert_eq!(got, Waited::Answered(done));
    }

    #[test]
    fn a_request_whose_id_is_not_its_file_name_cannot_be_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut request = Request::new("hq", Ask::Failover, alice());
        let id = request.id.clone();
        request.id = "../../elsewhere".into();
        crate::rights::make_dir(&super::dir(dir.path())).unwrap();
        std::fs::write(
            request_path(dir.path(), Right::Operate, &id),
            serde_json::to_vec(&request).unwrap(),
        )
        .unwrap();
        let seen = pending(dir.path(), "hq");
        assert!(
            matches!(&seen[..], [Err(RequestError::Unreadable { message, .. })] if message.contains("file's name")),
            "{seen:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_link_or_a_pipe_left_as_a_request_is_not_read_through_nor_waited_on() {
        let dir = tempfile::tempdir().unwrap();
        let requests = super::dir(dir.path());
        crate::rights::make_dir(&requests).unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "{}").unwrap();
        std::os::unix::fs::symlink(&secret, requests.join("1-1.request.json")).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(requests.join("1-2.request.json"))
            .status()
            .unwrap();
        assert!(made.success());
        let seen = pending(dir.path(), "hq");
        assert_eq!(seen.len(), 2, "{seen:?}");
        for s in &seen {
            assert!(
                matches!(s, Err(RequestError::Unreadable { message, .. }) if message.contains("not a regular file")),
                "{s:?}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_an_administrator_opened_to_a_group_keeps_its_mode_and_its_files_are_group_readable()
     {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let _serving = serve(dir.path()).unwrap();
        let drills = drill_dir(dir.path());
        std::fs::set_permissions(&drills, std::fs::Permissions::from_mode(0o2770)).unwrap();
        let request = Request::new("hq", Ask::Test, alice()).with_right(
            Right::Drill,
            crate::rights::read(dir.path(), Right::Drill).unwrap(),
        );
        submit(dir.path(), &request).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&drills), 0o2770);
        assert_eq!(
            mode(&request_path(dir.path(), Right::Drill, &request.id)),
            0o640
        );
        // The operate right's directory, not opened, keeps its files to its owner.
        let other = Request::new("hq", Ask::Test, alice());
        submit(dir.path(), &other).unwrap();
        assert_eq!(
            mode(&request_path(dir.path(), Right::Operate, &other.id)),
            0o600
        );
    }
}
