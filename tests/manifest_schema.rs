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

/// The mistake of each bad manifest the schema cannot catch, by file: an entry of
/// `VALIDATE_ONLY` (the docs' list) that says why.
const ONLY_VALIDATE_CATCHES: &[(&str, &str)] = &[
    ("not-utf8", "YAML syntax"),
    ("deep-nesting", "YAML syntax"),
    ("tab-indentation", "YAML syntax"),
    ("two-documents", "YAML syntax"),
    ("undefined-alias", "YAML syntax"),
    ("wrong-indentation-host-address", "YAML syntax"),
    ("duplicate-key-primary", "YAML syntax"),
    ("primary-names-no-host", "`spec.primary` names one of"),
    (
        "maintenance-host-unknown",
        "`spec.maintenance.host` names one of the hosts",
    ),
    (
        "switchover-window-zone-misspelt",
        "`spec.switchover.window.timeZone` is a time zone",
    ),
    ("same-host-twice", "the two hosts have different names"),
    (
        "same-host-twice-different-case",
        "the two hosts have different names",
    ),
    ("host-addresses-equal", "the two hosts have different names"),
    (
        "vm-address-equals-host-address",
        "the two hosts have different names",
    ),
    ("duplicate-service", "a service listed once"),
    ("address-outside-prefix", "the addresses lie inside"),
    (
        "job-name-same-both-directions",
        "render differently in the two directions",
    ),
    (
        "replica-name-same-both-directions",
        "render differently in the two directions",
    ),
    (
        "total-time-shorter-than-interval",
        "`totalTimeToFailure` at least",
    ),
    (
        "exclude-event-ids-backwards-range",
        "range with its low ID first",
    ),
];

#[test]
fn the_schema_rejects_every_bad_manifest_but_those_only_validate_can_catch() {
    use galaxy_ha::manifest::schema::VALIDATE_ONLY;
    let validator = jsonschema::validator_for(&checked_in_schema()).expect("valid schema");
    let mut checked = 0;
    for entry in std::fs::read_dir(repo().join("tests/bad")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let listed = ONLY_VALIDATE_CATCHES.iter().find(|(n, _)| *n == name);
        let bytes = std::fs::read(&path).unwrap();
        let instance = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| serde_saphyr::from_str::<Value>(text).ok());
        match (instance, listed) {
            (Some(instance), None) => {
                assert!(
                    !validator.is_valid(&instance),
                    "the schema accepts tests/bad/{name}.yaml: make the schema catch it, or list \
                     it here with the entry of VALIDATE_ONLY that says why it cannot"
                );
                checked += 1;
            }
            (Some(instance), Some(_)) => assert!(
                validator.is_valid(&instance),
                "the schema now refuses tests/bad/{name}.yaml: remove it from ONLY_VALIDATE_CATCHES"
            ),
            (None, listed) => assert!(
                listed.is_some_and(|(_, why)| *why == "YAML syntax"),
                "tests/bad/{name}.yaml does not parse as YAML, so only validate can catch it: list it"
            ),
        }
        if let Some((_, why)) = listed {
            assert!(
                VALIDATE_ONLY.iter().any(|(rule, _)| rule.contains(why)),
                "{name}: no entry of VALIDATE_ONLY says {why:?}"
            );
        }
    }
    assert!(
        checked >= 40,
        "only {checked} bad manifests checked against the schema"
    );
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
