//! Every Carbonite (DoubleTake) name the scripts use, in one table, so that a name found wrong
//! on a real install is one line to correct.
//!
//! The authority for these names is the DoubleTake PowerShell surface of 8.1.0.677 (the
//! guide's build) as data, kept in `tests/fixtures/carbonite-api.json`; the test suite checks
//! every generated script against it (`tests/ps_model.rs`). A name the model does not settle
//! (a value's meaning, a unit, how Windows PowerShell 5.1 writes a type) is marked
//! [`Source::Unverified`] with why, and `galaxy-ha doctor --capture` records what a real host
//! returns so it can be settled.
//!
//! Scripts are written with `%%KEY%%` placeholders; [`expand`] replaces each with its value
//! here. Hyper-V and Windows cmdlets (`Get-VM`, `Get-Service`, `Get-NetFirewallRule`, ...)
//! are documented by Microsoft and written in the scripts directly.

/// How sure we are of a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// In the 8.1.0.677 model (cmdlet, parameter, property, enum member), or seen in the
    /// vendor's published scripts.
    Documented,
    /// The model names it, but not what it means here; the reason says what is open.
    Unverified(&'static str),
}

/// One name: its placeholder key, its value and how sure we are of it.
#[derive(Debug, Clone, Copy)]
pub struct Name {
    pub key: &'static str,
    pub value: &'static str,
    pub source: Source,
}

const fn doc(key: &'static str, value: &'static str) -> Name {
    Name {
        key,
        value,
        source: Source::Documented,
    }
}

const fn open(key: &'static str, value: &'static str, why: &'static str) -> Name {
    Name {
        key,
        value,
        source: Source::Unverified(why),
    }
}

/// The table. Keys are upper-case; values are PowerShell text (a cmdlet, a property path or a
/// literal).
pub const NAMES: &[Name] = &[
    // Loading the module.
    doc(
        "DT_REGISTRY_KEY",
        r"HKLM:\SOFTWARE\NSI Software\Double-Take\CurrentVersion",
    ),
    doc("DT_INSTALL_PATH", "InstallPath"),
    doc("DT_DLL", "DoubleTake.PowerShell.dll"),
    // Sessions: one per server, each with its own credential (no WinRM hop).
    doc("NEW_DT_SERVER", "New-DtServer"),
    doc("DISCONNECT_DT_SERVER", "Disconnect-DtServer"),
    // Asynchronous actions return an ActivityToken, polled until it completes.
    doc("GET_DT_JOB_ACTION_STATUS", "Get-DtJobActionStatus"),
    doc("ACTION_STATUS", "Status"),
    doc("ACTION_COMPLETED", "Completed"),
    doc("ACTION_FAULTED", "Faulted"),
    doc("ACTION_CANCELED", "Canceled"),
    doc("ACTION_MESSAGE", "MessageId"),
    // Jobs.
    doc("JOB_TYPE", "VRA"),
    doc("NEW_DT_WORKLOAD", "New-DtWorkload"),
    doc("GET_DT_WORKLOAD", "Get-DtWorkload"),
    doc(
        "GET_DT_RECOMMENDED_JOB_OPTIONS",
        "Get-DtRecommendedJobOptions",
    ),
    doc("CONFIRM_DT_JOB_OPTIONS", "Confirm-DtJobOptions"),
    doc("WAIT_DT_CONFIRM_JOB_OPTIONS", "Wait-DtConfirmJobOptions"),
    doc("VERIFY_STATUS", "Status"),
    doc("VERIFY_ERROR", "Error"),
    doc("VERIFY_MESSAGE", "MessageKey"),
    doc("NEW_DT_JOB", "New-DtJob"),
    doc("START_DT_JOB", "Start-DtJob"),
    doc("GET_DT_JOB", "Get-DtJob"),
    doc("EDIT_DT_JOB", "Edit-DtJob"),
    doc("REMOVE_DT_JOB", "Remove-DtJob"),
    doc(
        "GET_DT_RECOMMENDED_FAILOVER_OPTIONS",
        "Get-DtRecommendedFailoverOptions",
    ),
    doc("START_DT_JOB_FAILOVER", "Start-DtJobFailover"),
    doc("UNDO_DT_JOB_FAILOVER", "Undo-DtJobFailover"),
    doc("GET_DT_EMAIL_OPTIONS", "Get-DtEmailNotificationOptions"),
    doc("SET_DT_EMAIL_OPTIONS", "Set-DtEmailNotificationOptions"),
    doc("TEST_DT_EMAIL", "Test-DtEmailNotification"),
    // Job options (JobOptions, from Get-DtRecommendedJobOptions or a job's Options).
    doc("JOB_OPTIONS_TYPE", "DoubleTake.Jobs.Contract.JobOptions"),
    doc("OPT_NAME", "Name"),
    doc("OPT_REPLICA_NAME", "VRAOptions.ReplicaVMInfo.DisplayName"),
    open(
        "OPT_REPLICA_PATH",
        "VRAOptions.ReplicaVMInfo.Path",
        "the model types it as a String; that it is the replica's configuration folder, and that the disks follow it (VRAOptions.Volumes[].VirtualDiskPath is not set), is not confirmed",
    ),
    doc("OPT_MONITORING_ENABLED", "FailoverMonitoringEnabled"),
    doc("OPT_CORE_MONITOR", "CoreMonitorOptions"),
    doc("MON_TOTAL_TIME", "TotalTimeAllowed"),
    doc("MON_USE_TOTAL_TIME", "UseTotalTimeAllowed"),
    doc("MON_CONFIG", "MonitorConfiguration"),
    // FailoverProcessingOptions flags: 0 fail over automatically, 1 UserInterventionRequired.
    doc("MON_PROCESSING_OPTIONS", "ProcessingOptions"),
    doc("MON_USER_INTERVENTION", "UserInterventionRequired"),
    doc("MON_ADDRESSES", "Addresses"),
    doc("MON_INTERVAL", "PingInterval"),
    doc("MON_ATTEMPTS", "MaxPingAttempts"),
    // Job identity, status and statistics (Get-DtJob).
    doc("JOB_NAME", "Options.Name"),
    doc("JOB_ID", "Id"),
    doc("JOB_JOB_TYPE", "JobType"),
    doc("JOB_SOURCE_URI", "SourceHostUri"),
    doc("JOB_TARGET_URI", "TargetHostUri"),
    doc(
        "JOB_REPLICA_NAME",
        "Options.VRAOptions.ReplicaVMInfo.DisplayName",
    ),
    doc("JOB_STATE", "Status.HighLevelState"),
    doc("JOB_HEALTH", "Status.Health"),
    doc("JOB_CAN_FAILOVER", "Status.CanFailover"),
    doc("JOB_CAN_UNDO_FAILOVER", "Status.CanUndoFailover"),
    doc("JOB_PERMILLAGE", "Status.PermillageComplete"),
    open(
        "JOB_TARGET_STATE",
        "Status.TargetState",
        "a String; which key a healthy job reports (OK or Good) is not confirmed",
    ),
    doc("JOB_CONNECTIONS", "Statistics.CoreConnectionDetails"),
    doc("CONN_SOURCE_MACHINE", "SourceMachineName"),
    doc("CONN_TARGET_MACHINE", "TargetMachineName"),
    doc("CONN_MIRROR_REMAINING", "MirrorBytesRemaining"),
    doc("CONN_REPLICATION_QUEUED", "ReplicationBytesQueued"),
    doc("CONN_DISK_QUEUE", "DiskQueueBytes"),
    doc("CONN_TARGET_QUEUE", "TargetQueueBytes"),
    open(
        "CONN_LATENCY",
        "SourceRecoveryPointLatency",
        "an Int64 in the model; its unit (read as milliseconds) is not documented",
    ),
    doc("CONN_BYTES_SENT", "TotalBytesSent"),
    doc("CONN_MIRROR_SENT", "MirrorBytesSent"),
    open(
        "CONN_MIRROR_START",
        "MirrorStartTime",
        "a DateTimeOffset written with .ToString('o') like StartTime; what it holds before a mirror starts is not documented (an end not after the start is read as no mirror time)",
    ),
    open(
        "CONN_MIRROR_END",
        "MirrorEndTime",
        "a DateTimeOffset written with .ToString('o'); what it holds while a mirror runs is not documented (read as not ended unless after MirrorStartTime)",
    ),
    open(
        "CONN_START_TIME",
        "StartTime",
        "a DateTimeOffset; the script writes it with .ToString('o') because Windows PowerShell 5.1's ConvertTo-Json has no DateTimeOffset case (not seen on a host)",
    ),
    doc(
        "JOB_MONITOR_STATUSES",
        "Statistics.CoreMonitorDetails.MonitoredAddressStatuses",
    ),
    doc("MON_ALIVE", "Alive"),
    doc("MON_CONDITION_MET", "FailoverConditionMet"),
    doc("MON_WARNING_MET", "WarningConditionMet"),
    doc("MON_REMAINING", "RemainingTime"),
    doc("JOB_MONITOR", "Options.CoreMonitorOptions"),
    // Snapshots of the replica's data on the target: the job's schedule (in JobOptions) and
    // Get-DtSnapshot's SnapshotEntry list.
    doc(
        "OPT_SNAPSHOT_SCHEDULE",
        "CoreConnectionOptions.ConnectionStartParameters.SnapshotSchedule",
    ),
    doc(
        "SNAP_SCHEDULE_TYPE",
        "DoubleTake.Core.Contract.Connection.SnapshotSchedule",
    ),
    doc("SNAP_ENABLED", "IsEnabled"),
    doc("SNAP_INTERVAL", "Interval"),
    open(
        "SNAP_MAX",
        "MaxNumberOfSnapshots",
        "an Int32; that Carbonite then drops the oldest snapshot (rather than stops taking new ones) is not documented",
    ),
    open(
        "SNAP_START_TIME",
        "StartTime",
        "the schedule's StartTime, a DateTime: what Carbonite does with one unset or in the past is not documented, so turning a schedule on sets it to the host's clock",
    ),
    doc("GET_DT_SNAPSHOT", "Get-DtSnapshot"),
    doc("SNAPSHOT_ID", "Id"),
    doc("SNAPSHOT_TIME", "Timestamp"),
    open(
        "SNAPSHOT_STATES",
        "States",
        "TargetStates flags with Good = 0: a snapshot is read as good only when Good; whether Carbonite records other flags (Mirroring, RestoreRequired, ...) with a snapshot whose data is usable is not documented",
    ),
    doc("SNAPSHOT_REASON", "Reason"),
    // Carbonite's activation on a host (ActivationStatus and its ActivationCode list): what
    // the readiness check reads of a failover's target besides memory and disk.
    open(
        "GET_DT_ACTIVATION_STATUS",
        "Get-DtActivationStatus",
        "the model says it calls IManagementService.ValidateActivationParameters with -Code and -AdditionalCode (neither mandatory); that called without -Code it reports the codes installed on the server, rather than validates none, is not confirmed (an answer not valid that lists no code is read as not read, not as an invalid licence)",
    ),
    doc("ACT_IS_VALID", "IsValid"),
    doc("ACT_CODES", "Codes"),
    doc("CODE_IS_VALID", "IsValid"),
    doc("CODE_IS_EXPIRED", "IsExpired"),
    doc("CODE_IS_EVALUATION", "IsEvaluation"),
    doc("CODE_PRODUCT", "ProductName"),
    doc("CODE_LICENSE_TYPE", "LicenseType"),
    // The code itself (a licence key) and its serial number: left out of captures.
    doc("CODE_KEY", "Code"),
    doc("CODE_SERIAL", "SerialNumber"),
    open(
        "CODE_EXPIRATION",
        "ExpirationDate",
        "a DateTime; what a code that never expires holds is not documented (DateTime.MinValue and MaxValue are read as no expiry)",
    ),
    // Failover options: (Get-DtRecommendedFailoverOptions).FailoverOptions.
    doc("REC_FAILOVER_OPTIONS", "FailoverOptions"),
    doc("REC_TEST_SUPPORTED", "IsTestFailoverSupported"),
    doc("FO_MODE", "FailoverMode"),
    doc("FO_MODE_LIVE", "Live"),
    doc("FO_MODE_TEST", "Test"),
    open(
        "FO_MODE_SNAPSHOT",
        "Snapshot",
        "FailoverMode has Snapshot beside Live and Test; that it is a live failover to FailoverOptions.SnapshotId (not a test of it), and what FailoverDataAction does with it, is not confirmed",
    ),
    doc("FO_SNAPSHOT_ID", "SnapshotId"),
    open(
        "FO_PERFORM_TEST",
        "PerformTestFailover",
        "set with FailoverMode Test as the vendor's example does; how an 8.1 VRA test failover ends on a live host is not confirmed",
    ),
    doc("FO_DATA_ACTION", "FailoverDataAction"),
    doc("FO_DATA_APPLY", "Apply"),
    doc("FO_DATA_FLUSH", "Flush"),
    // Delete options (Remove-DtJob -DeleteOptions).
    doc("DEL_OPTIONS_TYPE", "DoubleTake.Jobs.Contract.DeleteOptions"),
    doc("DEL_REPLICA", "DeleteReplica"),
    doc("DEL_DISCARD_QUEUE", "DiscardTargetQueue"),
    // E-mail notification options (EmailNotificationOptions).
    doc("MAIL_ENABLED", "Enabled"),
    doc("MAIL_SERVER", "SmtpServer"),
    doc("MAIL_PORT", "SmtpPort"),
    doc("MAIL_SECURITY", "ConnectionSecurity"),
    doc("MAIL_SECURITY_PLAIN", "Plain"),
    open(
        "MAIL_SECURITY_SSL",
        "SSL",
        "SmtpConnectionSecurity has Plain, SSL and TLS; SSL read as TLS from the first byte (manifest `tls`)",
    ),
    open(
        "MAIL_SECURITY_TLS",
        "TLS",
        "TLS read as STARTTLS on the plain port (manifest `starttls`)",
    ),
    doc("MAIL_LOGIN", "LoginToSmtpServer"),
    doc("MAIL_CREDENTIALS", "SmtpCredentials"),
    doc(
        "MAIL_CREDENTIALS_TYPE",
        "DoubleTake.Common.Contract.Credentials",
    ),
    doc("CRED_USERNAME", "UserName"),
    doc("CRED_PASSWORD", "Password"),
    doc("MAIL_FROM", "From"),
    doc("MAIL_TO", "To"),
    doc("MAIL_SUBJECT_PREFIX", "SubjectPrefix"),
    doc("MAIL_ADD_DESCRIPTION", "IncludeEventDescriptionInSubject"),
    open(
        "MAIL_INCLUDE",
        "EntryTypeFilter",
        "a comma-separated String; that it holds event-log entry type names (Information, Warning, Error) is not confirmed",
    ),
    open(
        "MAIL_EXCLUDE",
        "EntryIdFilter",
        "a comma-separated String; whether the IDs are excluded or included is not documented",
    ),
];

/// The value of `key`.
///
/// # Panics
/// On a key not in the table: scripts are constants, so a test catches it.
pub fn value(key: &str) -> &'static str {
    NAMES
        .iter()
        .find(|n| n.key == key)
        .map(|n| n.value)
        .unwrap_or_else(|| panic!("no name {key} in names.rs"))
}

/// Replaces every `%%KEY%%` in a template with its value.
///
/// # Panics
/// On an unknown key or an unclosed placeholder (a bug in a constant template).
pub fn expand(template: &str) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("%%") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("%%")
            .unwrap_or_else(|| panic!("unclosed %% placeholder in a script template"));
        out.push_str(value(&after[..end]));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The names still to check against a real install, with what is open about each.
pub fn unverified() -> impl Iterator<Item = (&'static Name, &'static str)> {
    NAMES.iter().filter_map(|n| match n.source {
        Source::Unverified(why) => Some((n, why)),
        Source::Documented => None,
    })
}
