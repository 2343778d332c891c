//! The semantic rules of a manifest (docs/manifest.md), checked all at once on a parsed `Manifest`.
//! Pure: no I/O; problems carry a YAML path that the loader turns into a line and column.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;

use super::names::{render, unknown_placeholders};
use super::spec::{EmailSpec, Manifest, PlatformKind, RunnerKind, SecretSource, SiteSpec};

/// One semantic problem: where (YAML path) and what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

/// Collects problems; paths are built by the rules.
#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }
}

/// Every semantic problem of `manifest`, in document order of the rules; empty when valid.
pub fn validate(manifest: &Manifest) -> Vec<Problem> {
    let mut p = Problems::default();
    site_name(&mut p, &manifest.metadata.name);
    let spec = &manifest.spec;
    platform(&mut p, spec);
    let addresses = hosts_and_vm(&mut p, spec);
    network(&mut p, spec, &addresses);
    failover(&mut p, spec);
    durations(&mut p, spec);
    templates(&mut p, &manifest.metadata.name, spec);
    services(&mut p, spec);
    ports(&mut p, spec);
    hooks(&mut p, spec);
    if let Some(email) = spec.notifications.as_ref().and_then(|n| n.email.as_ref()) {
        email_rules(&mut p, email);
    }
    if let Some(m) = &spec.maintenance
        && m.reason.trim().is_empty()
    {
        p.add(
            "spec.maintenance.reason",
            "empty; say why (status shows it), e.g. \"SQL Server patching\"",
        );
    }
    if let Some(host) = spec.maintenance.as_ref().and_then(|m| m.host.as_ref())
        && spec.host(host).is_none()
    {
        let names: Vec<&str> = spec.hosts.iter().map(|h| h.name.as_str()).collect();
        p.add(
            "spec.maintenance.host",
            format!(
                "{host:?} is not a host of this site; name one of {} or leave it out for the whole site",
                names.join(", ")
            ),
        );
    }
    p.0
}

/// Whether `name` can name a site: it becomes a state directory and appears in commands.
pub fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn site_name(p: &mut Problems, name: &str) {
    if name.trim().is_empty() {
        p.add(
            "metadata.name",
            "empty; name the site, e.g. `hq` (letters, digits, '.', '_', '-')",
        );
    } else if !is_safe_name(name) {
        p.add(
            "metadata.name",
            format!(
                "{name:?} cannot be a site name: it names a state directory, so use only letters, \
                 digits, '.', '_' and '-', e.g. {:?}",
                suggest_name(name)
            ),
        );
    }
}

fn suggest_name(name: &str) -> String {
    let s: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches(['-', '.']).to_string();
    if s.is_empty() { "hq".to_string() } else { s }
}

/// The three addresses that parsed, with the path each was read from.
type Addresses = Vec<(String, IpAddr)>;

fn hosts_and_vm(p: &mut Problems, spec: &SiteSpec) -> Addresses {
    let n = spec.hosts.len();
    if n != 2 {
        p.add(
            "spec.hosts",
            format!(
                "{n} host{} given; a site has exactly two Hyper-V hosts (the live host and the \
                 standby host){}",
                if n == 1 { "" } else { "s" },
                if n > 2 {
                    "; put each further pair in a manifest of its own"
                } else {
                    "; list both"
                }
            ),
        );
    }
    let mut addresses: Addresses = Vec::new();
    let mut seen_names: Vec<(usize, &str)> = Vec::new();
    for (i, host) in spec.hosts.iter().enumerate() {
        let path = format!("spec.hosts[{i}]");
        let name = host.name.trim();
        if name.is_empty() {
            p.add(
                format!("{path}.name"),
                "empty; give the host's Windows computer name, e.g. GCSHOSTA",
            );
        } else if let Some((j, first)) = seen_names
            .iter()
            .find(|(_, s)| s.eq_ignore_ascii_case(name))
        {
            p.add(
                format!("{path}.name"),
                format!(
                    "{name:?} is the same host as spec.hosts[{j}].name {first:?} (Windows compares \
                     computer names without regard to case); give the second host its own name"
                ),
            );
        } else {
            seen_names.push((i, name));
        }
        if let Some(ip) = address(p, &format!("{path}.address"), &host.address) {
            addresses.push((format!("{path}.address"), ip));
        }
    }
    if spec.vm.name.trim().is_empty() {
        p.add(
            "spec.vm.name",
            "empty; give the Hyper-V name of the System Galaxy VM, e.g. GCSServer",
        );
    }
    if let Some(ip) = address(p, "spec.vm.address", &spec.vm.address) {
        addresses.push(("spec.vm.address".into(), ip));
    }
    for (i, (path, ip)) in addresses.iter().enumerate() {
        if let Some((first, _)) = addresses[..i].iter().find(|(_, other)| other == ip) {
            p.add(
                path.clone(),
                format!(
                    "{ip} is already the address of {first}; the two hosts and the VM need three \
                     different addresses"
                ),
            );
        }
    }
    let primary = spec.primary.trim();
    if primary.is_empty() {
        p.add(
            "spec.primary",
            "empty; name the host that should run System Galaxy (one of spec.hosts)",
        );
    } else if !spec.hosts.is_empty() && spec.host(primary).is_none() {
        let names: Vec<&str> = spec.hosts.iter().map(|h| h.name.as_str()).collect();
        p.add(
            "spec.primary",
            format!(
                "{primary:?} is not one of the hosts ({}); set it to the host that should run System Galaxy",
                names.join(", ")
            ),
        );
    }
    addresses
}

fn address(p: &mut Problems, path: &str, text: &str) -> Option<IpAddr> {
    match text.trim().parse::<IpAddr>() {
        Ok(ip) => Some(ip),
        Err(_) => {
            p.add(
                path,
                format!(
                    "{text:?} is not an IP address; write a static address such as 10.100.0.43"
                ),
            );
            None
        }
    }
}

fn network(p: &mut Problems, spec: &SiteSpec, addresses: &Addresses) {
    let Some(net) = &spec.network else { return };
    match net.prefix.trim().parse::<IpNet>() {
        Err(_) => p.add(
            "spec.network.prefix",
            format!(
                "{:?} is not a network prefix; write it in CIDR form, e.g. 10.100.0.0/24",
                net.prefix
            ),
        ),
        Ok(prefix) => {
            for (path, ip) in addresses {
                if !prefix.contains(ip) {
                    p.add(
                        path.clone(),
                        format!(
                            "{ip} is outside spec.network.prefix {prefix}; correct the address or the prefix"
                        ),
                    );
                }
            }
        }
    }
}

fn failover(p: &mut Problems, spec: &SiteSpec) {
    let m = &spec.failover.monitor;
    const MON: &str = "spec.failover.monitor";
    if m.interval.is_zero() {
        p.add(
            format!("{MON}.interval"),
            "is 0; the monitor needs an interval above zero, e.g. 10s (the guide's default)",
        );
    }
    match (m.total_time_to_failure, m.consecutive_failures) {
        (Some(_), Some(_)) => p.add(
            format!("{MON}.consecutiveFailures"),
            "given together with totalTimeToFailure; the failover monitor counts one or the other, remove one",
        ),
        (Some(total), None) if total < m.interval => p.add(
            format!("{MON}.totalTimeToFailure"),
            format!(
                "{} is shorter than the monitor interval {}; make it at least the interval (the guide: 5m with 10s)",
                human(total),
                human(m.interval)
            ),
        ),
        (None, Some(0)) => p.add(
            format!("{MON}.consecutiveFailures"),
            "is 0; give at least 1 (the guide suggests 20)",
        ),
        _ => {}
    }
    if let Some(d) = spec.failover.max_data_loss
        && d.is_zero()
    {
        p.add(
            "spec.failover.maxDataLoss",
            "is 0, which would block every automatic failover; give the data loss you accept, e.g. 30s, or remove it",
        );
    }
    if spec.rpo_target.is_some_and(|d| d.is_zero()) {
        p.add(
            "spec.rpoTarget",
            "is 0, which no replication meets; give the data loss the site accepts, e.g. 30s, or remove it",
        );
    }
    if let Some(s) = spec.snapshots {
        if s.every.is_zero() {
            p.add(
                "spec.snapshots.every",
                "is 0; give how often Carbonite takes a snapshot, e.g. 1h",
            );
        }
        if !(1..=64).contains(&s.keep) {
            p.add(
                "spec.snapshots.keep",
                format!(
                    "is {}; keep 1 to 64 snapshots (64 is the most Windows' Volume Shadow Copy Service keeps of a volume)",
                    s.keep
                ),
            );
        }
    }
    if spec.failover.on_bad_data == super::spec::OnBadData::Snapshot && spec.snapshots.is_none() {
        p.add(
            "spec.failover.onBadData",
            "is snapshot, but there are no snapshots to fail over to; add spec.snapshots (e.g. every: 1h, keep: 24) or set onBadData: wait",
        );
    }
    if let Some(d) = spec.drills.as_ref().and_then(|d| d.test_failover_every)
        && d.is_zero()
    {
        p.add(
            "spec.drills.testFailoverEvery",
            "is 0; give how often to test failover, e.g. 90d, or remove it",
        );
    }
}

/// Every duration of the manifest within the one bound ([`crate::duration::MAX`]).
fn durations(p: &mut Problems, spec: &SiteSpec) {
    let m = &spec.failover.monitor;
    let all = [
        ("spec.failover.monitor.interval", Some(m.interval)),
        (
            "spec.failover.monitor.totalTimeToFailure",
            m.total_time_to_failure,
        ),
        // The time they add up to.
        (
            "spec.failover.monitor.consecutiveFailures",
            m.consecutive_failures.map(|n| m.interval.saturating_mul(n)),
        ),
        ("spec.failover.maxDataLoss", spec.failover.max_data_loss),
        (
            "spec.failover.commitWindow",
            Some(spec.failover.commit_window),
        ),
        ("spec.snapshots.every", spec.snapshots.map(|s| s.every)),
        ("spec.rpoTarget", spec.rpo_target),
        ("spec.rpoGrace", Some(spec.rpo_grace)),
        (
            "spec.drills.testFailoverEvery",
            spec.drills.as_ref().and_then(|d| d.test_failover_every),
        ),
        (
            "spec.platform.powershell.scriptTimeout",
            spec.platform
                .powershell
                .as_ref()
                .map(|ps| ps.script_timeout),
        ),
    ];
    for (path, d) in all {
        if let Some(Err(message)) = d.map(crate::duration::check) {
            p.add(path, message);
        }
    }
}

fn human(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

fn templates(p: &mut Problems, site: &str, spec: &SiteSpec) {
    let r = &spec.replication;
    const REP: &str = "spec.replication";
    let fields = [
        ("jobName", &r.job_name),
        ("replicaName", &r.replica_name),
        ("replicaPath", &r.replica_path),
    ];
    let mut all_known = true;
    for (field, template) in fields {
        if template.trim().is_empty() {
            p.add(
                format!("{REP}.{field}"),
                "empty; give a name template, e.g. \"{vm} to {target}\"",
            );
            all_known = false;
        }
        let unknown = unknown_placeholders(template);
        if !unknown.is_empty() {
            all_known = false;
            let list: Vec<String> = unknown.iter().map(|u| format!("{{{u}}}")).collect();
            p.add(
                format!("{REP}.{field}"),
                format!(
                    "unknown placeholder{} {}; use only {{vm}}, {{source}}, {{target}}, {{vm_address}} and {{site}}",
                    if list.len() == 1 { "" } else { "s" },
                    list.join(", ")
                ),
            );
        }
    }
    // The two directions need two distinct hosts to render them.
    let [a, b] = spec.hosts.as_slice() else {
        return;
    };
    if !all_known || a.name == b.name {
        return;
    }
    let both = |t: &str| {
        let ab = render(t, site, &spec.vm.name, &spec.vm.address, &a.name, &b.name);
        let ba = render(t, site, &spec.vm.name, &spec.vm.address, &b.name, &a.name);
        (ab.eq_ignore_ascii_case(&ba)).then_some(ab)
    };
    if let Some(name) = both(&r.job_name) {
        p.add(
            format!("{REP}.jobName"),
            format!(
                "renders {name:?} in both directions, but the recreated job must be renamed (the guide); \
                 include {{source}} or {{target}}"
            ),
        );
    }
    if let Some(name) = both(&r.replica_name) {
        p.add(
            format!("{REP}.replicaName"),
            format!(
                "renders {name:?} in both directions, but the new replica must not take the stale one's name; \
                 include {{source}} or {{target}}"
            ),
        );
    }
}

fn services(p: &mut Problems, spec: &SiteSpec) {
    let names: Vec<&str> = spec.services.iter().map(|s| s.name.as_str()).collect();
    service_list(p, "spec.services", ".name", &names);
    let names: Vec<&str> = spec.vm.services.iter().map(String::as_str).collect();
    service_list(p, "spec.vm.services", "", &names);
}

/// Windows service names: none blank, none twice (Windows compares them without case).
fn service_list(p: &mut Problems, field: &str, suffix: &str, names: &[&str]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        let path = format!("{field}[{i}]{suffix}");
        let name = name.trim();
        if name.is_empty() {
            p.add(
                path,
                "empty; give the Windows service name, e.g. Double-Take",
            );
        } else if let Some(first) = seen.get(&name.to_lowercase()) {
            p.add(
                path,
                format!("{name:?} is already listed as {field}[{first}]; list each service once"),
            );
        } else {
            seen.insert(name.to_lowercase(), i);
        }
    }
}

/// Each step is a command or a message, not both and not neither.
fn hooks(p: &mut Problems, spec: &SiteSpec) {
    let Some(hooks) = &spec.hooks else {
        return;
    };
    for kind in ["failover", "switchover", "rollback", "resume", "drill"] {
        for (i, step) in hooks.steps(kind).iter().enumerate() {
            let path = format!("spec.hooks.{kind}[{i}]");
            match (step.run.is_empty(), &step.message) {
                (true, None) => p.add(
                    path.clone(),
                    "empty; give `run: [PROGRAM, ARGS...]` or `message: TEXT`",
                ),
                (false, Some(_)) => p.add(
                    path.clone(),
                    "has both `run` and `message`; make them two steps",
                ),
                (false, None) if step.run[0].trim().is_empty() => p.add(
                    format!("{path}.run[0]"),
                    "empty; the first item is the program to run, e.g. powershell.exe",
                ),
                (true, Some(m)) if m.trim().is_empty() => p.add(
                    format!("{path}.message"),
                    "empty; write what on-call should do",
                ),
                _ => {}
            }
            if step.timeout.is_zero() {
                p.add(format!("{path}.timeout"), "must be more than 0s, e.g. 5m");
            }
        }
    }
}

fn port_ok(port: u32) -> bool {
    (1..=65535).contains(&port)
}

fn ports(p: &mut Problems, spec: &SiteSpec) {
    port_list(p, "spec.firewall.ports", &spec.firewall.ports);
    port_list(p, "spec.vm.ports", &spec.vm.ports);
}

fn port_list(p: &mut Problems, field: &str, ports: &[u32]) {
    let mut seen: HashMap<u32, usize> = HashMap::new();
    for (i, &port) in ports.iter().enumerate() {
        let path = format!("{field}[{i}]");
        if !port_ok(port) {
            p.add(path, format!("{port} is not a port; ports run from 1 to 65535 (the guide's are 6320, 6325, 6330, 6332)"));
        } else if let Some(first) = seen.get(&port) {
            p.add(
                path,
                format!("{port} is already listed as {field}[{first}]; list each port once"),
            );
        } else {
            seen.insert(port, i);
        }
    }
}

/// The PowerShell settings: only with `kind: powershell`, and `remoting` needs an account
/// and where its password comes from (a script must never wait for a prompt).
fn platform(p: &mut Problems, spec: &SiteSpec) {
    const PS: &str = "spec.platform.powershell";
    let Some(ps) = &spec.platform.powershell else {
        return;
    };
    if spec.platform.kind != PlatformKind::Powershell {
        p.add(
            PS,
            "PowerShell settings only apply with `kind: powershell`; set `spec.platform.kind: powershell` or remove them",
        );
    }
    match ps.runner {
        RunnerKind::Remoting => {
            if ps.username.as_deref().is_none_or(|u| u.trim().is_empty()) {
                p.add(
                    format!("{PS}.username"),
                    "`runner: remoting` needs the account scripts run as, e.g. `username: 'CORP\\svc-galaxy-ha'`",
                );
            }
            if ps.credential_from.is_none() {
                p.add(
                    format!("{PS}.credentialFrom"),
                    "`runner: remoting` needs where the account's password comes from: `credentialFrom: { env: NAME }` or `credentialFrom: { file: PATH }`",
                );
            }
        }
        RunnerKind::Local => {
            if ps.username.is_some() || ps.credential_from.is_some() {
                p.add(
                    format!("{PS}.runner"),
                    "`runner: local` runs as the controller's own Windows account and uses no credential; set `runner: remoting` or remove `username` and `credentialFrom`",
                );
            }
        }
    }
    match &ps.credential_from {
        Some(SecretSource::Env(name)) if name.trim().is_empty() => p.add(
            format!("{PS}.credentialFrom.env"),
            "empty; name the environment variable that holds the password, e.g. GALAXY_HA_HOST_PASSWORD",
        ),
        Some(SecretSource::File(path)) if path.as_os_str().is_empty() => p.add(
            format!("{PS}.credentialFrom.file"),
            "empty; give the path of the file that holds the password",
        ),
        _ => {}
    }
    if ps.guest_username.is_some() != ps.guest_credential_from.is_some() {
        p.add(
            format!("{PS}.guestUsername"),
            "the guest account needs both `guestUsername` (e.g. 'GCSSERVER\\dtadmin') and `guestCredentialFrom` (`{ env: NAME }` or `{ file: PATH }`), or neither",
        );
    }
    if ps
        .install_path
        .as_deref()
        .is_some_and(|i| i.trim().is_empty())
    {
        p.add(
            format!("{PS}.installPath"),
            "empty; remove it to use the registry's InstallPath, or give the Double-Take folder, e.g. 'C:\\Program Files\\Carbonite\\Replication'",
        );
    }
    if ps.script_timeout < Duration::from_secs(5) {
        p.add(
            format!("{PS}.scriptTimeout"),
            format!(
                "{} is too short for a script to load the DoubleTake module; use at least 5s (default 2m)",
                human(ps.script_timeout)
            ),
        );
    }
}

fn email_rules(p: &mut Problems, e: &EmailSpec) {
    const EM: &str = "spec.notifications.email";
    if e.smtp.server.trim().is_empty() {
        p.add(
            format!("{EM}.smtp.server"),
            "empty; give the mail server's host name, e.g. mailserver.domain.com",
        );
    }
    if !port_ok(e.smtp.port) {
        p.add(
            format!("{EM}.smtp.port"),
            format!("{} is not a port; ports run from 1 to 65535 (587 for STARTTLS, 465 for TLS, 25 for none)", e.smtp.port),
        );
    }
    match &e.smtp.password_from {
        Some(SecretSource::Env(name)) if name.trim().is_empty() => p.add(
            format!("{EM}.smtp.passwordFrom.env"),
            "empty; name the environment variable that holds the password, e.g. GALAXY_HA_SMTP_PASSWORD",
        ),
        Some(SecretSource::File(path)) if path.as_os_str().is_empty() => p.add(
            format!("{EM}.smtp.passwordFrom.file"),
            "empty; give the path of the file that holds the password",
        ),
        _ => {}
    }
    if !is_email(&e.from) {
        p.add(
            format!("{EM}.from"),
            format!(
                "{:?} is not an e-mail address; write it as name@domain, e.g. galaxy-ha@domain.com",
                e.from
            ),
        );
    }
    if e.to.is_empty() {
        p.add(
            format!("{EM}.to"),
            "no recipients; list at least one address, e.g. [security-ops@domain.com]",
        );
    }
    for (i, to) in e.to.iter().enumerate() {
        if !is_email(to) {
            p.add(format!("{EM}.to[{i}]"), format!("{to:?} is not an e-mail address; write it as name@domain, e.g. security-ops@domain.com"));
        }
    }
    if e.include.is_empty() {
        p.add(
            format!("{EM}.include"),
            "empty, so no event would ever be sent; list the levels to send, e.g. [warning, error]",
        );
    }
    if let Err(msg) = event_ids(&e.exclude_event_ids) {
        p.add(format!("{EM}.excludeEventIds"), msg);
    }
}

/// `local@domain`: what the Replication Console and an SMTP server accept in practice.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let label_ok =
        |l: &str| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    !local.is_empty()
        && !local.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '@' | '<' | '>' | ',' | ';' | '"')
        })
        && domain.split('.').all(label_ok)
}

/// The guide's event ID grammar: comma-separated IDs and `low-high` ranges, e.g.
/// `4000,4002,4010-4020`; empty excludes nothing.
///
/// # Errors
/// What is wrong with the first bad item and how to write it.
pub fn event_ids(text: &str) -> Result<Vec<(u16, u16)>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let id = |s: &str| -> Result<u16, String> {
        let s = s.trim();
        s.parse::<u16>().map_err(|_| {
            format!("{s:?} is not an event ID; write IDs (0 to 65535) and low-high ranges separated by commas, e.g. 4000,4002,4010-4020")
        })
    };
    let mut out = Vec::new();
    for item in text.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(format!(
                "{text:?} has an empty item; remove the extra comma (e.g. 4000,4002,4010-4020)"
            ));
        }
        let (low, high) = match item.split_once('-') {
            Some((l, h)) => (id(l)?, id(h)?),
            None => {
                let n = id(item)?;
                (n, n)
            }
        };
        if low > high {
            return Err(format!(
                "the range {item:?} runs backwards; write the low ID first: \"{high}-{low}\""
            ));
        }
        out.push((low, high));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_follow_the_guides_grammar() {
        assert_eq!(
            event_ids("4000,4002,4010-4020"),
            Ok(vec![(4000, 4000), (4002, 4002), (4010, 4020)])
        );
        assert_eq!(event_ids(" 1 , 2-3 "), Ok(vec![(1, 1), (2, 3)]));
        assert_eq!(event_ids(""), Ok(vec![]));
        assert!(event_ids("4020-4010").is_err());
        assert!(event_ids("4000;4002").is_err());
        assert!(event_ids("4000,,4002").is_err());
        assert!(event_ids("1-2-3").is_err());
        assert!(event_ids("70000").is_err());
    }

    #[test]
    fn e_mail_addresses_need_a_local_part_and_a_domain() {
        assert!(is_email("security-ops@domain.com"));
        assert!(is_email("root@localhost"));
        assert!(!is_email("security-ops.domain.com"));
        assert!(!is_email("@domain.com"));
        assert!(!is_email("ops@"));
        assert!(!is_email("ops@domain..com"));
        assert!(!is_email("Ops <ops@domain.com>"));
        assert!(!is_email("a@b@c"));
    }

    #[test]
    fn safe_names_are_file_names() {
        assert!(is_safe_name("hq"));
        assert!(is_safe_name("branch-office.2"));
        assert!(!is_safe_name(""));
        assert!(!is_safe_name(".."));
        assert!(!is_safe_name("head office"));
        assert!(!is_safe_name("a/b"));
    }
}
