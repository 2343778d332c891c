//! The manifest's JSON Schema (2020-12), generated from the spec types: what editors use
//! through the `yaml-language-server` comment, and what `schemas/manifest.schema.json` holds.

use super::spec::Manifest;

/// Where the checked-in schema lives, relative to the repository root.
pub const SCHEMA_PATH: &str = "schemas/manifest.schema.json";

/// The schema as pretty JSON with a final newline, byte-for-byte what `galaxy-ha schema` prints.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(Manifest);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
