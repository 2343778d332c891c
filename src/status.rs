//! The site status of `galaxy-ha status`: first a verdict in words, then the facts an admin
//! needs at 3 a.m. (failover mode, the live host and whether it answers, when the condition
//! for failure was met, each host's VMs as Hyper-V Manager shows them), then the Replication
//! Console's job highlights and the conditions; text for people, stable JSON for scripts,
//! and the one-line `--check` of monitoring plugins.

pub mod check;
mod text;
mod verdict;

use std::borrow::Cow;
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use crate::manifest::Site;
use crate::memory::FailoverRecord;
use crate::model::names::{HostName, VmName};
use crate::observed::{Activity, Observed, VmRole, VmState};
use crate::plan::{ConditionType, Operation, Plan};
use crate::reconcile::Look;

pub use check::CheckState;
pub use text::text;

/// The JSON format; grows compatibly, never renames.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub format_version: u32,
    pub sites: Vec<SiteStatus>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct SiteStatus {
    pub name: String,
    /// The live host as the controller last established it (it may be down: see
    /// `live_host_answers` and `running_on`).
    pub live_host: Option<HostName>,
    pub standby_host: Option<HostName>,
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
    /// What is wrong and what to do, in one line.
    pub verdict: String,
    /// The verdict as a monitoring plugin states it (`status --check`).
    pub check: CheckState,
    /// `spec.failover.mode`: `manual` or `automatic`.
    pub failover_mode: Option<String>,
    /// Whether the live host answers the controller now.
    pub live_host_answers: Option<bool>,
    /// The hosts where System Galaxy runs for real now (none while it is down, two in a split
    /// brain).
    pub running_on: Vec<HostName>,
    /// Since when System Galaxy has been missed on the live host, while it is.
    pub down_since: Option<Timestamp>,
    /// When the failover monitor's condition for failure was met, while it is.
    pub condition_met_at: Option<Timestamp>,
    /// When this status was observed (the platform's clock).
    pub observed_at: Option<Timestamp>,
    /// Each host of the pair: whether it answers and its VMs as Hyper-V Manager lists them.
    pub hosts: Vec<HostStatus>,
    /// Why the controller acts on nothing now (`spec.maintenance`).
    pub maintenance: Option<String>,
    /// The command a person runs to approve what the site waits for: the failover (manual
    /// mode), or resuming replication (`spec.resume: approve`).
    pub approval: Option<String>,
    /// What `approval` approves, in the text's words (`fail over`, `resume`).
    #[serde(skip)]
    pub approves: Option<&'static str>,
    /// The host where a test failover's isolated replica runs now (a drill).
    pub test_failover_on: Option<HostName>,
    /// A planned switchover in progress: its target host.
    pub switchover_to: Option<HostName>,
    /// The last failover is not committed yet: replication waits, and it may be rolled back
    /// (`galaxy-ha failover SITE --rollback`), until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_until: Option<Timestamp>,
    /// A rollback of the last failover in progress: the host System Galaxy returns to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_to: Option<HostName>,
    /// With `spec.rpoTarget`: the time, in all, the recovery point latency spent above it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpo_missed_s: Option<u64>,
    /// The job's snapshots of the replica's data (spec.snapshots), newest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snapshots: Vec<SnapshotStatus>,
    /// The test failover (drill) running now, if one is.
    pub drill: Drill,
    /// The last drill that finished: its run id, who started it, each check's outcome and
    /// time, the cleanup, and its result (`pass` or `fail`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_drill: Option<DrillRun>,
    /// The last readiness check (`spec.readiness.every`): when, and what a failover would
    /// lack (empty: ready).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness: Option<crate::memory::Readiness>,
}

impl SiteStatus {
    /// Where the last failover's commit stands, in one line: a rollback under way, or until
    /// when the commit waits and what a person can do meanwhile.
    pub fn commit_line(&self) -> Option<String> {
        if let Some(to) = &self.rollback_to {
            return Some(format!("rolling back to {to}"));
        }
        let until = self.commit_until?;
        let now = self.observed_at.unwrap_or(until);
        Some(format!(
            "waiting until {} (in {}): galaxy-ha failover {} --commit, or --rollback to undo it",
            moment(until, now),
            crate::model::terms::whole_seconds(crate::model::terms::elapsed(now, until)),
            self.name
        ))
    }

    /// The snapshots in one line: how many, how old the newest is, and the newest whose data
    /// was good when the newest's was not (what `failover --snapshot latest-good` takes).
    pub fn snapshots_line(&self) -> Option<String> {
        let newest = self.snapshots.first()?;
        let age = |secs: u64| crate::model::terms::whole_seconds(Duration::from_secs(secs));
        let good = match self.snapshots.iter().find(|x| x.good) {
            Some(g) if g.id == newest.id => format!(" ({})", g.id),
            Some(g) => format!(
                " (data not good); newest good {} ago ({})",
                age(g.age_s),
                g.id
            ),
            None => " (data not good); none with good data".to_string(),
        };
        Some(format!(
            "{} kept; newest {} ago{good}",
            self.snapshots.len(),
            age(newest.age_s)
        ))
    }
}

/// A snapshot as `status` shows it: what `galaxy-ha failover --snapshot` names, and how old
/// the point in time is (what a failover to it loses).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SnapshotStatus {
    pub id: String,
    pub at: Timestamp,
    pub age_s: u64,
    /// The target's data state was good when it was taken.
    pub good: bool,
}

/// A test failover as `status` shows it: whether its isolated replica runs, since when (the
/// last test failover the controller started), which VM on which host.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct Drill {
    pub running: bool,
    pub started: Option<Timestamp>,
    pub replica: Option<VmName>,
    pub host: Option<HostName>,
    /// What the running drill shows: whether its replica booted, which services run in it.
    pub result: Option<String>,
    /// The run's id and who started it, with its checks so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<crate::model::drill::DrillCheck>,
}

/// A finished drill as status shows it: the record, and its result in one word.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DrillRun {
    /// `pass` or `fail`.
    pub result: &'static str,
    #[serde(flatten)]
    pub drill: crate::model::drill::Drill,
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
            verdict: waiting[0].clone(),
            waiting,
            owner,
            ..SiteStatus::default()
        }
    }

    pub fn condition(&self, kind: ConditionType) -> Option<&ConditionStatus> {
        self.conditions.iter().find(|c| c.kind == kind.as_str())
    }

    /// The condition's status is `True`.
    pub fn is(&self, kind: ConditionType) -> bool {
        self.condition(kind).is_some_and(|c| c.status == "True")
    }
}

/// The condition type of a site whose manifest file on disk is invalid: the site runs on its
/// last good manifest, kept in the state dir, until the file is fixed.
pub const MANIFEST_INVALID: &str = "ManifestInvalid";

impl SiteStatus {
    /// Adds (`Some(errors)`) or removes (`None`) the `ManifestInvalid` condition. Adding it
    /// makes the check at least a WARNING: the edit a person made is not what runs, and the
    /// next one they expect to take effect will not either.
    pub fn mark_manifest_invalid(&mut self, errors: Option<&str>) {
        self.conditions.retain(|c| c.kind != MANIFEST_INVALID);
        let Some(errors) = errors else { return };
        self.conditions.push(ConditionStatus {
            kind: MANIFEST_INVALID,
            status: "True",
            reason: "ManifestInvalid".into(),
            message: errors.to_string().into(),
            last_transition: None,
            runbook: crate::model::operation::AlertKind::ManifestInvalid.runbook(),
        });
        self.check = self.check.max(CheckState::Warning);
    }

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
    pub source: HostName,
    pub target: HostName,
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
    pub reason: Cow<'static, str>,
    pub message: Cow<'static, str>,
    pub last_transition: Option<Timestamp>,
    /// The runbook section for this condition: what it means, what to do.
    pub runbook: &'static str,
}

/// One host of the pair.
#[derive(Debug, Clone, Serialize)]
pub struct HostStatus {
    pub name: HostName,
    /// `live` or `standby`, as the controller established them.
    pub role: Option<&'static str>,
    /// The host answered this observation.
    pub answers: bool,
    /// Since when it has not answered (the first observation that missed it).
    pub silent_since: Option<Timestamp>,
    /// Its VMs that matter (System Galaxy and replicas), as Hyper-V Manager names them.
    pub vms: Vec<VmStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VmStatus {
    pub name: VmName,
    /// Hyper-V's state: `Running`, `Off`, `Starting`, `Stopping`.
    pub state: &'static str,
    /// `system-galaxy` or `replica`.
    pub role: &'static str,
    /// Booted without network (a test failover).
    pub isolated: bool,
}

/// Builds one site's status from a look at it (a dry-run plan) at `now`.
pub fn site(site: &Site, look: &Look, now: Timestamp, alerts_pending: usize) -> SiteStatus {
    let (plan, observed, memory) = (&look.plan, &look.observed, &look.memory);
    let job = observed.job.as_ref();
    let mut status = SiteStatus {
        name: plan.site.clone(),
        live_host: plan.live_host.clone(),
        standby_host: plan.standby_host.clone(),
        activity: job.map(|j| j.activity.label().to_string()),
        percent: job.and_then(|j| j.percent),
        job: job.map(|j| JobStatus {
            name: j.name.clone(),
            source: j.source.clone(),
            target: j.target.clone(),
            source_server: site.manifest.spec.vm.name.to_string(),
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
        failover_mode: Some(
            match site.manifest.spec.failover.mode {
                crate::manifest::spec::FailoverMode::Manual => "manual",
                crate::manifest::spec::FailoverMode::Automatic => "automatic",
            }
            .to_string(),
        ),
        live_host_answers: plan
            .live_host
            .as_deref()
            .map(|h| observed.host(h).is_some_and(|h| h.reachable)),
        running_on: observed.live_hosts().into_iter().cloned().collect(),
        observed_at: Some(now),
        hosts: hosts(plan, observed),
        maintenance: plan.maintenance.clone(),
        drill: observed
            .hosts
            .iter()
            .find_map(|h| {
                h.test_replica().map(|v| {
                    let run = plan.memory.drill.as_ref().filter(|d| d.host == h.name);
                    Drill {
                        running: true,
                        started: run.map(|d| d.started).or(memory.last_test_failover),
                        replica: Some(v.name.clone()),
                        host: Some(h.name.clone()),
                        result: h.drill_result(),
                        run: run.map(|d| d.run.clone()),
                        by: run.map(|d| d.start.by.clone()),
                        notes: run.and_then(|d| d.start.notes.clone()),
                        checks: run.map(|d| d.checks.clone()).unwrap_or_default(),
                    }
                })
            })
            .unwrap_or_default(),
        readiness: plan.memory.readiness.clone(),
        last_drill: plan.memory.last_drill.as_ref().map(|d| DrillRun {
            result: d.result(),
            drill: d.clone(),
        }),
        switchover_to: plan.memory.switchover.as_ref().map(|s| s.to.clone()),
        commit_until: plan.commit_until,
        rollback_to: plan.memory.rollback.as_ref().map(|r| r.to.clone()),
        rpo_missed_s: site.manifest.spec.rpo_target.map(|_| rpo_missed(plan, now)),
        snapshots: job
            .map(|j| {
                let mut all: Vec<SnapshotStatus> = j
                    .snapshots
                    .iter()
                    .map(|s| SnapshotStatus {
                        id: s.id.clone(),
                        at: s.at,
                        age_s: crate::model::terms::elapsed(s.at, now).as_secs(),
                        good: s.good,
                    })
                    .collect();
                all.sort_by_key(|s| std::cmp::Reverse(s.at));
                all
            })
            .unwrap_or_default(),
        ..SiteStatus::default()
    };
    // The older field says the same as `drill.host`.
    status.test_failover_on = status.drill.host.clone();
    if let Some(j) = job.filter(|j| !j.monitor_status.source_alive) {
        let missed = signed(j.monitor_status.missed_for);
        status.down_since = now.checked_sub(missed).ok();
        if j.monitor_status.condition_met {
            let ttf = j.monitor.threshold.time_to_failure(j.monitor.interval);
            let past = j.monitor_status.missed_for.saturating_sub(ttf);
            status.condition_met_at = now.checked_sub(signed(past)).ok();
        }
    }
    if status.down_since.is_none() && status.running_on.is_empty() {
        // No monitor to ask: the live host's silence is the best measure there is.
        status.down_since = plan
            .live_host
            .as_ref()
            .and_then(|h| plan.memory.unreachable_since.get(h).copied());
    }
    for host in &mut status.hosts {
        host.silent_since = (!host.answers)
            .then(|| plan.memory.unreachable_since.get(&host.name).copied())
            .flatten();
    }
    // (the command's verb, what it approves in words)
    let waits = if waits_for_approval(&status, plan) {
        Some(("failover", "fail over"))
    } else {
        plan.resume_awaits_person.then_some(("resume", "resume"))
    };
    status.approves = waits.map(|(_, what)| what);
    status.approval =
        waits.map(|(verb, _)| format!("galaxy-ha {verb} {} -m {}", site.name, site.path.display()));
    (status.check, status.verdict) = verdict::verdict(&status, now);
    status
}

/// The time the recovery point latency spent above `spec.rpoTarget`: the spells that ended,
/// and the one under way.
fn rpo_missed(plan: &Plan, now: Timestamp) -> u64 {
    let ended = plan.memory.rpo_missed.unwrap_or_default().as_secs();
    let ongoing = plan
        .condition(ConditionType::RpoMet)
        .filter(|c| !c.status)
        .and_then(|c| c.last_transition)
        .map_or(0, |since| {
            crate::model::terms::elapsed(since, now).as_secs()
        });
    ended + ongoing
}

/// The site waits for a person: the condition for failure is met, System Galaxy runs
/// nowhere, a failover would work and the controller plans none.
fn waits_for_approval(status: &SiteStatus, plan: &Plan) -> bool {
    let failing_over = plan.actions.iter().any(|a| {
        matches!(
            a.op,
            Operation::Failover {
                mode: crate::model::operation::FailoverKind::Live,
                ..
            }
        )
    });
    status.condition_met_at.is_some()
        && status.running_on.is_empty()
        && status.is(ConditionType::FailoverReady)
        && !failing_over
        && status.activity.as_deref() != Some(Activity::FailingOver.label())
}

fn hosts(plan: &Plan, observed: &Observed) -> Vec<HostStatus> {
    let role = |name: &str| {
        if plan.live_host.as_ref().is_some_and(|l| l == name) {
            Some("live")
        } else if plan.standby_host.as_ref().is_some_and(|s| s == name) {
            Some("standby")
        } else {
            None
        }
    };
    observed
        .hosts
        .iter()
        .map(|h| HostStatus {
            name: h.name.clone(),
            role: role(&h.name),
            answers: h.reachable,
            silent_since: None,
            vms: h
                .vms
                .iter()
                .map(|v| VmStatus {
                    name: v.name.clone(),
                    state: match v.state {
                        VmState::Running => "Running",
                        VmState::Off => "Off",
                        VmState::Starting => "Starting",
                        VmState::Stopping => "Stopping",
                    },
                    role: match v.role {
                        VmRole::SystemGalaxy => "system-galaxy",
                        VmRole::Replica => "replica",
                    },
                    isolated: v.isolated,
                })
                .collect(),
        })
        .collect()
}

fn signed(d: Duration) -> jiff::SignedDuration {
    jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::ZERO)
}

pub fn json(status: &Status) -> String {
    serde_json::to_string_pretty(status).unwrap_or_default()
}

/// `H:MM:SS`, as the console shows latencies.
pub(crate) fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// A moment as an admin reads it on a phone: `03:12:05 UTC`, with the date when it is not
/// the day of `now`.
pub fn moment(at: Timestamp, now: Timestamp) -> String {
    let (a, n) = (
        at.to_zoned(jiff::tz::TimeZone::UTC),
        now.to_zoned(jiff::tz::TimeZone::UTC),
    );
    if a.date() == n.date() {
        format!("{} UTC", a.strftime("%H:%M:%S"))
    } else {
        format!("{} UTC", a.strftime("%Y-%m-%d %H:%M:%S"))
    }
}

/// How long ago `at` was, in whole seconds (`4m 10s`), or `just now`.
pub fn ago(at: Timestamp, now: Timestamp) -> String {
    let secs = now.duration_since(at).as_secs().max(0);
    if secs == 0 {
        "just now".to_string()
    } else {
        format!(
            "{} ago",
            humantime::format_duration(Duration::from_secs(secs.unsigned_abs()))
        )
    }
}
