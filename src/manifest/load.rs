//! Finding manifest files and loading them: size cap, UTF-8 check, parse, validate, and every
//! problem placed at its line and column. A `Site` exists only for a manifest without problems.

use std::path::{Path, PathBuf};

use super::diagnostic::{Diagnostic, Invalid, Position};
use super::parse::parse_all;
use super::positions::Positions;
use super::spec::Manifest;
use super::validate::validate;

/// Larger files are refused unread: a manifest is a few kilobytes, and the cap keeps a
/// mistaken path (a log, a disk image) from costing memory and time.
pub const MAX_MANIFEST_BYTES: usize = 1024 * 1024;

/// A manifest that loaded and validated: one site.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub name: String,
    /// The file it came from.
    pub path: PathBuf,
    pub manifest: Manifest,
}

/// The `*.yaml` / `*.yml` files named by `paths` (files as given, directories one level deep),
/// sorted within each directory for a stable order.
///
/// # Errors
/// Every path that does not exist or cannot be read, and a directory without manifests.
pub fn manifest_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Invalid> {
    let mut files = Vec::new();
    let mut diagnostics = Vec::new();
    let whole = |file: &Path, message: String| Diagnostic {
        file: file.to_path_buf(),
        position: None,
        path: String::new(),
        message,
    };
    for path in paths {
        if path.is_dir() {
            match std::fs::read_dir(path) {
                Ok(entries) => {
                    let mut found: Vec<PathBuf> = entries
                        .filter_map(|e| match e {
                            Ok(e) => Some(e.path()),
                            Err(e) => {
                                tracing::warn!(
                                    "{}: an entry cannot be read, skipped: {e}",
                                    path.display()
                                );
                                None
                            }
                        })
                        .filter(|p| is_manifest_name(p))
                        .filter(|p| match not_a_file(p) {
                            None => true,
                            Some(why) => {
                                tracing::warn!("{}: {why}; skipped", p.display());
                                false
                            }
                        })
                        .collect();
                    found.sort();
                    if found.is_empty() {
                        diagnostics.push(whole(
                            path,
                            "no manifests (*.yaml or *.yml) in this directory; name the files or the right directory"
                                .into(),
                        ));
                    }
                    files.extend(found);
                }
                Err(e) => diagnostics.push(whole(path, format!("cannot read directory: {e}"))),
            }
        } else if path.exists() {
            files.push(path.clone());
        } else {
            let message = match not_a_file(path) {
                Some(why) if is_link(path) => why,
                _ => "no such file or directory; check the path".into(),
            };
            diagnostics.push(whole(path, message));
        }
    }
    if diagnostics.is_empty() {
        Ok(files)
    } else {
        Err(Invalid { diagnostics })
    }
}

fn is_link(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink())
}

/// Why the entry `p` of a scanned directory is no manifest file: a broken symlink, a
/// symlink loop, a FIFO, a device, a directory; `None` for a regular file.
fn not_a_file(p: &Path) -> Option<String> {
    match std::fs::metadata(p) {
        Ok(m) if m.is_file() => None,
        Ok(m) if m.is_dir() => Some("a directory, not a manifest file".into()),
        Ok(_) => Some("not a regular file (a FIFO, socket or device)".into()),
        Err(e) if is_loop(&e) => {
            Some("a symlink loop (the link leads back to itself); point it at the manifest".into())
        }
        Err(e) if is_link(p) && e.kind() == std::io::ErrorKind::NotFound => {
            let target = std::fs::read_link(p)
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            Some(format!(
                "a broken symlink (its target {target} does not exist); restore the target or remove the link"
            ))
        }
        Err(e) => Some(format!("cannot read: {e}")),
    }
}

#[cfg(unix)]
fn is_loop(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

#[cfg(not(unix))]
fn is_loop(_: &std::io::Error) -> bool {
    false
}

fn is_manifest_name(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

/// Loads and validates every manifest under `paths`, and checks that no two of them claim one
/// site name (case-insensitively: a site name is a directory name on Windows too), one host
/// or one address ([`super::claims`]).
///
/// # Errors
/// Every problem of every file, when any file is invalid; nothing is returned half-loaded.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Site>, Invalid> {
    let (files, mut diagnostics) = match manifest_files(paths) {
        Ok(files) => (files, Vec::new()),
        Err(Invalid { diagnostics }) => {
            // Still check the files that were found: report everything in one run.
            let files = paths.iter().filter(|p| p.is_file()).cloned().collect();
            let dirs: Vec<PathBuf> = paths.iter().filter(|p| p.is_dir()).cloned().collect();
            let mut files: Vec<PathBuf> = files;
            if let Ok(more) = manifest_files(&dirs) {
                files.extend(more);
            }
            (files, diagnostics)
        }
    };
    let mut sites = Vec::new();
    let mut claims = super::claims::Claims::default();
    for path in files {
        let bytes = match read_capped(&path) {
            Ok(bytes) => bytes,
            Err(message) => {
                diagnostics.push(Diagnostic {
                    file: path,
                    position: None,
                    path: String::new(),
                    message,
                });
                continue;
            }
        };
        match load_located(&path, &bytes) {
            Ok((manifest, positions)) => {
                let name = manifest.metadata.name.clone();
                diagnostics.append(&mut claims.claim(&path, &manifest, Some(&positions)));
                sites.push(Site {
                    name,
                    path,
                    manifest,
                });
            }
            Err(mut found) => diagnostics.append(&mut found),
        }
    }
    if diagnostics.is_empty() {
        Ok(sites)
    } else {
        Err(Invalid { diagnostics })
    }
}

/// Reads a manifest file, at most one byte past [`MAX_MANIFEST_BYTES`]: a larger file (a
/// log, a disk image) is refused by its size before a byte is read, and a device or a file
/// that grows while read (`/dev/zero`) costs no more memory than the cap.
fn read_capped(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file; name a manifest file or a directory of them".into());
    }
    if meta.len() > MAX_MANIFEST_BYTES as u64 {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            f.take(MAX_MANIFEST_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
        })
        .map_err(|e| format!("cannot read: {e}"))?;
    Ok(bytes)
}

fn too_large(len: u64) -> String {
    format!(
        "{len} bytes is too large for a manifest (at most {MAX_MANIFEST_BYTES}); is this the right file?"
    )
}

/// Loads one manifest from its bytes; `file` only labels the diagnostics. Never panics,
/// whatever the bytes.
///
/// # Errors
/// The first syntax or type error, or else every semantic problem, each located.
pub fn load_bytes(file: &Path, bytes: &[u8]) -> Result<Manifest, Vec<Diagnostic>> {
    load_located(file, bytes).map(|(manifest, _)| manifest)
}

/// [`load_bytes`] for text.
///
/// # Errors
/// As [`load_bytes`].
pub fn load_str(file: &Path, text: &str) -> Result<Manifest, Vec<Diagnostic>> {
    load_bytes(file, text.as_bytes())
}

fn load_located(file: &Path, bytes: &[u8]) -> Result<(Manifest, Positions), Vec<Diagnostic>> {
    let at = |position: Position, path: &str, message: String| Diagnostic {
        file: file.to_path_buf(),
        position: Some(position),
        path: path.to_string(),
        message,
    };
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(vec![Diagnostic {
            file: file.to_path_buf(),
            position: None,
            path: String::new(),
            message: too_large(bytes.len() as u64),
        }]);
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = String::from_utf8_lossy(&bytes[..e.valid_up_to()]);
            return Err(vec![at(
                end_of(&valid),
                "document",
                format!(
                    "byte 0x{:02X} is not UTF-8; save the file as UTF-8 (editors call it \"UTF-8\", not \"ANSI\" or \"UTF-16\")",
                    bytes[e.valid_up_to()]
                ),
            )]);
        }
    };
    let positions = Positions::of(text);
    let manifest = parse_all(text, &positions).map_err(|errors| {
        errors
            .into_iter()
            .map(|e| at(e.position, &e.path, e.message))
            .collect::<Vec<_>>()
    })?;
    let mut problems: Vec<Diagnostic> = validate(&manifest)
        .into_iter()
        .map(|p| at(positions.locate(&p.path), &p.path, p.message))
        .collect();
    if problems.is_empty() {
        Ok((manifest, positions))
    } else {
        problems.sort_by_key(|d| d.position);
        Err(problems)
    }
}

/// The position just after `text`: where the first invalid byte sits.
fn end_of(text: &str) -> Position {
    let line = text.matches('\n').count() + 1;
    let last = text.rsplit('\n').next().unwrap_or("");
    Position {
        line,
        column: last.chars().count() + 1,
    }
}
