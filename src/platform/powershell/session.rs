//! A warm PowerShell session: one long-lived `powershell.exe` per host, running the session
//! host script (`scripts/session.ps1`) and fed the generated scripts over its standard input,
//! so that a pass does not pay for starting PowerShell, importing the DoubleTake module and
//! connecting to the host for every script.
//!
//! The framing cannot be confused by what a script prints: requests and replies are one line
//! each, their payloads base64, and a reply counts only when it carries the session's nonce,
//! a random value the session learns on its standard input and nothing else knows.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::scripts::{Script, ScriptKind};

/// The session host script, sent as a file the way every script is run.
pub const SESSION_HOST: &str = include_str!("scripts/session.ps1");

/// What the session host answered for one script: as a process would have exited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The session's working set after the script, in bytes.
    pub working_set: u64,
}

/// Why a session gave no reply.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("cannot start {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the PowerShell session did not answer within {0}")]
    Timeout(String),
    /// The process ended, or wrote a frame that cannot be read.
    #[error("the PowerShell session ended without answering{0}")]
    Ended(String),
    /// The session had ended before the request reached it: the script did not run.
    #[error("the PowerShell session had ended before the script was sent{0}")]
    Gone(String),
    #[error("the PowerShell session's pipes failed: {0}")]
    Io(#[from] std::io::Error),
}

/// One request line: base64 of `{kind, script, envelope}`; the script's text only when this
/// session has not been sent it yet.
pub fn request_line(kind: ScriptKind, text: Option<&str>, envelope: &str) -> String {
    let json = serde_json::json!({
        "kind": kind.as_str(),
        "script": text,
        "envelope": envelope,
    });
    let mut line = BASE64.encode(json.to_string());
    line.push('\n');
    line
}

/// What a line of the session's output is.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    Ready,
    Done(Reply),
    /// Not a frame of this session: a script's stray output, or someone else's nonce.
    Stray,
    /// Carries the nonce but cannot be read: the session is not to be trusted any more.
    Garbled(String),
}

/// Reads one line of the session's output. The frame may follow stray text on its line (a
/// script that printed without a newline), so the nonce is looked for anywhere in it.
pub fn frame(nonce: &str, line: &str) -> Frame {
    let Some(at) = line.find(nonce) else {
        return Frame::Stray;
    };
    let rest = line[at + nonce.len()..].trim_end_matches(['\r', '\n']);
    let Some(rest) = rest.strip_prefix(' ') else {
        return Frame::Stray;
    };
    if rest == "ready" {
        return Frame::Ready;
    }
    let fields: Vec<&str> = rest.split(' ').collect();
    let garbled = || Frame::Garbled(rest.chars().take(120).collect());
    let ["done", code, stdout, stderr, memory] = fields.as_slice() else {
        return garbled();
    };
    let text = |field: &str| -> Option<String> {
        if field == "-" {
            return Some(String::new());
        }
        BASE64
            .decode(field)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    match (
        code.parse(),
        text(stdout),
        text(stderr),
        memory.parse::<u64>(),
    ) {
        (Ok(code), Some(stdout), Some(stderr), Ok(working_set)) => Frame::Done(Reply {
            code,
            stdout,
            stderr,
            working_set,
        }),
        _ => garbled(),
    }
}

/// A fresh random nonce: 128 bits from the operating system's generator, as hex.
fn nonce() -> std::io::Result<String> {
    use rand::TryRngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(std::io::Error::other)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A running session host.
#[derive(Debug)]
pub struct Session {
    /// Always present until the session is dropped.
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    /// What the process wrote on its standard error, for the message when it dies.
    stderr: Receiver<String>,
    nonce: String,
    sent: BTreeSet<ScriptKind>,
    /// Scripts run so far.
    pub scripts: u32,
    /// Kept until the session ends: the file the session host runs from.
    _file: tempfile::NamedTempFile,
}

impl Session {
    /// Starts `program` on the session host script and waits for its `ready`.
    ///
    /// # Errors
    /// The program cannot be started, or does not say it is ready within `timeout`.
    pub fn start(
        program: &OsString,
        path: Option<&OsString>,
        timeout: Duration,
    ) -> Result<Session, SessionError> {
        let (file, mut cmd) =
            super::process::command_for(program, path, "galaxy-ha-session-", SESSION_HOST)?;
        let mut child = cmd.spawn().map_err(|source| SessionError::Spawn {
            program: program.to_string_lossy().into_owned(),
            source,
        })?;
        let lines = line_reader(child.stdout.take());
        let stderr = super::process::reader(child.stderr.take());
        let mut session = Session {
            stdin: child.stdin.take(),
            child: Some(child),
            lines,
            stderr,
            nonce: nonce()?,
            sent: BTreeSet::new(),
            scripts: 0,
            _file: file,
        };
        let hello = format!("{}\n", session.nonce);
        // A process that has already ended cannot be written to; waiting says why it ended.
        let _ = session.write(&hello);
        match session.wait(timeout)? {
            Frame::Ready => Ok(session),
            other => Err(SessionError::Ended(format!(
                ": it answered {other:?} instead of ready"
            ))),
        }
    }

    /// Runs one script with `envelope` as its standard input.
    ///
    /// # Errors
    /// The session did not answer within `timeout` (it is then killed), ended, or garbled.
    pub fn run(
        &mut self,
        script: &Script,
        envelope: &str,
        timeout: Duration,
    ) -> Result<Reply, SessionError> {
        let text = (!self.sent.contains(&script.kind)).then_some(script.text.as_str());
        if let Err(e) = self.write(&request_line(script.kind, text, envelope)) {
            // The session is gone: how it ended says more than the broken pipe.
            let why = match self.wait(Duration::from_secs(2)) {
                Err(SessionError::Ended(how)) => how,
                _ => format!(": {e}"),
            };
            self.kill();
            return Err(SessionError::Gone(why));
        }
        self.sent.insert(script.kind);
        self.scripts += 1;
        match self.wait(timeout) {
            Ok(Frame::Done(reply)) => Ok(reply),
            Ok(other) => {
                self.kill();
                Err(SessionError::Ended(format!(": it answered {other:?}")))
            }
            Err(e) => {
                self.kill();
                Err(e)
            }
        }
    }

    fn write(&mut self, text: &str) -> Result<(), SessionError> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| SessionError::Ended(": its input is closed".into()))?;
        stdin.write_all(text.as_bytes())?;
        stdin.flush()?;
        Ok(())
    }

    /// The next frame of this session, skipping stray lines.
    fn wait(&mut self, timeout: Duration) -> Result<Frame, SessionError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => match frame(&self.nonce, &line) {
                    Frame::Stray => {
                        tracing::debug!(line = %line.trim_end(), "PowerShell session: output outside a frame ignored");
                    }
                    Frame::Garbled(text) => {
                        return Err(SessionError::Ended(format!(
                            ": it wrote a frame that cannot be read ({text})"
                        )));
                    }
                    found => return Ok(found),
                },
                Err(RecvTimeoutError::Timeout) => {
                    self.kill();
                    return Err(SessionError::Timeout(
                        humantime::format_duration(timeout).to_string(),
                    ));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.as_mut().and_then(|c| c.wait().ok());
                    let said = self
                        .stderr
                        .recv_timeout(Duration::from_secs(2))
                        .unwrap_or_default();
                    let said: String = said.split_whitespace().collect::<Vec<_>>().join(" ");
                    return Err(SessionError::Ended(format!(
                        " (it exited{}){}",
                        status
                            .and_then(|s| s.code())
                            .map_or(String::new(), |c| format!(" with status {c}")),
                        if said.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", said.chars().take(400).collect::<String>())
                        }
                    )));
                }
            }
        }
    }

    /// The operating system's id of the session's process.
    pub fn id(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn kill(&mut self) {
        self.stdin = None;
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Session {
    /// Ends the session the way it expects, by closing its input (it closes its remote
    /// session and removes its files), and kills it if it has not gone within 5 s. The wait
    /// is on a thread of its own: a pass never waits for an old session to go.
    fn drop(&mut self) {
        self.stdin = None;
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            tracing::debug!(
                pid = child.id(),
                "PowerShell session did not end within 5 s of its input closing; killed"
            );
            let _ = child.kill();
            let _ = child.wait();
        });
    }
}

/// Reads a pipe line by line on a thread; the lines arrive on the channel, which closes at
/// the end of the pipe.
fn line_reader<R: Read + Send + 'static>(pipe: Option<R>) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let Some(pipe) = pipe else { return };
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    if tx
                        .send(String::from_utf8_lossy(&line).into_owned())
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: &str = "0123456789abcdef0123456789abcdef";

    fn done(code: i32, out: &str, err: &str, memory: u64) -> String {
        let field = |t: &str| {
            if t.is_empty() {
                "-".to_string()
            } else {
                BASE64.encode(t)
            }
        };
        format!(
            "{NONCE} done {code} {} {} {memory}\r\n",
            field(out),
            field(err)
        )
    }

    #[test]
    fn a_reply_frame_carries_the_scripts_output_whatever_it_holds() {
        let out = "{\"a\":1}\nline two\n0123456789abcdef0123456789abcdef done 0 - - 1\n";
        let err = "Carbonite|refused\n";
        assert_eq!(
            frame(NONCE, &done(2, out, err, 104_857_600)),
            Frame::Done(Reply {
                code: 2,
                stdout: out.into(),
                stderr: err.into(),
                working_set: 104_857_600,
            })
        );
        assert_eq!(
            frame(NONCE, &done(0, "", "", 1)),
            Frame::Done(Reply {
                code: 0,
                stdout: String::new(),
                stderr: String::new(),
                working_set: 1,
            })
        );
    }

    #[test]
    fn lines_without_this_sessions_nonce_are_stray() {
        assert_eq!(frame(NONCE, "WARNING: something\n"), Frame::Stray);
        assert_eq!(
            frame(NONCE, "ffffffffffffffffffffffffffffffff done 0 - - 1\n"),
            Frame::Stray
        );
        assert_eq!(frame(NONCE, &format!("{NONCE}done 0 - - 1")), Frame::Stray);
        // A frame after text a script printed without a newline still counts.
        assert_eq!(
            frame(NONCE, &format!("no newline here{NONCE} ready\n")),
            Frame::Ready
        );
    }

    #[test]
    fn a_frame_with_the_nonce_that_cannot_be_read_is_garbled() {
        for bad in [
            format!("{NONCE} done x - - 1"),
            format!("{NONCE} done 0 !!! - 1"),
            format!("{NONCE} done 0 - -"),
            format!("{NONCE} hello"),
        ] {
            assert!(matches!(frame(NONCE, &bad), Frame::Garbled(_)), "{bad}");
        }
    }

    #[test]
    fn a_request_sends_the_script_text_only_when_asked_and_the_envelope_as_text() {
        let line = request_line(ScriptKind::Observe, Some("Write-Output 1"), "{\"x\":1}");
        assert!(line.ends_with('\n') && !line.trim_end().contains('\n'));
        let json: serde_json::Value =
            serde_json::from_slice(&BASE64.decode(line.trim_end()).expect("base64")).expect("json");
        assert_eq!(json["kind"], "observe");
        assert_eq!(json["script"], "Write-Output 1");
        assert_eq!(json["envelope"], "{\"x\":1}");
        let again = request_line(ScriptKind::Observe, None, "{}");
        let json: serde_json::Value =
            serde_json::from_slice(&BASE64.decode(again.trim_end()).expect("base64"))
                .expect("json");
        assert!(json["script"].is_null());
    }

    #[test]
    fn nonces_are_fresh() {
        let a = nonce().expect("nonce");
        assert_eq!(a.len(), 32);
        assert_ne!(a, nonce().expect("nonce"));
    }
}
