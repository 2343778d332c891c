//! Rule 8b: a person's answer to a failover whose commit is open: `galaxy-ha failover SITE
//! --commit`, or its rollback (`--rollback`). A rollback shuts System Galaxy down cleanly on
//! the host the failover made live, then starts it on the old host, whose VM nothing has touched since the failover; rule 8 then
//! follows it there (the failed-over job goes, its VM is kept) and protection recreates the
//! job in the original direction. What the new live VM recorded since the failover is what
//! is lost, and the alert says so before anything is done.
//!
//! Never two copies: the old VM starts only while System Galaxy runs on no host the
//! controller sees and both hosts answer. A clean shutdown that fails stops the rollback with
//! System Galaxy still running where it was; one that leaves the VM off with the old host
//! gone starts it again where it was.

use super::builder::Builder;
use super::commit::{self, Open};
use super::failover::Approval;
use crate::manifest::spec::SiteSpec;
use crate::memory::{Memory, Rollback};
use crate::model::names::VmName;
use crate::model::operation::{AlertKind, Operation, Severity};
use crate::observed::{Activity, Observed, Vm, VmRole, VmState};

/// Checks a person's `galaxy-ha failover SITE --commit`: a failover's commit must be open.
///
/// # Errors
/// Why there is nothing to commit, in words for the admin.
pub fn approve_commit(
    spec: &SiteSpec,
    observed: &Observed,
    memory: &Memory,
) -> Result<Approval, String> {
    let open = open_for_person(spec, observed, memory, "commit")?;
    Ok(Approval::Commit {
        to: open.failover.to.to_string(),
    })
}

/// The open commit a person's `--commit` or `--rollback` is about, or why there is none.
fn open_for_person(
    spec: &SiteSpec,
    observed: &Observed,
    memory: &Memory,
    what: &str,
) -> Result<Open, String> {
    let job = observed.job.as_ref().ok_or(format!(
        "there is no replication job (or its target cannot be reached): no failover to {what}"
    ))?;
    if job.activity != Activity::FailedOver {
        return Err(format!(
            "job {:?} is {}, not failed over: no failover to {what}",
            job.name, job.activity
        ));
    }
    if spec.failover.commit_window.is_zero() {
        return Err(format!(
            "spec.failover.commitWindow is 0s: a failover is committed at once, there is none to {what}"
        ));
    }
    if memory.rollback.is_some() {
        return Err("a rollback is in progress".into());
    }
    commit::open(spec, memory, job).ok_or_else(|| {
        let by = memory
            .committed
            .as_ref()
            .map(|c| format!(" at {}, {}", c.at, c.by.words()))
            .unwrap_or_default();
        format!(
            "the failover of job {:?} was committed{by} (or was a planned switchover): there is none to {what}",
            job.name
        )
    })
}

/// Checks a person's `galaxy-ha failover SITE --rollback`.
///
/// # Errors
/// Why the failover cannot be rolled back now, in words for the admin.
pub fn approve_rollback(
    spec: &SiteSpec,
    observed: &Observed,
    memory: &Memory,
) -> Result<Approval, String> {
    let open = open_for_person(spec, observed, memory, "roll back")?;
    let (from, to) = (&open.failover.to, &open.failover.from);
    for host in [from, to] {
        if !observed.host(host).is_some_and(|h| h.reachable) {
            return Err(format!(
                "{host} cannot be reached: a rollback needs both hosts, to see System Galaxy shut down on {from} and start it on {to}"
            ));
        }
    }
    if observed
        .host(to)
        .is_some_and(|h| h.vms.iter().any(Vm::is_live))
    {
        return Err(format!(
            "System Galaxy runs on {to} already: shut it down there first (it may run on both hosts)"
        ));
    }
    let Some(old_vm) = old_vm(observed, to) else {
        return Err(format!(
            "{to} has no System Galaxy VM left off to start again: nothing to roll back to"
        ));
    };
    if !observed
        .host(from)
        .is_some_and(|h| h.vms.iter().any(Vm::is_live))
    {
        return Err(format!(
            "System Galaxy does not run on {from}: start it there, or start {old_vm:?} on {to} by hand"
        ));
    }
    Ok(Approval::Rollback { open, old_vm })
}

/// System Galaxy's VM on `host`, off and not a test replica: the one the failover left
/// behind there, or the one a clean shutdown just stopped.
fn old_vm(observed: &Observed, host: &str) -> Option<VmName> {
    observed.host(host)?.vms.iter().find_map(|v| {
        (v.role == VmRole::SystemGalaxy && v.state == VmState::Off && !v.isolated)
            .then(|| v.name.clone())
    })
}

/// The approved rollback's first pass: memory holds it, the clean shutdown is asked for, and
/// the alert says what is lost.
pub(crate) fn start(b: &mut Builder, open: &Open, old_vm: &VmName) {
    let (from, to) = (open.failover.to.clone(), open.failover.from.clone());
    b.next.rollback = Some(Rollback {
        from: from.clone(),
        to: to.clone(),
        failover_at: open.failover.at,
        started: b.now,
        live_at: None,
    });
    let lost = format!(
        "What System Galaxy recorded on {from} since the failover at {} ({} ago) is lost: the VM there is kept, with its disks, but replaced as the replica",
        open.failover.at,
        crate::model::terms::whole_seconds(crate::model::terms::elapsed(open.failover.at, b.now))
    );
    b.alert(
        AlertKind::Rollback,
        Severity::Warning,
        format!("rollback/{from}/{to}"),
        format!(
            "rolling back the failover to {from}: System Galaxy shuts down cleanly there, then {old_vm:?} starts again on {to}, and replication is recreated from {to} to {from}. {lost}"
        ),
        "rule 8b (rollback): approved by a person",
    );
    if let Some(stop) = clean_shutdown(b, &from) {
        shut_down(b, stop, &from);
    }
}

/// The clean shutdown of System Galaxy where it runs on `host`, if it does.
fn clean_shutdown(b: &Builder, host: &str) -> Option<Operation> {
    b.observed.live_vm(host).map(|v| Operation::StopVm {
        host: host.into(),
        vm: v.name.clone(),
        turn_off: false,
    })
}

fn shut_down(b: &mut Builder, stop: Operation, from: &str) {
    b.act(
        stop,
        format!("rule 8b (rollback): shut System Galaxy down cleanly on {from} first"),
    );
}

/// The rollback ends without moving System Galaxy back, and the alert says why.
fn stopped(b: &mut Builder, r: &Rollback, why: String, reason: &str) {
    b.next.rollback = None;
    b.alert(
        AlertKind::Rollback,
        Severity::Error,
        format!("rollback-stopped/{}/{}", r.from, r.to),
        format!("the rollback from {} to {} stopped: {why}", r.from, r.to),
        format!("rule 8b (rollback): {reason}"),
    );
}

/// A rollback in progress, each pass until System Galaxy runs on the old host again and the
/// failed-over job is gone.
pub(crate) fn plan(b: &mut Builder) {
    let Some(r) = b.memory.rollback.clone() else {
        return;
    };
    if let Some(why) = b.maintenance() {
        b.wait(format!(
            "the rollback to {} waits for maintenance to end: {why}",
            r.to
        ));
        return;
    }
    let job = b.observed.job.clone();
    let failed_over = job
        .as_ref()
        .is_some_and(|j| j.activity == Activity::FailedOver && j.target == r.from);
    if b.observed.live_vm(&r.to).is_some() {
        if !failed_over {
            // Rule 8 deleted the failed-over job: protection takes it from here.
            b.next.rollback = None;
        }
        return;
    }
    if !failed_over {
        let what = job.map_or("no job".to_string(), |j| {
            format!("job {:?} is {}", j.name, j.activity)
        });
        stopped(
            b,
            &r,
            format!(
                "the failed-over job is no longer there to roll back ({what}). Check the site (galaxy-ha status)"
            ),
            "the job changed under it",
        );
        return;
    }
    if let Some(stop) = clean_shutdown(b, &r.from) {
        if let Some(f) = b.failure(&stop) {
            let error = f.error.clone();
            b.forget_failure(&stop);
            stopped(
                b,
                &r,
                format!(
                    "System Galaxy's clean shutdown on {} failed ({error}). It still runs there and nothing was lost; the failover's commit is still open",
                    r.from
                ),
                "the clean shutdown failed, and a rollback never turns System Galaxy off",
            );
            return;
        }
        b.degrade(
            "RollingBack",
            format!("rolling back: shutting System Galaxy down on {}", r.from),
        );
        shut_down(b, stop, &r.from);
        return;
    }
    b.degrade(
        "RollingBack",
        format!(
            "rolling back: System Galaxy is off on {}, starting on {}",
            r.from, r.to
        ),
    );
    if !b.observed.live_hosts().is_empty() || !b.reachable(&r.from) {
        b.wait(format!(
            "rollback: waiting to see System Galaxy off on {} and running on no host",
            r.from
        ));
        return;
    }
    if !b.reachable(&r.to) {
        // System Galaxy is down and the old host went away: it starts again where it ran.
        back_out(b, &r);
        return;
    }
    let Some(vm) = old_vm(b.observed, &r.to) else {
        back_out(b, &r);
        return;
    };
    b.act(
        Operation::StartVm {
            host: r.to.clone(),
            vm,
        },
        format!(
            "rule 8b (rollback): System Galaxy is off on {}; start it again on {}",
            r.from, r.to
        ),
    );
}

/// The old host cannot take System Galaxy back: it starts again on the host it was shut down
/// on, and the rollback ends.
fn back_out(b: &mut Builder, r: &Rollback) {
    let (from, to) = (&r.from, &r.to);
    if let Some(vm) = old_vm(b.observed, from) {
        b.act(
            Operation::StartVm {
                host: from.clone(),
                vm,
            },
            format!(
                "rule 8b (rollback): {to} cannot take System Galaxy back; start it again on {from}"
            ),
        );
    }
    stopped(
        b,
        r,
        format!(
            "{to} cannot be reached or has no System Galaxy VM to start. System Galaxy starts again on {from}, where it was shut down cleanly; nothing was lost, and the failover's commit is still open"
        ),
        "the old host cannot take System Galaxy back",
    );
}
