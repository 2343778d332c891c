//! `galaxy-ha doctor` on the real binary: simulated sites have nothing to check, and a
//! PowerShell site without a reachable PowerShell fails with how to fix it.

use assert_cmd::Command;

#[test]
fn doctor_on_a_simulated_site_should_say_there_is_nothing_to_check() {
    let dir = tempfile::tempdir().expect("dir");
    Command::cargo_bin("galaxy-ha")
        .expect("binary")
        .args(["doctor", "-m", "manifests/hq.yaml", "--state-dir"])
        .arg(dir.path())
        .env("GALAXY_HA_SMTP_PASSWORD", "set")
        .assert()
        .success()
        .stdout(predicates::str::contains("nothing to check"));
    // The lab has no hosts to check, but alerts need the SMTP password all the same.
    Command::cargo_bin("galaxy-ha")
        .expect("binary")
        .args(["doctor", "-m", "manifests/hq.yaml", "--state-dir"])
        .arg(dir.path())
        .env_remove("GALAXY_HA_SMTP_PASSWORD")
        .assert()
        .failure()
        .stdout(predicates::str::contains(
            "spec.notifications.email.smtp.passwordFrom: environment variable GALAXY_HA_SMTP_PASSWORD is not set",
        ));
}

#[test]
fn doctor_without_powershell_should_fail_and_say_how_to_fix_it() {
    let dir = tempfile::tempdir().expect("dir");
    Command::cargo_bin("galaxy-ha")
        .expect("binary")
        .args([
            "doctor",
            "-m",
            "manifests/branch-office.yaml",
            "--state-dir",
        ])
        .arg(dir.path())
        .env("PATH", dir.path())
        .assert()
        .code(1)
        .stdout(predicates::str::contains("FAIL cannot run a script"))
        .stdout(predicates::str::contains("fix:"));
}
