//! Rule 7: the live host failed. Both views must agree — the job's failover monitor (on the
//! target) and the controller — before anything happens; then an automatic site fails over
//! once, and a manual site alerts once and waits for a person.

use std::time::Duration;

use jiff::SignedDuration;

use super::builder::{Builder, threshold_text};
use super::view::View;
use crate::manifest::spec::{FailoverMode as Mode, Manifest};
use crate::memory::{FailoverCause, Memory};
use crate::model::decision::{Decision, Vote};
use crate::model::operation::{AlertKind, FailoverKind, Operation, Severity};
use crate::model::terms::whole_seconds as fmt;
use crate::observed::{Activity, Job, Observed};

pub(crate) fn plan(b: &mut Builder, view: &View) {
    let (Some(live), Some(standby)) = (view.live.clone(), view.standby.clone()) else {
        return;
    };
    let Some(job) = view.job_forward().cloned() else {
        return;
    };
    if job.activity.failover_begun() {
        return;
    }
    if job.activity == Activity::Protecting {
        // Protecting again: the latch of the last failover is released.
        b.next.failover_latched = false;
    }
    if b.memory.switchover.is_some() {
        // The VM is off by our own hand (rule 9 drives the switchover).
        return;
    }
    let job_view_failed = !job.monitor_status.source_alive;
    let controller_view_failed = !view.live_running;
    if !controller_view_failed {
        b.next.controller_missed_since = None;
    }
    if controller_view_failed {
        b.next.controller_missed_at = Some(b.now);
    } else if !job_view_failed {
        b.next.controller_missed_at = None;
    }
    let threshold = job.monitor.threshold.time_to_failure(job.monitor.interval);
    if !job_view_failed || !controller_view_failed {
        // No failure carried over from maintenance.
        b.next.maintenance_ended = None;
    }
    match (job_view_failed, controller_view_failed) {
        (false, false) => {}
        (true, false) => {
            let grace = jiff::SignedDuration::try_from(job.monitor.interval * 2)
                .unwrap_or(jiff::SignedDuration::ZERO);
            let just_seen_again = b
                .memory
                .controller_missed_at
                .is_some_and(|at| b.now.duration_since(at) < grace);
            if !just_seen_again {
                b.alert(
                    AlertKind::LinkDown,
                    Severity::Warning,
                    format!("link/{standby}/{live}"),
                    format!(
                        "the failover monitor on {standby} cannot reach System Galaxy on {live} (missed for {}), but the controller can: the link between the hosts is down. No failover: one view alone is not a failure",
                        fmt(job.monitor_status.missed_for)
                    ),
                    "rule 2 (one view only): the job misses the source; the controller sees it",
                );
            }
            b.degrade(
                "LinkDown",
                format!("{standby} cannot reach the VM on {live}; replication is interrupted"),
            );
        }
        (false, true) => {
            let since = *b.next.controller_missed_since.get_or_insert(b.now);
            let grace = jiff::SignedDuration::try_from(job.monitor.interval * 2)
                .unwrap_or(jiff::SignedDuration::ZERO);
            if b.now.duration_since(since) >= grace {
                b.alert(
                    AlertKind::LinkDown,
                    Severity::Warning,
                    format!("controller-link/{live}"),
                    format!(
                        "the controller cannot see System Galaxy on {live}, but the failover monitor on {standby} still reaches it: the controller's link is down. No failover"
                    ),
                    "rule 2 (one view only): the controller misses the live host; the job sees it",
                );
            }
            b.degrade(
                "ControllerLinkDown",
                format!("the controller cannot reach {live}"),
            );
        }
        (true, true) => both_views_failed(b, &job, &live, &standby, threshold),
    }
}

fn both_views_failed(b: &mut Builder, job: &Job, live: &str, standby: &str, threshold: Duration) {
    let status = job.monitor_status;
    b.degrade(
        "LiveHostFailed",
        format!("System Galaxy on {live} is missed by the controller and by the failover monitor for {}", fmt(status.missed_for)),
    );
    if status.condition_met {
        // The failure detected earlier has not cleared: it grew into the condition below.
        b.still_alerting(format!("failure-detected/{live}"));
    } else {
        if status.missed_for >= threshold / 2 {
            b.alert(
                AlertKind::FailureDetected,
                Severity::Warning,
                format!("failure-detected/{live}"),
                format!(
                    "System Galaxy on {live} has been missed for {}; the condition for failure ({}) will be met in {}",
                    fmt(status.missed_for),
                    threshold_text(job.monitor.threshold, job.monitor.interval),
                    fmt(status.remaining)
                ),
                "rule 7 (live host failed): half of the failover monitor's threshold has passed",
            );
        }
        b.wait(format!(
            "condition for failure in {}",
            fmt(status.remaining)
        ));
        return;
    }
    if let Some(ended) = b.next.maintenance_ended {
        let since = crate::model::terms::elapsed(ended, b.now);
        if since < threshold {
            // The failure was seen while maintenance held: the countdown starts again at its
            // end, so that ending maintenance never fails over at once.
            b.still_alerting(format!("failure-detected/{live}"));
            b.wait(format!(
                "condition for failure in {} (a fresh countdown since maintenance ended at {ended})",
                fmt(threshold - since)
            ));
            return;
        }
        b.next.maintenance_ended = None;
    }
    let approved = b.spec.primary == standby
        && b.memory
            .acknowledged_primary
            .as_ref()
            .is_none_or(|a| a != standby);
    let fallback = bad_data_fallback(b, job);
    let blockers = blockers(b, job, approved, fallback.as_ref());
    if blockers.is_empty() {
        let rule = format!(
            "rule 7 (live host failed){}",
            if approved {
                ": spec.primary names the standby host"
            } else {
                ": failover mode automatic"
            }
        );
        let decision = evidence(b, job, live, standby, threshold, rule);
        let why = decision.words().join("; ");
        let to_snapshot = fallback.as_ref().map(|s| {
            format!(
                " The target's data state is not good: the failover goes to snapshot {} taken at {} ({} before now), and what was replicated after it is lost (spec.failover.onBadData: snapshot).",
                s.id,
                s.at,
                crate::model::terms::whole_seconds(
                    crate::model::terms::elapsed(s.at, b.now)
                )
            )
        });
        if let Some(action) = b.act_failover(
            Operation::Failover {
                snapshot: fallback.as_ref().map(|s| s.id.clone()),
                job: job.name.clone(),
                target: standby.into(),
                mode: FailoverKind::Live,
                apply_queued_data: b.spec.failover.apply_queued_data,
            },
            format!(
                "rule 7 (live host failed): condition for failure met on {standby} and the controller cannot reach System Galaxy on {live}{}",
                if approved { "; spec.primary names the standby host" } else { "; failover mode automatic" }
            ),
            live,
            if approved { FailoverCause::Approved } else { FailoverCause::Automatic },
        ) {
            action.decision = Some(Box::new(decision));
        }
        b.alert(
            AlertKind::FailoverStarted,
            Severity::Error,
            format!("failover-started/{live}"),
            format!(
                "System Galaxy on {live} failed; failing over to {standby}.{} Why: {why}",
                to_snapshot.unwrap_or_default()
            ),
            "rule 7 (live host failed)",
        );
    } else {
        let waits = blockers.join("; ");
        // System Galaxy is down and nothing happens on its own: a person must act now.
        let action = if approvable(b, job) {
            format!(
                "System Galaxy DOWN, waiting for your approval: galaxy-ha failover {}",
                b.site
            )
        } else {
            format!("System Galaxy DOWN, failover blocked: {}", blockers[0])
        };
        b.alert_to_act(
            AlertKind::ConditionMet,
            Severity::Error,
            format!("condition-met/{live}"),
            format!(
                "the condition for failure is met: System Galaxy on {live} has been missed for {}. Not failing over: {waits}. To fail over to {standby}: galaxy-ha failover {} (or set spec.primary: {standby})",
                fmt(status.missed_for),
                b.site
            ),
            Some(action),
            "rule 7 (live host failed): condition for failure met",
        );
        b.wait(format!("failover to {standby} waits: {waits}"));
    }
}

/// What the pass saw when it decided to fail over on its own: each view that voted, the
/// threshold and when it was met, and the data the failover goes with.
fn evidence(
    b: &Builder,
    job: &Job,
    live: &str,
    standby: &str,
    threshold: Duration,
    rule: String,
) -> Decision {
    let status = job.monitor_status;
    let ago = |d: Duration| {
        SignedDuration::try_from(d)
            .ok()
            .and_then(|d| b.now.checked_sub(d).ok())
    };
    let first_miss = ago(status.missed_for);
    let condition_met_at = ago(status.missed_for.saturating_sub(threshold));
    let unreachable_since = |host: &str| {
        b.memory
            .unreachable_since
            .iter()
            .find(|(h, _)| *h == host)
            .map_or(b.now, |(_, t)| *t)
    };
    let controller = |host: &str| b.observed.host(host).map(|h| h.reachable);
    let (saw, since) = match controller(live) {
        Some(false) => (
            format!("cannot reach {live}, the live host"),
            Some(unreachable_since(live)),
        ),
        Some(true) => (
            format!("reaches {live}, the live host, but System Galaxy does not run there"),
            None,
        ),
        None => (format!("has no observation of {live}, the live host"), None),
    };
    let live_vote = Vote {
        view: "the controller".into(),
        saw,
        votes_to_act: true,
        since,
    };
    let standby_vote = Vote {
        view: "the controller".into(),
        saw: match controller(standby) {
            Some(true) => format!("reaches {standby}, the standby host, where the replica is"),
            _ => format!("cannot reach {standby}, the standby host"),
        },
        votes_to_act: false,
        since: None,
    };
    Decision {
        rule,
        views: vec![
            Vote {
                view: format!("the failover monitor on {standby} (the link between the hosts)"),
                saw: format!(
                    "misses System Galaxy on {live}: {} failed queries over {}",
                    status.failed_queries,
                    fmt(status.missed_for)
                ),
                votes_to_act: true,
                since: first_miss,
            },
            live_vote,
            standby_vote,
        ],
        threshold: Some(threshold_text(job.monitor.threshold, job.monitor.interval)),
        condition_met_at,
        target_data_good: Some(job.target_data_ok),
        recovery_point_latency: Some(job.recovery_point_latency),
        max_data_loss: b.spec.failover.max_data_loss,
    }
}

/// A person's `galaxy-ha failover` would be accepted now: only the controller's own rules
/// (manual mode, the latch, maintenance) hold the failover back, not the job or the standby.
fn approvable(b: &Builder, job: &Job) -> bool {
    job.failover_possible()
        && job.target_data_ok
        && !b
            .observed
            .host(&job.target)
            .is_some_and(|h| h.vms.iter().any(|v| v.is_live()))
}

/// The snapshot an automatic failover goes to when the target's data is not good and the
/// manifest allows it (`spec.failover.onBadData: snapshot`): the newest whose data was good.
fn bad_data_fallback(b: &Builder, job: &Job) -> Option<crate::observed::Snapshot> {
    if job.target_data_ok
        || b.spec.failover.on_bad_data != crate::manifest::spec::OnBadData::Snapshot
    {
        return None;
    }
    job.latest_good_snapshot().cloned()
}

/// What keeps an automatic failover from happening, in words for the alert. `fallback`: the
/// snapshot it would go to instead of data that is not good.
fn blockers(
    b: &Builder,
    job: &Job,
    approved: bool,
    fallback: Option<&crate::observed::Snapshot>,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(why) = b.maintenance() {
        out.push(format!("the site is in maintenance: {why}"));
    }
    if !approved {
        if b.spec.failover.mode == Mode::Manual {
            out.push("failover mode is manual (wait for user to initiate failover)".into());
        }
        if b.memory.failover_latched {
            out.push(
                "a failover already happened and the job has not been protecting since".into(),
            );
        }
        match fallback {
            Some(s) => {
                // A snapshot loses everything after it: maxDataLoss is measured from it.
                let age = crate::model::terms::elapsed(s.at, b.now);
                if let Some(max) = b.spec.failover.max_data_loss
                    && age > max
                {
                    out.push(format!(
                        "the target data state is not OK, and its newest good snapshot ({}) is {} old, more than maxDataLoss {}",
                        s.id,
                        fmt(age),
                        fmt(max)
                    ));
                }
            }
            None if !job.target_data_ok => {
                let why =
                    if b.spec.failover.on_bad_data == crate::manifest::spec::OnBadData::Snapshot {
                        " and there is no snapshot whose data was good"
                    } else {
                        ""
                    };
                out.push(format!("the target data state is not OK{why}"));
            }
            None => {
                if let Some(max) = b.spec.failover.max_data_loss
                    && job.recovery_point_latency > max
                {
                    out.push(format!(
                        "the last recovery point latency {} exceeds maxDataLoss {}",
                        fmt(job.recovery_point_latency),
                        fmt(max)
                    ));
                }
            }
        }
    }
    if !job.failover_possible() {
        out.push(format!(
            "the job is {}, not ready to fail over",
            job.activity
        ));
    }
    if b.observed
        .host(&job.target)
        .is_some_and(|h| h.vms.iter().any(|v| v.is_live()))
    {
        out.push(format!("System Galaxy already runs on {}", job.target));
    }
    out
}

/// A person's `galaxy-ha failover SITE`: what it would do now.
#[derive(Debug, Clone, PartialEq)]
pub enum Approval {
    /// Both hosts healthy: a planned switchover (clean shutdown, then failover, no data lost).
    Switchover { from: String, to: String },
    /// The live host failed: fail over to the standby. `forced`: the failover monitor
    /// still reached System Galaxy on `from` (`--force`), which may run it still.
    Failover {
        op: Operation,
        from: String,
        forced: bool,
    },
    /// A test failover: the replica boots isolated, replication keeps protecting.
    Test { op: Operation },
    /// The end of a running test failover: its isolated replica shuts down.
    EndTest { op: Operation },
    /// Resuming replication after a failover, towards the old live host.
    Resume { towards: String },
    /// Committing the last failover before its window ran out: replication may resume.
    Commit { to: String },
    /// Rolling the last failover back: System Galaxy returns to `old_vm` on the old host.
    Rollback {
        open: super::commit::Open,
        old_vm: crate::model::names::VmName,
    },
}

/// Checks a person's request to resume replication: a job must have failed over.
///
/// # Errors
/// Why there is nothing to resume, in words for the admin.
pub fn approve_resume(observed: &Observed) -> Result<Approval, String> {
    let job = observed.job.as_ref().ok_or(
        "there is no replication job (or its target cannot be reached): nothing to resume",
    )?;
    if job.activity != Activity::FailedOver {
        return Err(format!(
            "job {:?} is {}, not failed over: nothing to resume",
            job.name, job.activity
        ));
    }
    Ok(Approval::Resume {
        towards: job.source.to_string(),
    })
}

/// Checks a person's request to end a drill: a test failover must be running.
///
/// # Errors
/// Why there is nothing to end, in words for the admin.
pub fn approve_end(observed: &Observed) -> Result<Approval, String> {
    let job = observed.job.as_ref().ok_or(
        "there is no replication job (or its target cannot be reached): no test failover to end",
    )?;
    let testing = observed
        .host(&job.target)
        .is_some_and(|h| h.test_replica().is_some());
    if !testing {
        return Err(format!(
            "no test failover of job {:?} is running on {}",
            job.name, job.target
        ));
    }
    Ok(Approval::EndTest {
        op: Operation::EndTestFailover {
            job: job.name.clone(),
            target: job.target.clone(),
        },
    })
}

/// Checks a person's failover request against the site.
///
/// # Errors
/// Why the standby is not ready, in words for the admin.
pub fn approve(
    manifest: &Manifest,
    observed: &Observed,
    memory: &Memory,
    test: bool,
) -> Result<Approval, String> {
    approve_as(manifest, observed, memory, test, false)
}

/// Checks a person's `galaxy-ha failover SITE --force`: a failover as [`approve`] allows,
/// and also while the failover monitor still reaches System Galaxy on the live host that
/// the controller cannot see. Everything that protects data still holds.
///
/// # Errors
/// Why not, in words for the admin.
pub fn approve_forced(
    manifest: &Manifest,
    observed: &Observed,
    memory: &Memory,
) -> Result<Approval, String> {
    approve_as(manifest, observed, memory, false, true)
}

/// Checks a person's `galaxy-ha failover SITE --snapshot CHOICE`: a failover as [`approve`]
/// allows, to the snapshot `choice` names (an id, `latest`, `latest-good`) instead of the
/// newest data. Never a switchover: System Galaxy running on the live host would lose what
/// it recorded since the snapshot for nothing.
///
/// # Errors
/// Why not, in words for the admin.
pub fn approve_snapshot(
    manifest: &Manifest,
    observed: &Observed,
    memory: &Memory,
    choice: &str,
) -> Result<Approval, String> {
    let job = observed.job.as_ref().ok_or(
        "there is no replication job (or its target cannot be reached): nothing to fail over to",
    )?;
    let snapshot = match choice {
        "latest" => job.snapshots.iter().max_by_key(|s| s.at),
        "latest-good" => job.latest_good_snapshot(),
        id => job.snapshots.iter().find(|s| s.id.eq_ignore_ascii_case(id)),
    };
    let Some(snapshot) = snapshot else {
        let have = if job.snapshots.is_empty() {
            "the job has no snapshots (spec.snapshots sets a schedule)".to_string()
        } else {
            format!(
                "the job's snapshots: {}",
                job.snapshots
                    .iter()
                    .map(|s| format!(
                        "{} at {}{}",
                        s.id,
                        s.at,
                        if s.good { "" } else { " (data not good)" }
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        return Err(format!("no snapshot {choice:?}: {have}"));
    };
    match approve_as(manifest, observed, memory, false, false)? {
        Approval::Switchover { from, .. } => Err(format!(
            "System Galaxy runs on {from}: a failover to a snapshot would throw away what it recorded since. To move it, switch over (galaxy-ha failover without --snapshot)"
        )),
        mut approval => {
            if let Approval::Failover {
                op: Operation::Failover { snapshot: to, .. },
                ..
            } = &mut approval
            {
                *to = Some(snapshot.id.clone());
            }
            Ok(approval)
        }
    }
}

fn approve_as(
    manifest: &Manifest,
    observed: &Observed,
    memory: &Memory,
    test: bool,
    force: bool,
) -> Result<Approval, String> {
    let live_hosts = observed.live_hosts();
    if live_hosts.len() > 1 {
        return Err(
            "System Galaxy runs on both hosts; the controller fences that first (run apply)".into(),
        );
    }
    let job = observed.job.as_ref().ok_or(
        "there is no replication job (or its target cannot be reached): nothing to fail over to",
    )?;
    let standby = manifest
        .spec
        .host(&job.target)
        .map(|h| h.name.clone())
        .ok_or_else(|| {
            format!(
                "the job's target {} is not a host of the manifest",
                job.target
            )
        })?;
    let live = manifest
        .spec
        .other_host(&standby)
        .map(|h| h.name.clone())
        .ok_or("the manifest does not name two hosts")?;
    if !observed.host(&standby).is_some_and(|h| h.reachable) {
        return Err(format!("the standby host {standby} cannot be reached"));
    }
    if observed
        .host(&standby)
        .is_some_and(|h| h.vms.iter().any(|v| v.is_live()))
    {
        return Err(format!("System Galaxy already runs on {standby}"));
    }
    let _ = memory;
    if test {
        if job.activity != Activity::Protecting {
            return Err(format!(
                "a test failover needs a protecting job; job {:?} is {}",
                job.name, job.activity
            ));
        }
        return Ok(Approval::Test {
            op: Operation::Failover {
                snapshot: None,
                job: job.name.clone(),
                target: standby,
                mode: FailoverKind::Test,
                apply_queued_data: true,
            },
        });
    }
    if !job.failover_possible() {
        return Err(format!(
            "job {:?} is {}{}: the replica on {standby} is not complete, a failover now would lose data",
            job.name,
            job.activity,
            job.percent.map(|p| format!(" ({p}%)")).unwrap_or_default()
        ));
    }
    let live_running = live_hosts.iter().any(|h| **h == live);
    if live_running && force {
        return Err(format!(
            "the controller sees System Galaxy running on {live}: there is nothing to force. `galaxy-ha failover` without --force switches over cleanly, losing nothing"
        ));
    }
    if live_running {
        if job.activity != Activity::Protecting {
            return Err(format!(
                "job {:?} is {}, a switchover needs it protecting",
                job.name, job.activity
            ));
        }
        if !job.replicating_now() {
            return Err(format!(
                "job {:?} is not connected to {live} now (the link between the hosts?); a switchover would lose what it has not sent",
                job.name
            ));
        }
        if observed.host(&standby).is_some_and(|h| {
            h.vms
                .iter()
                .any(|v| v.state != crate::observed::VmState::Off)
        }) {
            return Err(format!(
                "the replica runs on {standby} (a test failover); wait for it to end, or stop it, before switching over"
            ));
        }
        return Ok(Approval::Switchover {
            from: live.to_string(),
            to: standby.to_string(),
        });
    }
    let answers = job.monitor_status.source_alive;
    if answers && !force {
        // Only the controller's view is lost: System Galaxy most likely still runs there.
        return Err(format!(
            "the failover monitor on {standby} still reaches System Galaxy on {live}; only the controller cannot see it (its link to {live}?). Failing over now would run System Galaxy on both hosts. Check {live} and the controller's network first; if {live} must be given up anyway, `galaxy-ha failover {} --force` fails over and holds the site SplitBrainPending until {live} is seen with System Galaxy off or fenced",
            manifest.metadata.name
        ));
    }
    Ok(Approval::Failover {
        op: Operation::Failover {
            snapshot: None,
            job: job.name.clone(),
            target: standby,
            mode: FailoverKind::Live,
            apply_queued_data: manifest.spec.failover.apply_queued_data,
        },
        from: live.to_string(),
        forced: answers,
    })
}
