//! The manifests of a directory loaded each on its own, as the controller and `status` need
//! them: one invalid file must not hide the valid sites beside it, and each invalid file is
//! kept with its errors so its site can fall back on its last good manifest.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Site;
use super::diagnostic::Invalid;

/// A file's stamp and what loading it gave. Sites are shared, not copied, with the
/// controller that manages them: an unchanged file costs no second copy of its manifest.
pub type Parsed = HashMap<
    PathBuf,
    (
        (std::time::SystemTime, u64),
        Result<Vec<Arc<Site>>, Invalid>,
    ),
>;

/// The manifests of the directory, each loaded on its own: good sites and invalid files.
pub struct Loaded {
    pub sites: Vec<Arc<Site>>,
    pub invalid: Vec<(PathBuf, Invalid)>,
    /// The files parsed anew (not taken from the cache): new or changed since last time.
    pub fresh: Vec<PathBuf>,
}

/// Loads each manifest file of `manifests` on its own, parsing again only the files whose
/// modified time or length changed since `cache`. A site name, host or address another file
/// claims already ([`super::claims`]) is an error of the later file, where the sites in
/// `managed` claim first: a manifest added for a pair that is managed already is refused,
/// whatever the order of the file names, and the managed site keeps running alone. With
/// `only`, the other valid sites are left out. A path that cannot be listed gives nothing:
/// the caller says what it expected to find.
pub fn load(
    manifests: &Path,
    only: Option<&str>,
    cache: &mut Parsed,
    managed: &[impl Borrow<Site>],
) -> Loaded {
    let files = super::manifest_files(&[manifests.to_path_buf()]).unwrap_or_default();
    let listed: HashSet<&PathBuf> = files.iter().collect();
    cache.retain(|path, _| listed.contains(path));
    let mut loaded = Loaded {
        sites: Vec::new(),
        invalid: Vec::new(),
        fresh: Vec::new(),
    };
    let mut claims = super::claims::Claims::default();
    for site in managed.iter().map(|s| s.borrow()) {
        claims.claim(&site.path, &site.manifest, None);
    }
    for file in files {
        let stamp = std::fs::metadata(&file)
            .and_then(|m| Ok((m.modified()?, m.len())))
            .ok();
        let result = match (stamp, cache.get(&file)) {
            (Some(stamp), Some((seen, result))) if *seen == stamp => result.clone(),
            _ => {
                loaded.fresh.push(file.clone());
                let result = super::load(std::slice::from_ref(&file))
                    .map(|sites| sites.into_iter().map(Arc::new).collect::<Vec<_>>());
                if let Some(stamp) = stamp {
                    cache.insert(file.clone(), (stamp, result.clone()));
                }
                result
            }
        };
        match result {
            Ok(sites) => {
                for site in sites {
                    let diagnostics = claims.claim(&file, &site.manifest, None);
                    if !diagnostics.is_empty() {
                        loaded.invalid.push((file.clone(), Invalid { diagnostics }));
                    } else if only.is_none_or(|n| n == site.name) {
                        loaded.sites.push(site);
                    }
                }
            }
            Err(invalid) => loaded.invalid.push((file, invalid)),
        }
    }
    loaded
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::sample::real_site_yaml;

    fn names(sites: &[Arc<Site>]) -> Vec<&str> {
        sites.iter().map(|s| s.name.as_str()).collect()
    }

    #[test]
    fn a_manifest_added_for_a_managed_pair_is_refused_whatever_its_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let zeta = real_site_yaml(
            "zeta",
            ["GCSHOSTA", "GCSHOSTB"],
            ["10.1.0.1", "10.1.0.2", "10.1.0.3"],
        );
        std::fs::write(dir.path().join("zeta.yaml"), zeta).unwrap();
        let first = load(dir.path(), None, &mut Parsed::new(), &[] as &[Site]);
        assert_eq!(names(&first.sites), ["zeta"]);
        assert!(first.invalid.is_empty());

        // `alpha.yaml` sorts first but names zeta's host: with zeta managed, alpha is refused.
        let alpha = real_site_yaml(
            "alpha",
            ["gcshosta", "GCSHOSTC"],
            ["10.2.0.1", "10.2.0.2", "10.2.0.3"],
        );
        std::fs::write(dir.path().join("alpha.yaml"), alpha).unwrap();
        let next = load(dir.path(), None, &mut Parsed::new(), &first.sites);
        assert_eq!(names(&next.sites), ["zeta"]);
        assert_eq!(next.invalid.len(), 1);
        assert!(next.invalid[0].0.ends_with("alpha.yaml"));
        let why = next.invalid[0].1.to_string();
        assert!(
            why.contains("zeta.yaml") && why.contains("gcshosta"),
            "{why}"
        );

        // Read afresh, with nothing managed, the order of the file names decides.
        let fresh = load(dir.path(), None, &mut Parsed::new(), &[] as &[Site]);
        assert_eq!(names(&fresh.sites), ["alpha"]);
    }
}
