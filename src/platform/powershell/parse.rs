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

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::manifest::spec::{Startup, Threshold};
use crate::model::names::VmName;
use crate::model::terms::SnapshotSchedule;
use crate::observed::{
    Activity, FirewallRule, Health, HostState, Job, MirrorRun, MonitorSettings, MonitorStatus,
    Protocol, ServiceState, ServiceStatus, Snapshot, Vm, VmRole, VmState,
};

/// The document format this galaxy-ha reads.
pub const FORMAT_VERSION: u32 = 2;

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

/// A service as the script reports it (`Get-Service`, plus the registry's `Start` and
/// `DelayedAutostart` values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDoc {
    pub name: String,
    pub status: Value,
    pub start_type: Value,
    /// The registry's `Start` (2 automatic, 3 manual, 4 disabled): Windows Server 2012 R2's
    /// `Get-Service` has no `StartType`.
    #[serde(default)]
    pub start_value: Value,
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
    /// Why the guest could not be asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_error: Option<String>,
    /// `Get-VMHardDiskDrive`'s paths.
    #[serde(default)]
    pub disks: Vec<String>,
}

/// `EmailNotificationOptions` as the script projects it: `To` and the filters are the
/// comma-separated strings Carbonite keeps; `SmtpPort` is `null` when unset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailDoc {
    pub server: String,
    pub port: Value,
    pub security: Value,
    #[serde(default)]
    pub login: bool,
    #[serde(default)]
    pub username: Option<String>,
    pub from: String,
    pub to: String,
    pub subject_prefix: String,
    pub add_event_description: bool,
    #[serde(default)]
    pub include: String,
    #[serde(default)]
    pub exclude_event_ids: String,
}

/// The job's failover monitor: `CoreMonitorOptions` and its first monitored address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitorDoc {
    /// `FailoverMonitoringEnabled` (a `bool?`).
    #[serde(default)]
    pub enabled: Value,
    pub interval_seconds: Value,
    pub max_ping_attempts: Value,
    pub use_total_time: bool,
    pub total_time_seconds: Value,
    /// `FailoverProcessingOptions` flags, by name (`UserInterventionRequired`) or number.
    pub processing_options: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitorStatusDoc {
    pub alive: bool,
    pub failover_condition_met: bool,
    #[serde(default)]
    pub warning_condition_met: bool,
    pub remaining_seconds: Value,
}

/// The job's `SnapshotSchedule` (`Options.CoreConnectionOptions.ConnectionStartParameters`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotScheduleDoc {
    /// `IsEnabled`: a schedule that is off is no schedule.
    pub enabled: bool,
    /// `Interval` (a `TimeSpan`).
    pub interval_seconds: Value,
    /// `MaxNumberOfSnapshots`.
    pub max_snapshots: Value,
}

/// One of `Get-DtSnapshot`'s `SnapshotEntry` objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotDoc {
    /// `Id`, a GUID: what a failover to it names.
    pub id: String,
    /// `Timestamp` (a `DateTimeOffset`).
    pub at: Value,
    /// `States` (`TargetStates` flags) by name, e.g. `Good` or `Mirroring, RestoreRequired`.
    pub states: Value,
    /// `Reason` (`SnapshotCreationReason`) by name.
    pub reason: Value,
}

/// A job as `Get-DtJob` reports it, with the names the script gives its fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobDoc {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    /// `JobType`: galaxy-ha's jobs are `VRA`.
    pub job_type: String,
    /// The host part of `SourceHostUri` (the System Galaxy guest) and `TargetHostUri`.
    pub source_host: String,
    pub target_host: String,
    #[serde(default)]
    pub source_machine: String,
    #[serde(default)]
    pub target_machine: String,
    pub replica_name: String,
    pub high_level_state: Value,
    pub health: Value,
    #[serde(default)]
    pub can_failover: bool,
    #[serde(default)]
    pub can_undo_failover: bool,
    pub permillage_complete: Value,
    pub target_state: Value,
    pub mirror_bytes_remaining: Value,
    pub replication_bytes_queued: Value,
    pub disk_queue_bytes: Value,
    pub target_queue_bytes: Value,
    pub recovery_point_latency_ms: Value,
    pub total_bytes_sent: Value,
    pub start_time: Value,
    /// Absent from captures made before the mirror was read.
    #[serde(default)]
    pub mirror_bytes_sent: Value,
    #[serde(default)]
    pub mirror_start_time: Value,
    #[serde(default)]
    pub mirror_end_time: Value,
    /// `null` when the job has no `CoreMonitorOptions`.
    pub monitor: Option<MonitorDoc>,
    #[serde(default)]
    pub monitor_status: Option<MonitorStatusDoc>,
    /// `null` when the job's options have no `SnapshotSchedule`; absent from captures made
    /// before snapshots were read.
    #[serde(default)]
    pub snapshot_schedule: Option<SnapshotScheduleDoc>,
    /// `Get-DtSnapshot`'s entries for the job, in Carbonite's order.
    #[serde(default)]
    pub snapshots: Vec<SnapshotDoc>,
    /// Why `Get-DtSnapshot` failed for the job: its snapshots are then read as none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_error: Option<String>,
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
    #[serde(default)]
    pub os_caption: Option<String>,
    #[serde(default)]
    pub os_build: Option<u32>,
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
    ("checks", false),
    ("guestServices", true),
    ("disks", false),
    ("snapshots", false),
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
}

/// A date as the script or Windows PowerShell 5.1 writes it: `/Date(ms)/`,
/// `/Date(ms+0100)/`, RFC 3339 (`.ToString('o')` of a `DateTimeOffset`), or a
/// `DateTimeOffset` object (`UtcDateTime`, `DateTime` or `UtcTicks`); `null` and
/// `DateTimeOffset.MinValue` (year 1: never connected) are none.
///
/// # Errors
/// Any other text, as a message.
pub fn date(v: &Value) -> Result<Option<Timestamp>, String> {
    let s = match v {
        Value::Null => return Ok(None),
        Value::String(s) if s.is_empty() => return Ok(None),
        Value::String(s) => s.as_str(),
        Value::Object(map) => {
            if let Some(inner) = ["UtcDateTime", "DateTime"]
                .iter()
                .find_map(|k| map.get(*k).filter(|v| v.is_string()))
            {
                return date(inner);
            }
            if let Some(ticks) = map.get("UtcTicks").and_then(Value::as_i64) {
                return from_ticks(ticks);
            }
            return Err(format!(
                "expected a date, found an object without UtcDateTime, DateTime or UtcTicks: {v}"
            ));
        }
        other => return Err(format!("expected a date, found {other}")),
    };
    if s.starts_with("0001-01-01") {
        return Ok(None);
    }
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
        if ms <= -62_135_596_800_000 {
            return Ok(None);
        }
        return Timestamp::from_millisecond(ms)
            .map(Some)
            .map_err(|e| format!("{s:?}: {e}"));
    }
    s.parse::<Timestamp>()
        .map(Some)
        .map_err(|_| format!("{s:?} is neither /Date(ms)/ nor an RFC 3339 date"))
}

/// .NET ticks (100 ns since 0001-01-01 UTC).
fn from_ticks(ticks: i64) -> Result<Option<Timestamp>, String> {
    const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;
    if ticks <= 0 {
        return Ok(None);
    }
    let ms = (ticks - UNIX_EPOCH_TICKS) / 10_000;
    Timestamp::from_millisecond(ms)
        .map(Some)
        .map_err(|e| format!("{ticks} ticks: {e}"))
}

/// A duration as the script writes a `TimeSpan` (`.TotalSeconds`), or as Windows PowerShell
/// 5.1 writes one unformatted (an object with `TotalSeconds` or `Ticks`), or `hh:mm:ss`.
///
/// # Errors
/// Anything else, or a negative duration, as a message.
pub fn seconds(v: &Value) -> Result<Option<Duration>, String> {
    let secs = match v {
        Value::Null => return Ok(None),
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::Object(map) => {
            if let Some(s) = map.get("TotalSeconds").and_then(Value::as_f64) {
                s
            } else if let Some(t) = map.get("Ticks").and_then(Value::as_i64) {
                t as f64 / 10_000_000.0
            } else {
                return Err(format!(
                    "expected a TimeSpan, found an object without TotalSeconds or Ticks: {v}"
                ));
            }
        }
        Value::String(s) => {
            let parts: Vec<&str> = s.split(':').collect();
            match parts.as_slice() {
                [h, m, sec] => {
                    let h: f64 = h.parse().map_err(|_| format!("{s:?} is not hh:mm:ss"))?;
                    let m: f64 = m.parse().map_err(|_| format!("{s:?} is not hh:mm:ss"))?;
                    let sec: f64 = sec.parse().map_err(|_| format!("{s:?} is not hh:mm:ss"))?;
                    h * 3600.0 + m * 60.0 + sec
                }
                _ => s
                    .trim()
                    .parse()
                    .map_err(|_| format!("{s:?} is not a number of seconds"))?,
            }
        }
        other => return Err(format!("expected seconds, found {other}")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("{v} is not a non-negative duration"));
    }
    Ok(Some(Duration::from_secs_f64(secs)))
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

/// Every `HighLevelState` of Carbonite 8.1 (name, value) and the console activity galaxy-ha
/// reads it as. States galaxy-ha never drives and cannot judge on its own (failback, restore,
/// reverse, credentials or licence needed) read as [`Activity::Unknown`]: the job is not
/// touched and no automatic failover happens until a person looks.
pub const HIGH_LEVEL_STATES: &[(&str, u32, Activity)] = &[
    ("Unknown", 0, Activity::Unknown),
    ("Created", 1, Activity::Provisioning),
    ("Deleting", 2, Activity::Deleting),
    ("FailedBack", 3, Activity::Unknown),
    ("FailedOver", 4, Activity::FailedOver),
    ("FailingBack", 5, Activity::Unknown),
    ("FailingOver", 6, Activity::FailingOver),
    ("FailoverFailed", 7, Activity::Failed),
    // "Has a failover condition met": still protecting, the monitor waits for the user.
    ("FailoverPending", 8, Activity::Protecting),
    ("Mirroring", 9, Activity::Synchronizing),
    ("MirrorRequired", 10, Activity::Synchronizing),
    ("Paused", 11, Activity::Stopped),
    ("Pausing", 12, Activity::Stopped),
    ("Protecting", 13, Activity::Protecting),
    ("Provisioning", 14, Activity::Provisioning),
    ("Restored", 15, Activity::Unknown),
    ("RestoreFailed", 16, Activity::Unknown),
    ("RestorePaused", 17, Activity::Unknown),
    ("RestoreRequired", 18, Activity::Unknown),
    ("Restoring", 19, Activity::Unknown),
    ("Resuming", 20, Activity::Synchronizing),
    ("Reversing", 21, Activity::Unknown),
    ("Reverting", 22, Activity::Unknown),
    ("Starting", 23, Activity::Synchronizing),
    ("Stopped", 24, Activity::Stopped),
    ("Stopping", 25, Activity::Stopped),
    // Ending a test failover.
    ("Undoing", 26, Activity::FailingOver),
    ("RevertingSnapshot", 27, Activity::Unknown),
    ("UpdatingTargetImage", 28, Activity::Unknown),
    ("CredentialsRequired", 29, Activity::Unknown),
    ("ActivationCodeWarning", 30, Activity::Unknown),
    ("ActivationCodeError", 31, Activity::Unknown),
    // The source or its engine cannot be reached: what an outage of the live host looks like.
    (
        "EngineConnectionWarning",
        32,
        Activity::ServerCommunicationError,
    ),
    (
        "EngineConnectionError",
        33,
        Activity::ServerCommunicationError,
    ),
    (
        "EngineServiceWarning",
        34,
        Activity::ServerCommunicationError,
    ),
    ("EngineServiceError", 35, Activity::ServerCommunicationError),
    (
        "ServerCommunicationWarning",
        36,
        Activity::ServerCommunicationError,
    ),
    (
        "ServerCommunicationError",
        37,
        Activity::ServerCommunicationError,
    ),
    ("TargetInfoNotAvailable", 38, Activity::Unknown),
    ("Editing", 39, Activity::Provisioning),
];

/// The activity of a `HighLevelState` (by name or number) and its name; a value not in the
/// table is `Unknown`, named as it came.
pub fn activity(v: &Value) -> (Activity, String) {
    let found = match v {
        Value::String(s) => HIGH_LEVEL_STATES
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(s)),
        Value::Number(n) => HIGH_LEVEL_STATES
            .iter()
            .find(|(_, num, _)| n.as_u64() == Some(u64::from(*num))),
        _ => None,
    };
    match (found, v) {
        (Some((name, _, a)), _) => (*a, (*name).to_string()),
        (None, Value::String(s)) => (Activity::Unknown, s.clone()),
        (None, Value::Null) => (Activity::Unknown, "(none)".to_string()),
        (None, other) => (Activity::Unknown, other.to_string()),
    }
}

/// `Health` (Unknown 0, Ok 1, Warning 2, Error 3). Unknown, and anything newer, is a warning:
/// not healthy, not an error the controller acts on.
fn health(v: &Value) -> Health {
    let name = match v {
        Value::Number(n) => match n.as_u64() {
            Some(1) => "Ok",
            Some(2) => "Warning",
            Some(3) => "Error",
            _ => "Unknown",
        },
        Value::String(s) => s.as_str(),
        _ => "Unknown",
    };
    match name {
        "Ok" | "OK" => Health::Ok,
        "Error" => Health::Error,
        _ => Health::Warning,
    }
}

fn optional_seconds(c: &Ctx, field: &str, v: &Value) -> Result<Option<Duration>, ParseError> {
    seconds(v).map_err(|m| c.bad(field, m))
}

/// The monitor as galaxy-ha describes it. `UseTotalTimeAllowed` picks the threshold; without
/// it the job fails over after `MaxPingAttempts` missed pings. Settings that cannot be read
/// (no monitored address) read as none, which differs from any manifest: rule 5 rewrites them.
fn monitor(c: &Ctx, field: &str, m: Option<&MonitorDoc>) -> Result<MonitorSettings, ParseError> {
    let Some(m) = m else {
        return Ok(MonitorSettings {
            interval: Duration::ZERO,
            threshold: Threshold::ConsecutiveFailures(0),
            wait_for_user: false,
        });
    };
    let interval = optional_seconds(c, &format!("{field}.intervalSeconds"), &m.interval_seconds)?
        .unwrap_or(Duration::ZERO);
    let threshold = if m.use_total_time {
        Threshold::TotalTime(
            optional_seconds(
                c,
                &format!("{field}.totalTimeSeconds"),
                &m.total_time_seconds,
            )?
            .unwrap_or(Duration::ZERO),
        )
    } else {
        let n = c.count(&format!("{field}.maxPingAttempts"), &m.max_ping_attempts)?;
        Threshold::ConsecutiveFailures(u32::try_from(n).unwrap_or(u32::MAX))
    };
    let user = match &m.processing_options {
        Value::Number(n) => n.as_u64().is_some_and(|n| n & 1 == 1),
        Value::String(s) => s.split(',').any(|f| f.trim() == "UserInterventionRequired"),
        _ => false,
    };
    // Monitoring switched off (`false`) waits for nobody: it never fails over at all.
    let enabled = !matches!(m.enabled, Value::Bool(false));
    Ok(MonitorSettings {
        interval,
        threshold,
        wait_for_user: user && enabled,
    })
}

/// The job's snapshot schedule: `None` without one, or when it is off (`IsEnabled` false).
fn snapshot_schedule(
    c: &Ctx,
    field: &str,
    s: Option<&SnapshotScheduleDoc>,
) -> Result<Option<SnapshotSchedule>, ParseError> {
    let Some(s) = s.filter(|s| s.enabled) else {
        return Ok(None);
    };
    let f = |name: &str| format!("{field}.{name}");
    let every =
        optional_seconds(c, &f("intervalSeconds"), &s.interval_seconds)?.ok_or_else(|| {
            c.bad(
                f("intervalSeconds"),
                "a schedule that is on has no interval",
            )
        })?;
    let keep = c.count(&f("maxSnapshots"), &s.max_snapshots)?;
    let keep = u32::try_from(keep).map_err(|_| {
        c.bad(
            f("maxSnapshots"),
            format!("{keep} is not a number of snapshots"),
        )
    })?;
    Ok(Some(SnapshotSchedule { every, keep }))
}

/// `TargetStates` is flags with `Good` = 0: a snapshot's data is good only when no other flag
/// is set (by name, or as the number a script that forgot `[string]` writes).
fn snapshot_good(c: &Ctx, field: &str, v: &Value) -> Result<bool, ParseError> {
    match v {
        Value::String(s) => Ok(s.trim().eq_ignore_ascii_case("Good")),
        Value::Number(n) => Ok(n.as_i64() == Some(0)),
        other => Err(c.bad(
            field,
            format!("expected the TargetStates' names (Good, or flags such as Mirroring, RestoreRequired), found {other}"),
        )),
    }
}

/// A GUID as `[string]` writes one: 32 hex digits in groups of 8-4-4-4-12.
fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The job's snapshots, oldest first (the order `Get-DtSnapshot` lists them in is not
/// documented).
fn snapshots(c: &Ctx, field: &str, list: &[SnapshotDoc]) -> Result<Vec<Snapshot>, ParseError> {
    let mut out = list
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let f = |name: &str| format!("{field}[{i}].{name}");
            if !is_guid(&s.id) {
                return Err(c.bad(
                    f("id"),
                    format!("{:?} is not a GUID: a failover could not name it", s.id),
                ));
            }
            let at = date(&s.at)
                .map_err(|m| c.bad(f("at"), m))?
                .ok_or_else(|| c.bad(f("at"), "a snapshot without the time it was taken"))?;
            Ok(Snapshot {
                id: s.id.clone(),
                at,
                good: snapshot_good(c, &f("states"), &s.states)?,
                reason: c
                    .name(&f("reason"), &s.reason, "SnapshotCreationReason")?
                    .to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_by_key(|s| s.at);
    Ok(out)
}

/// Reads one job; `source` is the host the protected VM runs on (the other one).
fn job(c: &Ctx, field: &str, j: &JobDoc, target: &str, source: &str) -> Result<Job, ParseError> {
    let f = |name: &str| format!("{field}.{name}");
    let (activity, state_name) = activity(&j.high_level_state);
    let monitor = monitor(c, &f("monitor"), j.monitor.as_ref())?;
    let interval = monitor.interval;
    let threshold = monitor.threshold;
    let monitor_status = match &j.monitor_status {
        None => MonitorStatus {
            // Unknown is read as alive: the controller never fails over on a missing value.
            source_alive: true,
            ..MonitorStatus::default()
        },
        Some(s) => {
            let remaining = optional_seconds(
                c,
                &f("monitorStatus.remainingSeconds"),
                &s.remaining_seconds,
            )?
            .unwrap_or(Duration::ZERO);
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
        Value::String(s) => s.as_str(),
        _ => "",
    };
    let permillage = c.count(&f("permillageComplete"), &j.permillage_complete)?;
    if let Some(e) = &j.snapshot_error {
        tracing::warn!(host = c.host, job = %j.name, error = %e, "the job's snapshots could not be listed; read as none");
    }
    Ok(Job {
        snapshot_schedule: snapshot_schedule(
            c,
            &f("snapshotSchedule"),
            j.snapshot_schedule.as_ref(),
        )?,
        snapshots: snapshots(c, &f("snapshots"), &j.snapshots)?,
        name: j.name.clone(),
        source: source.into(),
        target: target.into(),
        replica: VmName::from(&j.replica_name),
        activity,
        state_name: Some(state_name),
        percent: (activity == Activity::Synchronizing)
            .then(|| u8::try_from((permillage / 10).min(100)).unwrap_or(100)),
        health: health(&j.health),
        // Which key a healthy target reports is not settled: `OK` or `Good`.
        target_data_ok: target_state.eq_ignore_ascii_case("ok")
            || target_state.eq_ignore_ascii_case("good"),
        mirror_remaining_bytes: c.count(&f("mirrorBytesRemaining"), &j.mirror_bytes_remaining)?,
        replication_queue_bytes: c
            .count(&f("replicationBytesQueued"), &j.replication_bytes_queued)?,
        disk_queue_bytes: c.count(&f("diskQueueBytes"), &j.disk_queue_bytes)?,
        target_queue_bytes: c.count(&f("targetQueueBytes"), &j.target_queue_bytes)?,
        recovery_point_latency: Duration::from_millis(
            c.count(&f("recoveryPointLatencyMs"), &j.recovery_point_latency_ms)?,
        ),
        bytes_sent: c.count(&f("totalBytesSent"), &j.total_bytes_sent)?,
        connected_since: date(&j.start_time).map_err(|m| c.bad(f("startTime"), m))?,
        mirror: MirrorRun {
            bytes_sent: match &j.mirror_bytes_sent {
                Value::Null => 0,
                v => c.count(&f("mirrorBytesSent"), v)?,
            },
            started: date(&j.mirror_start_time).map_err(|m| c.bad(f("mirrorStartTime"), m))?,
            ended: date(&j.mirror_end_time).map_err(|m| c.bad(f("mirrorEndTime"), m))?,
        },
        monitor,
        monitor_status,
    })
}

/// What makes a job the site's: one of the names the templates give, job type `VRA`, the
/// System Galaxy guest as its source and this host as its target.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// The System Galaxy VM's name.
    pub vm_name: String,
    /// The pair's other host (every job here replicates from the guest running there).
    pub other_host: String,
    /// Job names the templates give, both directions.
    pub job_names: Vec<String>,
    /// Names and addresses the guest may be known by in `SourceHostUri`.
    pub sources: Vec<String>,
    /// Names and addresses this host may be known by in `TargetHostUri`.
    pub targets: Vec<String>,
}

/// How a job found on a host relates to the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// Name, type, source and target match: the site's job.
    Ours,
    /// A name of ours on a job that is not ours: what the site's job is, is not known.
    Impostor,
    /// Another job: not the site's business.
    Foreign,
}

/// Whether `j` is the site's job.
pub fn ownership(j: &JobDoc, expect: &Expect) -> Ownership {
    let any = |list: &[String], v: &str| list.iter().any(|x| x.eq_ignore_ascii_case(v));
    if !any(&expect.job_names, &j.name) {
        return Ownership::Foreign;
    }
    if j.job_type
        .eq_ignore_ascii_case(super::names::value("JOB_TYPE"))
        && any(&expect.sources, &j.source_host)
        && any(&expect.targets, &j.target_host)
    {
        Ownership::Ours
    } else {
        Ownership::Impostor
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
