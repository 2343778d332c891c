//! What a platform reports about one site: hosts, services, firewall, e-mail settings, VMs and
//! the replication job, as the guide lets an admin see them in Services, Hyper-V Manager and
//! the Replication Console.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::names::{HostName, VmName};
use crate::model::terms::{EventLevel, SmtpSecurity, Startup, Threshold};

/// One observation of a site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Observed {
    /// Both hosts of the pair, in manifest order.
    pub hosts: Vec<HostState>,
    /// The replication job, as the target (where it lives) reports it; `None` when no job
    /// exists or the host holding it cannot be reached.
    pub job: Option<Job>,
}

/// One Hyper-V host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostState {
    pub name: HostName,
    /// Reachable from the controller. When false, everything else here is unknown (empty).
    pub reachable: bool,
    pub services: Vec<ServiceState>,
    pub firewall: Vec<FirewallRule>,
    /// The host's Double-Take e-mail notification settings; `None` when not enabled.
    pub email: Option<EmailSettings>,
    /// The VMs on this host that matter: System Galaxy and its replicas.
    pub vms: Vec<Vm>,
    /// Double-Take answered: the jobs this host holds are known. When false (its service is
    /// stopped, the module failed) "no job" means "not known", and the planner touches no job
    /// or replica on the site until it is known again.
    #[serde(default = "known")]
    pub jobs_known: bool,
    /// What a failover onto this host needs beyond the job: free memory and disk, and
    /// Carbonite's licence; `None` when not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Capacity>,
}

/// A host's room for System Galaxy's VM, and whether Carbonite may run there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capacity {
    /// Physical memory free now.
    pub memory_free_bytes: u64,
    /// Free space on the volume of the replica's files (`spec.replication.replicaPath`).
    pub disk_free_bytes: u64,
    /// Carbonite's activation: valid, with what it says.
    pub licence_valid: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub licence: String,
}

fn known() -> bool {
    true
}

impl HostState {
    /// A test failover's isolated replica that is not off: a drill under way on this host.
    pub fn test_replica(&self) -> Option<&Vm> {
        self.vms
            .iter()
            .find(|v| v.isolated && v.state != VmState::Off)
    }

    /// What a running drill shows of itself, for the journal when it ends and for status:
    /// whether its replica booted, and which of its guest's services run.
    pub fn drill_result(&self) -> Option<String> {
        let v = self.test_replica()?;
        let booted = if v.state == VmState::Running {
            format!("the test replica {:?} booted on {}", v.name, self.name)
        } else {
            format!(
                "the test replica {:?} on {} is {:?}, not running",
                v.name, self.name, v.state
            )
        };
        let services = if v.services.is_empty() {
            "its services cannot be read while it is isolated".to_string()
        } else {
            let (up, down): (Vec<&ServiceState>, Vec<&ServiceState>) = v
                .services
                .iter()
                .partition(|s| s.status == ServiceStatus::Running);
            let names = |list: &[&ServiceState]| {
                list.iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            match (up.is_empty(), down.is_empty()) {
                (_, true) => format!("its services run: {}", names(&up)),
                (true, false) => format!("none of its services runs: {}", names(&down)),
                (false, false) => {
                    format!("its services {} run, {} do not", names(&up), names(&down))
                }
            }
        };
        Some(format!("{booted}; {services}"))
    }

    /// A host the controller cannot reach: nothing of it is known.
    pub fn unreachable(name: &str) -> HostState {
        HostState {
            name: name.into(),
            reachable: false,
            services: Vec::new(),
            firewall: Vec::new(),
            email: None,
            vms: Vec::new(),
            jobs_known: false,
            capacity: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceState {
    pub name: String,
    pub status: ServiceStatus,
    pub startup: Startup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceStatus {
    Running,
    Stopped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

/// An inbound allow rule for one port and protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FirewallRule {
    pub port: u16,
    pub protocol: Protocol,
}

/// Double-Take's e-mail notification options on a host (no password: it cannot be read
/// back, and it must never be stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailSettings {
    pub server: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub from: String,
    pub to: Vec<String>,
    pub subject_prefix: String,
    pub add_event_description: bool,
    pub include: Vec<EventLevel>,
    pub exclude_event_ids: String,
}

/// A Hyper-V VM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vm {
    pub name: VmName,
    pub state: VmState,
    /// What the VM is to the site.
    pub role: VmRole,
    /// Booted without network (a test failover): it is not System Galaxy serving panels.
    pub isolated: bool,
    /// Services inside the guest; empty when the VM is off or its guest cannot be reached.
    pub services: Vec<ServiceState>,
    /// Its virtual disks' paths, where the platform reports them: removing a VM removes its
    /// configuration and leaves these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disks: Vec<String>,
    /// Hyper-V's heartbeat integration service, as `Get-VMIntegrationService` describes it
    /// (`OK` when the guest answers); `None` when the VM is off or it was not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat: Option<String>,
    /// Of the manifest's `spec.vm.ports`, those listening inside the guest; `None` when the
    /// guest was not asked or did not answer. Read for a drill's test replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listening: Option<Vec<u32>>,
    /// The memory it starts with and the size of its virtual disks, where read: what a
    /// failover onto another host needs there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_bytes: Option<u64>,
}

impl Vm {
    /// What removing this VM leaves behind, for a plan's reason.
    pub fn kept_disks_text(&self) -> String {
        if self.disks.is_empty() {
            "its virtual disks stay where they are".to_string()
        } else {
            format!("its virtual disks stay: {}", self.disks.join(", "))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VmState {
    Running,
    Off,
    Starting,
    Stopping,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VmRole {
    /// The System Galaxy VM (the original, or a replica that was failed over to).
    SystemGalaxy,
    /// A replica kept by a job (off while protecting).
    Replica,
}

impl Vm {
    /// Running System Galaxy for real: running, not isolated.
    pub fn is_live(&self) -> bool {
        self.state == VmState::Running && !self.isolated && self.role == VmRole::SystemGalaxy
    }
}

/// The replication job's activity, as the Replication Console shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activity {
    Provisioning,
    Synchronizing,
    Protecting,
    ServerCommunicationError,
    FailingOver,
    FailedOver,
    Stopped,
    Failed,
    /// Carbonite is deleting the job (its delete is asynchronous).
    Deleting,
    /// A state galaxy-ha cannot judge on its own: one Carbonite reports that is not in its
    /// table (a newer release), or one it never drives (failback, restore, credentials or
    /// licence needed). The job's `state_name` says which. Nothing acts on such a job, and no
    /// automatic failover happens through it.
    Unknown,
}

impl Activity {
    /// A failover of the job was issued: it is failing over or has failed over.
    pub fn failover_begun(self) -> bool {
        matches!(self, Activity::FailingOver | Activity::FailedOver)
    }

    /// The console's words.
    pub fn label(self) -> &'static str {
        match self {
            Activity::Provisioning => "Provisioning",
            Activity::Synchronizing => "Synchronizing",
            Activity::Protecting => "Protecting",
            Activity::ServerCommunicationError => "Server Communication Error",
            Activity::FailingOver => "Failing Over",
            Activity::FailedOver => "Failed Over",
            Activity::Stopped => "Stopped",
            Activity::Failed => "Failed",
            Activity::Deleting => "Deleting",
            Activity::Unknown => "Unknown",
        }
    }
}

impl std::fmt::Display for Activity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Ok,
    Warning,
    Error,
}

/// The failover monitor's settings on a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorSettings {
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    pub threshold: Threshold,
    /// "Wait for user to initiate failover". galaxy-ha always sets it: the controller is the
    /// third vote.
    pub wait_for_user: bool,
}

/// What the failover monitor (running on the target) reports about the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct MonitorStatus {
    /// The last monitor query reached the source.
    pub source_alive: bool,
    /// How long the source has been missed (0 while alive).
    #[serde(with = "humantime_serde")]
    pub missed_for: Duration,
    /// Consecutive failed queries.
    pub failed_queries: u32,
    /// Time left until the condition for failure is met.
    #[serde(with = "humantime_serde")]
    pub remaining: Duration,
    /// The condition for failure is met.
    pub condition_met: bool,
}

/// The replication job, with the console's job highlights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub name: String,
    /// The host the protected VM runs on (direction's origin).
    pub source: HostName,
    /// The host that holds the job and the replica.
    pub target: HostName,
    /// The replica VM's display name on the target.
    pub replica: VmName,
    pub activity: Activity,
    /// The platform's own name for the state (Carbonite's `HighLevelState`), when it has one:
    /// what an `Unknown` activity was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_name: Option<String>,
    /// Synchronizing percentage (0–100) while `Synchronizing`.
    pub percent: Option<u8>,
    pub health: Health,
    /// Target data state `OK`.
    pub target_data_ok: bool,
    pub mirror_remaining_bytes: u64,
    pub replication_queue_bytes: u64,
    pub disk_queue_bytes: u64,
    /// Data received by the target not yet applied to the replica.
    pub target_queue_bytes: u64,
    #[serde(with = "humantime_serde")]
    pub recovery_point_latency: Duration,
    pub bytes_sent: u64,
    pub connected_since: Option<Timestamp>,
    /// The job's mirror as Carbonite counts it.
    #[serde(default)]
    pub mirror: MirrorRun,
    pub monitor: MonitorSettings,
    pub monitor_status: MonitorStatus,
    /// The job's snapshot schedule, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_schedule: Option<crate::model::terms::SnapshotSchedule>,
    /// The snapshots of the replica's data on the target, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snapshots: Vec<Snapshot>,
}

/// A Carbonite snapshot of the replica's data on the target (`Get-DtSnapshot`'s
/// `SnapshotEntry`): a point in time a failover can go back to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Carbonite's id (a GUID), what a failover to it names.
    pub id: String,
    /// When it was taken.
    pub at: Timestamp,
    /// The target's data state was good when it was taken (`States` is `Good`).
    pub good: bool,
    /// Why it was taken (`Reason`: Scheduled, Manual, Automatic, ...).
    pub reason: String,
}

impl Job {
    /// The newest snapshot whose data was good, if any.
    pub fn latest_good_snapshot(&self) -> Option<&Snapshot> {
        self.snapshots
            .iter()
            .filter(|s| s.good)
            .max_by_key(|s| s.at)
    }
}

/// What a job's mirror sent and when it ran: the rate a new job's full mirror can expect on
/// the same link and disks, so a switchover's plan can say how long the site is unprotected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorRun {
    pub bytes_sent: u64,
    pub started: Option<Timestamp>,
    pub ended: Option<Timestamp>,
}

impl MirrorRun {
    /// Bytes a second over the whole mirror, once it has ended. An end not after its start
    /// (Carbonite's unset `DateTimeOffset.MinValue` while a mirror runs) gives none.
    pub fn bytes_per_second(&self) -> Option<u64> {
        let (started, ended) = (self.started?, self.ended?);
        let seconds = ended.duration_since(started).as_secs();
        (seconds > 0 && self.bytes_sent > 0)
            .then(|| self.bytes_sent / u64::try_from(seconds).unwrap_or(u64::MAX))
            .filter(|rate| *rate > 0)
    }
}

impl Job {
    /// The standby can take over through this job now: Carbonite accepts a failover from
    /// these activities, once the mirror is complete.
    pub fn failover_possible(&self) -> bool {
        matches!(
            self.activity,
            Activity::Protecting | Activity::ServerCommunicationError | Activity::Stopped
        ) && self.mirror_remaining_bytes == 0
    }

    /// The job sends data now: connected, and its failover monitor reaches the source.
    pub fn replicating_now(&self) -> bool {
        self.connected_since.is_some() && self.monitor_status.source_alive
    }

    /// How long until the failover monitor's condition for failure is met, while it misses
    /// the source and the condition is not met yet: the instant a pass must look again.
    pub fn condition_due_in(&self) -> Option<Duration> {
        let m = &self.monitor_status;
        (!m.source_alive && !m.condition_met).then_some(m.remaining)
    }
}

impl Observed {
    pub fn host(&self, name: &str) -> Option<&HostState> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// What the drill on `host` shows of itself ([`HostState::drill_result`]), or that no test
    /// replica runs there: the words the action ending a drill records.
    pub fn drill_result_on(&self, host: &str) -> String {
        self.host(host)
            .and_then(HostState::drill_result)
            .unwrap_or_else(|| format!("no test replica is seen running on {host}"))
    }

    /// Hosts where System Galaxy runs live now.
    /// System Galaxy's VM running live on `host`, when the controller reaches it.
    pub fn live_vm(&self, host: &str) -> Option<&Vm> {
        self.host(host)
            .filter(|h| h.reachable)?
            .vms
            .iter()
            .find(|v| v.is_live())
    }

    pub fn live_hosts(&self) -> Vec<&HostName> {
        self.hosts
            .iter()
            .filter(|h| h.reachable && h.vms.iter().any(Vm::is_live))
            .map(|h| &h.name)
            .collect()
    }
}
