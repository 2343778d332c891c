//! `galaxy-ha validate` and the loader's public API on valid input, directories, JSON and
//! whole-file problems.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use galaxy_ha::manifest::{self, Diagnostic, Position, spec::Threshold};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn galaxy_ha() -> Command {
    let mut cmd = Command::cargo_bin("galaxy-ha").expect("binary built");
    cmd.current_dir(repo()).env_remove("RUST_LOG");
    cmd
}

fn hq_text() -> String {
    std::fs::read_to_string(repo().join("manifests/hq.yaml")).expect("hq.yaml")
}

#[test]
fn the_shipped_manifests_directory_is_valid() {
    let out = galaxy_ha()
        .args(["validate", "manifests/"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "3 manifests valid: branch-office, hq, warehouse\n"
    );
}

#[test]
fn valid_and_invalid_files_together_exit_one_and_report_only_the_invalid() {
    let out = galaxy_ha()
        .args([
            "validate",
            "manifests/hq.yaml",
            "tests/bad/interval-zero.yaml",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(
            "tests/bad/interval-zero.yaml:21:17: spec.failover.monitor.interval: is 0"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("hq.yaml"), "{stderr}");
}

#[test]
fn a_missing_path_and_an_empty_directory_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = galaxy_ha()
        .arg("validate")
        .arg("no/such/file.yaml")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no/such/file.yaml: no such file or directory"),
        "{stderr}"
    );
    assert!(
        stderr.contains("no manifests (*.yaml or *.yml) in this directory"),
        "{stderr}"
    );
}

#[test]
fn a_manifest_written_as_one_json_object_is_accepted() {
    let json = r#"{"apiVersion": "galaxy-ha/v1", "kind": "RedundantServer", "metadata": {"name": "json-site"},
        "spec": {"hosts": [{"name": "A", "address": "10.0.0.1"}, {"name": "B", "address": "10.0.0.2"}],
                 "primary": "A", "vm": {"name": "GCSServer", "address": "10.0.0.3"}}}"#;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("json-site.yaml");
    std::fs::write(&file, json).expect("written");
    let sites = manifest::load(&[file]).expect("a JSON object is a valid YAML manifest");
    assert_eq!(sites[0].name, "json-site");
}

#[test]
fn defaults_are_the_guides() {
    let text = hq_text();
    let minimal: String = text
        .lines()
        .take_while(|l| !l.starts_with("  network:"))
        .collect::<Vec<_>>()
        .join("\n");
    let m = manifest::load_str(Path::new("minimal.yaml"), &minimal)
        .expect("valid without the optional parts");
    let spec = &m.spec;
    assert_eq!(spec.firewall.ports, vec![6320, 6325, 6330, 6332]);
    let services: Vec<&str> = spec.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        services,
        vec!["Double-Take", "Double-Take Management Service"]
    );
    assert_eq!(
        spec.failover.monitor.interval,
        std::time::Duration::from_secs(10)
    );
    assert_eq!(
        spec.failover.monitor.threshold(),
        Threshold::TotalTime(std::time::Duration::from_secs(300))
    );
    assert_eq!(
        spec.replication.replica_path,
        r"D:\HVRA_Replicas\{vm_address}"
    );
    assert!(spec.failover.apply_queued_data);
}

#[test]
fn the_automatic_site_counts_consecutive_failures() {
    let sites = manifest::load(&[repo().join("manifests/warehouse.yaml")]).expect("valid");
    assert_eq!(
        sites[0].manifest.spec.failover.monitor.threshold(),
        Threshold::ConsecutiveFailures(20)
    );
}

#[test]
fn invalid_prints_one_diagnostic_per_line() {
    let text = hq_text()
        .replace("primary: GCSHOSTA", "primary: NOPE")
        .replace("interval: 10s", "interval: 0s");
    let dir = tempfile::tempdir().expect("tempdir");
    let file: PathBuf = dir.path().join("hq.yaml");
    std::fs::write(&file, text).expect("written");
    let err = manifest::load(std::slice::from_ref(&file)).expect_err("invalid");
    assert_eq!(err.diagnostics.len(), 2);
    let shown = err.to_string();
    assert_eq!(shown.lines().count(), 2);
    assert!(
        shown
            .lines()
            .all(|l| l.starts_with(&format!("{}:", file.display()))),
        "{shown}"
    );
}

#[test]
fn a_file_over_the_size_cap_is_refused_unparsed() {
    let big = format!(
        "{}\n# {}\n",
        hq_text(),
        "x".repeat(manifest::MAX_MANIFEST_BYTES)
    );
    let errs = manifest::load_str(Path::new("big.yaml"), &big).expect_err("too large");
    assert_eq!(errs.len(), 1);
    assert!(errs[0].message.contains("too large"), "{}", errs[0]);
    assert_eq!(errs[0].position, None);
}

#[test]
fn many_aliases_are_refused_not_expanded() {
    let mut text = String::from(
        "apiVersion: galaxy-ha/v1\nkind: RedundantServer\nmetadata: {name: x}\nspec:\n  services:\n",
    );
    text.push_str("    - &s {name: Double-Take, startup: automatic}\n");
    for _ in 0..500 {
        text.push_str("    - *s\n");
    }
    let errs = manifest::load_str(Path::new("aliases.yaml"), &text).expect_err("refused");
    assert_eq!(errs.len(), 1);
    assert!(errs[0].message.contains("too many aliases"), "{}", errs[0]);
}

#[test]
fn a_non_utf8_byte_is_located() {
    let errs = manifest::load_bytes(
        Path::new("latin1.yaml"),
        b"apiVersion: galaxy-ha/v1\nkind: R\xe9dundant\n",
    )
    .expect_err("not UTF-8");
    assert_eq!(
        errs,
        vec![Diagnostic {
            file: "latin1.yaml".into(),
            position: Some(Position { line: 2, column: 8 }),
            path: "document".into(),
            message: "byte 0xE9 is not UTF-8; save the file as UTF-8 (editors call it \"UTF-8\", not \"ANSI\" or \"UTF-16\")".into(),
        }]
    );
}

#[test]
fn help_for_validate_and_schema_shows_an_example() {
    for cmd in ["validate", "schema"] {
        let out = galaxy_ha().args([cmd, "--help"]).output().expect("runs");
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(&format!("galaxy-ha {cmd}")) && text.contains("Example"),
            "{cmd} --help:\n{text}"
        );
    }
}
