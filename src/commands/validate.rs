//! `galaxy-ha validate PATH...`: every problem of every manifest, one per line on standard
//! error; a one-line summary on standard output when all are valid.

use std::path::PathBuf;

use super::Exit;
use crate::manifest;

/// Validates the manifests under `paths`.
///
/// # Errors
/// None of its own: invalid manifests are reported and give `Exit::Failed`.
pub fn run(paths: &[PathBuf], secrets: bool) -> anyhow::Result<Exit> {
    match manifest::load(paths) {
        Ok(sites) if secrets && !secrets_usable(&sites, true) => Ok(Exit::Failed),
        Ok(sites) => {
            secrets_usable(&sites, false);
            let names: Vec<&str> = sites.iter().map(|s| s.name.as_str()).collect();
            let noun = if sites.len() == 1 {
                "manifest"
            } else {
                "manifests"
            };
            println!("{} {noun} valid: {}", sites.len(), names.join(", "));
            Ok(Exit::Success)
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
            Ok(Exit::Failed)
        }
    }
}

/// Checks every site's secrets, printing each problem: an error when `required` (`validate
/// --secrets`, on the controller's machine), else a warning that it could not be checked
/// (CI holds no secrets). Whether all were usable.
fn secrets_usable(sites: &[manifest::Site], required: bool) -> bool {
    let problems: Vec<manifest::Diagnostic> =
        sites.iter().flat_map(manifest::secrets::check).collect();
    for d in &problems {
        if required {
            eprintln!("{d}");
        } else {
            eprintln!(
                "warning: {d} (not checked here; `validate --secrets` on the controller's machine makes this an error)"
            );
        }
    }
    if required && !problems.is_empty() {
        let n = problems.len();
        eprintln!(
            "{n} secret{} unusable; nothing was changed",
            if n == 1 { " is" } else { "s are" }
        );
    }
    problems.is_empty()
}
