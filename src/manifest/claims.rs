//! What a site claims that no other site may: its name and, on real hosts
//! (`kind: powershell`), its two hosts' computer names and the three addresses. Two manifests that name one host would put two controllers, or two
//! sites of one controller, on one pair: each would fence, fail over and recreate jobs
//! against the other's view. Checked across every file of a directory, by `validate`, the
//! controller and every command that loads manifests.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::Diagnostic;
use super::positions::Positions;
use super::spec::{Manifest, PlatformKind};

/// The claims of the files seen so far: each claim's key, with the file and field that made
/// it first.
#[derive(Default)]
pub struct Claims {
    first: HashMap<String, (PathBuf, String)>,
}

impl Claims {
    /// Records the claims of `manifest`, read from `file`; returns one diagnostic for each claim
    /// an earlier file made, located in `file` when its `positions` are known. A manifest with
    /// any conflict claims nothing: the earlier file keeps what it named.
    pub fn claim(
        &mut self,
        file: &Path,
        manifest: &Manifest,
        positions: Option<&Positions>,
    ) -> Vec<Diagnostic> {
        let mut found = Vec::new();
        let mut mine = Vec::new();
        for (key, field, what) in claims_of(manifest) {
            match self.first.get(&key) {
                Some((first, first_field)) if first != file => found.push(Diagnostic {
                    file: file.to_path_buf(),
                    position: positions.map(|p| p.locate(&field)),
                    message: message(&what, first, first_field),
                    path: field,
                }),
                _ => mine.push((key, field)),
            }
        }
        if found.is_empty() {
            for (key, field) in mine {
                self.first
                    .entry(key)
                    .or_insert_with(|| (file.to_path_buf(), field));
            }
        }
        found
    }
}

/// What a claim is, for the message.
enum What {
    Site(String),
    Host(String),
    Address(IpAddr),
}

fn message(what: &What, first: &Path, first_field: &str) -> String {
    match what {
        // The wording the site-name check has always had.
        What::Site(name) => format!(
            "site name {name:?} is already used by {}; each site needs a name of its own",
            first.display()
        ),
        What::Host(name) => format!(
            "host {name:?} is already {first_field} of {}; one pair is managed by one site: \
             remove one of the two manifests, or correct the host name",
            first.display()
        ),
        What::Address(ip) => format!(
            "{ip} is already {first_field} of {}; one pair is managed by one site: remove one \
             of the two manifests, or correct the address",
            first.display()
        ),
    }
}

/// Each claim's key (case-insensitive names, addresses as parsed), the field that makes it
/// and what it is. Addresses that do not parse are `validate`'s business, not a claim.
/// The pair a manifest on real hosts names (`host:NAME`, `address:IP`, lower case); none on
/// the lab, whose pairs are each site's own. What one machine's controllers lock
/// (the lock module's `PairLock`) so that two of them never drive one pair.
pub fn pair_of(manifest: &Manifest) -> Vec<String> {
    claims_of(manifest)
        .into_iter()
        .map(|(key, _, _)| key)
        .filter(|key| !key.starts_with("site:"))
        .collect()
}

fn claims_of(manifest: &Manifest) -> Vec<(String, String, What)> {
    let name = &manifest.metadata.name;
    let mut out = vec![(
        format!("site:{}", name.to_lowercase()),
        "metadata.name".to_string(),
        What::Site(name.clone()),
    )];
    let spec = &manifest.spec;
    if spec.platform.kind != PlatformKind::Powershell {
        // The lab gives each site a simulated pair of its own: names may repeat there.
        return out;
    }
    for (i, host) in spec.hosts.iter().enumerate() {
        let host_name = host.name.trim();
        if !host_name.is_empty() {
            out.push((
                format!("host:{}", host_name.to_lowercase()),
                format!("spec.hosts[{i}].name"),
                What::Host(host_name.to_string()),
            ));
        }
    }
    let addresses = spec
        .hosts
        .iter()
        .enumerate()
        .map(|(i, h)| (format!("spec.hosts[{i}].address"), &h.address))
        .chain(std::iter::once((
            "spec.vm.address".to_string(),
            &spec.vm.address,
        )));
    for (field, text) in addresses {
        if let Ok(ip) = text.trim().parse::<IpAddr>() {
            out.push((format!("address:{ip}"), field, What::Address(ip)));
        }
    }
    out
}
