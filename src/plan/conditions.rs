//! The conditions `status` reports that no single rule owns: Protected, FailoverReady,
//! DrillOverdue and (`rpo.rs`) RpoMet.

use super::builder::Builder;
use super::view::View;
use crate::model::operation::{AlertKind, FailoverKind, Operation, Severity};
use crate::observed::{Activity, Job};
use crate::plan::ConditionType;

pub(crate) fn plan(b: &mut Builder, view: &View) {
    match view.job_forward() {
        Some(job)
            if job.activity == Activity::Protecting && job.target_data_ok && !view.live_running =>
        {
            // The job's monitor queries once an interval: it may not have missed the source
            // yet, but the controller cannot see System Galaxy there now.
            let live = view.live.clone().unwrap_or_default();
            let message = format!(
                "job {:?} is protecting, but the controller cannot see System Galaxy running on {live}",
                job.name
            );
            b.set(
                ConditionType::Protected,
                false,
                "LiveHostUnseen",
                message.clone(),
            );
            b.set(
                ConditionType::FailoverReady,
                false,
                "LiveHostUnseen",
                message,
            );
        }
        Some(job) if job.activity == Activity::Protecting && job.target_data_ok => {
            resumed(b, view, job);
            b.set(
                ConditionType::Protected,
                true,
                "Protecting",
                format!("job {:?} is protecting, target data state OK", job.name),
            );
            let standby = view.standby.clone().unwrap_or_default();
            if b.reachable(&standby) {
                b.set(
                    ConditionType::FailoverReady,
                    true,
                    "StandbyReady",
                    format!("{standby} holds a complete replica and can take over"),
                );
            } else {
                b.set(
                    ConditionType::FailoverReady,
                    false,
                    "StandbyUnreachable",
                    format!("{standby} cannot be reached"),
                );
            }
        }
        Some(job) => {
            let message = match job.percent {
                Some(p) if job.activity == Activity::Synchronizing => {
                    format!("job {:?} is synchronizing ({p}%)", job.name)
                }
                _ => format!("job {:?} is {}", job.name, job.activity),
            };
            b.set(
                ConditionType::Protected,
                false,
                "NotProtecting",
                message.clone(),
            );
            let standby = view.standby.clone().unwrap_or_default();
            if standby_can_take_over(b, view, job, &standby) {
                // The job cannot protect while its source is down, but that is exactly when
                // a failover is what would work.
                b.set(
                    ConditionType::FailoverReady,
                    true,
                    "StandbyCanTakeOver",
                    format!(
                        "System Galaxy is missed on {}; {standby} holds a complete replica (target data state OK) and can take over: galaxy-ha failover {}",
                        view.live.as_deref().unwrap_or("the live host"),
                        b.site
                    ),
                );
            } else {
                b.set(
                    ConditionType::FailoverReady,
                    false,
                    "NotProtecting",
                    message,
                );
            }
            if job.activity == Activity::Unknown {
                b.degrade(
                    "JobStateUnknown",
                    format!(
                        "job {:?} is in Carbonite state {}, which galaxy-ha does not act on: no automatic failover until a person has looked",
                        job.name,
                        job.state_name.as_deref().unwrap_or("(none)")
                    ),
                );
            }
            if matches!(job.activity, Activity::Stopped | Activity::Failed) {
                b.degrade(
                    "JobNotProtecting",
                    format!("job {:?} is {}", job.name, job.activity),
                );
            }
        }
        None => {
            let message = match &view.job {
                Some(job) => format!(
                    "job {:?} replicates from {} to {}",
                    job.name, job.source, job.target
                ),
                None => "there is no replication job".to_string(),
            };
            b.set(ConditionType::Protected, false, "NoJob", message.clone());
            b.set(ConditionType::FailoverReady, false, "NoJob", message);
        }
    }
    for host in &b.observed.hosts {
        if !host.reachable {
            b.degrade(
                "HostUnreachable",
                format!("{} cannot be reached from the controller", host.name),
            );
        }
    }
    drills(b, view);
    drill_limit(b, view);
    super::rpo::plan(b, view);
}

/// A job created to protect System Galaxy again protects now: the one moment replication
/// has resumed, on every path that creates such a job.
fn resumed(b: &mut Builder, view: &View, job: &Job) {
    let Some(resuming) = b
        .memory
        .resuming
        .clone()
        .filter(|r| r.job.eq_ignore_ascii_case(&job.name))
    else {
        return;
    };
    b.next.resuming = None;
    b.alert(
        AlertKind::ReplicationResumed,
        Severity::Information,
        format!("resumed/{}", job.name),
        format!(
            "replication resumed: job {:?} protects System Galaxy on {} towards {} again ({})",
            job.name,
            view.live.as_deref().unwrap_or(&job.source),
            view.standby.as_deref().unwrap_or(&job.target),
            resuming.why
        ),
        "the job created to protect System Galaxy again is protecting",
    );
}

/// The live host is lost to both views and the standby can take over through this job now:
/// what `galaxy-ha failover SITE` would accept.
fn standby_can_take_over(b: &Builder, view: &View, job: &Job, standby: &str) -> bool {
    !view.live_running
        && !job.monitor_status.source_alive
        && job.target_data_ok
        && job.failover_possible()
        && b.reachable(standby)
        && !b
            .observed
            .host(standby)
            .is_some_and(|h| h.vms.iter().any(|v| v.is_live()))
}

/// A drill the controller started ends by itself after `spec.drills.maxDuration`.
fn drill_limit(b: &mut Builder, view: &View) {
    let Some(job) = view.job_forward() else {
        return;
    };
    let running = b
        .observed
        .host(&job.target)
        .is_some_and(|h| h.test_replica().is_some());
    let Some(started) = b.memory.last_test_failover.filter(|_| running) else {
        return;
    };
    let limit = b
        .spec
        .drills
        .as_ref()
        .map_or(crate::manifest::spec::DEFAULT_DRILL_MAX_DURATION, |d| {
            d.max_duration
        });
    let ran = crate::model::terms::elapsed(started, b.now);
    if ran >= limit {
        b.act(
            Operation::EndTestFailover {
                job: job.name.clone(),
                target: job.target.clone(),
            },
            format!(
                "spec.drills.maxDuration: the test failover started at {started} has run {}; {}",
                humantime::format_duration(limit),
                b.observed.drill_result_on(&job.target)
            ),
        );
    }
}

/// A drill the manifest asks the controller to perform: a test failover of a protecting job.
fn scheduled_drill(b: &mut Builder, view: &View) {
    if !b.spec.drills.as_ref().is_some_and(|d| d.scheduled) {
        return;
    }
    let (Some(job), Some(standby)) = (view.job_forward(), view.standby.clone()) else {
        return;
    };
    if job.activity != Activity::Protecting || !b.reachable(&standby) {
        b.wait("the scheduled test failover waits for the job to be protecting");
        return;
    }
    b.act(
        Operation::Failover {
            snapshot: None,
            job: job.name.clone(),
            target: standby.clone(),
            mode: FailoverKind::Test,
            apply_queued_data: true,
        },
        "spec.drills: a test failover is due and the manifest lets the controller run it",
    );
}

fn drills(b: &mut Builder, view: &View) {
    let Some(every) = b.spec.drills.as_ref().and_then(|d| d.test_failover_every) else {
        b.set(
            ConditionType::DrillOverdue,
            false,
            "NoSchedule",
            "no drill schedule (spec.drills)",
        );
        return;
    };
    // Whole days as an admin writes them (`90d`), not humantime's months of 30.44 days.
    let every_text = if every.as_secs() % 86_400 == 0 {
        format!("{}d", every.as_secs() / 86_400)
    } else {
        humantime::format_duration(every).to_string()
    };
    let overdue = match b.memory.last_test_failover {
        None => Some("no test failover recorded".to_string()),
        Some(at) => {
            let due = at.checked_add(
                jiff::SignedDuration::try_from(every).unwrap_or(jiff::SignedDuration::MAX),
            );
            match due {
                Ok(due) if b.now <= due => None,
                _ => Some(format!("the last test failover was at {at}")),
            }
        }
    };
    match overdue {
        Some(why) => {
            let message = format!(
                "{why}; drills are due every {every_text}: galaxy-ha failover {} --test",
                b.site
            );
            b.set(
                ConditionType::DrillOverdue,
                true,
                "DrillOverdue",
                message.clone(),
            );
            b.alert(
                AlertKind::DrillOverdue,
                Severity::Warning,
                "drill-overdue".into(),
                message,
                "spec.drills.testFailoverEvery",
            );
            scheduled_drill(b, view);
        }
        None => b.set(
            ConditionType::DrillOverdue,
            false,
            "DrillRecent",
            format!("a test failover ran within {every_text}"),
        ),
    }
}
