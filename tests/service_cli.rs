//! `galaxy-ha service install|uninstall` on Linux (the systemd unit to use), the Windows
//! service's entry refused outside Windows, and the rolling log file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::cli::Site;

const SHIPPED_UNIT: &str = include_str!("../examples/systemd/galaxy-ha.service");

fn galaxy_ha(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
        .args(args)
        .current_dir(cwd)
        .env_remove("GALAXY_HA_STATE_DIR")
        .env_remove("GALAXY_HA_LOG_DIR")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The printed unit's lines that differ from the shipped unit's, which it must otherwise be.
fn changed_lines(unit: &str) -> Vec<String> {
    assert_eq!(
        unit.lines().count(),
        SHIPPED_UNIT.lines().count(),
        "the unit is the shipped one with lines replaced:\n{unit}"
    );
    SHIPPED_UNIT
        .lines()
        .zip(unit.lines())
        .filter(|(shipped, printed)| shipped != printed)
        .map(|(_, printed)| printed.to_string())
        .collect()
}

fn binary() -> PathBuf {
    std::fs::canonicalize(env!("CARGO_BIN_EXE_galaxy-ha")).unwrap()
}

/// `galaxy-ha service install ARGS` in `cwd`, which must succeed: the lines of the printed
/// unit that differ from the shipped one, and what it said on standard error.
fn install(args: &[&str], cwd: &Path) -> (Vec<String>, String) {
    let out = galaxy_ha(&[&["service", "install"], args].concat(), cwd);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    (changed_lines(&text(&out.stdout)), text(&out.stderr))
}

#[test]
fn install_on_linux_prints_the_shipped_unit_running_this_binary_on_these_manifests() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("manifests")).unwrap();
    let args = [
        "-m",
        "manifests",
        "--listen",
        "0.0.0.0:9440",
        "--insecure-listen",
        "--log-format",
        "json",
    ];
    let (changed, said) = install(&args, tmp.path());
    let manifests = tmp.path().join("manifests").display().to_string();
    let exe = binary().display().to_string();
    assert_eq!(
        changed,
        [
            format!(
                "ExecStart={exe} run -m {manifests} --listen 0.0.0.0:9440 --insecure-listen --log-format json"
            ),
            format!("ReadOnlyPaths={manifests}"),
        ]
    );
    assert!(
        said.contains("/etc/systemd/system/galaxy-ha.service"),
        "says where the unit goes: {said}"
    );
}

#[test]
fn install_on_linux_puts_a_given_state_dir_in_the_units_environment_absolute() {
    let tmp = tempfile::tempdir().unwrap();
    let manifest = crate::support::manifest_yaml("manual");
    std::fs::write(tmp.path().join("hq.yaml"), manifest).unwrap();
    let args = ["--state-dir", "state", "--manifests=hq.yaml", "--dry-run"];
    let (changed, said) = install(&args, tmp.path());
    let state = tmp.path().join("state").display().to_string();
    let file = tmp.path().join("hq.yaml").display().to_string();
    let exe = binary().display().to_string();
    assert_eq!(
        changed,
        [
            format!("ExecStart={exe} run -m {file} --dry-run"),
            format!("Environment=GALAXY_HA_STATE_DIR={state}"),
            format!("ReadOnlyPaths={file}"),
            format!("ReadWritePaths={state}"),
        ]
    );
    assert!(
        said.contains("DynamicUser"),
        "warns that the unit's own user needs access: {said}"
    );
}

#[test]
fn install_refuses_missing_manifests_and_arguments_run_would_refuse() {
    let tmp = tempfile::tempdir().unwrap();
    let out = galaxy_ha(&["service", "install", "-m", "nowhere"], tmp.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "no unit for a broken install");
    let err = text(&out.stderr);
    assert!(
        err.contains(&tmp.path().join("nowhere").display().to_string())
            && err.contains("no such file or directory"),
        "{err}"
    );

    std::fs::create_dir(tmp.path().join("m")).unwrap();
    let out = galaxy_ha(
        &["service", "install", "-m", "m", "--listen", "everywhere"],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "no unit for a broken install");
    let err = text(&out.stderr);
    assert!(
        err.contains("arguments are `run`'s") && err.contains("--listen"),
        "{err}"
    );
}

#[test]
fn uninstall_on_linux_prints_how_to_remove_the_unit() {
    let tmp = tempfile::tempdir().unwrap();
    let out = galaxy_ha(&["service", "uninstall"], tmp.path());
    assert_eq!(out.status.code(), Some(0));
    let said = text(&out.stdout);
    assert!(
        said.contains("systemctl disable --now galaxy-ha")
            && said.contains("rm /etc/systemd/system/galaxy-ha.service"),
        "{said}"
    );
}

#[test]
fn the_windows_service_entry_is_refused_outside_windows_before_anything_runs() {
    let site = Site::new("manual");
    let out = site.run(&["run", "--windows-service", "--no-listen"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--windows-service is for the Windows Service Control Manager"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !site.dir.path().join(".galaxy-ha").exists(),
        "no state dir touched"
    );
}

/// The log files in `dir`, each `galaxy-ha.YYYY-MM-DD.log`, oldest first, as one text (a
/// run across midnight UTC starts a second file).
fn log_files(dir: &Path) -> String {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no log file in {}", dir.display());
    let mut all = String::new();
    for name in names {
        let date = name
            .strip_prefix("galaxy-ha.")
            .and_then(|n| n.strip_suffix(".log"))
            .unwrap_or_else(|| panic!("{name} is galaxy-ha.DATE.log"));
        date.parse::<jiff::civil::Date>()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        all.push_str(&std::fs::read_to_string(dir.join(name)).unwrap());
    }
    all
}

#[test]
fn log_dir_keeps_the_log_in_a_daily_file_as_well_as_on_standard_error() {
    let site = Site::new("manual");
    let logs = site.dir.path().join("logs");
    let log_dir = logs.to_str().unwrap();
    let out = site.run(&["--log-dir", log_dir, "apply", "--yes", "--wait"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let file = log_files(&logs);
    assert!(
        file.contains("applied: create job") && text(&out.stderr).contains("applied: create job"),
        "the same lines in both:\n{file}"
    );
    assert!(!file.contains('\x1b'), "no colour codes in the file");
    // The live host fails; in manual mode the condition for failure is an alert.
    site.ok(&["sim", "fault", "host-down", "GCSHOSTA"]);
    site.ok(&["sim", "advance", "6m"]);
    let out = site.run(&["--log-dir", log_dir, "apply", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let file = log_files(&logs);
    assert!(
        file.contains(r#"alert="condition-met" id=4102"#),
        "the second run appends, and an alert carries its stable event ID:\n{file}"
    );
    assert!(
        file.contains("applied: create job"),
        "the first run's lines stay"
    );
}

#[test]
fn a_log_dir_that_cannot_be_written_is_reported_and_the_command_still_runs() {
    let site = Site::new("manual");
    let blocker = site.dir.path().join("not-a-dir");
    std::fs::write(&blocker, "a file where the log dir should be").unwrap();
    let out = site.run(&["--log-dir", blocker.to_str().unwrap(), "plan"]);
    assert_eq!(out.status.code(), Some(2), "the plan ran: changes pending");
    assert!(
        text(&out.stderr).contains("cannot write the log file in")
            && text(&out.stderr).contains("logging to standard error only"),
        "{}",
        text(&out.stderr)
    );
}
