//! The secrets a manifest points to (`passwordFrom`, `credentialFrom`), checked before they
//! are needed: the first alert is normally the failover alert, too late to find out that
//! the SMTP password file is missing.

use std::path::Path;

use super::positions::Positions;
use super::spec::{SecretSource, SiteSpec};
use super::{Diagnostic, Site};

/// Each secret of `spec` with the YAML path of the field that names it.
pub fn sources(spec: &SiteSpec) -> Vec<(&'static str, SecretSource)> {
    let mut out = Vec::new();
    if let Some(s) = spec
        .notifications
        .as_ref()
        .and_then(|n| n.email.as_ref())
        .and_then(|e| e.smtp.password_from.clone())
    {
        out.push(("spec.notifications.email.smtp.passwordFrom", s));
    }
    if let Some(s) = spec
        .platform
        .powershell
        .as_ref()
        .and_then(|ps| ps.credential_from.clone())
    {
        out.push(("spec.platform.powershell.credentialFrom", s));
    }
    out
}

/// Every secret of `site` that cannot be used, located in its manifest. Reads each secret
/// (never blocking) and forgets it at once.
pub fn check(site: &Site) -> Vec<Diagnostic> {
    let problems: Vec<(&str, String)> = sources(&site.manifest.spec)
        .into_iter()
        .filter_map(|(path, source)| {
            crate::secret_file::resolve(&source)
                .err()
                .map(|e| (path, e.to_string()))
        })
        .collect();
    if problems.is_empty() {
        return Vec::new();
    }
    let positions = positions(&site.path);
    problems
        .into_iter()
        .map(|(path, message)| Diagnostic {
            file: site.path.clone(),
            position: positions.as_ref().map(|p| p.locate(path)),
            path: path.to_string(),
            message,
        })
        .collect()
}

/// The positions of the manifest as it is on disk now, if it can still be read.
fn positions(file: &Path) -> Option<Positions> {
    let bytes = std::fs::read(file).ok()?;
    if bytes.len() > super::MAX_MANIFEST_BYTES {
        return None;
    }
    Some(Positions::of(std::str::from_utf8(&bytes).ok()?))
}
