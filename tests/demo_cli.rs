//! The README's first command, `galaxy-ha demo`: the guide's four stages on a fresh lab,
//! every check passing, and nothing left behind in the directory it ran from.

use std::process::Command;

#[test]
fn the_demo_passes_every_check_of_the_four_stages() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
        .arg("demo")
        .current_dir(tmp.path())
        .env_remove("RUST_LOG")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for stage in [
        "== 1. Protect",
        "== 2.",
        "== 3. Resume replication",
        "== 4. Planned switchover",
    ] {
        assert!(stdout.contains(stage), "stage {stage:?} missing:\n{stdout}");
    }
    let passed = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("PASS "))
        .count();
    assert!(passed >= 10, "{passed} checks:\n{stdout}");
    assert!(!stdout.contains("FAIL "), "{stdout}");
    assert!(
        stdout
            .trim_end()
            .ends_with(&format!("{passed} passed, 0 failed")),
        "{stdout}"
    );
}
