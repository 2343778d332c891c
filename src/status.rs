//! The site status of `galaxy-ha status`: the Replication Console's job highlights, the
//! conditions, and what the controller remembers; text for people, stable JSON for scripts.

use std::time::Duration;

use indicatif::HumanBytes;
use jiff::Timestamp;
use serde::Serialize;

use crate::memory::{FailoverRecord, Memory};
use crate::observed::Observed;
use crate::plan::Plan;

/// The JSON format; grows compatibly, never renames.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub format_version: u32,
    pub sites: Vec<SiteStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SiteStatus {
    pub name: String,
    pub live_host: Option<String>,
    pub standby_host: Option<String>,
    /// The job's activity as the console shows it, or `null` with no job.
    pub activity: Option<String>,
    /// Synchronizing percentage.
    pub percent: Option<u8>,
    pub job: Option<JobStatus>,
    pub conditions: Vec<ConditionStatus>,
    pub last_failover: Option<FailoverRecord>,
    pub last_test_failover: Option<Timestamp>,
    pub alerts_pending: usize,
    /// Seconds left before the failover monitor's condition for failure is met, while the
    /// source is missed.
    pub failover_monitor_remaining_s: Option<u64>,
    pub waiting: Vec<String>,
    /// In a fleet (`--coordination etcd`): the controller that owns the site now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

impl SiteStatus {
    /// A site another controller of the fleet owns: only its owner is known here.
    pub fn elsewhere(name: &str, owner: Option<String>) -> SiteStatus {
        let waiting = vec![match &owner {
            Some(o) => format!("owned by controller {o}, which reports it"),
            None => "owned by no controller at this moment; one claims it shortly".to_string(),
        }];
        SiteStatus {
            name: name.to_string(),
            live_host: None,
            standby_host: None,
            activity: None,
            percent: None,
            job: None,
            conditions: Vec::new(),
            last_failover: None,
            last_test_failover: None,
            alerts_pending: 0,
            failover_monitor_remaining_s: None,
            waiting,
            owner,
        }
    }
}

impl SiteStatus {
    /// A site this controller cannot manage now (no usable manifest): only its name is known.
    pub fn unmanaged(name: &str) -> SiteStatus {
        SiteStatus {
            waiting: vec![
                "not managed: its manifest is invalid and no last good manifest is kept; fix the manifest".to_string(),
            ],
            ..SiteStatus::elsewhere(name, None)
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct JobStatus {
    pub name: String,
    pub source: String,
    pub target: String,
    /// The job's source server: the System Galaxy VM.
    pub source_server: String,
    pub target_data_state: String,
    pub mirror_remaining_bytes: u64,
    pub replication_queue_bytes: u64,
    pub disk_queue_bytes: u64,
    pub recovery_point_latency_ms: u64,
    pub bytes_sent: u64,
    pub connected_since: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConditionStatus {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `True` or `False`.
    pub status: &'static str,
    pub reason: String,
    pub message: String,
    pub last_transition: Option<Timestamp>,
    /// The runbook section for this condition: what it means, what to do.
    pub runbook: String,
}

/// Builds one site's status from a dry-run plan of it.
pub fn site(
    plan: &Plan,
    observed: &Observed,
    memory: &Memory,
    vm: &str,
    alerts_pending: usize,
) -> SiteStatus {
    let job = observed.job.as_ref();
    SiteStatus {
        name: plan.site.clone(),
        live_host: plan.live_host.clone(),
        standby_host: plan.standby_host.clone(),
        activity: job.map(|j| j.activity.label().to_string()),
        percent: job.and_then(|j| j.percent),
        job: job.map(|j| JobStatus {
            name: j.name.clone(),
            source: j.source.clone(),
            target: j.target.clone(),
            source_server: vm.to_string(),
            target_data_state: if j.target_data_ok {
                "OK".into()
            } else {
                "Not OK".into()
            },
            mirror_remaining_bytes: j.mirror_remaining_bytes,
            replication_queue_bytes: j.replication_queue_bytes,
            disk_queue_bytes: j.disk_queue_bytes,
            recovery_point_latency_ms: u64::try_from(j.recovery_point_latency.as_millis())
                .unwrap_or(u64::MAX),
            bytes_sent: j.bytes_sent,
            connected_since: j.connected_since,
        }),
        conditions: plan
            .conditions
            .iter()
            .map(|c| ConditionStatus {
                kind: c.kind.as_str(),
                status: if c.status { "True" } else { "False" },
                reason: c.reason.clone(),
                message: c.message.clone(),
                last_transition: c.last_transition,
                runbook: c.kind.runbook(),
            })
            .collect(),
        last_failover: memory.last_failover.clone(),
        last_test_failover: memory.last_test_failover,
        alerts_pending,
        failover_monitor_remaining_s: job
            .filter(|j| !j.monitor_status.source_alive)
            .map(|j| j.monitor_status.remaining.as_secs()),
        waiting: plan.waiting.clone(),
        owner: None,
    }
}

pub fn json(status: &Status) -> String {
    serde_json::to_string_pretty(status).unwrap_or_default()
}

/// A table like the console's Jobs view and job highlights, then the conditions.
pub fn text(status: &Status) -> String {
    let mut out = String::new();
    for s in &status.sites {
        out.push_str(&format!(
            "Site {}: live host {}, standby host {}\n",
            s.name,
            s.live_host.as_deref().unwrap_or("unknown"),
            s.standby_host.as_deref().unwrap_or("unknown")
        ));
        if let Some(owner) = &s.owner {
            out.push_str(&format!("  Owner: controller {owner}\n"));
        }
        // A site another controller reports: nothing more is known here.
        if s.owner.is_some() && s.conditions.is_empty() {
            for w in &s.waiting {
                out.push_str(&format!("  … {w}\n"));
            }
            out.push('\n');
            continue;
        }
        match &s.job {
            Some(j) => {
                let activity = match (s.activity.as_deref(), s.percent) {
                    (Some(a), Some(p)) => format!("{a} ({p}%)"),
                    (Some(a), None) => a.to_string(),
                    _ => String::new(),
                };
                let rows = [
                    (
                        "Job",
                        format!(
                            "{} ({} → {}, source server {})",
                            j.name, j.source, j.target, j.source_server
                        ),
                    ),
                    ("Activity", activity),
                    ("Target data state", j.target_data_state.clone()),
                    (
                        "Mirror remaining",
                        HumanBytes(j.mirror_remaining_bytes).to_string(),
                    ),
                    (
                        "Replication queue",
                        HumanBytes(j.replication_queue_bytes).to_string(),
                    ),
                    ("Disk queue", HumanBytes(j.disk_queue_bytes).to_string()),
                    (
                        "Recovery point latency",
                        clock(Duration::from_millis(j.recovery_point_latency_ms)),
                    ),
                    ("Bytes sent", HumanBytes(j.bytes_sent).to_string()),
                    (
                        "Connected since",
                        j.connected_since.map(|t| t.to_string()).unwrap_or_default(),
                    ),
                ];
                for (k, v) in rows {
                    out.push_str(&format!("  {k:<24}{v}\n"));
                }
                if let Some(left) = s.failover_monitor_remaining_s {
                    let left = clock(Duration::from_secs(left));
                    out.push_str(&format!(
                        "  {:<24}source missed; condition for failure in {left}\n",
                        "Failover monitor"
                    ));
                }
            }
            None => out.push_str("  no replication job\n"),
        }
        out.push_str("  Conditions:\n");
        for c in &s.conditions {
            out.push_str(&format!(
                "    {:<14}{:<6}{:<22}{}\n",
                c.kind, c.status, c.reason, c.message
            ));
            if needs_attention(c) {
                out.push_str(&format!("    {:<42}→ {}\n", "", c.runbook));
            }
        }
        if let Some(f) = &s.last_failover {
            out.push_str(&format!(
                "  Last failover: {} from {} to {} ({:?})\n",
                f.at, f.from, f.to, f.cause
            ));
        }
        if let Some(t) = &s.last_test_failover {
            out.push_str(&format!("  Last test failover: {t}\n"));
        }
        if s.alerts_pending > 0 {
            out.push_str(&format!(
                "  Alerts pending delivery: {}\n",
                s.alerts_pending
            ));
        }
        for w in &s.waiting {
            out.push_str(&format!("  … {w}\n"));
        }
        out.push('\n');
    }
    out
}

/// A condition in the state an admin must look at: the text view points at its runbook.
fn needs_attention(c: &ConditionStatus) -> bool {
    let bad = match c.kind {
        "Ready" | "Protected" | "FailoverReady" => "False",
        _ => "True",
    };
    c.status == bad
}

/// `H:MM:SS`, as the console shows latencies.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}
