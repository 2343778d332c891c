//! `galaxy-ha schema [--markdown] [--out FILE]`: prints or writes the manifest's JSON Schema,
//! or its Markdown reference.

use std::path::Path;

use anyhow::Context;

use super::Exit;
use crate::manifest;

/// Prints the schema, or writes it to `out` (atomically enough for a checked-in file: the
/// whole text at once).
///
/// # Errors
/// The file cannot be written.
pub fn run(out: Option<&Path>, markdown: bool) -> anyhow::Result<Exit> {
    let text = if markdown {
        manifest::reference::markdown()
    } else {
        manifest::schema_json()
    };
    match out {
        None => print!("{text}"),
        Some(path) => {
            std::fs::write(path, &text)
                .with_context(|| format!("{}: cannot write", path.display()))?;
            tracing::info!(path = %path.display(), "written");
        }
    }
    Ok(Exit::Success)
}
