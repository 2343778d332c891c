//! Finding and reading manifest files. (Located diagnostics and validation come next.)

use std::path::{Path, PathBuf};

use super::spec::Manifest;

/// A manifest that loaded and validated: one site.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub name: String,
    /// The file it came from.
    pub path: PathBuf,
    pub manifest: Manifest,
}

/// Manifests that could not be loaded; `Display` prints every problem, one per line.
#[derive(Debug, thiserror::Error)]
#[error("{}", .problems.join("\n"))]
pub struct Invalid {
    pub problems: Vec<String>,
}

/// The `*.yaml` / `*.yml` files named by `paths` (files as given, directories one level deep),
/// sorted for a stable order.
pub fn manifest_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Invalid> {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        if path.is_dir() {
            match std::fs::read_dir(path) {
                Ok(entries) => {
                    let mut found: Vec<PathBuf> = entries
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.is_file() && is_manifest_name(p))
                        .collect();
                    found.sort();
                    files.extend(found);
                }
                Err(e) => problems.push(format!("{}: cannot read directory: {e}", path.display())),
            }
        } else if path.exists() {
            files.push(path.clone());
        } else {
            problems.push(format!("{}: no such file or directory", path.display()));
        }
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(Invalid { problems })
    }
}

fn is_manifest_name(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

/// Loads and validates every manifest under `paths`.
///
/// # Errors
/// Every problem of every file, when any file is invalid; nothing is returned half-loaded.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Site>, Invalid> {
    let files = manifest_files(paths)?;
    let mut sites = Vec::new();
    let mut problems = Vec::new();
    for path in files {
        match std::fs::read_to_string(&path) {
            Ok(text) => match serde_saphyr::from_str::<Manifest>(&text) {
                Ok(manifest) => sites.push(Site {
                    name: manifest.metadata.name.clone(),
                    path,
                    manifest,
                }),
                Err(e) => problems.push(format!("{}: {e}", path.display())),
            },
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    if problems.is_empty() {
        Ok(sites)
    } else {
        Err(Invalid { problems })
    }
}
