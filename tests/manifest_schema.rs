//! The checked-in JSON Schema is what `galaxy-ha schema` generates, and every manifest the
//! project ships (manifests/, examples/) satisfies both the schema and the loader.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use galaxy_ha::manifest::{self, schema::SCHEMA_PATH};
use serde_json::Value;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

const REGENERATE: &str = "cargo run -- schema --out schemas/manifest.schema.json";

fn checked_in_schema() -> Value {
    let text = std::fs::read_to_string(repo().join(SCHEMA_PATH)).expect("schema is checked in");
    serde_json::from_str(&text).expect("schema is JSON")
}

/// Every *.yaml / *.yml under `dir`, recursively; none when the directory does not exist.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let path = entry.path();
        if path.is_dir() {
            out.extend(yaml_files(&path));
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn as_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("readable");
    serde_saphyr::from_str::<Value>(&text)
        .unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()))
}

fn schema_errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn the_checked_in_schema_is_current() {
    let generated = manifest::schema_json();
    let on_disk = std::fs::read_to_string(repo().join(SCHEMA_PATH)).unwrap_or_default();
    assert!(
        generated == on_disk,
        "{SCHEMA_PATH} is out of date with the spec types; regenerate it with `{REGENERATE}` and commit it"
    );
}

#[test]
fn the_schema_command_prints_and_writes_the_same_schema() {
    let out = Command::cargo_bin("galaxy-ha")
        .expect("binary")
        .arg("schema")
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        manifest::schema_json()
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("manifest.schema.json");
    let status = Command::cargo_bin("galaxy-ha")
        .expect("binary")
        .arg("schema")
        .arg("--out")
        .arg(&file)
        .output()
        .expect("runs")
        .status;
    assert!(status.success());
    assert_eq!(
        std::fs::read_to_string(&file).expect("written"),
        manifest::schema_json()
    );
}

#[test]
fn every_shipped_manifest_satisfies_the_schema_and_the_loader() {
    let validator =
        jsonschema::validator_for(&checked_in_schema()).expect("the schema is a valid JSON Schema");
    let mut files = yaml_files(&repo().join("manifests"));
    assert!(files.len() >= 3, "manifests/ should hold the example sites");
    files.extend(yaml_files(&repo().join("examples")));
    // Prometheus' own configuration, not site manifests.
    let prometheus = repo().join("examples/prometheus");
    files.retain(|f| !f.starts_with(&prometheus));
    for file in &files {
        let errors = schema_errors(&validator, &as_json(file));
        assert!(
            errors.is_empty(),
            "{} fails the schema:\n{}",
            file.display(),
            errors.join("\n")
        );
        let first_line = std::fs::read_to_string(file).unwrap_or_default();
        let first_line = first_line.lines().next().unwrap_or("");
        let depth = file
            .strip_prefix(repo())
            .map(|p| p.components().count() - 1)
            .unwrap_or(1);
        let expected = format!(
            "# yaml-language-server: $schema={}schemas/manifest.schema.json",
            "../".repeat(depth)
        );
        assert_eq!(
            first_line,
            expected,
            "{} should point editors at the schema",
            file.display()
        );
    }
    let sites =
        manifest::load(&files).unwrap_or_else(|e| panic!("shipped manifests are invalid:\n{e}"));
    assert_eq!(sites.len(), files.len());
}

#[test]
fn the_schema_rejects_what_the_loader_rejects_for_structure() {
    let validator = jsonschema::validator_for(&checked_in_schema()).expect("valid schema");
    for bad in [
        "misspelt-field-primry",
        "three-hosts",
        "unknown-failover-mode",
        "smtp-port-70000",
        "empty-to",
        "missing-primary",
    ] {
        let instance = as_json(&repo().join(format!("tests/bad/{bad}.yaml")));
        assert!(
            !validator.is_valid(&instance),
            "the schema accepts tests/bad/{bad}.yaml"
        );
    }
}

#[test]
fn the_manifest_reference_is_current() {
    use galaxy_ha::manifest::reference::{REFERENCE_PATH, markdown};
    let on_disk = std::fs::read_to_string(repo().join(REFERENCE_PATH)).unwrap_or_default();
    assert!(
        on_disk == markdown(),
        "{REFERENCE_PATH} is out of date with the spec types; regenerate it with \
         `galaxy-ha schema --markdown --out {REFERENCE_PATH}` and commit it"
    );
    for field in [
        "`primary`",
        "`totalTimeToFailure`",
        "`excludeEventIds`",
        "`passwordFrom`",
        "`scheduled`",
    ] {
        assert!(on_disk.contains(field), "the reference lists {field}");
    }
}

#[test]
fn durations_in_either_form_pass_the_schema_and_the_loader_alike() {
    let validator = jsonschema::validator_for(&checked_in_schema()).expect("valid schema");
    let hq = std::fs::read_to_string(repo().join("manifests/hq.yaml")).expect("hq.yaml");
    assert!(
        hq.contains("interval: 10s"),
        "hq.yaml sets the monitor interval"
    );
    for (text, good) in [
        ("00:00:10", true),
        ("0:00:10", true),
        ("10s", true),
        ("1m 30s", true),
        ("2 minutes", true),
        ("00:61:00", false),
        ("10", false),
        ("ten seconds", false),
        ("00:10", false),
    ] {
        let edited = hq.replacen("interval: 10s", &format!("interval: \"{text}\""), 1);
        let instance: Value = serde_saphyr::from_str(&edited).expect("YAML");
        let schema_ok = validator.is_valid(&instance);
        let loader_ok = manifest::load_str(Path::new("hq.yaml"), &edited).is_ok();
        assert_eq!(schema_ok, good, "schema on {text:?}");
        assert_eq!(loader_ok, good, "loader on {text:?}");
    }
}

#[test]
fn the_reference_documents_both_duration_forms_and_every_secret_form() {
    use galaxy_ha::manifest::reference::markdown;
    let doc = markdown();
    assert!(
        !doc.contains("one of (see description)"),
        "no dangling reference"
    );
    for needle in [
        "## Durations",
        "`HH:MM:SS`",
        "`00:05:00`",
        "## Secrets",
        "`{ env: NAME }`",
        "`{ file: PATH }`",
        "passwordFrom: { env: GALAXY_HA_SMTP_PASSWORD }",
        "duration (see [Durations](#durations))",
    ] {
        assert!(doc.contains(needle), "docs/manifest.md lacks {needle:?}");
    }
}
