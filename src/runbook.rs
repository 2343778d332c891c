//! Where the runbook is, as an absolute link: alert e-mails and `status` are read on a phone,
//! where a path relative to a checkout leads nowhere.
//!
//! The base is `--runbook-url` (or `GALAXY_HA_RUNBOOK_URL`), e.g. the runbook published on
//! the intranet; by default the runbook installed beside the program
//! (`galaxy-ha.exe`'s `docs\runbook.md`), else the one of the source tree it was built from.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

static BASE: OnceLock<String> = OnceLock::new();

/// Sets the base once, at start-up; later calls change nothing.
pub fn init(url: Option<&str>) {
    let base = match url.map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => u.trim_end_matches('#').to_string(),
        None => installed().unwrap_or_else(built),
    };
    let _ = BASE.set(base);
}

/// The runbook's address, without an anchor.
pub fn base() -> &'static str {
    BASE.get_or_init(built)
}

/// The address of one section: `BASE#anchor`. Made once per anchor and kept for the
/// process's life: every condition of every site's status carries one, and anchors are a
/// small fixed set (one per condition and per alert kind), so ten thousand sites share a
/// few dozen strings instead of holding seventy thousand copies.
pub fn link(anchor: &str) -> &'static str {
    static LINKS: Mutex<BTreeMap<String, &'static str>> = Mutex::new(BTreeMap::new());
    let mut links = LINKS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(link) = links.get(anchor) {
        return link;
    }
    let link: &'static str = format!("{}#{anchor}", base()).leak();
    links.insert(anchor.to_string(), link);
    link
}

/// `docs/runbook.md` beside the running program, as a `file:` URL.
fn installed() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    [dir.join("docs"), dir.join("..").join("docs")]
        .into_iter()
        .map(|d| d.join("runbook.md"))
        .find(|p| p.is_file())
        .and_then(|p| p.canonicalize().ok())
        .map(|p| file_url(&p))
}

/// The runbook of the source tree this program was built from.
fn built() -> String {
    file_url(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs")
            .join("runbook.md"),
    )
}

/// A `file:` URL for an absolute path, on Windows (`file:///C:/…`) as elsewhere.
fn file_url(path: &Path) -> String {
    let text = path.display().to_string().replace('\\', "/");
    let text = text.strip_prefix("//?/").unwrap_or(&text);
    let encoded = text.replace(' ', "%20");
    if encoded.starts_with('/') {
        format!("file://{encoded}")
    } else {
        format!("file:///{encoded}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls_are_absolute_on_every_system() {
        assert_eq!(
            file_url(Path::new("/opt/galaxy ha/docs/runbook.md")),
            "file:///opt/galaxy%20ha/docs/runbook.md"
        );
        assert_eq!(
            file_url(Path::new(r"C:\Program Files\galaxy-ha\docs\runbook.md")),
            "file:///C:/Program%20Files/galaxy-ha/docs/runbook.md"
        );
    }

    #[test]
    fn links_join_the_base_and_the_anchor() {
        assert!(link("alert-test").ends_with("runbook.md#alert-test"));
        assert!(base().contains("://"), "{}", base());
    }
}
