//! Each `tests/bad/*.yaml` holds one mistake an admin really makes; `galaxy-ha validate`
//! must reject it with exit status 1 and the wording in its snapshot.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The bad manifests, as paths relative to the repository root (so snapshots are stable).
fn bad_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/bad"))
        .expect("tests/bad exists")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .map(|p| {
            p.strip_prefix(repo())
                .expect("under the repo")
                .to_path_buf()
        })
        .collect();
    files.sort();
    files
}

/// Runs `galaxy-ha validate ARGS` from the repository root: (exit status, stdout, stderr).
fn validate(args: &[&Path]) -> (i32, String, String) {
    let out = Command::cargo_bin("galaxy-ha")
        .expect("binary built")
        .current_dir(repo())
        .arg("validate")
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .expect("galaxy-ha runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn there_are_at_least_forty_bad_manifests() {
    let n = bad_files().len();
    assert!(n >= 40, "only {n} bad manifests in tests/bad");
}

#[test]
fn every_bad_manifest_is_rejected_with_its_snapshotted_diagnostics() {
    for file in bad_files() {
        let (code, stdout, stderr) = validate(&[&file]);
        let shown = file.display().to_string();
        assert_eq!(code, 1, "{shown} was accepted:\n{stdout}{stderr}");
        assert!(
            stdout.is_empty(),
            "{shown}: nothing on stdout when invalid, got {stdout}"
        );
        let lines: Vec<&str> = stderr.lines().collect();
        assert!(
            lines.len() >= 2,
            "{shown}: a diagnostic and a summary expected:\n{stderr}"
        );
        for line in &lines[..lines.len() - 1] {
            let prefix = format!("{shown}:");
            let rest = line
                .strip_prefix(&prefix)
                .unwrap_or_else(|| panic!("{line:?} does not start with {prefix}"));
            let mut parts = rest.splitn(3, ':');
            let line_no = parts.next().and_then(|s| s.parse::<usize>().ok());
            let col_no = parts.next().and_then(|s| s.parse::<usize>().ok());
            assert!(
                line_no.is_some_and(|n| n >= 1) && col_no.is_some_and(|n| n >= 1),
                "{line:?} is not FILE:LINE:COL: ..."
            );
        }
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("bad")
            .to_string();
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("bad-{name}"), stderr);
        });
    }
}

#[test]
fn two_files_with_one_site_name_are_reported_on_the_second_naming_the_first() {
    let (code, _, stderr) = validate(&[Path::new("tests/bad/dup-site")]);
    assert_eq!(code, 1);
    insta::with_settings!({ prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("bad-dup-site", stderr);
    });
}

#[test]
fn two_sites_for_one_pair_of_real_hosts_are_refused_naming_both_files() {
    let (code, _, stderr) = validate(&[Path::new("tests/bad/same-pair")]);
    assert_eq!(code, 1, "{stderr}");
    insta::with_settings!({ prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("bad-same-pair", stderr);
    });
    // Each file alone is valid: the refusal is about the two together.
    for file in [
        "tests/bad/same-pair/hq.yaml",
        "tests/bad/same-pair/west-wing.yaml",
    ] {
        let (code, _, stderr) = validate(&[Path::new(file)]);
        assert_eq!(code, 0, "{file}: {stderr}");
    }
}

#[test]
fn problems_of_several_files_are_all_reported_in_one_run() {
    let a = Path::new("tests/bad/one-host.yaml");
    let b = Path::new("tests/bad/several-problems.yaml");
    let (code, _, stderr) = validate(&[a, b]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.starts_with("tests/bad/one-host.yaml:"))
            .count(),
        1
    );
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.starts_with("tests/bad/several-problems.yaml:"))
            .count(),
        6
    );
    assert!(
        stderr.ends_with("7 problems in 2 files; nothing was changed\n"),
        "{stderr}"
    );
}

#[test]
fn a_password_written_in_the_manifest_is_never_printed() {
    for file in [
        "tests/bad/literal-password.yaml",
        "tests/bad/password-in-password-from.yaml",
    ] {
        let (code, stdout, stderr) = validate(&[Path::new(file)]);
        assert_eq!(code, 1);
        assert!(
            !stdout.contains("Winter2024") && !stderr.contains("Winter2024"),
            "{file} leaked:\n{stderr}"
        );
        assert!(
            stderr.contains("passwordFrom"),
            "{file} must say to use passwordFrom:\n{stderr}"
        );
    }
}
