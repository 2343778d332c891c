//! `galaxy-ha doctor`: checks that each host has what the PowerShell platform needs, and
//! says how to fix what is missing; compares what Carbonite returns with the model of its
//! PowerShell surface; with `--capture FILE`, writes what the read-only cmdlets returned,
//! redacted, for the test suite to replay.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;

use crate::commands::Exit;
use crate::manifest::spec::{PlatformKind, RunnerKind};
use crate::platform::powershell::capture::Capture;
use crate::platform::powershell::{
    DoctorReport, PowershellPlatform, PowershellRunner, Runner, names,
};
use crate::settings::SiteArgs;

pub fn run(args: &SiteArgs, capture: Option<&Path>) -> anyhow::Result<Exit> {
    let settings = args.resolve()?;
    let mut all_good = true;
    let mut captures = Vec::new();
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
        let (text, good_sessions) = session_report(site, platform.runner());
        print!("{text}");
        let taken = Capture::new(&site.name, spec, platform.capture());
        let (text, good_model) = model_report(&taken);
        print!("{text}");
        all_good &= good && good_sessions && good_model;
        captures.push(taken);
    }
    if let Some(path) = capture {
        let value = match captures.as_slice() {
            [] => anyhow::bail!(
                "--capture {}: no site on the PowerShell platform to capture",
                path.display()
            ),
            [one] => serde_json::to_value(one)?,
            many => serde_json::to_value(many)?,
        };
        let text = serde_json::to_string_pretty(&value)?;
        std::fs::write(path, text + "\n")
            .with_context(|| format!("--capture: cannot write {}", path.display()))?;
        println!("capture written to {}", path.display());
    }
    Ok(if all_good {
        Exit::Success
    } else {
        Exit::Failed
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
    (out, good)
}

/// Whether each host's doctor script ran in a warm session (`session.mode: warm`): the
/// session host relies on what no test here can run, so the doctor shows it works.
fn session_report(site: &crate::manifest::Site, runner: &PowershellRunner) -> (String, bool) {
    let mut out = String::new();
    if !runner.warm() {
        return (out, true);
    }
    let warm: Vec<String> = runner.session_ids().into_iter().map(|(h, _)| h).collect();
    let mut good = true;
    for h in &site.manifest.spec.hosts {
        let target = &h.name;
        if warm.iter().any(|w| w == target.as_str()) {
            let _ = writeln!(out, "  {target}: ok warm PowerShell session");
        } else if let Some(why) = runner.session_trouble(target) {
            good = false;
            let _ = writeln!(
                out,
                "  {target}: FAIL warm PowerShell session: {why} (its scripts ran one process each)"
            );
            let _ = writeln!(
                out,
                "    fix: see docs/powershell.md; until it is fixed, set spec.platform.powershell.session.mode: perScript"
            );
        }
    }
    (out, good)
}

/// What the hosts returned against the model, and the names still to settle on a real
/// install with the values the hosts gave for them.
pub fn model_report(capture: &Capture) -> (String, bool) {
    let mut out = String::new();
    for h in &capture.hosts {
        if let Some(e) = &h.raw_error {
            let _ = writeln!(
                out,
                "  {}: note Carbonite's objects could not be read for the model check: {e}",
                h.host
            );
        }
    }
    for f in &capture.findings {
        let _ = writeln!(
            out,
            "  {}: FAIL model {}: {} {}",
            f.host, capture.model, f.path, f.problem
        );
        let _ = writeln!(out, "    fix: {}", f.fix);
    }
    for (name, why) in names::unverified() {
        let prop = name.value.rsplit('.').next().unwrap_or(name.value);
        let seen: Vec<String> = capture
            .hosts
            .iter()
            .filter_map(|h| find_key(&h.raw, prop).map(|v| format!("{}: {v}", h.host)))
            .collect();
        let _ = writeln!(
            out,
            "  unverified {} ({why}); seen: {}",
            name.value,
            if seen.is_empty() {
                "nothing yet (no job or setting on the hosts)".to_string()
            } else {
                seen.join("; ")
            }
        );
    }
    (out, capture.findings.is_empty())
}

/// The first value under `key` anywhere in `v`.
fn find_key(v: &serde_json::Value, key: &str) -> Option<String> {
    match v {
        serde_json::Value::Object(map) => map
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.to_string())
            .or_else(|| map.values().find_map(|v| find_key(v, key))),
        serde_json::Value::Array(items) => items.iter().find_map(|v| find_key(v, key)),
        _ => None,
    }
}
