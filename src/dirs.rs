//! Where galaxy-ha keeps its state and logs when not told. The service and an
//! administrator's console must find the same state, whatever directory each started in, so
//! that the command an alert names runs as written; and the state must not sit inside the
//! manifests' git checkout, where `git clean -fdx` would wipe the remembered live host and
//! the journal.
//!
//! On Windows both live under `%ProgramData%\galaxy-ha` (the service runs as LocalSystem,
//! started in `System32`). On Unix logs go to standard error (systemd's journal keeps them)
//! and the state dir is, in order: the service's `/var/lib/galaxy-ha` when it exists (the
//! unit's `StateDirectory`); `.galaxy-ha/` beside the manifests when it exists (kept by an
//! earlier run: state is never abandoned); `.galaxy-ha/` beside the manifests when they are
//! not in a git work tree; else `$XDG_STATE_HOME/galaxy-ha/PATH` (`~/.local/state/...`),
//! PATH naming the manifests' directory, outside the work tree.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The state dir when neither `--state-dir` nor `GALAXY_HA_STATE_DIR` names one.
pub fn state_dir(manifests: &Path) -> PathBuf {
    if cfg!(windows) {
        return service_state_dir();
    }
    unix_state_dir(manifests, Path::new(SERVICE_STATE_DIR), user_state_home())
}

/// The installed service's state dir: where a command given no manifests looks for the
/// service's record of them (`store::served`).
pub fn service_state_dir() -> PathBuf {
    if cfg!(windows) {
        windows_home(std::env::var_os("ProgramData").as_deref()).join("state")
    } else {
        PathBuf::from(SERVICE_STATE_DIR)
    }
}

/// The Linux service's state dir (its unit's `StateDirectory`).
pub const SERVICE_STATE_DIR: &str = "/var/lib/galaxy-ha";

/// `$XDG_STATE_HOME`, else `~/.local/state`.
fn user_state_home() -> Option<PathBuf> {
    std::env::var_os("XDG_STATE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|d| !d.is_empty())
                .map(|h| PathBuf::from(h).join(".local").join("state"))
        })
}

/// The directory the manifests are in (`manifests` may name a file or a directory).
fn manifests_dir(manifests: &Path) -> &Path {
    let base = if manifests.is_dir() {
        manifests
    } else {
        manifests.parent().unwrap_or(Path::new("."))
    };
    if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    }
}

/// The root of the git work tree `dir` is in, if any (a `.git` directory or file).
pub fn git_work_tree(dir: &Path) -> Option<PathBuf> {
    let dir = std::path::absolute(dir).ok()?;
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

fn unix_state_dir(manifests: &Path, service: &Path, user_state: Option<PathBuf>) -> PathBuf {
    if service.is_dir() {
        return service.to_path_buf();
    }
    let base = manifests_dir(manifests);
    let beside = base.join(".galaxy-ha");
    if beside.is_dir() || git_work_tree(base).is_none() {
        return beside;
    }
    let absolute = std::path::absolute(base).unwrap_or_else(|_| base.to_path_buf());
    let key: String = absolute
        .to_string_lossy()
        .trim_start_matches('/')
        .replace('/', "%");
    match user_state {
        Some(home) => home.join("galaxy-ha").join(key),
        None => std::env::temp_dir().join("galaxy-ha").join(key),
    }
}

/// Says so when `state_dir` is inside a git work tree (state an earlier version kept beside
/// the manifests): `git clean -fdx` there deletes the remembered live host and the journal.
pub fn inside_git_warning(state_dir: &Path) -> Option<String> {
    let root = git_work_tree(state_dir.parent().unwrap_or(state_dir))?;
    Some(format!(
        "the state dir {} is inside the git work tree {}: `git clean -fdx` there would delete the remembered live host and the journal. Move it out (stop the controller, move the directory, and give --state-dir or GALAXY_HA_STATE_DIR)",
        state_dir.display(),
        root.display()
    ))
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
    fn on_unix_the_state_dir_is_beside_the_manifests_unless_they_are_in_a_git_work_tree() {
        let dir = tempfile::tempdir().unwrap();
        let none = dir.path().join("no-service");
        let home = dir.path().join("state-home");
        let at = |m: &Path| unix_state_dir(m, &none, Some(home.clone()));
        let plain = dir.path().join("plain");
        std::fs::create_dir_all(&plain).unwrap();
        assert_eq!(at(&plain), plain.join(".galaxy-ha"));
        assert_eq!(at(&plain.join("hq.yaml")), plain.join(".galaxy-ha"));
        assert_eq!(manifests_dir(Path::new("hq.yaml")), Path::new("."));
        // In a git checkout: outside the work tree, one directory per manifests directory.
        let repo = dir.path().join("repo");
        let manifests = repo.join("manifests");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(&manifests).unwrap();
        let state = at(&manifests);
        assert!(
            state.starts_with(home.join("galaxy-ha")),
            "{}",
            state.display()
        );
        assert!(git_work_tree(state.parent().unwrap()).is_none());
        assert_ne!(state, at(&plain));
        assert!(inside_git_warning(&state).is_none());
        // State an earlier version kept beside them is used, with a warning.
        std::fs::create_dir_all(manifests.join(".galaxy-ha")).unwrap();
        assert_eq!(at(&manifests), manifests.join(".galaxy-ha"));
        assert!(
            inside_git_warning(&manifests.join(".galaxy-ha"))
                .is_some_and(|w| w.contains("git clean -fdx"))
        );
        // An installed service's state dir is everybody's.
        let service = dir.path().join("service-state");
        std::fs::create_dir_all(&service).unwrap();
        assert_eq!(unix_state_dir(&plain, &service, None), service);
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
