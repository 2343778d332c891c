//! `galaxy-ha validate PATH...`: every problem of every manifest, one per line on standard
//! error; a one-line summary on standard output when all are valid.

use std::path::PathBuf;

use super::Outcome;
use crate::manifest;

/// Validates the manifests under `paths`.
///
/// # Errors
/// None of its own: invalid manifests are reported and give `Outcome::Failed`.
pub fn run(paths: &[PathBuf]) -> anyhow::Result<Outcome> {
    match manifest::load(paths) {
        Ok(sites) => {
            let names: Vec<&str> = sites.iter().map(|s| s.name.as_str()).collect();
            let noun = if sites.len() == 1 {
                "manifest"
            } else {
                "manifests"
            };
            println!("{} {noun} valid: {}", sites.len(), names.join(", "));
            Ok(Outcome::Success)
        }
        Err(invalid) => {
            eprintln!("{invalid}");
            let n = invalid.diagnostics.len();
            eprintln!(
                "{n} problem{} in {} file{}; nothing was changed",
                if n == 1 { "" } else { "s" },
                invalid.files(),
                if invalid.files() == 1 { "" } else { "s" }
            );
            Ok(Outcome::Failed)
        }
    }
}
