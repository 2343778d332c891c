//! The data each script gets on standard input: every manifest value a script needs, as
//! JSON, so that no value is ever part of a script's text.

use serde::Serialize;
use serde_json::{Value, json};

use super::scripts::ScriptKind;
use crate::manifest::names::job_names;
use crate::manifest::spec::{EventLevel, SecretSource, SiteSpec, SmtpSecurity, Startup};
use crate::model::operation::{FailoverMode, MonitorOptions, Operation, Place};
use crate::observed::Protocol;

/// A password read by the controller. Its `Debug` never shows it; it leaves the process
/// only inside a script's standard input.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Why a secret could not be read.
pub type SecretError = crate::secret_file::SecretFileError;

/// Reads a secret at use, without blocking ([`crate::secret_file::resolve`]).
///
/// # Errors
/// The variable is unset or the file unusable.
pub fn read_secret(source: &SecretSource) -> Result<Secret, SecretError> {
    crate::secret_file::resolve(source).map(Secret)
}

/// One script to run: on which host, which script, with what data.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub host: String,
    pub kind: ScriptKind,
    pub input: Value,
}

/// What every script may need to find Double-Take and the System Galaxy VM.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Common<'a> {
    /// The host's own address, for Double-Take sessions.
    address: &'a str,
    install_path: Option<&'a str>,
    /// The System Galaxy VM and every replica name the templates give (both directions).
    vm_names: Vec<String>,
    vm_address: &'a str,
    /// What makes a job the site's on this host (besides its name): the guest as its source,
    /// this host as its target.
    identity: Identity,
    /// How long a script waits for one of Carbonite's asynchronous actions.
    action_timeout_seconds: u64,
}

#[derive(Debug, Clone, Serialize)]
struct Identity {
    sources: Vec<String>,
    targets: Vec<String>,
}

/// The names and addresses a job's `SourceHostUri` (the guest) and `TargetHostUri` (this
/// host) may carry.
pub fn expect(site: &str, spec: &SiteSpec, host: &str) -> super::parse::Expect {
    let mut job_names = Vec::new();
    for source in &spec.hosts {
        if let Some(target) = spec.other_host(&source.name) {
            job_names.push(job_names_of(site, spec, &source.name, &target.name));
        }
    }
    let this = spec.host(host);
    super::parse::Expect {
        vm_name: spec.vm.name.clone(),
        other_host: spec
            .other_host(host)
            .map_or(String::new(), |h| h.name.clone()),
        job_names,
        sources: vec![spec.vm.address.clone(), spec.vm.name.clone()],
        targets: this.map_or_else(
            || vec![host.to_string()],
            |h| vec![h.address.clone(), h.name.clone()],
        ),
    }
}

fn job_names_of(site: &str, spec: &SiteSpec, source: &str, target: &str) -> String {
    job_names(site, spec, source, target).job
}

fn common(site: &str, spec: &SiteSpec, host: &str) -> Value {
    let address = spec.host(host).map_or(host, |h| h.address.as_str());
    let mut vm_names = vec![spec.vm.name.clone()];
    for source in &spec.hosts {
        if let Some(target) = spec.other_host(&source.name) {
            let n = job_names(site, spec, &source.name, &target.name);
            if !vm_names.iter().any(|v| v.eq_ignore_ascii_case(&n.replica)) {
                vm_names.push(n.replica);
            }
        }
    }
    let e = expect(site, spec, host);
    let timeout = spec
        .platform
        .powershell
        .as_ref()
        .map_or(std::time::Duration::from_secs(120), |p| p.script_timeout);
    let c = Common {
        identity: Identity {
            sources: e.sources,
            targets: e.targets,
        },
        // Leaves the script time to say why before the runner stops it.
        action_timeout_seconds: timeout.as_secs().saturating_sub(15).max(5),
        address,
        install_path: spec
            .platform
            .powershell
            .as_ref()
            .and_then(|p| p.install_path.as_deref()),
        vm_names,
        vm_address: &spec.vm.address,
    };
    serde_json::to_value(c).unwrap_or(Value::Null)
}

/// Adds `extra`'s fields to the common ones.
fn with(site: &str, spec: &SiteSpec, host: &str, extra: Value) -> Value {
    let mut v = common(site, spec, host);
    if let (Value::Object(base), Value::Object(more)) = (&mut v, extra) {
        base.extend(more);
    }
    v
}

/// The observe script's data for one host.
pub fn observe(site: &str, spec: &SiteSpec, host: &str) -> Call {
    let services: Vec<&str> = spec.services.iter().map(|s| s.name.as_str()).collect();
    Call {
        host: host.to_string(),
        kind: ScriptKind::Observe,
        input: with(
            site,
            spec,
            host,
            json!({ "services": services, "ports": spec.firewall.ports }),
        ),
    }
}

/// The capture script's data for one host (read-only cmdlets only).
pub fn capture(site: &str, spec: &SiteSpec, host: &str) -> Call {
    let services: Vec<&str> = spec.services.iter().map(|s| s.name.as_str()).collect();
    Call {
        host: host.to_string(),
        kind: ScriptKind::Capture,
        input: with(
            site,
            spec,
            host,
            json!({ "services": services, "ports": spec.firewall.ports }),
        ),
    }
}

/// Ends a test failover of `job` on its target.
pub fn end_test_failover(site: &str, spec: &SiteSpec, job: &str, target: &str) -> Call {
    Call {
        host: target.to_string(),
        kind: ScriptKind::EndTestFailover,
        input: with(site, spec, target, json!({ "job": job })),
    }
}

/// The `HighLevelState` names a failover of this mode was planned on: the script refuses if
/// the job is in another state when it runs.
fn failover_states(mode: FailoverMode) -> Vec<&'static str> {
    use crate::observed::Activity;
    let allowed: &[Activity] = match mode {
        FailoverMode::Live => &[
            Activity::Protecting,
            Activity::ServerCommunicationError,
            Activity::Stopped,
        ],
        FailoverMode::Test => &[Activity::Protecting],
    };
    super::parse::HIGH_LEVEL_STATES
        .iter()
        .filter(|(_, _, a)| allowed.contains(a))
        .map(|(n, _, _)| *n)
        .collect()
}

/// The doctor script's data for one host.
pub fn doctor(site: &str, spec: &SiteSpec, host: &str) -> Call {
    let services: Vec<&str> = spec.services.iter().map(|s| s.name.as_str()).collect();
    Call {
        host: host.to_string(),
        kind: ScriptKind::Doctor,
        input: with(site, spec, host, json!({ "services": services })),
    }
}

pub fn startup_name(s: Startup) -> &'static str {
    match s {
        Startup::Automatic => "automatic",
        Startup::AutomaticDelayed => "automatic-delayed",
        Startup::Manual => "manual",
        Startup::Disabled => "disabled",
    }
}

pub fn protocol_name(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "TCP",
        Protocol::Udp => "UDP",
    }
}

pub fn security_name(s: SmtpSecurity) -> &'static str {
    match s {
        SmtpSecurity::None => "none",
        SmtpSecurity::Starttls => "starttls",
        SmtpSecurity::Tls => "tls",
    }
}

/// Double-Take's words for the e-mail levels.
pub fn level_name(l: EventLevel) -> &'static str {
    match l {
        EventLevel::Information => "Information",
        EventLevel::Warning => "Warning",
        EventLevel::Error => "Error",
    }
}

fn monitor(m: &MonitorOptions) -> Value {
    use crate::manifest::spec::Threshold;
    let (total, failures) = match m.threshold {
        Threshold::TotalTime(d) => (Some(d.as_secs()), None),
        Threshold::ConsecutiveFailures(n) => (None, Some(n)),
    };
    json!({
        "intervalSeconds": m.interval.as_secs(),
        "totalTimeSeconds": total,
        "consecutiveFailures": failures,
    })
}

fn place(p: &Place) -> bool {
    matches!(p, Place::Guest(_))
}

/// The script and data that carry out `op`; `None` for an alert (not a host's business).
/// `smtp_password` is the password from `passwordFrom`, read by the caller.
pub fn operation(
    site: &str,
    spec: &SiteSpec,
    op: &Operation,
    smtp_password: Option<&Secret>,
) -> Option<Call> {
    let (host, kind, extra) = match op {
        Operation::StartService { place: p, service } => (
            p.host(),
            ScriptKind::StartService,
            json!({ "guest": place(p), "service": service }),
        ),
        Operation::SetServiceStartup {
            place: p,
            service,
            startup,
        } => (
            p.host(),
            ScriptKind::SetServiceStartup,
            json!({ "guest": place(p), "service": service, "startup": startup_name(*startup) }),
        ),
        Operation::OpenFirewallPort {
            host,
            port,
            protocol,
        } => (
            host.as_str(),
            ScriptKind::OpenFirewallPort,
            json!({ "port": port, "protocol": protocol_name(*protocol) }),
        ),
        Operation::SetEmailNotification { host, settings } => (
            host.as_str(),
            ScriptKind::SetEmailNotification,
            json!({
                "settings": {
                    "server": settings.server,
                    "port": settings.port,
                    "security": security_name(settings.security),
                    "username": settings.username,
                    "from": settings.from,
                    "to": settings.to,
                    "subjectPrefix": settings.subject_prefix,
                    "addEventDescription": settings.add_event_description,
                    "include": settings.include.iter().map(|l| level_name(*l)).collect::<Vec<_>>(),
                    "excludeEventIds": settings.exclude_event_ids,
                },
                "password": smtp_password.map(Secret::expose),
            }),
        ),
        Operation::CreateJob(new) => {
            let target_address = spec
                .host(&new.target)
                .map_or(new.target.as_str(), |h| h.address.as_str());
            (
                new.target.as_str(),
                ScriptKind::CreateJob,
                json!({
                    "name": new.name,
                    "vm": new.vm,
                    "source": new.source,
                    "target": new.target,
                    "sourceAddress": spec.vm.address,
                    "targetAddress": target_address,
                    "replica": new.replica,
                    "replicaPath": new.replica_path,
                    "monitor": monitor(&new.monitor),
                }),
            )
        }
        Operation::UpdateJob {
            job,
            target,
            monitor: m,
        } => (
            target.as_str(),
            ScriptKind::UpdateJob,
            json!({ "job": job, "monitor": monitor(m) }),
        ),
        Operation::DeleteJob {
            job,
            target,
            delete_replica,
        } => (
            target.as_str(),
            ScriptKind::DeleteJob,
            json!({ "job": job, "deleteReplica": delete_replica }),
        ),
        Operation::RemoveReplica { host, vm } => {
            (host.as_str(), ScriptKind::RemoveVm, json!({ "vm": vm }))
        }
        Operation::StopVm { host, vm, turn_off } => (
            host.as_str(),
            ScriptKind::StopVm,
            json!({ "vm": vm, "turnOff": turn_off }),
        ),
        Operation::Failover {
            job,
            target,
            mode,
            apply_queued_data,
        } => (
            target.as_str(),
            ScriptKind::Failover,
            json!({
                "job": job,
                "mode": match mode { FailoverMode::Live => "live", FailoverMode::Test => "test" },
                "applyQueuedData": apply_queued_data,
                "allowedStates": failover_states(*mode),
            }),
        ),
        Operation::Alert { .. } => return None,
    };
    Some(Call {
        host: host.to_string(),
        kind,
        input: with(site, spec, host, extra),
    })
}

/// JSON with every non-ASCII character escaped (`\uXXXX`): Windows PowerShell 5.1 reads
/// standard input in the console's code page, so only ASCII survives the trip unchanged.
pub fn ascii_json(value: &Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}
