//! The programs some tests drive: the SMTP server and the OpenMetrics parser (Python), etcd
//! and headless Chromium. `scripts/test` finds or installs each and names it in an
//! environment variable; without it the usual places are searched. A program that is
//! missing fails the test that needs it with how to get it: no test skips silently.

use std::path::{Path, PathBuf};

/// Where each program was looked for, for the failure message.
fn find(variable: &str, candidates: &[&str], what: &str) -> PathBuf {
    if let Some(set) = std::env::var_os(variable) {
        return PathBuf::from(set);
    }
    for candidate in candidates {
        let path = Path::new(candidate);
        if path.is_absolute() {
            if path.exists() {
                return path.to_path_buf();
            }
        } else if let Some(found) = on_path(candidate) {
            return found;
        }
    }
    panic!(
        "{what} is needed by this test and was not found (looked for {}); run the tests with \
         scripts/test, which installs it, or set {variable} to it",
        candidates.join(", ")
    )
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A Python 3 with `aiosmtpd` and `prometheus_client` (Debian's packages live beside the
/// system interpreter, so it comes first).
pub fn python() -> PathBuf {
    find(
        "GALAXY_HA_TEST_PYTHON",
        &["/usr/bin/python3", "python3"],
        "Python 3 with aiosmtpd and prometheus_client",
    )
}

/// etcd's server.
pub fn etcd() -> PathBuf {
    find(
        "GALAXY_HA_TEST_ETCD",
        &["/usr/bin/etcd", "etcd"],
        "etcd (Debian: etcd-server)",
    )
}

/// Chromium or Chrome, run headless.
pub fn chromium() -> PathBuf {
    find(
        "GALAXY_HA_TEST_CHROMIUM",
        &[
            "/usr/bin/chromium",
            "/usr/bin/chromium-browser",
            "/usr/bin/google-chrome",
            "chromium",
            "chromium-browser",
            "google-chrome",
        ],
        "headless Chromium (Debian: chromium)",
    )
}
