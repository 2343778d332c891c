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

#[cfg(unix)]
#[test]
fn doctor_capture_should_write_what_the_hosts_returned_redacted_and_compared_with_the_model() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("dir");
    let manifest = dir.path().join("site.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: galaxy-ha/v1\nkind: RedundantServer\nmetadata:\n  name: branch\nspec:\n  platform:\n    kind: powershell\n    powershell:\n      runner: local\n  hosts:\n    - name: BRHOSTA\n      address: 127.0.0.2\n    - name: BRHOSTB\n      address: 127.0.0.3\n  primary: BRHOSTA\n  vm:\n    name: BRServer\n    address: 127.0.0.4\n",
    )
    .expect("manifest");
    // A fake powershell.exe that answers by the script's first line, as a host whose
    // Carbonite reports a state 8.1.0.677 does not have.
    let fake = dir.path().join("powershell.exe");
    let doctor = r#"{"computerName":"H","psVersion":"5.1.17763.1","osBuild":17763,"checks":[{"name":"Windows PowerShell 5.1","ok":true,"detail":"5.1","fix":""}]}"#;
    let observe = r#"{"formatVersion":2,"computerName":"H","services":[],"firewall":[],"vms":[],"email":null,"jobs":[],"doubleTakeError":null}"#;
    let capture = r#"{"computerName":"H","osBuild":"17763","carbonite":{"Jobs":[{"Status":{"HighLevelState":41}}],"EmailNotificationOptions":{"SmtpServer":"mail.example.org","To":"ops@example.org"}},"doubleTakeError":"the guest 127.0.0.4 refused"}"#;
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\ncase \"$(head -1 \"$6\")\" in\n  *'session host'*) echo 'no session here' >&2; exit 9 ;;\nesac\ncat > /dev/null\ncase \"$(head -1 \"$6\")\" in\n  *doctor*) printf '%s' '{doctor}' ;;\n  *observe*) printf '%s' '{observe}' ;;\n  *capture*) printf '%s' '{capture}' ;;\nesac\n"
        ),
    )
    .expect("fake");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let out_file = dir.path().join("capture.json");
    let output = Command::cargo_bin("galaxy-ha")
        .expect("binary")
        .args(["doctor", "-m"])
        .arg(&manifest)
        .arg("--state-dir")
        .arg(dir.path())
        .arg("--capture")
        .arg(&out_file)
        .env("PATH", format!("{}:/usr/bin:/bin", dir.path().display()))
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "a finding fails: {stdout}");
    assert!(stdout.contains("FAIL model 8.1.0.677"), "{stdout}");
    assert!(stdout.contains("HighLevelState holds 41"), "{stdout}");
    assert!(stdout.contains("fix:"), "{stdout}");
    assert!(stdout.contains("unverified Status.TargetState"), "{stdout}");
    // The fake cannot host a warm session: the doctor says so, and the scripts still ran.
    assert!(
        stdout.contains("BRHOSTA: FAIL warm PowerShell session")
            && stdout.contains("no session here")
            && stdout.contains("session.mode: perScript"),
        "{stdout}"
    );
    let text = std::fs::read_to_string(&out_file).expect("the capture file");
    let capture: galaxy_ha::platform::powershell::capture::Capture =
        serde_json::from_str(&text).expect("reads back");
    assert_eq!(capture.hosts.len(), 2);
    assert!(capture.hosts[0].observe["formatVersion"] == 2);
    assert!(!capture.findings.is_empty());
    for leaked in ["example.org", "127.0.0.4"] {
        assert!(!text.contains(leaked), "{leaked} in {text}");
    }
    assert!(
        text.contains("the guest BRServer refused"),
        "the site's address names its VM"
    );
}
