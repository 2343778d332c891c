//! The observe script's JSON document as it is read (the `*Doc` types), the errors that
//! name a field, and the context that builds them for one host.

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    /// Hyper-V's heartbeat integration service (`Get-VMIntegrationService`'s
    /// `PrimaryStatusDescription`, e.g. `OK`); `null` when the VM is not running or it could
    /// not be read, absent from documents made before it was read.
    #[serde(default)]
    pub heartbeat: Option<String>,
    /// `null` when the guest could not be asked: the site's services in a VM with its
    /// network, `spec.vm.services` in an isolated one (a drill's test replica).
    #[serde(default)]
    pub guest_services: Option<Vec<ServiceDoc>>,
    /// Of `spec.vm.ports`, those listening (TCP) or bound (UDP) inside an isolated VM;
    /// `null` when the guest was not asked or did not answer.
    #[serde(default)]
    pub listening: Option<Vec<Value>>,
    /// Why the guest could not be asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_error: Option<String>,
    /// `Get-VMHardDiskDrive`'s paths.
    #[serde(default)]
    pub disks: Vec<String>,
    /// `Get-VM`'s `MemoryStartup`, in bytes; `null` when not read, absent from documents
    /// made before it was read.
    #[serde(default)]
    pub memory_bytes: Value,
    /// The sum of `Get-VHD`'s `Size` (virtual size) over `disks`, in bytes; `null` when a
    /// disk's size could not be read (`sizeError` says why).
    #[serde(default)]
    pub disk_bytes: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_error: Option<String>,
}

/// The volume of this host's replica path (`Win32_LogicalDisk` whose `DeviceID` is the
/// path's drive).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeDoc {
    /// The drive, e.g. `D:`; `null` when the path has none.
    #[serde(default)]
    pub drive: Option<String>,
    /// `FreeSpace`, in bytes; `null` when not read (`error` says why).
    #[serde(default)]
    pub free_bytes: Value,
    #[serde(default)]
    pub error: Option<String>,
}

/// One of `Get-DtActivationStatus`'s `Codes` (an `ActivationCode`), without the code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivationCodeDoc {
    /// `ProductName`.
    #[serde(default)]
    pub product: String,
    /// `LicenseType` by name (`Site`, `Single`, ...).
    #[serde(default)]
    pub license_type: Value,
    #[serde(default)]
    pub is_valid: bool,
    #[serde(default)]
    pub is_expired: bool,
    #[serde(default)]
    pub is_evaluation: bool,
    /// `ExpirationDate` as `yyyy-MM-dd`.
    #[serde(default)]
    pub expires: Value,
}

/// `Get-DtActivationStatus`'s answer, or why there is none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenceDoc {
    /// `IsValid`; `null` when not read.
    #[serde(default)]
    pub is_valid: Value,
    #[serde(default)]
    pub codes: Vec<ActivationCodeDoc>,
    /// Why the activation could not be read.
    #[serde(default)]
    pub error: Option<String>,
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
    /// What a failover onto this host needs of it, absent from documents made before they
    /// were read: `Win32_OperatingSystem.FreePhysicalMemory` in bytes (`null` when not
    /// read), the replica path's volume, and Carbonite's activation (`null` when Double-Take
    /// was not asked).
    #[serde(default)]
    pub memory_free_bytes: Value,
    #[serde(default)]
    pub replica_volume: Option<VolumeDoc>,
    #[serde(default)]
    pub licence: Option<LicenceDoc>,
}

/// Builds field errors for one host.
pub(super) struct Ctx<'a> {
    pub(super) host: &'a str,
}

impl Ctx<'_> {
    pub(super) fn bad(&self, field: impl Into<String>, message: impl Into<String>) -> ParseError {
        ParseError::Value {
            host: self.host.to_string(),
            field: field.into(),
            message: message.into(),
        }
    }

    /// An enum written as a name; a number means the script did not convert it.
    pub(super) fn name<'v>(
        &self,
        field: &str,
        v: &'v Value,
        what: &str,
    ) -> Result<&'v str, ParseError> {
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

    /// A port number (1 to 65535), as a number or its digits.
    pub(super) fn port(&self, field: &str, v: &Value) -> Result<u32, ParseError> {
        let n = match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        n.and_then(|n| u32::try_from(n).ok())
            .filter(|n| (1..=65535).contains(n))
            .ok_or_else(|| self.bad(field, format!("{v} is not a port number (1 to 65535)")))
    }

    /// A count of bytes that may not have been read: `null` is none.
    pub(super) fn bytes(&self, field: &str, v: &Value) -> Result<Option<u64>, ParseError> {
        match v {
            Value::Null => Ok(None),
            Value::Number(_) | Value::String(_) => self.count(field, v).map(Some),
            other => Err(self.bad(field, format!("expected a number of bytes, found {other}"))),
        }
    }

    /// A count of bytes (or ms): a non-negative number; `null` is 0.
    pub(super) fn count(&self, field: &str, v: &Value) -> Result<u64, ParseError> {
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
