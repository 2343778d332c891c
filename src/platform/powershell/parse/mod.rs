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
    Activity, Capacity, FirewallRule, HostState, Job, Protocol, ServiceState, ServiceStatus, Vm,
    VmRole, VmState,
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
        // A running guest's services: the live one's, or (isolated) a drill's test replica's.
        let services = match &v.guest_services {
            Some(list) if state == VmState::Running => {
                services(&c, &format!("{field}.guestServices"), list)?
            }
            _ => Vec::new(),
        };
        let listening = match &v.listening {
            Some(list) if state == VmState::Running => Some(
                list.iter()
                    .enumerate()
                    .map(|(i, p)| c.port(&format!("{field}.listening[{i}]"), p))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            _ => None,
        };
        let heartbeat = v
            .heartbeat
            .as_deref()
            .map(str::trim)
            .filter(|h| state == VmState::Running && !h.is_empty())
            .map(str::to_string);
        if let Some(e) = &v.guest_error {
            tracing::warn!(host = name, vm = %v.name, error = %e, "the guest could not be read");
        }
        let memory_bytes = c.bytes(&format!("{field}.memoryBytes"), &v.memory_bytes)?;
        let disk_bytes = c.bytes(&format!("{field}.diskBytes"), &v.disk_bytes)?;
        if let Some(e) = &v.size_error {
            tracing::warn!(host = name, vm = %v.name, error = %e, "the size of the VM's virtual disks could not be read");
        }
        vms.push(Vm {
            name: VmName::from(&v.name),
            state,
            role,
            isolated: v.isolated,
            services,
            disks: v.disks.clone(),
            heartbeat,
            listening,
            memory_bytes,
            disk_bytes,
        });
    }
    let email = match &doc.email {
        None => None,
        Some(e) => Some(email(&c, e)?),
    };
    let capacity = capacity(&c, doc)?;
    Ok((
        HostState {
            name: name.into(),
            reachable: true,
            services: services(&c, "services", &doc.services)?,
            firewall,
            email,
            vms,
            jobs_known,
            capacity,
        },
        jobs,
    ))
}

/// What a failover onto the host needs of it: free memory and free space on the replica's
/// volume, both read, or `None` (an older document, or a read that failed: logged). A
/// malformed value is an error naming its field, whatever else was read.
fn capacity(c: &Ctx, doc: &HostDoc) -> Result<Option<Capacity>, ParseError> {
    let licence = doc.licence.as_ref().map(|l| licence(c, l)).transpose()?;
    let memory = c.bytes("memoryFreeBytes", &doc.memory_free_bytes)?;
    let disk = match &doc.replica_volume {
        None => None,
        Some(v) => c.bytes("replicaVolume.freeBytes", &v.free_bytes)?,
    };
    let (Some(memory_free_bytes), Some(disk_free_bytes)) = (memory, disk) else {
        if memory.is_some() || doc.replica_volume.is_some() {
            let volume = doc.replica_volume.as_ref();
            tracing::warn!(
                host = c.host,
                memory_read = memory.is_some(),
                drive = volume.and_then(|v| v.drive.as_deref()).unwrap_or("?"),
                error = volume.and_then(|v| v.error.as_deref()).unwrap_or(""),
                "the host's free memory or the replica volume's free space could not be read: what a failover onto it needs is not known"
            );
        }
        return Ok(None);
    };
    // A licence that could not be read is reported valid, with why in its words, and a
    // warning: `Capacity`'s licence is not optional, and "not known" must not raise the
    // readiness check's "not valid" alarm. Memory and disk, which were read, still count.
    let (licence_valid, licence) = match licence {
        Some(Ok(read)) => read,
        not_read => {
            let why = match not_read {
                Some(Err(why)) => why,
                _ => doc
                    .double_take_error
                    .clone()
                    .unwrap_or_else(|| "the observe script did not read it".into()),
            };
            tracing::warn!(host = c.host, error = %why, "Carbonite's licence could not be read; it is reported valid until it is");
            (true, format!("not read: {why}"))
        }
    };
    Ok(Some(Capacity {
        memory_free_bytes,
        disk_free_bytes,
        licence_valid,
        licence,
    }))
}

/// Carbonite's activation as `Get-DtActivationStatus` gave it: whether it is valid, and in
/// words; `Err` with why it was not read.
fn licence(c: &Ctx, l: &LicenceDoc) -> Result<Result<(bool, String), String>, ParseError> {
    let mut codes = Vec::new();
    for (i, code) in l.codes.iter().enumerate() {
        let field = format!("licence.codes[{i}]");
        let kind = match &code.license_type {
            Value::Null => "",
            v => c.name(&format!("{field}.licenseType"), v, "licence type")?,
        };
        let expires = expiry(c, &format!("{field}.expires"), &code.expires)?;
        let mut about = Vec::new();
        if !kind.is_empty() && kind != "NotApplicable" {
            about.push(format!("{kind} licence"));
        }
        if code.is_evaluation {
            about.push("evaluation".to_string());
        }
        match (code.is_expired, expires) {
            (true, Some(d)) => about.push(format!("expired on {d}")),
            (true, None) => about.push("expired".to_string()),
            (false, Some(d)) => about.push(format!("expires {d}")),
            (false, None) => {}
        }
        if !code.is_valid && !code.is_expired {
            about.push("not valid".to_string());
        }
        let product = if code.product.trim().is_empty() {
            "an activation code"
        } else {
            code.product.trim()
        };
        codes.push(if about.is_empty() {
            product.to_string()
        } else {
            format!("{product} ({})", about.join(", "))
        });
    }
    if let Some(e) = &l.error {
        return Ok(Err(e.clone()));
    }
    let valid = match &l.is_valid {
        Value::Bool(b) => *b,
        Value::Null => return Ok(Err("Carbonite gave no IsValid".into())),
        other => {
            return Err(c.bad(
                "licence.isValid",
                format!("expected true or false, found {other}"),
            ));
        }
    };
    let words = match (valid, codes.is_empty()) {
        (true, true) => "activated".to_string(),
        (true, false) => format!("activated: {}", codes.join("; ")),
        // Not valid with no code at all is also what the cmdlet would answer if, called
        // without -Code, it validated nothing rather than the server's codes (names.rs marks
        // it unverified): not known, rather than an alarm on every host. An expired or
        // revoked code is listed, and reads as not valid below.
        (false, true) => {
            return Ok(Err(
                "Carbonite listed no activation code; called without -Code it may not report the server's own (unverified)"
                    .into(),
            ));
        }
        (false, false) => codes.join("; "),
    };
    Ok(Ok((valid, words)))
}

/// An activation code's `ExpirationDate` as the script writes it (`yyyy-MM-dd`, or
/// unformatted `/Date(ms)/`): the date, or none for `null` and for `DateTime.MinValue` and
/// `MaxValue` (what a code that never expires is taken to hold).
fn expiry(c: &Ctx, field: &str, v: &Value) -> Result<Option<String>, ParseError> {
    let day: jiff::civil::Date = match v {
        Value::Null => return Ok(None),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) if s.starts_with("/Date(") => {
            match date(v).map_err(|e| c.bad(field, e))? {
                None => return Ok(None),
                Some(t) => t.to_zoned(jiff::tz::TimeZone::UTC).date(),
            }
        }
        Value::String(s) => s
            .trim()
            .get(..10)
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| c.bad(field, format!("{s:?} is not a date (yyyy-MM-dd)")))?,
        other => return Err(c.bad(field, format!("expected a date, found {other}"))),
    };
    Ok((day.year() > 1 && day.year() < 9999).then(|| day.to_string()))
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
