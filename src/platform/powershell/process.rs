//! Starting Windows PowerShell on a script file and reading its pipes: what a script run in
//! a process of its own and a warm session's host have in common.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

/// `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File FILE`, its three
/// standard streams piped, with `text` written to FILE: a temporary file named from
/// `prefix`, which must outlive the process's start.
pub fn command_for(
    program: &OsString,
    path: Option<&OsString>,
    prefix: &str,
    text: &str,
) -> std::io::Result<(tempfile::NamedTempFile, Command)> {
    let mut file = tempfile::Builder::new()
        .prefix(prefix)
        .suffix(".ps1")
        .tempfile()?;
    file.write_all(text.as_bytes())?;
    file.flush()?;
    let mut cmd = Command::new(program);
    cmd.args([
        "-NoProfile",
        "-NonInteractive",
        "-ExecutionPolicy",
        "Bypass",
        "-File",
    ])
    .arg(file.path())
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    if let Some(path) = path {
        cmd.env("PATH", path);
    }
    Ok((file, cmd))
}

/// Reads a pipe to its end on a thread; the result arrives on the channel.
pub fn reader<R: Read + Send + 'static>(pipe: Option<R>) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        let _ = tx.send(String::from_utf8_lossy(&buf).into_owned());
    });
    rx
}
