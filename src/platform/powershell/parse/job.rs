//! A Carbonite job as the observe script reports it, read into [`Job`]: its state, health,
//! failover monitor, snapshot schedule and snapshots, and whether it is the site's job.

use std::time::Duration;

use serde_json::Value;

use super::doc::{Ctx, JobDoc, MonitorDoc, ParseError, SnapshotDoc, SnapshotScheduleDoc};
use super::values::{date, seconds};
use crate::manifest::spec::Threshold;
use crate::model::names::VmName;
use crate::model::terms::SnapshotSchedule;
use crate::observed::{Activity, Health, Job, MirrorRun, MonitorSettings, MonitorStatus, Snapshot};

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
pub(super) fn job(
    c: &Ctx,
    field: &str,
    j: &JobDoc,
    target: &str,
    source: &str,
) -> Result<Job, ParseError> {
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
        .eq_ignore_ascii_case(crate::platform::powershell::names::value("JOB_TYPE"))
        && any(&expect.sources, &j.source_host)
        && any(&expect.targets, &j.target_host)
    {
        Ownership::Ours
    } else {
        Ownership::Impostor
    }
}
