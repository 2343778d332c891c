//! Running a script on a host: the `Runner` seam, and the real runner that spawns Windows
//! PowerShell 5.1. Secrets travel only on the child's standard input.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::{Value, json};

use super::payload::ascii_json;
use super::process;
use super::scripts::Script;
use super::secret::{Secret, SecretError, read_secret};
use super::session::{Session, SessionError};
use crate::manifest::spec::{PowershellSpec, RunnerKind, SecretSource, SessionMode, SessionSpec};

/// The host a script is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostTarget {
    /// The Windows computer name (what remoting connects to).
    pub name: String,
    pub address: String,
}

/// Why a script did not produce its output.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// `powershell.exe` could not be started.
    #[error("cannot start {program}: {source}{}", spawn_hint())]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    /// Remoting could not reach the host.
    #[error("{host} cannot be reached: {message}")]
    Unreachable { host: String, message: String },
    /// The script ran longer than allowed and was killed.
    #[error("{host}: the {script} script did not finish within {timeout}; it was stopped")]
    Timeout {
        host: String,
        script: &'static str,
        timeout: String,
    },
    /// Carbonite, Hyper-V or Windows refused, in their words.
    #[error("{system} refused on {host}: {message}")]
    Refused {
        host: String,
        system: &'static str,
        message: String,
    },
    /// The script failed some other way.
    #[error("{host}: the {script} script failed ({status}): {stderr}")]
    Failed {
        host: String,
        script: &'static str,
        status: String,
        stderr: String,
    },
    /// The remoting credential could not be read.
    #[error("cannot read the remoting credential: {0}")]
    Credential(#[from] SecretError),
    /// Talking to the child process failed.
    #[error("{host}: {source}")]
    Io {
        host: String,
        #[source]
        source: std::io::Error,
    },
}

/// What to do when `powershell.exe` cannot be started: on a machine other than Windows it
/// never can.
fn spawn_hint() -> &'static str {
    if cfg!(windows) {
        ""
    } else {
        ". The PowerShell platform needs Windows PowerShell 5.1, which exists only on Windows: run the controller on a Windows machine that can reach the hosts (see docs/preparing-hosts.md); on this machine use `platform: simulated`, `galaxy-ha validate` and `galaxy-ha plan`"
    }
}

/// Runs scripts on hosts and, for tests, owns the clock.
pub trait Runner: Send {
    /// Runs `script` for `host` with `input` as its data; returns what it printed.
    ///
    /// # Errors
    /// The host is unreachable, the script timed out, or it failed.
    fn run(
        &self,
        host: &HostTarget,
        script: &Script,
        input: &Value,
        timeout: Duration,
    ) -> Result<String, RunError>;

    fn now(&self) -> Timestamp {
        Timestamp::now()
    }

    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// The real runner: Windows PowerShell 5.1 (`powershell.exe -NoProfile -NonInteractive
/// -ExecutionPolicy Bypass -File`), either one warm session per host ([`Session`]) or a new
/// process per script. A runner belongs to one site: its sessions are never shared.
#[derive(Debug)]
pub struct PowershellRunner {
    program: OsString,
    kind: RunnerKind,
    username: Option<String>,
    credential: Option<SecretSource>,
    guest_username: Option<String>,
    guest_credential: Option<SecretSource>,
    /// A `PATH` for the child (tests put a fake `powershell.exe` first).
    path: Option<OsString>,
    session: SessionSpec,
    /// Each host's warm session, by the host's name.
    sessions: Mutex<HashMap<String, Slot>>,
}

/// A host's warm session and how its sessions have fared.
#[derive(Debug, Default)]
struct Slot {
    session: Option<Session>,
    /// Sessions in a row that ended without answering.
    failures: u32,
    /// After [`GIVE_UP_AFTER`] such failures the host's scripts run one process each.
    per_script: bool,
    /// Why the last session ended without answering.
    trouble: Option<String>,
}

/// Sessions in a row that may end without answering before a host's scripts go back to one
/// process each (for the rest of the controller's life; a warning says so).
const GIVE_UP_AFTER: u32 = 3;

impl PowershellRunner {
    pub fn new(spec: &PowershellSpec) -> Self {
        Self {
            program: "powershell.exe".into(),
            kind: spec.runner,
            username: spec.username.clone(),
            credential: spec.credential_from.clone(),
            guest_username: spec.guest_username.clone(),
            guest_credential: spec.guest_credential_from.clone(),
            path: None,
            session: spec.session.clone(),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// Whether scripts run in warm sessions (`session.mode: warm`).
    pub fn warm(&self) -> bool {
        self.session.mode == SessionMode::Warm
    }

    /// The process id of each host's warm session now running, for tests and `doctor`.
    pub fn session_ids(&self) -> Vec<(String, u32)> {
        self.slots()
            .iter()
            .filter_map(|(host, slot)| Some((host.clone(), slot.session.as_ref()?.id()?)))
            .collect()
    }

    /// Why the host's last warm session ended without answering, if one did.
    pub fn session_trouble(&self, host: &str) -> Option<String> {
        self.slots().get(host).and_then(|s| s.trouble.clone())
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slot>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Looks `powershell.exe` up in this `PATH` (and gives it to the child).
    pub fn with_path(mut self, path: impl Into<OsString>) -> Self {
        self.path = Some(path.into());
        self
    }

    fn envelope(&self, host: &HostTarget, input: &Value) -> Result<Value, RunError> {
        let credential = match (self.kind, &self.username, &self.credential) {
            (RunnerKind::Remoting, Some(user), Some(source)) => {
                let secret: Secret = read_secret(source)?;
                json!({ "username": user, "password": secret.expose() })
            }
            _ => Value::Null,
        };
        // The guest's own account, whatever the runner: Double-Take in the guest and its
        // services are reached with it directly, never through the host's session.
        let guest_credential = match (&self.guest_username, &self.guest_credential) {
            (Some(user), Some(source)) => {
                let secret: Secret = read_secret(source)?;
                json!({ "username": user, "password": secret.expose() })
            }
            _ => Value::Null,
        };
        let this_machine =
            std::env::var("COMPUTERNAME").is_ok_and(|c| c.eq_ignore_ascii_case(&host.name));
        let remote = self.kind == RunnerKind::Remoting || !this_machine;
        Ok(json!({
            "computer": host.name,
            "remote": remote,
            "credential": credential,
            "guestCredential": guest_credential,
            "input": input,
        }))
    }
}

impl Runner for PowershellRunner {
    fn run(
        &self,
        host: &HostTarget,
        script: &Script,
        input: &Value,
        timeout: Duration,
    ) -> Result<String, RunError> {
        let envelope = ascii_json(&self.envelope(host, input)?);
        match self.session.mode {
            SessionMode::PerScript => self.run_process(host, script, envelope, timeout),
            SessionMode::Warm => self.run_warm(host, script, envelope, timeout),
        }
    }
}

impl PowershellRunner {
    /// Runs the script in the host's warm session, starting one when there is none. A session
    /// that answered with an error, or has run its `maxScripts` or grown past `maxMemoryMiB`,
    /// is replaced before the next script. One that ends without answering is replaced too;
    /// a read-only script it was running is run again in a process of its own (an action is
    /// not: whether it happened is for the next observation to say).
    fn run_warm(
        &self,
        host: &HostTarget,
        script: &Script,
        envelope: String,
        timeout: Duration,
    ) -> Result<String, RunError> {
        let mut slots = self.slots();
        let slot = slots.entry(host.name.clone()).or_default();
        if slot.per_script {
            drop(slots);
            return self.run_process(host, script, envelope, timeout);
        }
        let session = match slot.session.take() {
            Some(s) => Ok(s),
            // A session that has not said it is ready within 30 s will not.
            None => Session::start(
                &self.program,
                self.path.as_ref(),
                timeout.min(Duration::from_secs(30)),
            ),
        };
        // Why the session gave no answer, and whether the script may have run all the same.
        let (ended, may_have_run) = match session {
            Ok(mut session) => match session.run(script, &envelope, timeout) {
                Ok(reply) => {
                    slot.failures = 0;
                    let result =
                        interpret(host, script, Some(reply.code), reply.stdout, &reply.stderr);
                    let worn = session.scripts >= self.session.max_scripts
                        || reply.working_set > u64::from(self.session.max_memory_mib) << 20;
                    if result.is_ok() && !worn {
                        slot.session = Some(session);
                    } else {
                        tracing::debug!(host = %host.name, scripts = session.scripts, working_set = reply.working_set, ok = result.is_ok(), "PowerShell session replaced before the next script");
                    }
                    return result;
                }
                Err(SessionError::Timeout(_)) => {
                    return Err(RunError::Timeout {
                        host: host.name.clone(),
                        script: script.kind.as_str(),
                        timeout: humantime::format_duration(timeout).to_string(),
                    });
                }
                Err(e @ SessionError::Gone(_)) => (e, false),
                Err(e) => (e, true),
            },
            Err(SessionError::Spawn { program, source }) => {
                return Err(RunError::Spawn { program, source });
            }
            Err(e) => (e, false),
        };
        slot.failures += 1;
        slot.trouble = Some(ended.to_string());
        if slot.failures >= GIVE_UP_AFTER {
            slot.per_script = true;
            tracing::warn!(host = %host.name, error = %ended, "the warm PowerShell session ended without answering {GIVE_UP_AFTER} times in a row: this host's scripts run one process each from now on (set spec.platform.powershell.session.mode: perScript to make it so from the start)");
        } else {
            tracing::warn!(host = %host.name, script = script.kind.as_str(), error = %ended, "the warm PowerShell session ended without answering; a new one starts");
        }
        drop(slots);
        if !may_have_run || script.kind.is_read_only() {
            return self.run_process(host, script, envelope, timeout);
        }
        Err(RunError::Failed {
            host: host.name.clone(),
            script: script.kind.as_str(),
            status: "no answer from the PowerShell session".into(),
            stderr: ended.to_string(),
        })
    }

    /// Runs the script in a `powershell.exe` of its own.
    fn run_process(
        &self,
        host: &HostTarget,
        script: &Script,
        stdin_text: String,
        timeout: Duration,
    ) -> Result<String, RunError> {
        let io = |source| RunError::Io {
            host: host.name.clone(),
            source,
        };
        let (file, mut cmd) = process::command_for(
            &self.program,
            self.path.as_ref(),
            &format!("galaxy-ha-{}-", script.kind.as_str()),
            &script.text,
        )
        .map_err(io)?;
        let mut child = cmd.spawn().map_err(|source| RunError::Spawn {
            program: self.program.to_string_lossy().into_owned(),
            source,
        })?;
        let mut stdin = child.stdin.take();
        let writer = std::thread::spawn(move || {
            if let Some(s) = stdin.as_mut() {
                // A script that exits early closes the pipe; its exit status says why.
                let _ = s.write_all(stdin_text.as_bytes());
            }
        });
        let out = process::reader(child.stdout.take());
        let err = process::reader(child.stderr.take());
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = child.try_wait().map_err(io)? {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunError::Timeout {
                    host: host.name.clone(),
                    script: script.kind.as_str(),
                    timeout: humantime::format_duration(timeout).to_string(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let _ = writer.join();
        let stdout = out.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
        let stderr = err.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
        drop(file);
        interpret(host, script, status.code(), stdout, &stderr)
    }
}

/// Maps the wrapper's exit statuses (0 done, 2 refused, 3 unreachable) to results.
pub fn interpret(
    host: &HostTarget,
    script: &Script,
    code: Option<i32>,
    stdout: String,
    stderr: &str,
) -> Result<String, RunError> {
    let message = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("#< CLIXML") && !l.starts_with('<'))
        .collect::<Vec<_>>()
        .join(" ");
    match code {
        Some(0) => Ok(stdout),
        Some(3) => Err(RunError::Unreachable {
            host: host.name.clone(),
            message: message
                .strip_prefix("unreachable|")
                .unwrap_or(&message)
                .to_string(),
        }),
        Some(2) => {
            for system in ["Carbonite", "Hyper-V", "Windows"] {
                if let Some(rest) = message
                    .find(&format!("{system}|"))
                    .map(|i| &message[i + system.len() + 1..])
                {
                    return Err(RunError::Refused {
                        host: host.name.clone(),
                        system,
                        message: rest.to_string(),
                    });
                }
            }
            Err(RunError::Refused {
                host: host.name.clone(),
                system: "Windows",
                message,
            })
        }
        other => Err(RunError::Failed {
            host: host.name.clone(),
            script: script.kind.as_str(),
            status: other.map_or("killed by a signal".into(), |c| format!("exit status {c}")),
            stderr: message,
        }),
    }
}
