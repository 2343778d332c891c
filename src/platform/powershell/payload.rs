//! The data each script gets on standard input: every manifest value a script needs, as
//! JSON, so that no value is ever part of a script's text.

use serde::Serialize;
use serde_json::Value;

use super::input::{self, Input};
use super::scripts::ScriptKind;
use super::secret::Secret;
use crate::manifest::names::job_names;
use crate::manifest::spec::SiteSpec;
use crate::model::names::VmName;
use crate::model::operation::{FailoverKind, Operation, Place};

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
    vm_names: Vec<VmName>,
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
        vm_name: spec.vm.name.to_string(),
        other_host: spec
            .other_host(host)
            .map_or(String::new(), |h| h.name.to_string()),
        job_names,
        sources: vec![spec.vm.address.clone(), spec.vm.name.to_string()],
        targets: this.map_or_else(
            || vec![host.to_string()],
            |h| vec![h.address.clone(), h.name.to_string()],
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
            if !vm_names.contains(&n.replica) {
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

/// The call of `input`'s script on `host`: its fields beside the common ones.
fn call(site: &str, spec: &SiteSpec, host: &str, input: &Input) -> Call {
    let mut v = common(site, spec, host);
    if let (Value::Object(base), Ok(Value::Object(more))) = (&mut v, serde_json::to_value(input)) {
        base.extend(more);
    }
    Call {
        host: host.to_string(),
        kind: input.kind(),
        input: v,
    }
}

fn services(spec: &SiteSpec) -> Vec<String> {
    spec.services.iter().map(|s| s.name.clone()).collect()
}

/// Where the replica of a job onto `host` keeps its files: `spec.replication.replicaPath`
/// rendered with the other host as the source and `host` as the target, as the job that
/// would fail over onto `host` is created.
pub fn replica_path(site: &str, spec: &SiteSpec, host: &str) -> String {
    let source = spec.other_host(host).map_or("", |h| h.name.as_str());
    job_names(site, spec, source, host).replica_path
}

/// What the observe and capture scripts read: the host's services and firewall ports, what
/// a drill checks inside the test replica, and where a replica's files go on `host`.
fn observe_input(site: &str, spec: &SiteSpec, host: &str) -> input::Observe {
    input::Observe {
        services: services(spec),
        ports: spec.firewall.ports.clone(),
        vm_services: spec.vm.services.clone(),
        vm_ports: spec.vm.ports.clone(),
        replica_path: replica_path(site, spec, host),
    }
}

/// The observe script's data for one host.
pub fn observe(site: &str, spec: &SiteSpec, host: &str) -> Call {
    call(
        site,
        spec,
        host,
        &Input::Observe(observe_input(site, spec, host)),
    )
}

/// The capture script's data for one host (read-only cmdlets only).
pub fn capture(site: &str, spec: &SiteSpec, host: &str) -> Call {
    call(
        site,
        spec,
        host,
        &Input::Capture(observe_input(site, spec, host)),
    )
}

/// The `HighLevelState` names a failover of this mode was planned on: the script refuses if
/// the job is in another state when it runs.
fn failover_states(mode: FailoverKind) -> Vec<&'static str> {
    use crate::observed::Activity;
    let allowed: &[Activity] = match mode {
        FailoverKind::Live => &[
            Activity::Protecting,
            Activity::ServerCommunicationError,
            Activity::Stopped,
        ],
        FailoverKind::Test => &[Activity::Protecting],
    };
    super::parse::HIGH_LEVEL_STATES
        .iter()
        .filter(|(_, _, a)| allowed.contains(a))
        .map(|(n, _, _)| *n)
        .collect()
}

/// The doctor script's data for one host.
pub fn doctor(site: &str, spec: &SiteSpec, host: &str) -> Call {
    let input = Input::Doctor(input::Doctor {
        services: services(spec),
    });
    call(site, spec, host, &input)
}

/// The script and data that carry out `op`; `None` for an alert (not a host's business).
/// `smtp_password` is the password from `passwordFrom`, read by the caller.
pub fn operation(
    site: &str,
    spec: &SiteSpec,
    op: &Operation,
    smtp_password: Option<&Secret>,
) -> Option<Call> {
    let (host, input) = match op {
        Operation::StartService { place, service } => (
            place.host().as_str(),
            Input::StartService(input::Service {
                guest: matches!(place, Place::Guest(_)),
                service: service.clone(),
            }),
        ),
        Operation::SetServiceStartup {
            place,
            service,
            startup,
        } => (
            place.host().as_str(),
            Input::SetServiceStartup(input::ServiceStartup {
                guest: matches!(place, Place::Guest(_)),
                service: service.clone(),
                startup: *startup,
            }),
        ),
        Operation::OpenFirewallPort {
            host,
            port,
            protocol,
        } => (
            host.as_str(),
            Input::OpenFirewallPort(input::FirewallPort {
                port: *port,
                protocol: *protocol,
            }),
        ),
        Operation::SetEmailNotification { host, settings } => (
            host.as_str(),
            Input::SetEmailNotification(input::EmailNotification {
                settings: input::Email::of(settings),
                password: smtp_password.cloned(),
            }),
        ),
        Operation::CreateJob(new) => (
            new.target.as_str(),
            Input::CreateJob(input::CreateJob {
                name: new.name.clone(),
                vm: new.vm.to_string(),
                source: new.source.to_string(),
                target: new.target.to_string(),
                source_address: spec.vm.address.clone(),
                target_address: spec
                    .host(&new.target)
                    .map_or(new.target.to_string(), |h| h.address.clone()),
                replica: new.replica.to_string(),
                replica_path: new.replica_path.clone(),
                monitor: input::Monitor::of(&new.monitor),
                snapshots: new.snapshots.as_ref().map(input::Snapshots::of),
            }),
        ),
        Operation::UpdateJob {
            job,
            target,
            monitor,
            snapshots,
        } => (
            target.as_str(),
            Input::UpdateJob(input::UpdateJob {
                job: job.clone(),
                monitor: input::Monitor::of(monitor),
                snapshots: snapshots.as_ref().map(input::Snapshots::of),
            }),
        ),
        Operation::DeleteJob {
            job,
            target,
            delete_replica,
        } => (
            target.as_str(),
            Input::DeleteJob(input::DeleteJob {
                job: job.clone(),
                delete_replica: *delete_replica,
            }),
        ),
        Operation::RemoveReplica { host, vm } => (
            host.as_str(),
            Input::RemoveVm(input::RemoveVm { vm: vm.to_string() }),
        ),
        Operation::StopVm { host, vm, turn_off } => (
            host.as_str(),
            Input::StopVm(input::StopVm {
                vm: vm.to_string(),
                turn_off: *turn_off,
            }),
        ),
        Operation::StartVm { host, vm } => (
            host.as_str(),
            Input::StartVm(input::StartVm { vm: vm.to_string() }),
        ),
        Operation::Failover {
            job,
            target,
            mode,
            apply_queued_data,
            snapshot,
        } => (
            target.as_str(),
            Input::Failover(input::Failover {
                job: job.clone(),
                mode: *mode,
                apply_queued_data: *apply_queued_data,
                allowed_states: failover_states(*mode)
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
                snapshot: snapshot.clone(),
            }),
        ),
        Operation::EndTestFailover { job, target } => (
            target.as_str(),
            Input::EndTestFailover(input::Job { job: job.clone() }),
        ),
        Operation::Alert { .. } | Operation::RunHook { .. } => return None,
    };
    Some(call(site, spec, host, &input))
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
