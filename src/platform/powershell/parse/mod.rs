//! The observe script's JSON document and its reading into `Observed` parts, with errors
//! that name the field that was not as expected.
//!
//! Windows PowerShell 5.1 quirks handled here: `ConvertTo-Json` writes .NET enums as
//! numbers (the script converts them with `[string]`; a number is still read, through the
//! model's values), a `DateTimeOffset` or `TimeSpan` as an object (the script formats them;
//! an object is still read), dates as `/Date(ms)/` (sometimes inside
//! `{"value": ..., "DateTime": ...}`), arrays as `{"value": [...], "Count": n}`, a
//! one-element array as its element and an empty one as `null`.
//!
//! A value galaxy-ha does not know never fails the host's observation: a job state outside
//! the table is [`Activity::Unknown`] with its name kept, a VM state outside it is read as
//! neither live nor off.

mod doc;
mod job;
mod values;

use serde_json::Value;

pub use doc::*;
use job::job;
pub use job::{Expect, HIGH_LEVEL_STATES, Ownership, activity, ownership};
pub use values::{date, normalize, seconds};

use crate::manifest::spec::Startup;
use crate::model::names::VmName;
use crate::observed::{
    Activity, FirewallRule, HostState, Job, Protocol, ServiceState, ServiceStatus, Vm, VmRole,
    VmState,
};

/// Reads the document a host's observe script printed.
///
/// # Errors
/// Empty output, invalid JSON, a field missing or of the wrong type (named by its path), or
/// another format version.
pub fn document(host: &str, text: &str) -> Result<HostDoc, ParseError> {
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.is_empty() {
        return Err(ParseError::Empty {
            host: host.to_string(),
        });
    }
    let raw: Value = serde_json::from_str(text).map_err(|e| ParseError::Shape {
        host: host.to_string(),
        field: "(document)".into(),
        message: format!("not JSON: {e}"),
    })?;
    let value = normalize(raw);
    if let Some(found) = value.get("formatVersion").and_then(Value::as_u64)
        && found != u64::from(FORMAT_VERSION)
    {
        return Err(ParseError::Version {
            host: host.to_string(),
            found: u32::try_from(found).unwrap_or(u32::MAX),
        });
    }
    serde_path_to_error::deserialize(value).map_err(|e| ParseError::Shape {
        host: host.to_string(),
        field: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

fn service(c: &Ctx, field: &str, s: &ServiceDoc) -> Result<ServiceState, ParseError> {
    // ServiceControllerStatus and ServiceStartMode are .NET's: their numbers are stable.
    let status = match &s.status {
        Value::Number(n) => match n.as_u64() {
            Some(4) => "Running",
            Some(1) => "Stopped",
            Some(2) => "StartPending",
            Some(3) => "StopPending",
            _ => "?",
        },
        v => c.name(&format!("{field}.status"), v, "service status")?,
    };
    let status = match status {
        "Running" | "StopPending" => ServiceStatus::Running,
        "Stopped" | "StartPending" | "Paused" | "PausePending" | "ContinuePending" => {
            ServiceStatus::Stopped
        }
        other => {
            return Err(c.bad(
                format!("{field}.status"),
                format!("{other:?} is not a service status (Running, Stopped, ...)"),
            ));
        }
    };
    let from_number = |n: Option<u64>| match n {
        Some(2) => "Automatic",
        Some(3) => "Manual",
        Some(4) => "Disabled",
        _ => "?",
    };
    let start = match &s.start_type {
        Value::Number(n) => from_number(n.as_u64()),
        // Windows Server 2012 R2: no StartType; the registry's Start value says it.
        Value::Null => from_number(s.start_value.as_u64()),
        Value::String(t) if t.is_empty() => from_number(s.start_value.as_u64()),
        v => c.name(&format!("{field}.startType"), v, "start type")?,
    };
    let startup = match start {
        "Automatic" if s.delayed_auto_start => Startup::AutomaticDelayed,
        "Automatic" => Startup::Automatic,
        "Manual" => Startup::Manual,
        "Disabled" => Startup::Disabled,
        other => {
            return Err(c.bad(
                format!("{field}.startType"),
                format!("{other:?} is not a start type (Automatic, Manual, Disabled), and the registry's Start value is {}", s.start_value),
            ));
        }
    };
    Ok(ServiceState {
        name: s.name.clone(),
        status,
        startup,
    })
}

fn services(c: &Ctx, field: &str, list: &[ServiceDoc]) -> Result<Vec<ServiceState>, ParseError> {
    list.iter()
        .enumerate()
        .map(|(i, s)| service(c, &format!("{field}[{i}]"), s))
        .collect()
}

/// Hyper-V's `VMState` names, and what each is to the site. `*Critical` states are the same
/// state with the VM's storage in trouble. A state not here is neither live nor off: nothing
/// is removed or started because of it.
fn vm_state(v: &Value) -> VmState {
    // Microsoft.HyperV.PowerShell.VMState numbers, for a script that forgot to convert.
    let name = match v {
        Value::Number(n) => match n.as_u64() {
            Some(2) => "Running",
            Some(3) => "Off",
            Some(4) => "Stopping",
            Some(6) => "Saved",
            Some(9) => "Paused",
            Some(10) => "Starting",
            _ => "?",
        },
        Value::String(s) => s.as_str(),
        _ => "?",
    };
    let base = name.strip_suffix("Critical").unwrap_or(name);
    match base {
        "Running" => VmState::Running,
        "Off" | "Saved" | "Paused" | "FastSaved" | "Hibernated" => VmState::Off,
        "Stopping" | "Saving" | "Pausing" | "FastSaving" | "ForceShutdown" => VmState::Stopping,
        // Starting, Resuming, Reset, ForceReboot, Other, and anything newer.
        _ => VmState::Starting,
    }
}

/// One host's part of `Observed`, and the site's jobs it holds (it is their target). Jobs
/// that are not the site's are left out; one that bears a site's name without being its job
/// makes the host's jobs unknown, so that nothing is created, deleted or removed beside it.
///
/// # Errors
/// A value galaxy-ha cannot read at all (a count that is not a number, a date that is not
/// one), named by its field. Unknown enum values are not errors.
pub fn host(
    name: &str,
    doc: &HostDoc,
    expect: &Expect,
) -> Result<(HostState, Vec<Job>), ParseError> {
    let c = Ctx { host: name };
    let mut jobs = Vec::new();
    let mut jobs_known = doc.double_take_error.is_none();
    for (i, j) in doc.jobs.iter().enumerate() {
        match ownership(j, expect) {
            Ownership::Ours => {
                jobs.push(job(&c, &format!("jobs[{i}]"), j, name, &expect.other_host)?)
            }
            Ownership::Impostor => {
                tracing::warn!(host = name, job = %j.name, job_type = %j.job_type, source = %j.source_host, target = %j.target_host,
                    "a job bears the site's name but is not a VRA job from the System Galaxy guest to this host; the host's jobs are taken as unknown");
                jobs_known = false;
            }
            Ownership::Foreign => {}
        }
    }
    let firewall = doc
        .firewall
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let protocol = match r.protocol.to_ascii_uppercase().as_str() {
                "TCP" | "6" => Protocol::Tcp,
                "UDP" | "17" => Protocol::Udp,
                other => {
                    return Err(c.bad(
                        format!("firewall[{i}].protocol"),
                        format!("{other:?} is not TCP or UDP"),
                    ));
                }
            };
            Ok(FirewallRule {
                port: r.port,
                protocol,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut vms = Vec::new();
    for (i, v) in doc.vms.iter().enumerate() {
        let field = format!("vms[{i}]");
        let state = vm_state(&v.state);
        let kept_replica = jobs
            .iter()
            .any(|j| j.replica == v.name && !matches!(j.activity, Activity::FailedOver));
        // Running with its network is System Galaxy whatever its name (a failed-over
        // replica); otherwise a job's replica, the original VM, or a stale replica copy.
        let role = if state == VmState::Running && !v.isolated {
            VmRole::SystemGalaxy
        } else if kept_replica {
            VmRole::Replica
        } else if v.name == expect.vm_name {
            VmRole::SystemGalaxy
        } else {
            VmRole::Replica
        };
        let services = match &v.guest_services {
            Some(list) if state == VmState::Running && !v.isolated => {
                services(&c, &format!("{field}.guestServices"), list)?
            }
            _ => Vec::new(),
        };
        if let Some(e) = &v.guest_error {
            tracing::warn!(host = name, vm = %v.name, error = %e, "the guest's services could not be read");
        }
        vms.push(Vm {
            name: VmName::from(&v.name),
            state,
            role,
            isolated: v.isolated,
            services,
            disks: v.disks.clone(),
        });
    }
    let email = match &doc.email {
        None => None,
        Some(e) => Some(email(&c, e)?),
    };
    Ok((
        HostState {
            name: name.into(),
            reachable: true,
            services: services(&c, "services", &doc.services)?,
            firewall,
            email,
            vms,
            jobs_known,
        },
        jobs,
    ))
}

/// Carbonite's comma-separated lists.
fn split(list: &str) -> Vec<String> {
    list.split([',', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn email(c: &Ctx, e: &EmailDoc) -> Result<crate::observed::EmailSettings, ParseError> {
    use crate::manifest::spec::{EventLevel, SmtpSecurity};
    // SmtpConnectionSecurity: Plain 0, SSL 1, TLS 2.
    let security = match &e.security {
        Value::Number(n) => match n.as_u64() {
            Some(1) => "ssl".to_string(),
            Some(2) => "tls".to_string(),
            _ => "plain".to_string(),
        },
        Value::String(s) => s.to_ascii_lowercase(),
        _ => "plain".to_string(),
    };
    let security = match security.as_str() {
        "ssl" => SmtpSecurity::Tls,
        "tls" => SmtpSecurity::Starttls,
        // Plain, and anything newer: read as none, which differs from a manifest that asks
        // for encryption, so rule 3 sets it again.
        _ => SmtpSecurity::None,
    };
    let include = split(&e.include)
        .iter()
        .enumerate()
        .map(|(i, l)| match l.to_ascii_lowercase().as_str() {
            "information" => Ok(EventLevel::Information),
            "warning" => Ok(EventLevel::Warning),
            "error" => Ok(EventLevel::Error),
            other => Err(c.bad(
                format!("email.include[{i}]"),
                format!("{other:?} is not Information, Warning or Error"),
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let port = match &e.port {
        Value::Null => 0,
        v => u16::try_from(c.count("email.port", v)?).unwrap_or(0),
    };
    Ok(crate::observed::EmailSettings {
        server: e.server.clone(),
        port,
        security,
        username: e.username.clone().filter(|u| e.login && !u.is_empty()),
        from: e.from.clone(),
        to: split(&e.to),
        subject_prefix: e.subject_prefix.clone(),
        add_event_description: e.add_event_description,
        include,
        exclude_event_ids: e.exclude_event_ids.clone(),
    })
}
