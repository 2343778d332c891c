//! Every Carbonite (DoubleTake) name the scripts use, in one table, so that a name found wrong
//! on a real install is one line to correct.
//!
//! Scripts are written with `%%KEY%%` placeholders; [`expand`] replaces each with its value
//! here. Hyper-V and Windows cmdlets (`Get-VM`, `Get-Service`, `Get-NetFirewallRule`, ...)
//! are documented by Microsoft and written in the scripts directly.

/// How sure we are of a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Stated by Carbonite's PowerShell reference or DESIGN §7, or seen in published scripts.
    Documented,
    /// Our best reading of the object model; check it on the first real install
    /// (`galaxy-ha doctor` prints the job's properties to compare).
    Unverified,
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

const fn guess(key: &'static str, value: &'static str) -> Name {
    Name {
        key,
        value,
        source: Source::Unverified,
    }
}

/// The table. Keys are upper-case; values are PowerShell text (a cmdlet, a property path or a
/// literal).
pub const NAMES: &[Name] = &[
    // Loading the snap-in.
    doc(
        "DT_REGISTRY_KEY",
        r"HKLM:\SOFTWARE\NSI Software\Double-Take\CurrentVersion",
    ),
    doc("DT_INSTALL_PATH", "InstallPath"),
    doc("DT_DLL", "DoubleTake.PowerShell.dll"),
    // Sessions.
    doc("NEW_DT_SERVER", "New-DtServer"),
    doc("DISCONNECT_DT_SERVER", "Disconnect-DtServer"),
    // Jobs.
    doc("JOB_TYPE", "VRA"),
    doc("NEW_DT_WORKLOAD", "New-DtWorkload"),
    doc("GET_DT_WORKLOAD", "Get-DtWorkload"),
    doc(
        "GET_DT_RECOMMENDED_JOB_OPTIONS",
        "Get-DtRecommendedJobOptions",
    ),
    doc("CONFIRM_DT_JOB_OPTIONS", "Confirm-DtJobOptions"),
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
    doc("GET_DT_EMAIL_OPTIONS", "Get-DtEmailNotificationOptions"),
    doc("SET_DT_EMAIL_OPTIONS", "Set-DtEmailNotificationOptions"),
    // Job options (under the `JobOptions` of Get-DtRecommendedJobOptions' result).
    doc("OPT_NAME", "Name"),
    doc("OPT_REPLICA_NAME", "VRAOptions.ReplicaVmInfo.DisplayName"),
    guess("OPT_REPLICA_PATH", "VRAOptions.ReplicaVmInfo.Path"),
    doc("OPT_MONITOR", "CoreMonitorOptions.MonitorConfiguration"),
    // 0 = fail over automatically, 1 = wait for user intervention (seen in published scripts).
    doc("MON_PROCESSING_OPTIONS", "ProcessingOptions"),
    doc("MON_USER_INTERVENTION", "1"),
    guess("MON_INTERVAL", "PingInterval"),
    guess("MON_TOTAL_TIME", "TotalTimeAllowed"),
    guess("MON_ATTEMPTS", "MissedPacketsCount"),
    guess("MON_USE_ATTEMPTS", "UseMissedPackets"),
    // Job status and statistics (Get-DtJob).
    doc("JOB_NAME", "Options.Name"),
    doc("JOB_ID", "Id"),
    doc(
        "JOB_REPLICA_NAME",
        "Options.VRAOptions.ReplicaVmInfo.DisplayName",
    ),
    doc("JOB_STATE", "Status.HighLevelState"),
    doc("JOB_HEALTH", "Status.Health"),
    doc("JOB_PERMILLAGE", "Status.PermillageComplete"),
    doc("JOB_TARGET_STATE", "Status.TargetState"),
    doc("JOB_CONNECTIONS", "Statistics.CoreConnectionDetails"),
    doc("CONN_MIRROR_REMAINING", "MirrorBytesRemaining"),
    doc("CONN_REPLICATION_QUEUED", "ReplicationBytesQueued"),
    doc("CONN_DISK_QUEUE", "DiskQueueBytes"),
    doc("CONN_TARGET_QUEUE", "TargetQueueBytes"),
    doc("CONN_LATENCY", "SourceRecoveryPointLatency"),
    doc("CONN_BYTES_SENT", "TotalBytesSent"),
    doc("CONN_START_TIME", "StartTime"),
    doc(
        "JOB_MONITOR_STATUSES",
        "Statistics.CoreMonitorDetails.MonitoredAddressStatuses",
    ),
    doc("MON_ALIVE", "Alive"),
    doc("MON_CONDITION_MET", "FailoverConditionMet"),
    doc("MON_WARNING_MET", "WarningConditionMet"),
    doc("MON_REMAINING", "RemainingTime"),
    guess(
        "JOB_MONITOR_OPTIONS",
        "Options.CoreMonitorOptions.MonitorConfiguration",
    ),
    // Failover options (Get-DtRecommendedFailoverOptions).
    guess("FO_TYPE", "FailoverType"),
    guess("FO_TYPE_LIVE", "Live"),
    guess("FO_TYPE_TEST", "Test"),
    guess("FO_QUEUE", "FailoverDataAction"),
    guess("FO_QUEUE_APPLY", "Apply"),
    guess("FO_QUEUE_DISCARD", "Discard"),
    // Delete options (Remove-DtJob -DeleteOptions).
    guess("DEL_OPTIONS_TYPE", "DoubleTake.Jobs.Contract.DeleteOptions"),
    guess("DEL_REPLICA", "DeleteReplica"),
    guess("DEL_DISCARD_QUEUE", "DiscardTargetQueue"),
    // E-mail notification options.
    guess("MAIL_OPTIONS_PARAM", "EmailNotificationOptions"),
    guess("MAIL_ENABLED", "Enabled"),
    guess("MAIL_SERVER", "EmailServer"),
    guess("MAIL_PORT", "EmailServerPort"),
    guess("MAIL_SECURITY", "EncryptionType"),
    guess("MAIL_USERNAME", "UserName"),
    guess("MAIL_PASSWORD", "Password"),
    guess("MAIL_FROM", "FromAddress"),
    guess("MAIL_TO", "Recipients"),
    guess("MAIL_SUBJECT_PREFIX", "SubjectPrefix"),
    guess("MAIL_ADD_DESCRIPTION", "AddEventDescriptionToSubject"),
    guess("MAIL_INCLUDE", "IncludeCategories"),
    guess("MAIL_EXCLUDE", "ExcludedEventIds"),
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

/// The names still to check against a real install.
pub fn unverified() -> impl Iterator<Item = &'static Name> {
    NAMES.iter().filter(|n| n.source == Source::Unverified)
}
