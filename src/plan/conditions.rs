//! The conditions `status` reports that no single rule owns: Protected, FailoverReady,
//! DrillOverdue and (`rpo.rs`) RpoMet.

use super::builder::Builder;
use super::view::View;
use crate::model::operation::{AlertKind, Severity};
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
    super::drill::plan(b, view);
    super::rpo::plan(b, view);
    super::readiness::plan(b, view);
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
