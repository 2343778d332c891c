//! The git commit a manifest file was last changed in, when its directory is a checkout:
//! history ties each manifest change to the merge that made it.

use std::path::Path;
use std::process::{Command, Stdio};

/// A commit: its short id and its author (`Name <email>`), who changed the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub id: String,
    pub author: String,
}

/// `git log -1 -- FILE` in the file's directory; `None` outside a checkout, for an
/// uncommitted file, or without git.
pub fn last_commit(file: &Path) -> Option<Commit> {
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = file.file_name()?;
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["log", "-1", "--format=%h%x09%an <%ae>", "--"])
        .arg(name)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let (id, author) = text.trim().split_once('\t')?;
    (out.status.success() && !id.is_empty()).then(|| Commit {
        id: id.to_string(),
        author: author.to_string(),
    })
}
