//! The observe script's JSON document and its reading into `Observed` parts, with errors
//! that name the field that was not as expected.
//!
//! Windows PowerShell 5.1 quirks handled here: `ConvertTo-Json` writes .NET enums as
//! numbers (the script converts them, but the well-known Windows ones are read either way;
//! Carbonite's are refused with a clear message), dates as `/Date(ms)/` (sometimes inside
//! `{"value": ..., "DateTime": ...}`), arrays as `{"value": [...], "Count": n}`, a
//! one-element array as its element and an empty one as `null`.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::manifest::spec::{Startup, Threshold};
use crate::observed::{
    Activity, FirewallRule, Health, HostState, Job, MonitorSettings, MonitorStatus, Protocol,
    ServiceState, ServiceStatus, Vm, VmRole, VmState,
};

/// The document format this galaxy-ha reads.
pub const FORMAT_VERSION: u32 = 1;

/// Why a host's observe output could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParseError {
    /// The script printed nothing.
    #[error("{host}: the observe script printed nothing")]
    Empty { host: String },
    /// Not JSON, or a field missing or of the wrong type.
    #[error("{host}: observe output, field `{field}`: {message}")]
    Shape {
        host: String,
        field: String,
        message: String,
    },
    /// A field holds a value galaxy-ha does not know.
    #[error("{host}: observe output, field `{field}`: {message}")]
    Value {
        host: String,
        field: String,
        message: String,
    },
    /// The document was written by another version of the script.
    #[error(
        "{host}: observe output has format version {found}; this galaxy-ha reads {FORMAT_VERSION}"
    )]
    Version { host: String, found: u32 },
}

/// A service as the script reports it (`Get-Service`, plus the `DelayedAutostart` value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDoc {
    pub name: String,
    pub status: Value,
    pub start_type: Value,
    #[serde(default)]
    pub delayed_auto_start: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirewallDoc {
    pub port: u16,
    pub protocol: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmDoc {
    pub name: String,
    pub state: Value,
    #[serde(default)]
    pub isolated: bool,
    /// `null` when the guest could not be asked.
    #[serde(default)]
    pub guest_services: Option<Vec<ServiceDoc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailDoc {
    pub server: String,
    pub port: u16,
    pub security: String,
    #[serde(default)]
    pub username: Option<String>,
    pub from: String,
    pub to: Vec<String>,
    pub subject_prefix: String,
    pub add_event_description: bool,
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude_event_ids: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitorDoc {
    pub interval_ms: Value,
    pub total_time_ms: Value,
    pub consecutive_failures: Value,
    pub use_consecutive_failures: bool,
    pub wait_for_user: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitorStatusDoc {
    pub alive: bool,
    pub failover_condition_met: bool,
    #[serde(default)]
    pub warning_condition_met: bool,
    pub remaining_ms: Value,
}

/// A job as `Get-DtJob` reports it, with the names the script gives its fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobDoc {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    pub replica_name: String,
    pub high_level_state: Value,
    pub health: Value,
    pub permillage_complete: Value,
    pub target_state: Value,
    pub mirror_bytes_remaining: Value,
    pub replication_bytes_queued: Value,
    pub disk_queue_bytes: Value,
    pub target_queue_bytes: Value,
    pub recovery_point_latency_ms: Value,
    pub total_bytes_sent: Value,
    pub start_time: Value,
    pub monitor: MonitorDoc,
    #[serde(default)]
    pub monitor_status: Option<MonitorStatusDoc>,
}

/// The observe script's document for one host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostDoc {
    pub format_version: u32,
    #[serde(default)]
    pub computer_name: String,
    #[serde(default)]
    pub ps_version: Option<String>,
    pub services: Vec<ServiceDoc>,
    pub firewall: Vec<FirewallDoc>,
    pub vms: Vec<VmDoc>,
    pub email: Option<EmailDoc>,
    pub jobs: Vec<JobDoc>,
    /// Why Double-Take could not be asked (its services stopped, the module missing).
    #[serde(default)]
    pub double_take_error: Option<String>,
}

/// Fields that hold lists, and whether `null` means "unknown" (kept) or "none".
const LISTS: &[(&str, bool)] = &[
    ("services", false),
    ("firewall", false),
    ("vms", false),
    ("jobs", false),
    ("to", false),
    ("include", false),
    ("checks", false),
    ("guestServices", true),
];

/// Undoes Windows PowerShell 5.1's ways of writing lists and wrapped values.
pub fn normalize(value: Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(normalize).collect()),
        Value::Object(map) => {
            if let Some(inner) = unwrap_wrapper(&map) {
                return normalize(inner);
            }
            let map = map
                .into_iter()
                .map(|(k, v)| {
                    let v = normalize(v);
                    let v = match LISTS.iter().find(|(name, _)| *name == k) {
                        Some((_, keep_null)) => as_list(v, *keep_null),
                        None => v,
                    };
                    (k, v)
                })
                .collect();
            Value::Object(map)
        }
        other => other,
    }
}

/// `{"value": X, "Count": n}` (an array with type data) and `{"value": X, "DisplayHint": ..,
/// "DateTime": ..}` (a wrapped date) stand for X.
fn unwrap_wrapper(map: &serde_json::Map<String, Value>) -> Option<Value> {
    let value = map.get("value")?;
    let wrapper = (map.contains_key("Count") && value.is_array())
        || map.contains_key("DateTime")
        || map.contains_key("DisplayHint");
    wrapper.then(|| value.clone())
}

fn as_list(v: Value, keep_null: bool) -> Value {
    match v {
        Value::Array(_) => v,
        Value::Null if keep_null => Value::Null,
        Value::Null => Value::Array(Vec::new()),
        one => Value::Array(vec![one]),
    }
}

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

/// Builds field errors for one host.
struct Ctx<'a> {
    host: &'a str,
}

impl Ctx<'_> {
    fn bad(&self, field: impl Into<String>, message: impl Into<String>) -> ParseError {
        ParseError::Value {
            host: self.host.to_string(),
            field: field.into(),
            message: message.into(),
        }
    }

    /// An enum written as a name; a number means the script did not convert it.
    fn name<'v>(&self, field: &str, v: &'v Value, what: &str) -> Result<&'v str, ParseError> {
        match v {
            Value::String(s) => Ok(s),
            Value::Number(n) => Err(self.bad(
                field,
                format!(
                    "{what} {n} is a number: Windows PowerShell 5.1 writes enums as numbers; the script must convert it to its name ([string]$x)"
                ),
            )),
            other => Err(self.bad(field, format!("expected the {what}'s name, found {other}"))),
        }
    }

    /// A count of bytes (or ms): a non-negative number; `null` is 0.
    fn count(&self, field: &str, v: &Value) -> Result<u64, ParseError> {
        match v {
            Value::Null => Ok(0),
            Value::Number(n) => n
                .as_u64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.is_finite() && *f >= 0.0)
                        .map(|f| f as u64)
                })
                .ok_or_else(|| self.bad(field, format!("{n} is not a non-negative number"))),
            Value::String(s) => s
                .trim()
                .parse()
                .map_err(|_| self.bad(field, format!("{s:?} is not a number"))),
            other => Err(self.bad(field, format!("expected a number, found {other}"))),
        }
    }

    fn optional_count(&self, field: &str, v: &Value) -> Result<Option<u64>, ParseError> {
        if v.is_null() {
            Ok(None)
        } else {
            self.count(field, v).map(Some)
        }
    }
}

/// `/Date(1767600000000)/`, `/Date(1767600000000+0100)/` or RFC 3339; `null` is none.
///
/// # Errors
/// Any other text, as a message.
pub fn date(v: &Value) -> Result<Option<Timestamp>, String> {
    let s = match v {
        Value::Null => return Ok(None),
        Value::String(s) if s.is_empty() => return Ok(None),
        Value::String(s) => s.as_str(),
        other => return Err(format!("expected a date, found {other}")),
    };
    if let Some(inner) = s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        // The offset after the milliseconds (if any) is only a display hint: ms are UTC.
        let digits_end = inner
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == '+' || *c == '-')
            .map_or(inner.len(), |(i, _)| i);
        let ms: i64 = inner[..digits_end]
            .parse()
            .map_err(|_| format!("{s:?} is not a /Date(ms)/ date"))?;
        return Timestamp::from_millisecond(ms)
            .map(Some)
            .map_err(|e| format!("{s:?}: {e}"));
    }
    s.parse::<Timestamp>()
        .map(Some)
        .map_err(|_| format!("{s:?} is neither /Date(ms)/ nor an RFC 3339 date"))
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
    let start = match &s.start_type {
        Value::Number(n) => match n.as_u64() {
            Some(2) => "Automatic",
            Some(3) => "Manual",
            Some(4) => "Disabled",
            _ => "?",
        },
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
                format!("{other:?} is not a start type (Automatic, Manual, Disabled)"),
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

fn vm_state(c: &Ctx, field: &str, v: &Value) -> Result<VmState, ParseError> {
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
        v => c.name(field, v, "VM state")?,
    };
    Ok(match name {
        "Running" => VmState::Running,
        "Starting" | "Resuming" => VmState::Starting,
        "Stopping" | "Saving" | "Pausing" => VmState::Stopping,
        // Saved or paused: not running System Galaxy, and not to be started behind our back.
        "Off" | "Saved" | "Paused" | "FastSaved" => VmState::Off,
        other => {
            return Err(c.bad(
                field,
                format!("{other:?} is not a VM state galaxy-ha knows (Running, Off, Starting, Stopping, Saved, Paused)"),
            ));
        }
    })
}

/// The replication console's activity for Carbonite's high-level state.
fn activity(c: &Ctx, field: &str, v: &Value) -> Result<Activity, ParseError> {
    Ok(match c.name(field, v, "job state")? {
        "Provisioning" | "Creating" => Activity::Provisioning,
        "Mirroring" | "Synchronizing" | "MirrorRequired" | "Restarting" | "Starting" => {
            Activity::Synchronizing
        }
        "Protecting" => Activity::Protecting,
        "FailingOver" | "TestFailingOver" => Activity::FailingOver,
        "FailedOver" => Activity::FailedOver,
        "Stopped" | "Stopping" | "Paused" | "Pausing" => Activity::Stopped,
        "FailoverFailed" | "Failed" | "Error" => Activity::Failed,
        "ServerCommunicationError" | "CommunicationError" | "NotConnected" | "Disconnected" => {
            Activity::ServerCommunicationError
        }
        other => {
            return Err(c.bad(
                field,
                format!("{other:?} is not a job state galaxy-ha knows; add it to parse.rs's activity table"),
            ));
        }
    })
}

fn health(c: &Ctx, field: &str, v: &Value) -> Result<Health, ParseError> {
    Ok(match c.name(field, v, "job health")? {
        "Ok" | "OK" | "Healthy" | "Normal" => Health::Ok,
        "Warning" => Health::Warning,
        "Error" | "Critical" => Health::Error,
        other => {
            return Err(c.bad(
                field,
                format!("{other:?} is not a health (Ok, Warning, Error)"),
            ));
        }
    })
}

fn ms(c: &Ctx, field: &str, v: &Value) -> Result<Duration, ParseError> {
    c.count(field, v).map(Duration::from_millis)
}

/// Reads one job; `source` is the host the protected VM runs on (the other one).
fn job(c: &Ctx, field: &str, j: &JobDoc, target: &str, source: &str) -> Result<Job, ParseError> {
    let f = |name: &str| format!("{field}.{name}");
    let activity = activity(c, &f("highLevelState"), &j.high_level_state)?;
    let interval = ms(c, &f("monitor.intervalMs"), &j.monitor.interval_ms)?;
    let failures = c.optional_count(
        &f("monitor.consecutiveFailures"),
        &j.monitor.consecutive_failures,
    )?;
    let total = c.optional_count(&f("monitor.totalTimeMs"), &j.monitor.total_time_ms)?;
    let threshold = match (j.monitor.use_consecutive_failures, failures, total) {
        (true, Some(n), _) => Threshold::ConsecutiveFailures(u32::try_from(n).unwrap_or(u32::MAX)),
        (_, _, Some(t)) => Threshold::TotalTime(Duration::from_millis(t)),
        (_, Some(n), None) => Threshold::ConsecutiveFailures(u32::try_from(n).unwrap_or(u32::MAX)),
        _ => {
            return Err(c.bad(
                f("monitor"),
                "neither totalTimeMs nor consecutiveFailures is set",
            ));
        }
    };
    let monitor_status = match &j.monitor_status {
        None => MonitorStatus {
            // Unknown is read as alive: the controller never fails over on a missing value.
            source_alive: true,
            ..MonitorStatus::default()
        },
        Some(s) => {
            let remaining = ms(c, &f("monitorStatus.remainingMs"), &s.remaining_ms)?;
            let missed_for = if s.alive {
                Duration::ZERO
            } else {
                threshold
                    .time_to_failure(interval)
                    .saturating_sub(remaining)
            };
            let failed_queries = if interval.is_zero() {
                0
            } else {
                u32::try_from(missed_for.as_millis() / interval.as_millis()).unwrap_or(u32::MAX)
            };
            MonitorStatus {
                source_alive: s.alive,
                missed_for,
                failed_queries,
                remaining,
                condition_met: s.failover_condition_met,
            }
        }
    };
    let target_state = match &j.target_state {
        Value::Null => "",
        v => c.name(&f("targetState"), v, "target data state")?,
    };
    let permillage = c.count(&f("permillageComplete"), &j.permillage_complete)?;
    Ok(Job {
        name: j.name.clone(),
        source: source.to_string(),
        target: target.to_string(),
        replica: j.replica_name.clone(),
        activity,
        percent: (activity == Activity::Synchronizing)
            .then(|| u8::try_from((permillage / 10).min(100)).unwrap_or(100)),
        health: health(c, &f("health"), &j.health)?,
        target_data_ok: target_state.eq_ignore_ascii_case("ok"),
        mirror_remaining_bytes: c.count(&f("mirrorBytesRemaining"), &j.mirror_bytes_remaining)?,
        replication_queue_bytes: c
            .count(&f("replicationBytesQueued"), &j.replication_bytes_queued)?,
        disk_queue_bytes: c.count(&f("diskQueueBytes"), &j.disk_queue_bytes)?,
        target_queue_bytes: c.count(&f("targetQueueBytes"), &j.target_queue_bytes)?,
        recovery_point_latency: ms(
            c,
            &f("recoveryPointLatencyMs"),
            &j.recovery_point_latency_ms,
        )?,
        bytes_sent: c.count(&f("totalBytesSent"), &j.total_bytes_sent)?,
        connected_since: date(&j.start_time).map_err(|m| c.bad(f("startTime"), m))?,
        monitor: MonitorSettings {
            interval,
            threshold,
            wait_for_user: j.monitor.wait_for_user,
        },
        monitor_status,
    })
}

/// One host's part of `Observed`, and the jobs it holds (it is their target).
///
/// `vm_name` is the System Galaxy VM's name; `other_host` the pair's other host (every job
/// here replicates from it).
///
/// # Errors
/// A value galaxy-ha does not know, named by its field.
pub fn host(
    name: &str,
    doc: &HostDoc,
    vm_name: &str,
    other_host: &str,
) -> Result<(HostState, Vec<Job>), ParseError> {
    let c = Ctx { host: name };
    let jobs = doc
        .jobs
        .iter()
        .enumerate()
        .map(|(i, j)| job(&c, &format!("jobs[{i}]"), j, name, other_host))
        .collect::<Result<Vec<_>, _>>()?;
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
        let state = vm_state(&c, &format!("{field}.state"), &v.state)?;
        let kept_replica = jobs.iter().any(|j| {
            j.replica.eq_ignore_ascii_case(&v.name) && !matches!(j.activity, Activity::FailedOver)
        });
        // Running with its network is System Galaxy whatever its name (a failed-over
        // replica); otherwise a job's replica, the original VM, or a stale replica copy.
        let role = if state == VmState::Running && !v.isolated {
            VmRole::SystemGalaxy
        } else if kept_replica {
            VmRole::Replica
        } else if v.name.eq_ignore_ascii_case(vm_name) {
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
        vms.push(Vm {
            name: v.name.clone(),
            state,
            role,
            isolated: v.isolated,
            services,
        });
    }
    let email = match &doc.email {
        None => None,
        Some(e) => Some(email(&c, e)?),
    };
    Ok((
        HostState {
            name: name.to_string(),
            reachable: true,
            services: services(&c, "services", &doc.services)?,
            firewall,
            email,
            vms,
            jobs_known: true,
        },
        jobs,
    ))
}

fn email(c: &Ctx, e: &EmailDoc) -> Result<crate::observed::EmailSettings, ParseError> {
    use crate::manifest::spec::{EventLevel, SmtpSecurity};
    let security = match e.security.to_ascii_lowercase().as_str() {
        "none" | "" => SmtpSecurity::None,
        "starttls" => SmtpSecurity::Starttls,
        "tls" | "ssl" => SmtpSecurity::Tls,
        other => {
            return Err(c.bad(
                "email.security",
                format!("{other:?} is not none, starttls or tls"),
            ));
        }
    };
    let include = e
        .include
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
    Ok(crate::observed::EmailSettings {
        server: e.server.clone(),
        port: e.port,
        security,
        username: e.username.clone().filter(|u| !u.is_empty()),
        from: e.from.clone(),
        to: e.to.clone(),
        subject_prefix: e.subject_prefix.clone(),
        add_event_description: e.add_event_description,
        include,
        exclude_event_ids: e.exclude_event_ids.clone(),
    })
}
