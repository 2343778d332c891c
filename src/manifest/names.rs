//! Renders the job, replica and path templates for one replication direction.

use super::spec::SiteSpec;
use crate::model::names::VmName;

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 5] = ["vm", "source", "target", "vm_address", "site"];

/// The names of a job replicating from `source` to `target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobNames {
    pub job: String,
    pub replica: VmName,
    pub replica_path: String,
}

/// Renders the three templates for one direction. Unknown placeholders are left as they
/// are: validation rejects them before a `SiteSpec` reaches here.
pub fn job_names(site: &str, spec: &SiteSpec, source: &str, target: &str) -> JobNames {
    let r = |t: &str| render(t, site, &spec.vm.name, &spec.vm.address, source, target);
    JobNames {
        job: r(&spec.replication.job_name),
        replica: r(&spec.replication.replica_name).into(),
        replica_path: r(&spec.replication.replica_path),
    }
}

/// Replaces each `{placeholder}` in `template`.
pub fn render(
    template: &str,
    site: &str,
    vm: &str,
    vm_address: &str,
    source: &str,
    target: &str,
) -> String {
    template
        .replace("{vm_address}", vm_address)
        .replace("{vm}", vm)
        .replace("{source}", source)
        .replace("{target}", target)
        .replace("{site}", site)
}

/// Placeholders in `template` that are not known, in order of appearance.
pub fn unknown_placeholders(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                if !PLACEHOLDERS.contains(&name) {
                    out.push(name.to_string());
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push(after.to_string());
                break;
            }
        }
    }
    out
}
