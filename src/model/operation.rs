//! Operations and planned actions: what the controller can do to a site, why, and whether it
//! disrupts the site. Plain data shared by the planner, the executor, the platforms, the
//! journal and memory.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::names::{HostName, VmName};
pub use crate::model::terms::SnapshotSchedule;
use crate::model::terms::{EventLevel, Startup, Threshold};
use crate::observed::{EmailSettings, Protocol};
use std::time::Duration;

/// The `kind` field of a planned action (docs/architecture.md), stable in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    StartService,
    SetServiceStartup,
    OpenFirewallPort,
    SetEmailNotification,
    CreateJob,
    UpdateJob,
    DeleteJob,
    RemoveReplica,
    StopVm,
    StartVm,
    Failover,
    TestFailover,
    EndTestFailover,
    Alert,
    /// A step of `spec.hooks`: the admin's command, run on the controller's machine.
    RunHook,
}

impl ActionKind {
    /// Every kind, in the order above: the one list of what the controller can do.
    pub const ALL: [ActionKind; 15] = [
        ActionKind::StartService,
        ActionKind::SetServiceStartup,
        ActionKind::OpenFirewallPort,
        ActionKind::SetEmailNotification,
        ActionKind::CreateJob,
        ActionKind::UpdateJob,
        ActionKind::DeleteJob,
        ActionKind::RemoveReplica,
        ActionKind::StopVm,
        ActionKind::StartVm,
        ActionKind::Failover,
        ActionKind::TestFailover,
        ActionKind::EndTestFailover,
        ActionKind::Alert,
        ActionKind::RunHook,
    ];

    /// Failover, VM stop and start, job delete and replica removal disrupt the site: they
    /// are journaled before they are issued. (A start is, because System Galaxy started on
    /// the wrong host, or twice after a crash, is a split brain.)
    pub fn disruptive(self) -> bool {
        matches!(
            self,
            ActionKind::Failover
                | ActionKind::StopVm
                | ActionKind::StartVm
                | ActionKind::DeleteJob
                | ActionKind::RemoveReplica
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::StartService => "start-service",
            ActionKind::SetServiceStartup => "set-service-startup",
            ActionKind::OpenFirewallPort => "open-firewall-port",
            ActionKind::SetEmailNotification => "set-email-notification",
            ActionKind::CreateJob => "create-job",
            ActionKind::UpdateJob => "update-job",
            ActionKind::DeleteJob => "delete-job",
            ActionKind::RemoveReplica => "remove-replica",
            ActionKind::StopVm => "stop-vm",
            ActionKind::StartVm => "start-vm",
            ActionKind::Failover => "failover",
            ActionKind::TestFailover => "test-failover",
            ActionKind::EndTestFailover => "end-test-failover",
            ActionKind::Alert => "alert",
            ActionKind::RunHook => "run-hook",
        }
    }
}

/// Where a service runs: on a host's OS, or inside the System Galaxy VM on a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Place {
    Host(HostName),
    /// The guest OS of the live System Galaxy VM running on this host.
    Guest(HostName),
}

impl Place {
    pub fn host(&self) -> &HostName {
        match self {
            Place::Host(h) | Place::Guest(h) => h,
        }
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Host(h) => write!(f, "{h}"),
            Place::Guest(h) => write!(f, "the VM on {h}"),
        }
    }
}

/// The failover monitor a job is created or updated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorOptions {
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    pub threshold: Threshold,
}

/// Everything needed to create a Full Server to Hyper-V job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewJob {
    pub name: String,
    /// The System Galaxy VM (the job's source server).
    pub vm: VmName,
    /// The host the VM runs on.
    pub source: HostName,
    /// The host that will hold the replica; never the host running the VM.
    pub target: HostName,
    pub replica: VmName,
    pub replica_path: String,
    pub monitor: MonitorOptions,
    /// Carbonite snapshots of the replica's data kept on the target (`spec.snapshots`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshots: Option<SnapshotSchedule>,
}

/// What a failover does: go live, or a drill. (Who decides to fail over is the manifest's
/// `FailoverMode`, automatic or manual; Carbonite calls this one `FailoverMode` too.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailoverKind {
    /// Failover to live data: the replica goes live.
    Live,
    /// Boot the replica with no network; replication keeps protecting.
    Test,
}

/// Severity of an alert, in the guide's e-mail levels.
pub type Severity = EventLevel;

/// What an alert is about; each kind has a runbook section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlertKind {
    FailureDetected,
    ConditionMet,
    FailoverStarted,
    FailoverFinished,
    FailoverFailed,
    ReplicationResumed,
    SplitBrainFenced,
    /// A forced failover's old live host may still run System Galaxy.
    SplitBrainPending,
    /// A person's rollback of a failover: started (what it loses), or stopped.
    Rollback,
    /// The recovery point latency has been above `spec.rpoTarget` for `spec.rpoGrace`.
    RpoMissed,
    /// A drill's checks or its cleanup failed: the replica did not prove it can take over.
    DrillFailed,
    /// A step of `spec.hooks` failed (exit code, timeout, or it could not start).
    HookFailed,
    /// A `message` step of `spec.hooks`: the manifest's text for on-call.
    Message,
    /// The standing readiness check found what a failover needs lacking.
    NotReady,
    ManifestStale,
    ManifestInvalid,
    WrongDirection,
    DrillOverdue,
    LinkDown,
    Test,
    /// The condition an earlier alert was about has cleared.
    AllClear,
}

impl AlertKind {
    /// Every kind, for the runbook's completeness test.
    pub const ALL: [AlertKind; 21] = [
        AlertKind::FailureDetected,
        AlertKind::ConditionMet,
        AlertKind::FailoverStarted,
        AlertKind::FailoverFinished,
        AlertKind::FailoverFailed,
        AlertKind::ReplicationResumed,
        AlertKind::SplitBrainFenced,
        AlertKind::SplitBrainPending,
        AlertKind::ManifestStale,
        AlertKind::ManifestInvalid,
        AlertKind::WrongDirection,
        AlertKind::DrillOverdue,
        AlertKind::LinkDown,
        AlertKind::Test,
        AlertKind::AllClear,
        AlertKind::Rollback,
        AlertKind::RpoMissed,
        AlertKind::DrillFailed,
        AlertKind::HookFailed,
        AlertKind::Message,
        AlertKind::NotReady,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::FailureDetected => "failure-detected",
            AlertKind::ConditionMet => "condition-met",
            AlertKind::FailoverStarted => "failover-started",
            AlertKind::FailoverFinished => "failover-finished",
            AlertKind::FailoverFailed => "failover-failed",
            AlertKind::ReplicationResumed => "replication-resumed",
            AlertKind::SplitBrainFenced => "split-brain-fenced",
            AlertKind::SplitBrainPending => "split-brain-pending",
            AlertKind::Rollback => "rollback",
            AlertKind::RpoMissed => "rpo-missed",
            AlertKind::DrillFailed => "drill-failed",
            AlertKind::HookFailed => "hook-failed",
            AlertKind::Message => "message",
            AlertKind::NotReady => "not-ready",
            AlertKind::ManifestStale => "manifest-stale",
            AlertKind::ManifestInvalid => "manifest-invalid",
            AlertKind::WrongDirection => "wrong-direction",
            AlertKind::DrillOverdue => "drill-overdue",
            AlertKind::LinkDown => "link-down",
            AlertKind::Test => "test",
            AlertKind::AllClear => "all-clear",
        }
    }

    /// The stable event ID of this kind of alert, for `excludeEventIds` (the guide's e-mail
    /// filter grammar). IDs never change meaning; new kinds take the next free number.
    ///
    /// | ID | alert |
    /// |---|---|
    /// | 4100 | test (`galaxy-ha alert test`) |
    /// | 4101 | failure-detected |
    /// | 4102 | condition-met |
    /// | 4103 | failover-started |
    /// | 4104 | failover-finished |
    /// | 4105 | failover-failed |
    /// | 4106 | replication-resumed |
    /// | 4107 | split-brain-fenced |
    /// | 4108 | manifest-stale |
    /// | 4109 | manifest-invalid |
    /// | 4110 | wrong-direction |
    /// | 4111 | drill-overdue |
    /// | 4112 | link-down |
    /// | 4113 | all-clear |
    /// | 4114 | split-brain-pending |
    /// | 4115 | rollback |
    /// | 4116 | rpo-missed |
    /// | 4117 | drill-failed |
    /// | 4118 | hook-failed |
    /// | 4119 | message |
    /// | 4120 | not-ready |
    ///
    /// Its section of the runbook: what it means and what to do.
    pub fn runbook(self) -> &'static str {
        crate::runbook::link(&format!("alert-{}", self.as_str()))
    }

    pub fn event_id(self) -> u16 {
        match self {
            AlertKind::Test => 4100,
            AlertKind::FailureDetected => 4101,
            AlertKind::ConditionMet => 4102,
            AlertKind::FailoverStarted => 4103,
            AlertKind::FailoverFinished => 4104,
            AlertKind::FailoverFailed => 4105,
            AlertKind::ReplicationResumed => 4106,
            AlertKind::SplitBrainFenced => 4107,
            AlertKind::ManifestStale => 4108,
            AlertKind::ManifestInvalid => 4109,
            AlertKind::WrongDirection => 4110,
            AlertKind::DrillOverdue => 4111,
            AlertKind::LinkDown => 4112,
            AlertKind::AllClear => 4113,
            AlertKind::SplitBrainPending => 4114,
            AlertKind::Rollback => 4115,
            AlertKind::RpoMissed => 4116,
            AlertKind::DrillFailed => 4117,
            AlertKind::HookFailed => 4118,
            AlertKind::Message => 4119,
            AlertKind::NotReady => 4120,
        }
    }
}

/// The typed operation a platform carries out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "op")]
pub enum Operation {
    StartService {
        place: Place,
        service: String,
    },
    SetServiceStartup {
        place: Place,
        service: String,
        startup: Startup,
    },
    OpenFirewallPort {
        host: HostName,
        port: u16,
        protocol: Protocol,
    },
    SetEmailNotification {
        host: HostName,
        settings: EmailSettings,
    },
    CreateJob(NewJob),
    UpdateJob {
        job: String,
        /// The host holding the job.
        target: HostName,
        monitor: MonitorOptions,
        /// The snapshot schedule to set; `None` turns it off.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        snapshots: Option<SnapshotSchedule>,
    },
    DeleteJob {
        job: String,
        target: HostName,
        /// Carbonite's "delete replica" (the VM and its files on the target). The planner
        /// always leaves it off: no disk file is ever deleted; a replica's configuration is
        /// removed by `RemoveReplica`, which keeps its disks. Kept for journals that hold it.
        delete_replica: bool,
    },
    /// Remove a VM that must not exist (a stale replica left after a failover).
    RemoveReplica {
        host: HostName,
        vm: VmName,
    },
    StopVm {
        host: HostName,
        vm: VmName,
        /// Turn off at once (fencing) instead of a clean guest shutdown.
        turn_off: bool,
    },
    /// Start System Galaxy's VM again on the host it runs on: a planned switchover that
    /// backs out after its clean shutdown left the VM off.
    StartVm {
        host: HostName,
        vm: VmName,
    },
    Failover {
        job: String,
        target: HostName,
        mode: FailoverKind,
        apply_queued_data: bool,
        /// A live failover to this snapshot of the replica's data (its Carbonite id)
        /// instead of the newest data: what was replicated after it is not used.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        snapshot: Option<String>,
    },
    /// End a test failover: Carbonite shuts the isolated test replica down and the job
    /// keeps protecting.
    EndTestFailover {
        job: String,
        target: HostName,
    },
    Alert {
        alert: AlertKind,
        severity: Severity,
        /// The condition this alert is about; one alert per condition change.
        key: String,
        message: String,
        /// What to do, in a few words, for the e-mail's subject.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        action: Option<String>,
    },
    /// A step of `spec.hooks` after a run: the program and its arguments, run without a shell
    /// on the controller's machine with the run's facts in its environment.
    RunHook {
        /// The run it follows (`failover-20261203T134500Z`).
        run: String,
        kind: crate::model::run::RunKind,
        /// Its place in `spec.hooks.KIND`.
        step: usize,
        command: Vec<String>,
        #[serde(with = "humantime_serde")]
        timeout: std::time::Duration,
        /// `GALAXY_HA_*`: the run's facts.
        env: std::collections::BTreeMap<String, String>,
    },
}

impl Operation {
    pub fn kind(&self) -> ActionKind {
        match self {
            Operation::StartService { .. } => ActionKind::StartService,
            Operation::SetServiceStartup { .. } => ActionKind::SetServiceStartup,
            Operation::OpenFirewallPort { .. } => ActionKind::OpenFirewallPort,
            Operation::SetEmailNotification { .. } => ActionKind::SetEmailNotification,
            Operation::CreateJob(_) => ActionKind::CreateJob,
            Operation::UpdateJob { .. } => ActionKind::UpdateJob,
            Operation::DeleteJob { .. } => ActionKind::DeleteJob,
            Operation::RemoveReplica { .. } => ActionKind::RemoveReplica,
            Operation::StopVm { .. } => ActionKind::StopVm,
            Operation::StartVm { .. } => ActionKind::StartVm,
            Operation::Failover {
                mode: FailoverKind::Live,
                ..
            } => ActionKind::Failover,
            Operation::Failover {
                mode: FailoverKind::Test,
                ..
            } => ActionKind::TestFailover,
            Operation::EndTestFailover { .. } => ActionKind::EndTestFailover,
            Operation::Alert { .. } => ActionKind::Alert,
            Operation::RunHook { .. } => ActionKind::RunHook,
        }
    }

    /// The hosts the operation acts on; every one must be reachable (rule 2).
    pub fn hosts(&self) -> Vec<&str> {
        match self {
            Operation::StartService { place, .. } | Operation::SetServiceStartup { place, .. } => {
                vec![place.host()]
            }
            Operation::OpenFirewallPort { host, .. }
            | Operation::SetEmailNotification { host, .. }
            | Operation::RemoveReplica { host, .. }
            | Operation::StopVm { host, .. }
            | Operation::StartVm { host, .. } => vec![host],
            Operation::CreateJob(job) => vec![&job.source, &job.target],
            Operation::UpdateJob { target, .. }
            | Operation::DeleteJob { target, .. }
            | Operation::Failover { target, .. }
            | Operation::EndTestFailover { target, .. } => {
                vec![target]
            }
            Operation::Alert { .. } | Operation::RunHook { .. } => vec![],
        }
    }

    /// See [`ActionKind::disruptive`].
    pub fn disruptive(&self) -> bool {
        self.kind().disruptive()
    }
}

/// One planned action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// Stable across passes for the same intent, e.g. `hq/open-firewall-port/GCSHOSTA/6320/tcp`.
    pub id: String,
    pub description: String,
    /// Which rule planned it and what was observed.
    pub reason: String,
    pub disruptive: bool,
    pub op: Operation,
    /// For a live failover: what it establishes (from, to, cause), kept in memory once it starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<FailoverRecord>,
    /// For an action the controller decided on its own (an automatic failover, a fence):
    /// the evidence, journaled with its intent. Boxed: most actions have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Box<crate::model::Decision>>,
    /// For a test failover: who started the drill and how, kept in memory once it starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drill: Option<Box<crate::model::drill::DrillStart>>,
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        self.op.kind()
    }
}

/// Why a live failover happened, kept in memory and shown in status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailoverCause {
    /// The condition for failure was met and the controller agreed.
    Automatic,
    /// A person approved it (`galaxy-ha failover`, or `spec.primary`).
    Approved,
    /// A planned switchover: both hosts healthy, no data lost.
    Switchover,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
/// What a live failover establishes: from which host to which, when and why.
pub struct FailoverRecord {
    pub at: Timestamp,
    pub from: HostName,
    pub to: HostName,
    pub cause: FailoverCause,
    /// Since when System Galaxy was missed on `from` (the failover monitor's count), for the
    /// run's downtime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down_since: Option<Timestamp>,
    /// When the controller first saw System Galaxy live on `to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_at: Option<Timestamp>,
    /// The job's replication queue and recovery point latency when the failover was decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_bytes: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "humantime_serde"
    )]
    pub latency: Option<std::time::Duration>,
    /// The snapshot failed over to, if not the newest data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
}

impl FailoverRecord {
    /// A failover with none of the facts a report adds yet.
    pub fn new(at: Timestamp, from: HostName, to: HostName, cause: FailoverCause) -> Self {
        FailoverRecord {
            at,
            from,
            to,
            cause,
            down_since: None,
            live_at: None,
            queue_bytes: None,
            latency: None,
            snapshot: None,
        }
    }
}
