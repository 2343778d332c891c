//! What each script reads from standard input besides the common fields, as one serde type
//! per script. The controller encodes it ([`super::payload`]), the fake PowerShell decodes
//! the same type ([`super::sim_runner`]), and a test checks that every `$in.NAME` a script
//! reads is a field its type writes: the wire format is written down once.
//!
//! Values travel in Windows' and Double-Take's words (`automatic-delayed`, `TCP`,
//! `Information`), each table written once below.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::scripts::ScriptKind;
use super::secret::Secret;
use crate::manifest::spec::{EventLevel, SmtpSecurity, Startup, Threshold};
use crate::model::operation::{
    ActionKind, FailoverKind, MonitorOptions, NewJob, Operation, Place, SnapshotSchedule,
};
use crate::observed::{EmailSettings, Protocol};

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

fn mode_name(m: FailoverKind) -> &'static str {
    match m {
        FailoverKind::Live => "live",
        FailoverKind::Test => "test",
    }
}

/// A serde `with` module that writes a value as its word and reads the word back, from the
/// one naming function and the list of values.
macro_rules! words {
    ($module:ident, $ty:ty, $name:path, [$($value:expr),+ $(,)?]) => {
        mod $module {
            use super::*;

            pub fn serialize<S: Serializer>(v: &$ty, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($name(*v))
            }

            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                let text = String::deserialize(d)?;
                [$($value),+]
                    .into_iter()
                    .find(|v| $name(*v) == text)
                    .ok_or_else(|| D::Error::custom(format!("unknown value {text:?}")))
            }
        }
    };
}

words!(
    startup,
    Startup,
    startup_name,
    [
        Startup::Automatic,
        Startup::AutomaticDelayed,
        Startup::Manual,
        Startup::Disabled
    ]
);
words!(
    protocol,
    Protocol,
    protocol_name,
    [Protocol::Tcp, Protocol::Udp]
);
words!(
    security,
    SmtpSecurity,
    security_name,
    [
        SmtpSecurity::None,
        SmtpSecurity::Starttls,
        SmtpSecurity::Tls
    ]
);
words!(
    level,
    EventLevel,
    level_name,
    [
        EventLevel::Information,
        EventLevel::Warning,
        EventLevel::Error
    ]
);
words!(
    mode,
    FailoverKind,
    mode_name,
    [FailoverKind::Live, FailoverKind::Test]
);

/// `observe` and `capture`: the services and ports to report on the host (and the services
/// in the live guest), what a drill checks inside an isolated test replica: the guest's
/// services (`spec.vm.services`) and the ports listening there (`spec.vm.ports`), and where
/// a replica's files go on this host (`spec.replication.replicaPath` rendered with this host
/// as the target), whose volume's free space observe reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Observe {
    pub services: Vec<String>,
    pub ports: Vec<u32>,
    pub vm_services: Vec<String>,
    pub vm_ports: Vec<u32>,
    pub replica_path: String,
}

/// `doctor`: the services to check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Doctor {
    pub services: Vec<String>,
}

/// `end-test-failover`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub job: String,
}

/// `start-service`, on the host or (`guest`) inside the VM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub guest: bool,
    pub service: String,
}

/// `set-service-startup`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceStartup {
    pub guest: bool,
    pub service: String,
    #[serde(with = "startup")]
    pub startup: Startup,
}

/// `open-firewall-port`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirewallPort {
    pub port: u16,
    #[serde(with = "protocol")]
    pub protocol: Protocol,
}

/// An e-mail level in Double-Take's word.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Level(#[serde(with = "level")] pub EventLevel);

/// Double-Take's e-mail notification settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Email {
    pub server: String,
    pub port: u16,
    #[serde(with = "security")]
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub from: String,
    pub to: Vec<String>,
    pub subject_prefix: String,
    pub add_event_description: bool,
    pub include: Vec<Level>,
    pub exclude_event_ids: String,
}

/// `set-email-notification`: the settings, and the password read from `passwordFrom`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailNotification {
    pub settings: Email,
    pub password: Option<Secret>,
}

/// The job's failover monitor: exactly one of the two thresholds is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Monitor {
    pub interval_seconds: u64,
    pub total_time_seconds: Option<u64>,
    pub consecutive_failures: Option<u32>,
}

/// The job's snapshot schedule (`SnapshotSchedule`). Where a script takes one, `null`
/// turns the schedule off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshots {
    pub every_seconds: u64,
    pub keep: u32,
}

/// `create-job`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateJob {
    pub name: String,
    pub vm: String,
    pub source: String,
    pub target: String,
    pub source_address: String,
    pub target_address: String,
    pub replica: String,
    pub replica_path: String,
    pub monitor: Monitor,
    pub snapshots: Option<Snapshots>,
}

/// `update-job`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateJob {
    pub job: String,
    pub monitor: Monitor,
    pub snapshots: Option<Snapshots>,
}

/// `delete-job`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteJob {
    pub job: String,
    pub delete_replica: bool,
}

/// `remove-replica`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoveVm {
    pub vm: String,
}

/// `stop-vm`: a clean shutdown, or turned off like a power cut.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopVm {
    pub vm: String,
    pub turn_off: bool,
}

/// `start-vm`: System Galaxy's VM started again where a switchover left it off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartVm {
    pub vm: String,
}

/// `failover`: refused by the script when the job's `HighLevelState` is not one of
/// `allowed_states` (those the plan was made on). A live failover with a `snapshot` (its
/// Carbonite id) goes to that snapshot of the replica's data; a test failover, like the
/// lab's, ignores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Failover {
    pub job: String,
    #[serde(with = "mode")]
    pub mode: FailoverKind,
    pub apply_queued_data: bool,
    pub allowed_states: Vec<String>,
    pub snapshot: Option<String>,
}

/// A script's own input. Written flat beside the common fields (`$in.job`, `$in.address`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Input {
    Observe(Observe),
    Capture(Observe),
    Doctor(Doctor),
    EndTestFailover(Job),
    StartService(Service),
    SetServiceStartup(ServiceStartup),
    OpenFirewallPort(FirewallPort),
    SetEmailNotification(EmailNotification),
    CreateJob(CreateJob),
    UpdateJob(UpdateJob),
    DeleteJob(DeleteJob),
    RemoveVm(RemoveVm),
    StopVm(StopVm),
    StartVm(StartVm),
    Failover(Failover),
}

fn read<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, String> {
    T::deserialize(value).map_err(|e| e.to_string())
}

impl Monitor {
    pub fn of(m: &MonitorOptions) -> Monitor {
        let (total, failures) = match m.threshold {
            Threshold::TotalTime(d) => (Some(d.as_secs()), None),
            Threshold::ConsecutiveFailures(n) => (None, Some(n)),
        };
        Monitor {
            interval_seconds: m.interval.as_secs(),
            total_time_seconds: total,
            consecutive_failures: failures,
        }
    }

    fn options(&self) -> Result<MonitorOptions, String> {
        let threshold = match (self.total_time_seconds, self.consecutive_failures) {
            (_, Some(n)) => Threshold::ConsecutiveFailures(n),
            (Some(t), None) => Threshold::TotalTime(std::time::Duration::from_secs(t)),
            (None, None) => return Err("no monitor threshold".into()),
        };
        Ok(MonitorOptions {
            interval: std::time::Duration::from_secs(self.interval_seconds),
            threshold,
        })
    }
}

impl Snapshots {
    pub fn of(s: &SnapshotSchedule) -> Snapshots {
        Snapshots {
            every_seconds: s.every.as_secs(),
            keep: s.keep,
        }
    }

    fn schedule(&self) -> SnapshotSchedule {
        SnapshotSchedule {
            every: std::time::Duration::from_secs(self.every_seconds),
            keep: self.keep,
        }
    }
}

impl Email {
    pub fn of(s: &EmailSettings) -> Email {
        Email {
            server: s.server.clone(),
            port: s.port,
            security: s.security,
            username: s.username.clone(),
            from: s.from.clone(),
            to: s.to.clone(),
            subject_prefix: s.subject_prefix.clone(),
            add_event_description: s.add_event_description,
            include: s.include.iter().map(|l| Level(*l)).collect(),
            exclude_event_ids: s.exclude_event_ids.clone(),
        }
    }

    fn settings(self) -> EmailSettings {
        EmailSettings {
            server: self.server,
            port: self.port,
            security: self.security,
            username: self.username,
            from: self.from,
            to: self.to,
            subject_prefix: self.subject_prefix,
            add_event_description: self.add_event_description,
            include: self.include.into_iter().map(|l| l.0).collect(),
            exclude_event_ids: self.exclude_event_ids,
        }
    }
}

impl Input {
    /// The script that reads this input.
    pub fn kind(&self) -> ScriptKind {
        match self {
            Input::Observe(_) => ScriptKind::Observe,
            Input::Capture(_) => ScriptKind::Capture,
            Input::Doctor(_) => ScriptKind::Doctor,
            Input::EndTestFailover(_) => ScriptKind::Act(ActionKind::EndTestFailover),
            Input::StartService(_) => ScriptKind::Act(ActionKind::StartService),
            Input::SetServiceStartup(_) => ScriptKind::Act(ActionKind::SetServiceStartup),
            Input::OpenFirewallPort(_) => ScriptKind::Act(ActionKind::OpenFirewallPort),
            Input::SetEmailNotification(_) => ScriptKind::Act(ActionKind::SetEmailNotification),
            Input::CreateJob(_) => ScriptKind::Act(ActionKind::CreateJob),
            Input::UpdateJob(_) => ScriptKind::Act(ActionKind::UpdateJob),
            Input::DeleteJob(_) => ScriptKind::Act(ActionKind::DeleteJob),
            Input::RemoveVm(_) => ScriptKind::Act(ActionKind::RemoveReplica),
            Input::StopVm(_) => ScriptKind::Act(ActionKind::StopVm),
            Input::StartVm(_) => ScriptKind::Act(ActionKind::StartVm),
            Input::Failover(_) => ScriptKind::Act(ActionKind::Failover),
        }
    }

    /// Reads the input of a `kind` script from what it gets on standard input (the common
    /// fields beside it are ignored).
    ///
    /// # Errors
    /// A field missing or of the wrong type, as a message.
    pub fn decode(kind: ScriptKind, value: &Value) -> Result<Input, String> {
        Ok(match kind {
            ScriptKind::Observe => Input::Observe(read(value)?),
            ScriptKind::Capture => Input::Capture(read(value)?),
            ScriptKind::Doctor => Input::Doctor(read(value)?),
            ScriptKind::Act(ActionKind::EndTestFailover) => Input::EndTestFailover(read(value)?),
            ScriptKind::Act(ActionKind::StartService) => Input::StartService(read(value)?),
            ScriptKind::Act(ActionKind::SetServiceStartup) => {
                Input::SetServiceStartup(read(value)?)
            }
            ScriptKind::Act(ActionKind::OpenFirewallPort) => Input::OpenFirewallPort(read(value)?),
            ScriptKind::Act(ActionKind::SetEmailNotification) => {
                Input::SetEmailNotification(read(value)?)
            }
            ScriptKind::Act(ActionKind::CreateJob) => Input::CreateJob(read(value)?),
            ScriptKind::Act(ActionKind::UpdateJob) => Input::UpdateJob(read(value)?),
            ScriptKind::Act(ActionKind::DeleteJob) => Input::DeleteJob(read(value)?),
            ScriptKind::Act(ActionKind::RemoveReplica) => Input::RemoveVm(read(value)?),
            ScriptKind::Act(ActionKind::StopVm) => Input::StopVm(read(value)?),
            ScriptKind::Act(ActionKind::StartVm) => Input::StartVm(read(value)?),
            ScriptKind::Act(ActionKind::Failover | ActionKind::TestFailover) => {
                Input::Failover(read(value)?)
            }
            ScriptKind::Act(ActionKind::Alert | ActionKind::RunHook) => {
                return Err("an alert or a hook runs no script on a host".into());
            }
        })
    }

    /// The operation a script with this input carries out on `host`.
    ///
    /// # Errors
    /// A script that carries out no operation (observe, doctor, capture), or a monitor
    /// without a threshold.
    pub fn into_operation(self, host: &str) -> Result<Operation, String> {
        let place = |guest: bool| {
            if guest {
                Place::Guest(host.into())
            } else {
                Place::Host(host.into())
            }
        };
        Ok(match self {
            Input::StartService(i) => Operation::StartService {
                place: place(i.guest),
                service: i.service,
            },
            Input::SetServiceStartup(i) => Operation::SetServiceStartup {
                place: place(i.guest),
                service: i.service,
                startup: i.startup,
            },
            Input::OpenFirewallPort(i) => Operation::OpenFirewallPort {
                host: host.into(),
                port: i.port,
                protocol: i.protocol,
            },
            Input::SetEmailNotification(i) => Operation::SetEmailNotification {
                host: host.into(),
                settings: i.settings.settings(),
            },
            Input::CreateJob(i) => Operation::CreateJob(NewJob {
                snapshots: i.snapshots.as_ref().map(Snapshots::schedule),
                name: i.name,
                vm: i.vm.into(),
                source: i.source.into(),
                target: i.target.into(),
                replica: i.replica.into(),
                replica_path: i.replica_path,
                monitor: i.monitor.options()?,
            }),
            Input::UpdateJob(i) => Operation::UpdateJob {
                snapshots: i.snapshots.as_ref().map(Snapshots::schedule),
                job: i.job,
                target: host.into(),
                monitor: i.monitor.options()?,
            },
            Input::DeleteJob(i) => Operation::DeleteJob {
                job: i.job,
                target: host.into(),
                delete_replica: i.delete_replica,
            },
            Input::RemoveVm(i) => Operation::RemoveReplica {
                host: host.into(),
                vm: i.vm.into(),
            },
            Input::StopVm(i) => Operation::StopVm {
                host: host.into(),
                vm: i.vm.into(),
                turn_off: i.turn_off,
            },
            Input::StartVm(i) => Operation::StartVm {
                host: host.into(),
                vm: i.vm.into(),
            },
            Input::Failover(i) => Operation::Failover {
                snapshot: i.snapshot,
                job: i.job,
                target: host.into(),
                mode: i.mode,
                apply_queued_data: i.apply_queued_data,
            },
            Input::EndTestFailover(i) => Operation::EndTestFailover {
                job: i.job,
                target: host.into(),
            },
            other @ (Input::Observe(_) | Input::Capture(_) | Input::Doctor(_)) => {
                return Err(format!("{} is not an operation", other.kind().as_str()));
            }
        })
    }
}
