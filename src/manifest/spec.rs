//! The manifest's types (`apiVersion: galaxy-ha/v1`, `kind: RedundantServer`): what an admin
//! writes in git. Defaults are the guide's; semantic rules live in `validate.rs`.

use std::path::PathBuf;
use std::time::Duration;

pub use super::window::{SwitchoverSpec, Window};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::model::names::{HostName, VmName};
pub use crate::model::terms::{EventLevel, SmtpSecurity, Startup, Threshold};

/// One manifest document: one site.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "galaxy-ha site manifest")]
pub struct Manifest {
    /// Always `galaxy-ha/v1`.
    pub api_version: ApiVersion,
    /// Always `RedundantServer`: one redundant pair of Hyper-V hosts.
    pub kind: Kind,
    pub metadata: Metadata,
    /// The desired state of the site.
    // Shared: a site's memory keeps the spec its last pass saw, and a controller owning
    // thousands of sites holds one copy of each, not two.
    pub spec: std::sync::Arc<SiteSpec>,
}

impl Manifest {
    /// The spec to change (a copy if another holder shares it).
    pub fn spec_mut(&mut self) -> &mut SiteSpec {
        std::sync::Arc::make_mut(&mut self.spec)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum ApiVersion {
    #[serde(rename = "galaxy-ha/v1")]
    V1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum Kind {
    RedundantServer,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metadata {
    /// The site's name; unique in a manifest directory. Used in commands (`failover SITE`),
    /// state file names and alerts.
    #[schemars(length(min = 1), regex(pattern = r"^[A-Za-z0-9._-]+$"))]
    pub name: String,
}

/// The desired state of one site.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SiteSpec {
    /// Which platform drives the hosts: the simulated lab or real hosts through PowerShell.
    #[serde(default)]
    pub platform: PlatformSpec,
    /// Exactly two Hyper-V hosts (the guide's SERVER-A and SERVER-B).
    #[schemars(length(min = 2, max = 2))]
    pub hosts: Vec<HostSpec>,
    /// The host that should be live (run System Galaxy). Changing it asks for a planned
    /// switchover; after an unplanned failover set it to the new live host.
    #[schemars(extend("pattern" = NOT_BLANK))]
    pub primary: HostName,
    /// The System Galaxy virtual machine.
    pub vm: VmSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The network the three addresses must lie in.
    pub network: Option<NetworkSpec>,
    /// The names the replication job and its replica get in each direction.
    #[serde(default)]
    pub replication: ReplicationSpec,
    /// Manual or automatic failover, and the job's failover monitor.
    #[serde(default)]
    pub failover: FailoverSpec,
    /// After a failover, whether replication resumes by itself once the old live host is
    /// back (`automatic`, the guide's mechanical steps) or waits for a person:
    /// `galaxy-ha resume SITE` (`approve`). Either way the stale VM's disks are kept.
    #[serde(default)]
    pub resume: ResumeMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Test failovers: how often they are due, and whether the controller runs them.
    pub drills: Option<DrillsSpec>,
    /// The recovery point objective: the most data, in time, the site may lose. The
    /// `RpoMet` condition compares the job's recovery point latency with it; missed for
    /// `rpoGrace`, it alerts (`rpo-missed`), and an all-clear follows when it is met again.
    #[serde(
        default,
        with = "super::duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<super::duration::PositiveDurationText>")]
    pub rpo_target: Option<Duration>,
    /// How long `rpoTarget` may be missed before it alerts (default 5m): a burst of panel
    /// events or a moment of a slow link is no page.
    #[serde(default = "default_rpo_grace", with = "super::duration")]
    #[schemars(with = "super::duration::DurationText")]
    pub rpo_grace: Duration,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Carbonite snapshots of the replica's data on the standby host: points in time a
    /// failover can go back to (`galaxy-ha failover SITE --snapshot`, `failover.onBadData`).
    pub snapshots: Option<SnapshotsSpec>,
    /// Services required running on both hosts and in the VM (the guide's "About Services").
    #[serde(default = "default_services")]
    pub services: Vec<ServiceSpec>,
    /// The Double-Take ports, opened for TCP and UDP on both hosts.
    #[serde(default)]
    pub firewall: FirewallSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// E-mail notification, set on both hosts and used for the controller's own alerts.
    pub notifications: Option<NotificationsSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// When a planned switchover asked for in the manifest may start.
    pub switchover: Option<SwitchoverSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// While set (and `until` not passed): observe, plan and alert, act on nothing else, never fail over. When it ends, a failure seen during it gets a fresh countdown of the failover monitor's threshold.
    pub maintenance: Option<MaintenanceSpec>,
    /// How often the controller checks what a failover needs beyond the job (the replica on
    /// the standby host, its free memory and disk, Carbonite's services and licence, the
    /// failover monitor): `FailoverReady` carries each reason, and a change to not ready
    /// alerts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness: Option<ReadinessSpec>,
    /// Steps after a run: the admin's commands and messages to run after a failover,
    /// switchover, rollback, resume or drill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<HooksSpec>,
}

/// Which platform drives the hosts.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend(
    "if" = { "required": ["powershell"] },
    "then" = { "required": ["kind"], "properties": { "kind": { "const": "powershell" } } }
))]
pub struct PlatformSpec {
    #[serde(default)]
    pub kind: PlatformKind,
    /// How galaxy-ha reaches the hosts when `kind: powershell` (defaults apply when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub powershell: Option<PowershellSpec>,
}

/// Settings of the PowerShell platform: where scripts run, as whom, and for how long.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend(
    "if" = { "required": ["runner"], "properties": { "runner": { "const": "remoting" } } },
    "then" = { "required": ["username", "credentialFrom"] },
    "else" = { "not": { "anyOf": [{ "required": ["username"] }, { "required": ["credentialFrom"] }] } },
    "dependentRequired" = {
        "guestUsername": ["guestCredentialFrom"],
        "guestCredentialFrom": ["guestUsername"]
    }
))]
pub struct PowershellSpec {
    /// `local`: Windows PowerShell 5.1 on the controller machine runs each host's script as
    /// the controller's own Windows account (e.g. a gMSA), through `Invoke-Command
    /// -ComputerName HOST` with integrated authentication. `remoting`: the same with the
    /// explicit credential below.
    #[serde(default)]
    pub runner: RunnerKind,
    /// The account scripts run as with `runner: remoting`, e.g. `CORP\svc-galaxy-ha`; also
    /// used to connect to Double-Take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Where that account's password comes from: `{ env: NAME }` or `{ file: PATH }`
    /// (readable only by the controller's service account); never inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_from: Option<SecretSource>,
    /// The account in the System Galaxy guest, e.g. `GCSSERVER\dtadmin`: it connects to
    /// Double-Take in the guest (a job's source) and reads the guest's services, each with
    /// its own session, so no credential is ever delegated from one machine to the next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_username: Option<String>,
    /// Where the guest account's password comes from: `{ env: NAME }` or `{ file: PATH }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_credential_from: Option<SecretSource>,
    /// The Double-Take install folder on the hosts, when the registry's `InstallPath` is not
    /// to be trusted, e.g. `C:\Program Files\Carbonite\Replication`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("pattern" = NOT_BLANK))]
    pub install_path: Option<String>,
    /// How long one script may run before it is killed (default 2m).
    #[serde(default = "default_script_timeout", with = "super::duration")]
    #[schemars(with = "super::duration::DurationText")]
    pub script_timeout: Duration,
    /// How scripts reach Windows PowerShell: one warm session per host (the default), or a
    /// new `powershell.exe` for every script.
    #[serde(default, skip_serializing_if = "SessionSpec::is_default")]
    pub session: SessionSpec,
}

/// The PowerShell session each host's scripts run in. A warm session pays for starting
/// `powershell.exe`, importing the DoubleTake module and connecting to the host once, not
/// for every script; it is restarted after an error, a timeout, `maxScripts` scripts or
/// when it grows past `maxMemoryMiB`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionSpec {
    /// `warm` (default): one long-lived `powershell.exe` per host, fed scripts on its
    /// standard input. `perScript`: a new process for every script (slower; for a host where
    /// a long-lived session misbehaves).
    #[serde(default)]
    pub mode: SessionMode,
    /// Scripts one session runs before it is replaced by a fresh one (default 200).
    #[serde(default = "default_max_scripts")]
    #[schemars(range(min = 1))]
    pub max_scripts: u32,
    /// The session's working set, in MiB, past which it is replaced (default 512).
    #[serde(default = "default_max_memory_mib")]
    #[schemars(range(min = 64))]
    pub max_memory_mib: u32,
}

impl Default for SessionSpec {
    fn default() -> Self {
        Self {
            mode: SessionMode::default(),
            max_scripts: default_max_scripts(),
            max_memory_mib: default_max_memory_mib(),
        }
    }
}

impl SessionSpec {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

fn default_max_scripts() -> u32 {
    200
}

fn default_max_memory_mib() -> u32 {
    512
}

/// Whether a host's scripts share one warm PowerShell session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum SessionMode {
    /// One long-lived session per host, kept warm.
    #[default]
    Warm,
    /// A new `powershell.exe` for every script.
    PerScript,
}

impl Default for PowershellSpec {
    fn default() -> Self {
        Self {
            runner: RunnerKind::default(),
            username: None,
            credential_from: None,
            guest_username: None,
            guest_credential_from: None,
            install_path: None,
            script_timeout: default_script_timeout(),
            session: SessionSpec::default(),
        }
    }
}

fn default_script_timeout() -> Duration {
    Duration::from_secs(120)
}

/// Where the PowerShell platform's scripts run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunnerKind {
    /// As the controller's own Windows account (no stored credential).
    #[default]
    Local,
    /// With `username` and the password from `credentialFrom`.
    Remoting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PlatformKind {
    /// The built-in simulated lab (state under `STATE/sim/`).
    #[default]
    Simulated,
    /// Real Windows hosts through Windows PowerShell, the Hyper-V and DoubleTake modules.
    Powershell,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HostSpec {
    /// The host's Windows computer name, e.g. `GCSHOSTA`. Compared case-insensitively.
    #[schemars(extend("pattern" = NOT_BLANK))]
    pub name: HostName,
    /// The host's static IP address (the guide: on the second NIC).
    #[schemars(extend("pattern" = IP_ADDRESS))]
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VmSpec {
    /// The Hyper-V VM running System Galaxy; also the job's source server name.
    #[schemars(extend("pattern" = NOT_BLANK))]
    pub name: VmName,
    /// The VM's static IP address (the third of the guide's three addresses).
    #[schemars(extend("pattern" = IP_ADDRESS))]
    pub address: String,
    /// Windows services a drill checks running inside the test replica: System Galaxy's own,
    /// SQL Server's, and the guide's Double-Take services, which run "in the live Hyper-V
    /// session" too. The default is the Double-Take two; add System Galaxy's.
    #[serde(default = "default_vm_services")]
    #[schemars(inner(regex(pattern = NOT_BLANK)), extend("uniqueItems" = true))]
    pub services: Vec<String>,
    /// Ports a drill checks listening (TCP) or bound (UDP) inside the test replica. The
    /// default is the guide's Double-Take ports.
    #[serde(default = "default_ports")]
    #[schemars(inner(range(min = 1, max = 65535)), extend("uniqueItems" = true))]
    pub ports: Vec<u32>,
}

fn default_vm_services() -> Vec<String> {
    default_services().into_iter().map(|s| s.name).collect()
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkSpec {
    /// CIDR prefix that all three addresses must lie inside, e.g. `10.100.0.0/24`.
    #[schemars(extend("pattern" = NETWORK_PREFIX))]
    pub prefix: String,
}

/// Names of the replication job and replica. Placeholders: `{vm}`, `{source}`, `{target}`,
/// `{vm_address}`, `{site}`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplicationSpec {
    #[serde(default = "default_job_name")]
    #[schemars(extend("pattern" = NAME_TEMPLATE))]
    pub job_name: String,
    #[serde(default = "default_replica_name")]
    #[schemars(extend("pattern" = NAME_TEMPLATE))]
    pub replica_name: String,
    #[serde(default = "default_replica_path")]
    #[schemars(extend("pattern" = NAME_TEMPLATE))]
    pub replica_path: String,
}

impl Default for ReplicationSpec {
    fn default() -> Self {
        Self {
            job_name: default_job_name(),
            replica_name: default_replica_name(),
            replica_path: default_replica_path(),
        }
    }
}

fn default_job_name() -> String {
    "{vm} to {target}".into()
}
fn default_replica_name() -> String {
    "{vm}_Replica_{target}".into()
}
fn default_replica_path() -> String {
    r"D:\HVRA_Replicas\{vm_address}".into()
}

/// Who resumes replication after a failover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResumeMode {
    /// The controller resumes as soon as the old live host is back.
    #[default]
    Automatic,
    /// The controller waits for `galaxy-ha resume SITE`.
    Approve,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FailoverMode {
    /// "Wait for user to initiate failover": alert and wait for `galaxy-ha failover SITE`.
    #[default]
    Manual,
    /// Fail over when the condition for failure is met and the controller agrees.
    Automatic,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FailoverSpec {
    /// `manual`: alert and wait for a person; `automatic`: fail over when both views agree.
    #[serde(default)]
    pub mode: FailoverMode,
    #[serde(default)]
    pub monitor: MonitorSpec,
    /// Apply data in the target queues before failover (the guide's step 4b).
    #[serde(default = "yes")]
    pub apply_queued_data: bool,
    /// Automatic failover only while the last recovery point latency is at most this.
    #[serde(
        default,
        with = "super::duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<super::duration::PositiveDurationText>")]
    pub max_data_loss: Option<Duration>,
    /// How long after a failover (automatic or by `galaxy-ha failover`) replication waits
    /// before it resumes towards the old live host, so that the failover can still be rolled
    /// back: until then the old VM and its disks stay as they were. `galaxy-ha failover SITE
    /// --commit`, or setting `spec.primary` to the new live host, commits it at once;
    /// `galaxy-ha failover SITE --rollback` undoes the failover inside it. `0s`: no window,
    /// replication resumes as soon as the old host is back. A planned switchover has none:
    /// it loses nothing and the manifest already names where System Galaxy goes. Under
    /// `spec.resume: approve` the person's `galaxy-ha resume` is the commit instead.
    #[serde(default = "default_commit_window", with = "super::duration")]
    #[schemars(with = "super::duration::DurationText")]
    pub commit_window: Duration,
    /// What an automatic failover does when the target's data state is not good: `wait`
    /// (alert, and fail over only when a person asks) or `snapshot` (fail over to the newest
    /// snapshot whose data was good, losing what was replicated after it; needs
    /// `spec.snapshots`).
    #[serde(default)]
    pub on_bad_data: OnBadData,
}

/// See [`FailoverSpec::on_bad_data`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnBadData {
    #[default]
    Wait,
    Snapshot,
}

/// Carbonite's snapshot schedule on the job (`SnapshotSchedule`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SnapshotsSpec {
    /// How often a snapshot is taken, e.g. 1h.
    #[serde(with = "super::duration")]
    #[schemars(with = "super::duration::PositiveDurationText")]
    pub every: Duration,
    /// How many are kept (the oldest goes): 1 to 64, the most Windows' Volume Shadow Copy
    /// Service keeps of a volume.
    #[schemars(range(min = 1, max = 64))]
    pub keep: u32,
}

impl SnapshotsSpec {
    /// The schedule the job is given.
    pub fn schedule(self) -> crate::model::terms::SnapshotSchedule {
        crate::model::terms::SnapshotSchedule {
            every: self.every,
            keep: self.keep,
        }
    }
}

impl Default for FailoverSpec {
    fn default() -> Self {
        Self {
            mode: FailoverMode::default(),
            monitor: MonitorSpec::default(),
            apply_queued_data: true,
            max_data_loss: None,
            commit_window: default_commit_window(),
            on_bad_data: OnBadData::Wait,
        }
    }
}

fn default_rpo_grace() -> Duration {
    Duration::from_secs(5 * 60)
}

fn default_commit_window() -> Duration {
    Duration::from_secs(60 * 60)
}

fn yes() -> bool {
    true
}

/// The job's failover monitor. Exactly one of `totalTimeToFailure` and
/// `consecutiveFailures`; when neither is given, total time to failure 5m.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("not" = { "required": ["totalTimeToFailure", "consecutiveFailures"] }))]
pub struct MonitorSpec {
    /// "Monitor on this interval" (default 10s).
    #[serde(default = "default_interval", with = "super::duration")]
    #[schemars(with = "super::duration::PositiveDurationText")]
    pub interval: Duration,
    /// "Total time to failure" (default 5m).
    #[serde(
        default,
        with = "super::duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<super::duration::DurationText>")]
    pub total_time_to_failure: Option<Duration>,
    /// "Consecutive failures" (the guide's alternative, e.g. 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub consecutive_failures: Option<u32>,
}

impl Default for MonitorSpec {
    fn default() -> Self {
        Self {
            interval: default_interval(),
            total_time_to_failure: None,
            consecutive_failures: None,
        }
    }
}

fn default_interval() -> Duration {
    Duration::from_secs(10)
}

/// The guide's default total time to failure.
pub const DEFAULT_TOTAL_TIME_TO_FAILURE: Duration = Duration::from_secs(300);

impl MonitorSpec {
    /// How often the controller passes: the monitor interval, at least a second (the lab's
    /// tick), so that a tiny interval cannot spin it.
    pub fn pass_every(&self) -> Duration {
        self.interval.max(Duration::from_secs(1))
    }

    pub fn threshold(&self) -> Threshold {
        match (self.total_time_to_failure, self.consecutive_failures) {
            (_, Some(n)) if self.total_time_to_failure.is_none() => {
                Threshold::ConsecutiveFailures(n)
            }
            (Some(d), _) => Threshold::TotalTime(d),
            _ => Threshold::TotalTime(DEFAULT_TOTAL_TIME_TO_FAILURE),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DrillsSpec {
    /// Status warns (`DrillOverdue`) when the last test failover is older than this.
    #[serde(
        default,
        with = "super::duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<super::duration::PositiveDurationText>")]
    pub test_failover_every: Option<Duration>,
    /// Let the controller perform the test failover itself when one is due: only while the
    /// site is protecting and outside maintenance. Off by default: the guide asks for drills
    /// to be planned with the field team.
    #[serde(default)]
    pub scheduled: bool,
    /// A test failover the controller started ends by itself after this long (Carbonite's
    /// undo of the test failover), so that a forgotten drill never keeps a test replica
    /// running. End one sooner with `galaxy-ha failover SITE --test --end`.
    #[serde(default = "default_drill_max_duration", with = "super::duration")]
    #[schemars(with = "super::duration::PositiveDurationText")]
    pub max_duration: Duration,
    /// How long the checks inside the test replica (heartbeat, `spec.vm.services`,
    /// `spec.vm.ports`) may take to pass after it boots. A drill whose checks have not all
    /// passed by then fails, alerts, and ends.
    #[serde(default = "default_verify_within", with = "super::duration")]
    #[schemars(with = "super::duration::PositiveDurationText")]
    pub verify_within: Duration,
}

/// How long a drill's checks may take when the manifest does not say: a Windows guest with
/// SQL Server boots and starts its services well within it.
pub const DEFAULT_DRILL_VERIFY_WITHIN: Duration = Duration::from_secs(15 * 60);

fn default_verify_within() -> Duration {
    DEFAULT_DRILL_VERIFY_WITHIN
}

/// See [`SiteSpec::readiness`].
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReadinessSpec {
    /// Time between two readiness checks.
    #[serde(default = "default_readiness_every", with = "super::duration")]
    #[schemars(with = "super::duration::PositiveDurationText")]
    pub every: Duration,
}

/// How often readiness is checked when the manifest does not say.
pub const DEFAULT_READINESS_EVERY: Duration = Duration::from_secs(12 * 3600);

fn default_readiness_every() -> Duration {
    DEFAULT_READINESS_EVERY
}

/// Steps after each kind of run, in order. A failover's and a switchover's steps run once
/// System Galaxy is seen running on the new host; a rollback's, a resume's and a drill's once
/// the run has ended. A step that fails alerts (`hook-failed`) and never undoes the run.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HooksSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failover: Vec<HookStep>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub switchover: Vec<HookStep>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rollback: Vec<HookStep>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resume: Vec<HookStep>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drill: Vec<HookStep>,
}

/// One step: a command to run on the controller's machine, or a message to e-mail on-call.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HookStep {
    /// The program and its arguments, run without a shell, with the run's facts in
    /// `GALAXY_HA_SITE`, `GALAXY_HA_RUN`, `GALAXY_HA_KIND` (failover, switchover, rollback,
    /// resume, drill), `GALAXY_HA_REAL` (`false` for a drill), `GALAXY_HA_FROM`,
    /// `GALAXY_HA_TO` and `GALAXY_HA_RESULT`. E.g. `[powershell.exe, -File,
    /// C:\galaxy-ha\repoint.ps1]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub run: Vec<String>,
    /// How long the command may run before it is stopped (and counted failed).
    #[serde(default = "default_hook_timeout", with = "super::duration")]
    #[schemars(with = "super::duration::PositiveDurationText")]
    pub timeout: Duration,
    /// A text e-mailed to on-call (through `spec.notifications`) instead of a command, e.g.
    /// "call the panel integrator to re-point the loops".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

fn default_hook_timeout() -> Duration {
    Duration::from_secs(5 * 60)
}

impl HooksSpec {
    /// The steps after a run of `kind` (`failover`, `switchover`, ...).
    pub fn steps(&self, kind: &str) -> &[HookStep] {
        match kind {
            "failover" => &self.failover,
            "switchover" => &self.switchover,
            "rollback" => &self.rollback,
            "resume" => &self.resume,
            "drill" => &self.drill,
            _ => &[],
        }
    }
}

/// How long a drill may run when the manifest does not say.
pub const DEFAULT_DRILL_MAX_DURATION: Duration = Duration::from_secs(4 * 3600);

fn default_drill_max_duration() -> Duration {
    DEFAULT_DRILL_MAX_DURATION
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceSpec {
    /// The Windows service name.
    #[schemars(extend("pattern" = NOT_BLANK))]
    pub name: String,
    pub startup: Startup,
}

/// The guide's two Double-Take services.
pub fn default_services() -> Vec<ServiceSpec> {
    vec![
        ServiceSpec {
            name: "Double-Take".into(),
            startup: Startup::Automatic,
        },
        ServiceSpec {
            name: "Double-Take Management Service".into(),
            startup: Startup::AutomaticDelayed,
        },
    ]
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FirewallSpec {
    /// Ports opened for TCP and UDP on both hosts (the guide: 6320, 6325, 6330, 6332).
    #[serde(default = "default_ports")]
    #[schemars(inner(range(min = 1, max = 65535)), extend("uniqueItems" = true))]
    pub ports: Vec<u32>,
}

impl Default for FirewallSpec {
    fn default() -> Self {
        Self {
            ports: default_ports(),
        }
    }
}

fn default_ports() -> Vec<u32> {
    vec![6320, 6325, 6330, 6332]
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotificationsSpec {
    /// The guide's "E-mail Notification" server properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailSpec>,
}

/// The guide's "E-mail Notification" server properties, set on both hosts, and the
/// controller's own alert e-mails.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmailSpec {
    pub smtp: SmtpSpec,
    /// The sender address, e.g. `galaxy-ha@domain.com`.
    #[schemars(extend("pattern" = EMAIL_ADDRESS))]
    pub from: String,
    /// At least one recipient address.
    #[schemars(length(min = 1), inner(regex(pattern = EMAIL_ADDRESS)))]
    pub to: Vec<String>,
    #[serde(default = "default_subject_prefix")]
    pub subject_prefix: String,
    #[serde(default)]
    pub add_event_description: bool,
    /// The event levels sent (the guide: warning and error).
    #[serde(default = "default_include")]
    #[schemars(length(min = 1))]
    pub include: Vec<EventLevel>,
    /// Event IDs and ranges, comma separated, e.g. `4000,4002,4010-4020`.
    #[serde(default)]
    #[schemars(extend("pattern" = EVENT_IDS))]
    pub exclude_event_ids: String,
}

fn default_subject_prefix() -> String {
    "[Galaxy HA]".into()
}
fn default_include() -> Vec<EventLevel> {
    vec![EventLevel::Warning, EventLevel::Error]
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SmtpSpec {
    /// The mail server (SMTP) host name or address.
    #[schemars(extend("pattern" = NOT_BLANK))]
    pub server: String,
    #[serde(default = "default_smtp_port")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: u32,
    #[serde(default)]
    pub security: SmtpSecurity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Where the password comes from; never inline in the manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_from: Option<SecretSource>,
    /// With `starttls` or `tls`: a PEM file of the certificate authority that signed the
    /// mail server's certificate, when the system does not trust it already (an internal
    /// CA), e.g. `C:\ProgramData\galaxy-ha\mail-ca.pem`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

fn default_smtp_port() -> u32 {
    587
}

/// A secret read at use, never stored: `{ env: NAME }` or `{ file: /path }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum SecretSource {
    Env(String),
    File(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MaintenanceSpec {
    /// Why (shown in status).
    pub reason: String,
    /// RFC 3339 time when maintenance ends by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        with = "Option<String>",
        extend("format" = "date-time", "pattern" = TIMESTAMP)
    )]
    pub until: Option<jiff::Timestamp>,
    /// Only this host is in maintenance (patching the standby, rebooting the live host): the
    /// controller acts on the other host as usual, on this one not at all, and never fails
    /// over. Without it the whole site is in maintenance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<HostName>,
}

impl SiteSpec {
    /// The host spec with this name (case-insensitive, as Windows compares).
    pub fn host(&self, name: &str) -> Option<&HostSpec> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// The other host of the pair.
    pub fn other_host(&self, name: &str) -> Option<&HostSpec> {
        self.hosts.iter().find(|h| h.name != name)
    }
}

// Patterns of the JSON Schema, so that an editor flags what `validate` refuses wherever a
// pattern can say it; each is at most as strict as the loader (a shipped manifest passes
// both, a test proves it). Whitespace around a value is allowed where the loader trims it.

/// Something other than spaces.
const NOT_BLANK: &str = r"\S";

/// One IPv4 octet, 0 to 255, without leading zeros (as the loader reads addresses).
macro_rules! octet {
    () => {
        r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
    };
}
/// An IPv4 address, or loosely an IPv6 one (hex digits and colons; the loader checks the rest).
macro_rules! ip {
    () => {
        concat!(
            "(",
            octet!(),
            r"(\.",
            octet!(),
            "){3}",
            r"|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*)"
        )
    };
}
const IP_ADDRESS: &str = concat!(r"^\s*", ip!(), r"\s*$");
/// An address and a prefix length, e.g. `10.100.0.0/24` (up to 32 for IPv4, 128 for IPv6).
const NETWORK_PREFIX: &str = concat!(
    r"^\s*(",
    octet!(),
    r"(\.",
    octet!(),
    r"){3}/(3[0-2]|[12]?[0-9])|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))\s*$"
);
/// A name template: not blank, and `{` only as one of the placeholders.
macro_rules! placeholder {
    () => {
        r"\{(vm|source|target|vm_address|site)\}"
    };
}
const NAME_TEMPLATE: &str = concat!(
    r"^\s*([^{\s]|",
    placeholder!(),
    r")([^{]|",
    placeholder!(),
    r")*$"
);
/// `local@domain`, as `validate::is_email` reads it: no display name, no spaces.
const EMAIL_ADDRESS: &str = r#"^[^\s@<>,;"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$"#;
/// The guide's event ID list: IDs and `low-high` ranges separated by commas, or nothing.
macro_rules! event_id {
    () => {
        r"\s*\+?[0-9]{1,5}\s*(-\s*\+?[0-9]{1,5}\s*)?"
    };
}
const EVENT_IDS: &str = concat!(r"^(\s*|", event_id!(), "(,", event_id!(), ")*)$");
/// An RFC 3339 time, e.g. `2026-12-01T06:00:00Z` or `2026-12-01T07:00:00+01:00`.
const TIMESTAMP: &str = r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)\s*$";
