//! The git commit a manifest file was last changed in, when its directory is a checkout:
//! history ties each manifest change to the merge that made it.

use std::path::Path;
use std::process::{Command, Stdio};

/// `git log -1 --format=%h -- FILE` in the file's directory; `None` outside a checkout, for
/// an uncommitted file, or without git.
pub fn last_commit(file: &Path) -> Option<String> {
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = file.file_name()?;
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["log", "-1", "--format=%h", "--"])
        .arg(name)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !commit.is_empty()).then_some(commit)
}
