//! `galaxy-ha doctor`: checks that each host has what the PowerShell platform needs, and
//! says how to fix what is missing.

use std::fmt::Write as _;

use crate::commands::Outcome;
use crate::manifest::spec::{PlatformKind, RunnerKind};
use crate::platform::powershell::{
    DoctorReport, PowershellPlatform, PowershellRunner, Runner, names,
};
use crate::settings::SiteArgs;

pub fn run(args: &SiteArgs) -> anyhow::Result<Outcome> {
    let settings = args.resolve()?;
    let mut all_good = true;
    for site in &settings.sites {
        let spec = &site.manifest.spec;
        // Secrets first, and for the lab too: alerts need the SMTP password on any platform.
        for problem in crate::manifest::secrets::check(site) {
            all_good = false;
            println!("site {}: FAIL {problem}", site.name);
        }
        if spec.platform.kind == PlatformKind::Simulated {
            println!(
                "site {}: simulated lab; there is nothing to check on hosts",
                site.name
            );
            continue;
        }
        let ps = spec.platform.powershell.clone().unwrap_or_default();
        let platform = PowershellPlatform::new(site, PowershellRunner::new(&ps));
        let (text, good) = report(&site.name, ps.runner, &platform);
        print!("{text}");
        all_good &= good;
    }
    Ok(if all_good {
        Outcome::Success
    } else {
        Outcome::Failed
    })
}

/// The doctor's findings for one site as text, and whether everything passed.
pub fn report<R: Runner>(
    site: &str,
    runner: RunnerKind,
    platform: &PowershellPlatform<R>,
) -> (String, bool) {
    let mut out = String::new();
    let mut good = true;
    let _ = writeln!(out, "site {site}:");
    for (host, result) in platform.doctor() {
        match result {
            Err(e) => {
                good = false;
                let _ = writeln!(out, "  {host}: FAIL cannot run a script: {e}");
                let how = match runner {
                    RunnerKind::Remoting => {
                        "enable remoting on the host (Enable-PSRemoting -Force), allow it in TrustedHosts or use HTTPS, and check username/credentialFrom; see docs/preparing-hosts.md"
                    }
                    RunnerKind::Local => {
                        "run galaxy-ha on Windows with Windows PowerShell 5.1, and enable remoting on the host for the controller's account; see docs/preparing-hosts.md"
                    }
                };
                let _ = writeln!(out, "    fix: {how}");
            }
            Ok(DoctorReport { checks, .. }) => {
                let _ = writeln!(out, "  {host}: ok remoting reachable");
                for c in checks {
                    if c.ok {
                        let _ = writeln!(out, "  {host}: ok {} ({})", c.name, c.detail);
                    } else {
                        good = false;
                        let _ = writeln!(out, "  {host}: FAIL {} ({})", c.name, c.detail);
                        let _ = writeln!(out, "    fix: {}", c.fix);
                    }
                }
            }
        }
    }
    let unverified: Vec<&str> = names::unverified().map(|n| n.value).collect();
    let _ = writeln!(
        out,
        "  note: {} Carbonite property names are unverified (src/platform/powershell/names.rs): {}",
        unverified.len(),
        unverified.join(", ")
    );
    (out, good)
}
