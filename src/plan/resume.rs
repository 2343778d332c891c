//! Rule 8: resume replication after a failover, as soon as the old live host is back —
//! delete the old job (keeping its replica: it is the live VM now), remove the stale VM on
//! the old host, and create the job in the new direction under its new name.

use super::builder::Builder;
use super::protect::new_job;
use super::view::View;
use crate::manifest::spec::ResumeMode;
use crate::memory::{FailoverCause, Resuming};
use crate::model::names::VmName;
use crate::model::operation::{AlertKind, Operation, Severity};
use crate::observed::{Activity, VmState};

pub(crate) fn plan(b: &mut Builder, view: &View) {
    let Some(job) = view.job.clone() else { return };
    match job.activity {
        Activity::FailingOver => {
            b.wait(format!(
                "job {:?} is failing over to {}",
                job.name, job.target
            ));
            b.degrade("FailingOver", format!("failing over to {}", job.target));
        }
        Activity::Failed if b.memory.failover_latched => {
            b.alert(
                AlertKind::FailoverFailed,
                Severity::Error,
                format!("failover-failed/{}", job.name),
                format!("the failover of job {:?} to {} failed; System Galaxy may run nowhere. Check the job's logs on {}", job.name, job.target, job.target),
                "rule 8: the job failed after a failover",
            );
            b.degrade(
                "FailoverFailed",
                format!("the failover of {:?} failed", job.name),
            );
        }
        Activity::FailedOver => {
            let new_live = job.target.clone();
            let old = job.source.clone();
            let planned = b
                .memory
                .last_failover
                .as_ref()
                .is_some_and(|f| f.cause == FailoverCause::Switchover);
            let open = super::commit::open(b.spec, &b.next, &job);
            let window = open
                .as_ref()
                .filter(|_| b.memory.rollback.is_none())
                .map(|open| {
                    format!(
                        " once the failover is committed: when its commit window ends at {}, or at once with galaxy-ha failover {site} --commit. Until then galaxy-ha failover {site} --rollback undoes it",
                        open.until,
                        site = b.site
                    )
                })
                .unwrap_or_default();
            let by_person = if b.spec.resume == ResumeMode::Approve {
                format!(
                    " once a person approves (spec.resume: approve): galaxy-ha resume {}",
                    b.site
                )
            } else {
                String::new()
            };
            let message = if planned {
                format!(
                    "planned switchover of job {:?} finished: System Galaxy runs on {new_live}. Replication resumes towards {old}{by_person}",
                    job.name
                )
            } else if b.reachable(&old) {
                format!(
                    "failover of job {:?} finished: System Galaxy runs on {new_live}. {old} answers: replication resumes towards it{window}{by_person}",
                    job.name
                )
            } else {
                format!(
                    "failover of job {:?} finished: System Galaxy runs on {new_live}. Replication resumes when {old} is back{window}{by_person}",
                    job.name
                )
            };
            b.alert(
                AlertKind::FailoverFinished,
                Severity::Warning,
                format!("failover-finished/{}", job.name),
                message,
                "rule 8: the job failed over",
            );
            b.degrade(
                "NotProtected",
                format!("failed over to {new_live}; replication has not resumed"),
            );
            if view.is_live(&old) && view.live_running && b.reachable(&new_live) {
                superseded(b, &job.name, &old, &new_live);
                return;
            }
            if !view.is_live(&new_live) || !view.live_running {
                b.wait(format!(
                    "waiting for System Galaxy to run on {new_live} after the failover"
                ));
                return;
            }
            let held = super::commit::hold(b, open, view.live_running);
            if !b.reachable(&old) {
                b.wait(format!("waiting for {old} to return to resume replication"));
                return;
            }
            if held {
                return;
            }
            if b.spec.resume == ResumeMode::Approve && !b.resume_approved {
                b.resume_awaits_person = true;
                b.wait(format!(
                    "resuming replication towards {old} waits for a person (spec.resume: approve): galaxy-ha resume {}",
                    b.site
                ));
                return;
            }
            b.act(
                Operation::DeleteJob {
                    job: job.name.clone(),
                    target: job.target.clone(),
                    delete_replica: false,
                },
                format!(
                    "rule 8 (resume replication): job {:?} failed over and {old} is back; the virtual environment has no reverse roles",
                    job.name
                ),
            );
            if let Some(state) = b.observed.host(&old) {
                let stale: Vec<(VmName, String)> = state
                    .vms
                    .iter()
                    .filter(|v| v.state == VmState::Off)
                    .map(|v| (v.name.clone(), v.kept_disks_text()))
                    .collect();
                for (vm, disks) in stale {
                    b.act(
                        Operation::RemoveReplica { host: old.clone(), vm: vm.clone() },
                        format!("rule 8 (resume replication): {vm:?} on {old} is the stale copy (the one that is not running); {disks}"),
                    );
                }
            }
            let new = new_job(b, &new_live, &old);
            // `replication-resumed` is raised when the new job protects (conditions).
            b.next.resuming = Some(Resuming {
                job: new.name.clone(),
                why: format!("after the failover of job {:?} to {new_live}", job.name),
                since: Some(b.now),
            });
            b.act(
                Operation::CreateJob(new),
                format!("rule 8 (resume replication): protect {new_live} again, towards {old}"),
            );
        }
        _ => {}
    }
}

/// System Galaxy runs on the old host again (it ran on, cut off from the controller and the
/// standby, or a person started it) while the copy the job failed over to is off: the
/// controller follows where it runs, as it does whenever System Galaxy moves. The failed-over
/// job goes (its VM is kept); protecting the old host then replaces that copy with a new
/// replica, so the alert says what it held.
fn superseded(b: &mut Builder, job: &str, old: &str, new_live: &str) {
    let rolled_back = b
        .memory
        .rollback
        .as_ref()
        .is_some_and(|r| r.to == old && r.from == new_live);
    let rule = if rolled_back {
        "rule 8b (rollback)"
    } else {
        "rule 8 (resume replication)"
    };
    let (key, severity, message) = if rolled_back {
        (
            format!("rolled-back/{job}"),
            Severity::Warning,
            format!(
                "the rollback finished: System Galaxy runs on {old} again. Job {job:?} is deleted (the VM on {new_live} is kept, with its disks, and replaced by a new replica); replication resumes from {old} to {new_live}"
            ),
        )
    } else {
        (
            format!("superseded/{job}"),
            Severity::Error,
            format!(
                "System Galaxy runs on {old} again although job {job:?} failed over to {new_live}, where it is off. The controller follows {old}: replication resumes from {old}, and the copy on {new_live}, with the events it took while it was live, is replaced by a new replica"
            ),
        )
    };
    b.act(
        Operation::DeleteJob {
            job: job.to_string(),
            target: new_live.into(),
            delete_replica: false,
        },
        format!(
            "{rule}: job {job:?} failed over to {new_live}, but System Galaxy runs on {old} again and is off on {new_live}"
        ),
    );
    let kind = if rolled_back {
        AlertKind::Rollback
    } else {
        AlertKind::FailoverFailed
    };
    b.alert(
        kind,
        severity,
        key,
        message,
        format!("{rule}: the failover was superseded"),
    );
}
