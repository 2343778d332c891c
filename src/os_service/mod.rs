//! The controller as an operating system service: `run`'s arguments made fit for a service
//! (absolute paths, since a service does not start where the administrator typed), the systemd
//! unit printed on Linux, and on Windows the Service Control Manager.

#[cfg(windows)]
pub mod scm;
pub mod systemd;

use std::ffi::OsString;
use std::path::PathBuf;

/// The service's name, for `Start-Service`, `sc.exe` and the event log source.
pub const SERVICE_NAME: &str = crate::logging::EVENT_SOURCE;

/// What the Services console shows.
pub const DISPLAY_NAME: &str = "galaxy-ha controller";

pub const DESCRIPTION: &str = "Keeps the Galaxy redundant servers in the state their manifests \
     describe: reconciles every site, fails over by the failover monitor's rule, e-mails alerts.";

/// `run`'s flags whose values are paths. A service's are made absolute and put first.
const PATH_FLAGS: [&str; 4] = ["-m", "--manifests", "--state-dir", "--log-dir"];

/// The paths a service is started with, absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub manifests: PathBuf,
    pub state_dir: Option<PathBuf>,
    pub log_dir: Option<PathBuf>,
}

/// `run`'s arguments for a service: `-m MANIFESTS [--state-dir DIR] [--log-dir DIR]` and then
/// every other argument the administrator gave, in their order.
pub fn run_arguments(args: &[OsString], paths: &Paths) -> Vec<OsString> {
    let mut out: Vec<OsString> = vec!["-m".into(), paths.manifests.clone().into()];
    for (flag, dir) in [
        ("--state-dir", &paths.state_dir),
        ("--log-dir", &paths.log_dir),
    ] {
        if let Some(dir) = dir {
            out.extend([flag.into(), dir.clone().into()]);
        }
    }
    let mut value_follows = false;
    for arg in args {
        if std::mem::take(&mut value_follows) {
            continue;
        }
        let text = arg.to_str().unwrap_or_default();
        if PATH_FLAGS.contains(&text) {
            value_follows = true;
        } else if !is_path_flag_with_value(text) && text != WINDOWS_SERVICE {
            out.push(arg.clone());
        }
    }
    out
}

/// `--manifests=X`, `--state-dir=X`, `-mX`, `-m=X`.
fn is_path_flag_with_value(arg: &str) -> bool {
    PATH_FLAGS.iter().any(|flag| {
        arg.strip_prefix(flag)
            .is_some_and(|rest| rest.starts_with('='))
    }) || (arg.starts_with("-m") && !arg.starts_with("--"))
}

/// The flag the Service Control Manager starts `run` with; given by hand, it is dropped.
const WINDOWS_SERVICE: &str = "--windows-service";

/// The command line the Service Control Manager starts: `run --windows-service` and `run`'s
/// arguments.
pub fn launch_arguments(args: &[OsString], paths: &Paths) -> Vec<OsString> {
    let mut out: Vec<OsString> = vec!["run".into(), WINDOWS_SERVICE.into()];
    out.extend(run_arguments(args, paths));
    out
}

/// What to do about a Windows error the Service Control Manager returned, by its code.
pub fn scm_hint(code: i32) -> Option<&'static str> {
    Some(match code {
        5 => "access is denied: run it from an elevated PowerShell (Run as administrator)",
        1060 => "the service is not installed",
        1063 => {
            "--windows-service is for the Service Control Manager; to run in this console, \
             leave it out"
        }
        1072 => {
            "the service is marked for deletion: close the Services console (services.msc) \
             and try again"
        }
        1073 => {
            "the service is already installed: `galaxy-ha service uninstall` first, then \
             install it with the new arguments"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn paths(manifests: &str, state_dir: Option<&str>, log_dir: Option<&str>) -> Paths {
        Paths {
            manifests: manifests.into(),
            state_dir: state_dir.map(PathBuf::from),
            log_dir: log_dir.map(PathBuf::from),
        }
    }

    #[test]
    fn path_flags_in_every_spelling_are_replaced_by_the_absolute_ones() {
        for given in [
            &["-m", "manifests", "--listen", "0.0.0.0:9440"][..],
            &["--manifests", "manifests", "--listen", "0.0.0.0:9440"],
            &["--manifests=manifests", "--listen", "0.0.0.0:9440"],
            &["-mmanifests", "--listen", "0.0.0.0:9440"],
            &["-m=manifests", "--listen", "0.0.0.0:9440"],
            &[
                "--listen",
                "0.0.0.0:9440",
                "--state-dir",
                "s",
                "-m",
                "manifests",
            ],
            &[
                "--state-dir=s",
                "--listen",
                "0.0.0.0:9440",
                "-m",
                "manifests",
            ],
            &[
                "--log-dir",
                "l",
                "--listen",
                "0.0.0.0:9440",
                "-m",
                "manifests",
            ],
            &["--log-dir=l", "-m", "manifests", "--listen", "0.0.0.0:9440"],
        ] {
            assert_eq!(
                run_arguments(
                    &args(given),
                    &paths("/srv/m", Some("/var/s"), Some("/var/l"))
                ),
                args(&[
                    "-m",
                    "/srv/m",
                    "--state-dir",
                    "/var/s",
                    "--log-dir",
                    "/var/l",
                    "--listen",
                    "0.0.0.0:9440"
                ]),
                "{given:?}"
            );
        }
    }

    #[test]
    fn other_arguments_keep_their_order_and_values() {
        assert_eq!(
            run_arguments(
                &args(&[
                    "--site",
                    "hq",
                    "-m",
                    "m",
                    "--dry-run",
                    "--log-format",
                    "json"
                ]),
                &paths("/srv/m", None, None),
            ),
            args(&[
                "-m",
                "/srv/m",
                "--site",
                "hq",
                "--dry-run",
                "--log-format",
                "json"
            ])
        );
    }

    #[test]
    fn the_service_control_manager_starts_run_as_a_service_with_its_dirs() {
        assert_eq!(
            launch_arguments(
                &args(&["-m", r"manifests", "--no-listen", "--windows-service"]),
                &paths(
                    r"C:\galaxy-ha\manifests",
                    Some(r"C:\ProgramData\galaxy-ha\state"),
                    Some(r"C:\ProgramData\galaxy-ha\logs"),
                ),
            ),
            args(&[
                "run",
                "--windows-service",
                "-m",
                r"C:\galaxy-ha\manifests",
                "--state-dir",
                r"C:\ProgramData\galaxy-ha\state",
                "--log-dir",
                r"C:\ProgramData\galaxy-ha\logs",
                "--no-listen",
            ])
        );
    }

    #[test]
    fn common_refusals_say_what_to_do() {
        assert!(scm_hint(5).unwrap().contains("Run as administrator"));
        assert!(scm_hint(1073).unwrap().contains("service uninstall"));
        assert_eq!(scm_hint(2), None);
    }
}
