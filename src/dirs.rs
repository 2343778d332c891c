//! Where galaxy-ha keeps its state and logs when not told. On Unix the state dir is
//! `.galaxy-ha/` beside the manifests (README, Commands) and logs go to standard error, which
//! systemd's journal keeps. On Windows both live under `%ProgramData%\galaxy-ha`: the service
//! (LocalSystem, started in `System32`) and an administrator's console then find the same
//! state, whatever directory each started in.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The state dir when neither `--state-dir` nor `GALAXY_HA_STATE_DIR` names one.
pub fn state_dir(manifests: &Path) -> PathBuf {
    if cfg!(windows) {
        return windows_home(std::env::var_os("ProgramData").as_deref()).join("state");
    }
    let base = if manifests.is_dir() {
        manifests
    } else {
        manifests.parent().unwrap_or(Path::new("."))
    };
    let base = if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    };
    base.join(".galaxy-ha")
}

/// Where the controllers of this machine lock the pairs they drive, whatever their state
/// dirs: one place for every account (`/run/lock`, else the temp dir; `%ProgramData%` on
/// Windows). `GALAXY_HA_PAIR_LOCK_DIR` names another (tests, or a machine without them).
pub fn pair_lock_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(PAIR_LOCK_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if cfg!(windows) {
        return windows_home(std::env::var_os("ProgramData").as_deref()).join("pairs");
    }
    let run_lock = Path::new("/run/lock");
    if run_lock.is_dir() {
        run_lock.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// Names the directory of [`pair_lock_dir`].
pub const PAIR_LOCK_DIR_ENV: &str = "GALAXY_HA_PAIR_LOCK_DIR";

/// The directory of the rolling log file when `--log-dir` names none: on Windows, where an
/// administrator looks for a service's logs; elsewhere none (standard error only).
pub fn log_dir() -> Option<PathBuf> {
    cfg!(windows).then(|| windows_home(std::env::var_os("ProgramData").as_deref()).join("logs"))
}

/// `%ProgramData%\galaxy-ha`, or `C:\ProgramData\galaxy-ha` when the variable is unset (a
/// service started with an empty environment).
pub fn windows_home(program_data: Option<&OsStr>) -> PathBuf {
    let base = program_data
        .filter(|p| !p.is_empty())
        .map_or_else(|| PathBuf::from(r"C:\ProgramData"), PathBuf::from);
    base.join("galaxy-ha")
}

/// `STATE/sites/SITE/`: a site's memory, journal and last good manifest.
pub fn site_dir(state_dir: &Path, site: &str) -> PathBuf {
    state_dir.join("sites").join(site)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_windows_home_is_under_program_data_or_its_usual_place() {
        assert_eq!(
            windows_home(Some(OsStr::new(r"D:\Data"))),
            PathBuf::from(r"D:\Data").join("galaxy-ha")
        );
        assert_eq!(
            windows_home(None),
            PathBuf::from(r"C:\ProgramData").join("galaxy-ha")
        );
        assert_eq!(
            windows_home(Some(OsStr::new(""))),
            PathBuf::from(r"C:\ProgramData").join("galaxy-ha")
        );
    }

    #[cfg(unix)]
    #[test]
    fn on_unix_the_state_dir_is_beside_the_manifests_and_there_is_no_log_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(state_dir(dir.path()), dir.path().join(".galaxy-ha"));
        let file = dir.path().join("hq.yaml");
        assert_eq!(state_dir(&file), dir.path().join(".galaxy-ha"));
        assert_eq!(
            state_dir(Path::new("hq.yaml")),
            Path::new(".").join(".galaxy-ha")
        );
        assert_eq!(log_dir(), None);
    }

    #[cfg(windows)]
    #[test]
    fn on_windows_state_and_logs_are_under_program_data() {
        let home = windows_home(std::env::var_os("ProgramData").as_deref());
        assert_eq!(state_dir(Path::new("manifests")), home.join("state"));
        assert_eq!(log_dir(), Some(home.join("logs")));
    }
}
