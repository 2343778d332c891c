//! The last good manifest of each site, kept in the state dir beside its memory
//! (`STATE/sites/SITE/last-good-manifest.json`). A controller that restarts while an invalid
//! edit is on disk keeps managing the site on it, as one that kept running would: a reboot
//! must not be what drops a site and misses its failover.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dirs::site_dir;
use crate::manifest::{self, Site};

/// The file's name in the site's state directory.
pub const FILE: &str = "last-good-manifest.json";

/// The document's format.
const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Kept {
    format_version: u32,
    /// The manifest file it was read from, made absolute.
    file: PathBuf,
    /// The manifest as it was on disk when it validated.
    text: String,
}

/// What restarting found for an invalid manifest file.
#[derive(Debug)]
pub enum Found {
    /// The site, on its last good manifest.
    Site(Box<Site>),
    /// A kept manifest for this file, or a site's memory under the file's name, exists,
    /// but no manifest this program can use: the site is listed, not managed.
    Unusable { site: String, why: String },
    /// Nothing of the file's site is known: a file never managed.
    Nothing,
}

fn absolute(file: &Path) -> PathBuf {
    std::fs::canonicalize(file)
        .or_else(|_| std::path::absolute(file))
        .unwrap_or_else(|_| file.to_path_buf())
}

/// Keeps `site`'s manifest as the last good one, when the file still holds what validated
/// (an edit since then is the next reload's business). Writes only when it changed.
///
/// # Errors
/// Writing the state dir failed.
pub fn save(state_dir: &Path, site: &Site) -> std::io::Result<()> {
    let Ok(text) = std::fs::read_to_string(&site.path) else {
        return Ok(());
    };
    if manifest::load_str(&site.path, &text).ok().as_ref() != Some(&site.manifest) {
        return Ok(());
    }
    let path = site_dir(state_dir, &site.name).join(FILE);
    let kept = Kept {
        format_version: FORMAT_VERSION,
        file: absolute(&site.path),
        text,
    };
    let bytes = serde_json::to_vec_pretty(&kept).map_err(std::io::Error::other)?;
    if std::fs::read(&path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    crate::state::write_atomic(&path, &bytes)
}

/// What the state dir keeps for the invalid manifest `file`: the site on its last good
/// manifest; or a site that has memory (found by the file's name) or a kept manifest, but
/// no usable manifest; or nothing.
pub fn find(state_dir: &Path, file: &Path) -> Found {
    let wanted = absolute(file);
    let sites = std::fs::read_dir(state_dir.join("sites"))
        .map(|entries| entries.filter_map(Result::ok).collect::<Vec<_>>())
        .unwrap_or_default();
    for entry in sites {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(bytes) = std::fs::read(entry.path().join(FILE)) else {
            continue;
        };
        let kept: Kept = match serde_json::from_slice(&bytes) {
            Ok(k) => k,
            Err(e) => {
                tracing::warn!(site = %name, "{}: unreadable, ignored: {e}", entry.path().join(FILE).display());
                continue;
            }
        };
        if kept.file != wanted {
            continue;
        }
        return match manifest::load_str(file, &kept.text) {
            Ok(manifest) if manifest.metadata.name == name => Found::Site(Box::new(Site {
                name,
                path: file.to_path_buf(),
                manifest,
            })),
            Ok(_) => Found::Unusable {
                site: name,
                why: "the kept last good manifest names another site".into(),
            },
            Err(problems) => Found::Unusable {
                site: name,
                why: format!(
                    "the kept last good manifest no longer validates: {}",
                    problems
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            },
        };
    }
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !stem.is_empty() && site_dir(state_dir, &stem).join("memory.json").exists() {
        return Found::Unusable {
            site: stem,
            why: "the site has memory but no last good manifest is kept".into(),
        };
    }
    Found::Nothing
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "apiVersion: galaxy-ha/v1\nkind: RedundantServer\nmetadata: {name: hq}\nspec:\n  \
        hosts: [{name: A, address: 10.0.0.1}, {name: B, address: 10.0.0.2}]\n  primary: A\n  \
        vm: {name: V, address: 10.0.0.3}\n";

    #[test]
    fn an_invalid_file_finds_the_site_on_its_last_good_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let (state, file) = (dir.path().join("state"), dir.path().join("hq.yaml"));
        std::fs::write(&file, GOOD).unwrap();
        let site = manifest::load(std::slice::from_ref(&file))
            .unwrap()
            .remove(0);
        save(&state, &site).unwrap();
        std::fs::write(&file, GOOD.replace("primary: A", "primary: C")).unwrap();
        match find(&state, &file) {
            Found::Site(kept) => assert_eq!(kept.manifest, site.manifest),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            find(&state, &dir.path().join("other.yaml")),
            Found::Nothing
        ));
    }

    #[test]
    fn a_file_edited_since_it_validated_is_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (state, file) = (dir.path().join("state"), dir.path().join("hq.yaml"));
        std::fs::write(&file, GOOD).unwrap();
        let site = manifest::load(std::slice::from_ref(&file))
            .unwrap()
            .remove(0);
        std::fs::write(&file, "garbage: [").unwrap();
        save(&state, &site).unwrap();
        assert!(!site_dir(&state, "hq").join(FILE).exists());
    }

    #[test]
    fn a_site_with_memory_but_no_kept_manifest_is_found_unusable() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        std::fs::create_dir_all(site_dir(&state, "hq")).unwrap();
        std::fs::write(site_dir(&state, "hq").join("memory.json"), "{}").unwrap();
        assert!(matches!(
            find(&state, &dir.path().join("hq.yaml")),
            Found::Unusable { site, .. } if site == "hq"
        ));
    }
}
