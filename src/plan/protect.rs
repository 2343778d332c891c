//! Rules 4–6: protect the live VM with a job to the standby host (never onto the host that
//! runs it — the guide's warning about total loss of data), keep the job's failover monitor
//! as the manifest says, and recreate a job that replicates in the wrong direction.

use super::builder::Builder;
use super::view::View;
use crate::manifest::names::job_names;
use crate::model::names::VmName;
use crate::model::operation::{AlertKind, MonitorOptions, NewJob, Operation, Severity};
use crate::observed::{Activity, MonitorSettings, VmState};

/// The failover monitor every job gets. `wait_for_user` is always set: Carbonite alone has no
/// third vote, and the controller is that vote.
pub(crate) fn desired_monitor(b: &Builder) -> MonitorOptions {
    MonitorOptions {
        interval: b.spec.failover.monitor.interval,
        threshold: b.spec.failover.monitor.threshold(),
    }
}

/// The job to create for the current direction.
pub(crate) fn new_job(b: &Builder, source: &str, target: &str) -> NewJob {
    let names = job_names(b.site, b.spec, source, target);
    NewJob {
        snapshots: b.spec.snapshots.map(|s| s.schedule()),
        name: names.job,
        vm: b.spec.vm.name.clone(),
        source: source.into(),
        target: target.into(),
        replica: names.replica,
        replica_path: names.replica_path,
        monitor: desired_monitor(b),
    }
}

pub(crate) fn plan(b: &mut Builder, view: &View) {
    let (Some(live), Some(standby)) = (view.live.clone(), view.standby.clone()) else {
        b.degrade("NoLiveHost", "System Galaxy runs on no host");
        return;
    };
    match &view.job {
        None => {
            if let Some(h) = b
                .observed
                .hosts
                .iter()
                .find(|h| h.reachable && !h.jobs_known)
            {
                // "No job" is only a fact when every host's Double-Take answered.
                let host = h.name.clone();
                b.wait(format!("Double-Take on {host} does not answer: its jobs are not known, so no job or replica is touched"));
                b.degrade(
                    "JobsUnknown",
                    format!("Double-Take on {host} does not answer"),
                );
                return;
            }
            if !view.live_running {
                b.wait(format!(
                    "waiting for System Galaxy to run on {live} before protecting it"
                ));
                return;
            }
            // Every host's Double-Take answered and no job of the site's (name, type, source
            // and target) is there: an Off copy on the standby is stale. Only its Hyper-V
            // configuration is removed; its virtual disks stay.
            remove_stale_vms(b, &standby, None);
            let job = new_job(b, &live, &standby);
            b.act(
                Operation::CreateJob(job),
                format!("rule 4 (protect): no replication job; System Galaxy runs on {live}, {standby} is the standby host"),
            );
        }
        Some(job) if job.activity.failover_begun() => {
            // Rule 8 (resume) owns a job that failed over.
        }
        Some(job) if job.target == live => {
            // Rule 6: replicating onto the host that runs System Galaxy protects nothing.
            let job = job.clone();
            // The replica may be what runs System Galaxy now (started by hand): keep it then.
            let replica_live = b
                .observed
                .host(&job.target)
                .is_some_and(|h| h.vms.iter().any(|v| v.name == job.replica && v.is_live()));
            // The old replica sits on the live host: it is kept, off, never removed there.
            let kept = delete_keeping_disks(
                b,
                &job,
                false,
                format!(
                    "rule 6 (wrong direction): job {:?} replicates onto {live}, the host that runs System Galaxy",
                    job.name
                ),
            );
            let kept = if replica_live {
                format!("its replica {:?} runs System Galaxy and stays", job.replica)
            } else {
                format!("{kept}; remove it in Hyper-V Manager once it is no longer needed")
            };
            b.alert(
                AlertKind::WrongDirection,
                Severity::Error,
                format!("wrong-direction/{}", job.name),
                format!(
                    "job {:?} replicated onto {live}, the live host: it protected nothing. It is deleted and recreated towards {standby}; {kept}",
                    job.name
                ),
                "rule 6 (wrong direction)",
            );
            if view.live_running {
                let new = new_job(b, &live, &standby);
                b.act(
                    Operation::CreateJob(new),
                    format!(
                        "rule 6 (wrong direction): replace it with a job from {live} to {standby}"
                    ),
                );
            }
        }
        Some(job) if matches!(job.activity, Activity::Deleting | Activity::Unknown) => {
            // Carbonite is deleting it, or it is in a state galaxy-ha cannot judge: nothing
            // is done to it or beside it until that ends.
            b.wait(format!(
                "job {:?} is {} ({}); nothing is done to it until that ends",
                job.name,
                job.activity,
                job.state_name.as_deref().unwrap_or("?")
            ));
        }
        Some(job) => {
            let job = job.clone();
            if matches!(job.activity, Activity::Stopped | Activity::Failed) && view.live_running {
                recreate(b, &job, &live, &standby);
                return;
            }
            let want = desired_monitor(b);
            let desired = MonitorSettings {
                interval: want.interval,
                threshold: want.threshold,
                wait_for_user: true,
            };
            let snapshots = b.spec.snapshots.map(|s| s.schedule());
            if job.monitor != desired || job.snapshot_schedule != snapshots {
                let what = if job.monitor != desired {
                    "failover monitor"
                } else {
                    "snapshot schedule"
                };
                b.act(
                    Operation::UpdateJob {
                        snapshots,
                        job: job.name.clone(),
                        target: job.target.clone(),
                        monitor: want,
                    },
                    format!(
                        "rule 5 (job settings drift): {what} of {:?} differs from the manifest",
                        job.name
                    ),
                );
            }
            if view.live_running {
                remove_stale_vms(b, &standby, Some(&job.replica));
            }
            match job.activity {
                Activity::Provisioning => b.wait(format!(
                    "job {:?} is provisioning the replica on {standby}",
                    job.name
                )),
                Activity::Synchronizing => b.wait(format!(
                    "job {:?} is synchronizing: {}%",
                    job.name,
                    job.percent.unwrap_or(0)
                )),
                _ => {}
            }
        }
    }
}

/// A job that stopped (by hand, or Carbonite gave up) or failed (its replica was started
/// outside a failover) protects nothing, and the guide's remedy is to recreate it:
/// "replication is stopped/failed until you recreate the job". Done only while System Galaxy
/// runs on the live host, so the replica is never what a failover would still need, and only
/// once the replica is off (a test failover ends first).
fn recreate(b: &mut Builder, job: &crate::observed::Job, live: &str, standby: &str) {
    let replica_running = b.observed.host(standby).is_some_and(|h| {
        h.vms
            .iter()
            .any(|v| v.name == job.replica && v.state != VmState::Off)
    });
    if replica_running {
        b.wait(format!(
            "job {:?} is {}; it is recreated once its replica on {standby} is off",
            job.name, job.activity
        ));
        return;
    }
    delete_keeping_disks(
        b,
        job,
        true,
        format!(
            "rule 4 (protect): job {:?} is {} and protects nothing; the guide recreates it",
            job.name, job.activity
        ),
    );
    let new = new_job(b, live, standby);
    // `replication-resumed` is raised when the new job protects (conditions).
    b.next.resuming = Some(crate::memory::Resuming {
        job: new.name.clone(),
        why: format!(
            "job {:?} was {}: replication had stopped, and the job was recreated from {live} to {standby}",
            job.name, job.activity
        ),
        since: Some(b.now),
    });
    b.act(
        Operation::CreateJob(new),
        format!("rule 4 (protect): protect {live} again, towards {standby}"),
    );
}

/// Deletes a job, keeping its replica (Carbonite's "delete replica" would delete its disk
/// files, which may hold the only copy of events lost at a failure), then, with
/// `remove_replica`, removes the replica VM's Hyper-V configuration, which keeps its disks.
/// No disk file is ever deleted: their paths, as the target reports them, are in the reason
/// (and so in the journal), and returned for the alert.
fn delete_keeping_disks(
    b: &mut Builder,
    job: &crate::observed::Job,
    remove_replica: bool,
    why: String,
) -> String {
    b.act(
        Operation::DeleteJob {
            job: job.name.clone(),
            target: job.target.clone(),
            delete_replica: false,
        },
        why.clone(),
    );
    let replica = b
        .observed
        .host(&job.target)
        .and_then(|h| h.vms.iter().find(|v| v.name == job.replica));
    let Some(replica) = replica else {
        return "the replica VM is not there".to_string();
    };
    let kept = format!(
        "replica {:?} on {}: {}",
        job.replica,
        job.target,
        replica.kept_disks_text()
    );
    if remove_replica {
        b.act(
            Operation::RemoveReplica {
                host: job.target.clone(),
                vm: job.replica.clone(),
            },
            format!("{why}; the old replica's configuration goes, {kept}"),
        );
    }
    kept
}

/// VMs left on the standby host that no job keeps: the stale copy after a failover
/// ("delete Replica Host, the one that is not running"). Only VMs that are off, only on the
/// standby host, and only while System Galaxy runs on the live host.
fn remove_stale_vms(b: &mut Builder, standby: &str, keep: Option<&str>) {
    let Some(state) = b.observed.host(standby) else {
        return;
    };
    if !state.reachable {
        return;
    }
    let stale: Vec<(VmName, String)> = state
        .vms
        .iter()
        .filter(|v| v.state == VmState::Off && keep.is_none_or(|k| v.name != k))
        .map(|v| (v.name.clone(), v.kept_disks_text()))
        .collect();
    for (vm, disks) in stale {
        b.act(
            Operation::RemoveReplica {
                host: standby.into(),
                vm: vm.clone(),
            },
            format!("rule 8 (resume replication): {vm:?} on {standby} is off and no job keeps it: a stale copy; {disks}"),
        );
    }
}
