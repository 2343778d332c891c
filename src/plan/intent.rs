//! Rule 9: the manifest's intent against reality. The controller never fails back on its
//! own: `spec.primary` asks for a planned switchover only when it differs from both the live
//! host and the acknowledged primary (a person changed it); otherwise a differing `primary`
//! is merely stale.

use std::time::Duration;

use super::builder::Builder;
use super::view::View;
use crate::memory::{FailoverCause, Switchover};
use crate::model::operation::{AlertKind, FailoverKind, Operation, Severity};
use crate::observed::{Activity, Vm};
use crate::plan::ConditionType;

pub(crate) fn plan(b: &mut Builder, view: &View) {
    let (Some(live), Some(standby)) = (view.live.clone(), view.standby.clone()) else {
        return;
    };
    let Some(primary) = b.spec.host(&b.spec.primary).map(|h| h.name.clone()) else {
        return;
    };
    // A switchover in progress (asked through the manifest or `galaxy-ha failover`) runs to
    // its end before the manifest is read again.
    if let Some(s) = b.memory.switchover.clone() {
        if s.to == live {
            b.next.switchover = None;
            b.next.last_switchover_downtime = Some(crate::model::terms::elapsed(s.started, b.now));
        } else if s.from == live {
            b.set(
                ConditionType::ManifestStale,
                false,
                "SwitchoverInProgress",
                format!("moving System Galaxy from {live} to {standby}"),
            );
            switchover(b, view, &live, &standby, Some(s));
            return;
        } else {
            b.next.switchover = None;
        }
    }
    if primary == live {
        b.next.backed_out = None;
        b.next.acknowledged_primary = Some(primary);
        b.set(
            ConditionType::ManifestStale,
            false,
            "PrimaryIsLive",
            format!("spec.primary {live} is the live host"),
        );
        return;
    }
    let acknowledged = b.next.acknowledged_primary.clone();
    if acknowledged.as_ref().is_some_and(|a| *a == primary) {
        if let Some(out) = b.memory.backed_out.clone().filter(|o| o.to == primary) {
            // The back-out's own alert said why and what to do: no second alert.
            b.set(
                ConditionType::ManifestStale,
                true,
                "SwitchoverBackedOut",
                format!(
                    "the switchover to {primary} backed out at {}: System Galaxy's clean shutdown on {live} failed ({}). It stays on {live}: ask again (galaxy-ha failover {}), or set spec.primary: {live}",
                    out.at, out.error, b.site
                ),
            );
            return;
        }
        let since = b
            .memory
            .last_failover
            .as_ref()
            .filter(|f| f.to == live)
            .map(|f| format!(" since {} after failover", f.at))
            .unwrap_or_default();
        let message = format!("live host is {live}{since}; set spec.primary: {live}");
        b.set(
            ConditionType::ManifestStale,
            true,
            "PrimaryNotLive",
            message.clone(),
        );
        b.alert(
            AlertKind::ManifestStale,
            Severity::Warning,
            format!("manifest-stale/{live}"),
            format!("{message} (the controller never fails back on its own)"),
            "rule 9 (manifest intent): spec.primary names the standby host and was not changed by a person",
        );
        return;
    }
    if let Some(window) = b.spec.switchover.as_ref().and_then(|s| s.window.as_ref())
        && let Some(opens) = window.next_opening(b.now)
    {
        let wait = crate::model::terms::elapsed(b.now, opens.timestamp());
        let message = format!(
            "spec.primary asks to move System Galaxy from {live} to {primary} in the switchover window ({window}): it opens {}, in {}",
            opens.strftime("%a %Y-%m-%d %H:%M %Z"),
            minutes(wait)
        );
        b.set(
            ConditionType::ManifestStale,
            false,
            "SwitchoverScheduled",
            message.clone(),
        );
        b.wait(message);
        return;
    }
    b.set(
        ConditionType::ManifestStale,
        false,
        "SwitchoverRequested",
        format!("spec.primary asks to move System Galaxy from {live} to {primary}"),
    );
    if switchover(b, view, &live, &standby, None) {
        b.next.acknowledged_primary = Some(primary);
        b.next.backed_out = None;
    }
}

/// A planned switchover: shut the VM down cleanly, fail over with queued data applied, then
/// resume (rule 8). No data lost. Returns true when a new switchover starts this pass.
fn switchover(
    b: &mut Builder,
    view: &View,
    live: &str,
    standby: &str,
    in_progress: Option<Switchover>,
) -> bool {
    if let Some(why) = b.maintenance() {
        b.wait(format!(
            "switchover to {standby} waits for maintenance to end: {why}"
        ));
        return false;
    }
    let running_vm = b.observed.live_vm(live).map(|v| v.name.clone());
    if in_progress.is_some()
        && let Some((stop, error)) = shutdown_failed(b, live)
    {
        b.forget_failure(&stop);
        back_out(b, view, live, standby, &stop, running_vm.is_some(), &error);
        return false;
    }
    if in_progress.is_some() && running_vm.is_some() && !can_switch(b, view.job_forward(), standby)
    {
        // System Galaxy runs on the old host again (a person started it while the switchover
        // could not go on): shutting it down again would only take it away.
        abandon(b, view, live, standby);
        return false;
    }
    let Some(job) = view.job_forward().cloned() else {
        let failing_over = failover_begun(view);
        if in_progress.is_some() && !failing_over {
            stuck(b, view, live, standby);
        } else if !failing_over {
            b.wait(format!(
                "switchover to {standby} waits for a job from {live} to {standby}"
            ));
        }
        return false;
    };
    let starts = in_progress.is_none();
    if starts {
        let ready = b.reachable(live)
            && b.reachable(standby)
            && view.live_running
            && job.activity == Activity::Protecting;
        if !ready {
            b.wait(format!(
                "switchover to {standby} waits for both hosts reachable and the job protecting (it is {})",
                job.activity
            ));
            return false;
        }
        if !can_switch(b, Some(&job), standby) {
            // A job still shown protecting may have lost its link a moment ago; the clean
            // shutdown then cannot send the queue, and the failover would lose it. A test
            // failover's replica must end first, or the failover is refused.
            b.wait(format!(
                "switchover to {standby} waits for job {:?} to be connected to {live} again and no test failover running on {standby} (no data may be lost)",
                job.name
            ));
            return false;
        }
        b.next.switchover = Some(Switchover {
            from: live.into(),
            to: standby.into(),
            started: b.now,
        });
    }
    let standby_live = b
        .observed
        .host(standby)
        .is_some_and(|h| h.vms.iter().any(Vm::is_live));
    if !b.reachable(live) || standby_live {
        // Only a shutdown we can see ends the old side; never a second live copy.
        b.wait(format!(
            "switchover: waiting to see System Galaxy shut down on {live} and not running on {standby}"
        ));
        return starts;
    }
    if let Some(vm) = running_vm {
        b.act(
            Operation::StopVm {
                host: live.into(),
                vm,
                turn_off: false,
            },
            format!("rule 9 (planned switchover): moving to {standby}; shut System Galaxy down cleanly on {live} first"),
        );
        then_steps(b, &job, live, standby);
    } else if job.failover_possible() {
        b.act_failover(
            Operation::Failover {
                snapshot: None,
                job: job.name.clone(),
                target: standby.into(),
                mode: FailoverKind::Live,
                apply_queued_data: true,
            },
            format!("rule 9 (planned switchover): System Galaxy is shut down on {live}; fail over with queued data applied"),
            live,
            FailoverCause::Switchover,
        );
        b.alert(
            AlertKind::FailoverStarted,
            Severity::Warning,
            format!("failover-started/{live}"),
            format!("planned switchover: System Galaxy was shut down cleanly on {live}; failing over to {standby} with the queued data applied, no data is lost"),
            "rule 9 (planned switchover)",
        );
    } else if job.activity.failover_begun() {
        b.wait(format!(
            "switchover: job {:?} is {}",
            job.name, job.activity
        ));
    } else {
        stuck(b, view, live, standby);
    }
    starts
}

/// A switchover can start (or go on after System Galaxy was started again): the job protects,
/// sends data now, and no test failover's replica runs on the standby host.
fn can_switch(b: &Builder, job: Option<&crate::observed::Job>, standby: &str) -> bool {
    let testing = b.observed.host(standby).is_some_and(|h| {
        h.vms
            .iter()
            .any(|v| v.state != crate::observed::VmState::Off)
    });
    job.is_some_and(|j| j.activity == Activity::Protecting && j.replicating_now()) && !testing
}

/// System Galaxy runs on the old host again and the job cannot take it over: the switchover
/// ends where it is; the person asks again once the job protects.
fn abandon(b: &mut Builder, view: &View, live: &str, standby: &str) {
    b.next.switchover = None;
    let job = view
        .job
        .as_ref()
        .map_or("there is no job".to_string(), |j| {
            format!("job {:?} is {}", j.name, j.activity)
        });
    b.alert(
        AlertKind::FailoverFailed,
        Severity::Warning,
        format!("switchover-abandoned/{live}/{standby}"),
        format!(
            "the switchover from {live} to {standby} is abandoned: System Galaxy runs on {live} again and {job}. It stays on {live}; ask again (galaxy-ha failover {}, or spec.primary) once the job is protecting",
            b.site
        ),
        "rule 9 (planned switchover): System Galaxy runs on the old host again",
    );
}

/// The switchover's clean shutdown of System Galaxy on `live`, and how it failed, if it did.
fn shutdown_failed(b: &Builder, live: &str) -> Option<(Operation, String)> {
    let host = b.observed.host(live)?;
    host.vms.iter().find_map(|vm| {
        let stop = Operation::StopVm {
            host: live.into(),
            vm: vm.name.clone(),
            turn_off: false,
        };
        let error = b.failure(&stop)?.error.clone();
        Some((stop, error))
    })
}

/// The clean shutdown failed (or timed out): the switchover ends and System Galaxy stays on
/// the live host, started again there if the failed shutdown left it off. It is never
/// turned off to go on: a turned-off guest loses the events it had not yet sent, which is
/// what a planned switchover exists to avoid. The person finds out why and asks again.
fn back_out(
    b: &mut Builder,
    view: &View,
    live: &str,
    standby: &str,
    stop: &Operation,
    running: bool,
    error: &str,
) {
    b.next.switchover = None;
    b.next.backed_out = Some(crate::memory::BackedOut {
        to: standby.into(),
        at: b.now,
        error: error.to_string(),
    });
    let now = if running {
        format!("System Galaxy still runs on {live} and was not turned off")
    } else if start_again(b, view, live, stop) {
        format!(
            "The shutdown left System Galaxy off on {live}: it is started again there (if that fails too, start it by hand: Hyper-V Manager, or Start-VM)"
        )
    } else {
        format!(
            "System Galaxy is not running on {live} now and cannot safely be started by the controller (it runs elsewhere, {live} cannot be reached, or the job is failing over): check, then start it there by hand (Hyper-V Manager, or Start-VM)"
        )
    };
    b.wait(format!(
        "the switchover to {standby} is backed out: the clean shutdown on {live} failed ({error})"
    ));
    b.alert(
        AlertKind::FailoverFailed,
        Severity::Error,
        format!("switchover-backed-out/{live}/{standby}"),
        format!(
            "the switchover from {live} to {standby} is backed out: System Galaxy's clean shutdown on {live} failed ({error}). {now}; the job keeps protecting towards {standby}, nothing was lost. Find out why the guest did not shut down, then ask again (galaxy-ha failover {}, or spec.primary)",
            b.site
        ),
        "rule 9 (planned switchover): the clean shutdown failed, and a switchover never turns System Galaxy off to go on",
    );
}

/// The site's job, whichever way it runs, has begun to fail over.
fn failover_begun(view: &View) -> bool {
    view.job
        .as_ref()
        .is_some_and(|j| j.activity.failover_begun())
}

/// Plans System Galaxy's start on `live`, where the failed shutdown `stop` left it off —
/// only while it runs on no host, `live` answers and the job has not begun to fail over, so
/// that the start can never make a second copy. Says whether it planned it.
fn start_again(b: &mut Builder, view: &View, live: &str, stop: &Operation) -> bool {
    let Operation::StopVm { vm, .. } = stop else {
        return false;
    };
    if !b.observed.live_hosts().is_empty() || !b.reachable(live) || failover_begun(view) {
        return false;
    }
    b.act(
        Operation::StartVm {
            host: live.into(),
            vm: vm.clone(),
        },
        format!(
            "rule 9 (planned switchover): the clean shutdown failed and left System Galaxy off on {live}; the switchover backs out and starts it again where it ran"
        ),
    );
    true
}

/// System Galaxy is shut down for a switchover that cannot fail over: it runs nowhere until
/// the job can, or a person starts it again on the old host (which abandons the switchover).
fn stuck(b: &mut Builder, view: &View, live: &str, standby: &str) {
    let job = view
        .job
        .as_ref()
        .map_or("there is no job".to_string(), |j| {
            format!("job {:?} is {}", j.name, j.activity)
        });
    b.wait(format!(
        "switchover to {standby}: {job}, waiting to fail over"
    ));
    b.alert(
        AlertKind::FailoverFailed,
        Severity::Error,
        format!("switchover-stuck/{live}/{standby}"),
        format!(
            "the switchover from {live} to {standby} cannot fail over: {job}, and System Galaxy is shut down on {live}. Repair the job, or start System Galaxy on {live} again to abandon the switchover"
        ),
        "rule 9 (planned switchover): the failover cannot be carried out",
    );
}

/// The rest of a switchover whose first step (the clean shutdown) is planned now, so that
/// the plan shows it whole: the steps the next passes take, when System Galaxy is down and
/// how long the site stays unprotected.
fn then_steps(b: &mut Builder, job: &crate::observed::Job, live: &str, standby: &str) {
    let downtime = match b.memory.last_switchover_downtime {
        Some(d) => format!("about {}, as the site's last switchover took", minutes(d)),
        None => "no switchover of this site measured yet".to_string(),
    };
    b.wait(format!(
        "then: fail over job {:?} to {standby} with the queued data applied, once System Galaxy is seen shut down on {live}; System Galaxy is down from its shutdown until the replica boots on {standby} ({downtime}; no data is lost)",
        job.name
    ));
    // A new job mirrors the whole VM: as much as this job's mirror sent, or has to send.
    let bytes = job
        .mirror
        .bytes_sent
        .max(job.bytes_sent)
        .max(job.mirror_remaining_bytes);
    let size = indicatif::HumanBytes(bytes);
    let unprotected = match job.mirror.bytes_per_second() {
        Some(rate) => format!(
            "about {}: {size} at the {}/s this job's mirror ran at",
            minutes(Duration::from_secs(bytes / rate)),
            indicatif::HumanBytes(rate)
        ),
        None => format!("a full mirror of about {size}; this job's mirror rate is not known"),
    };
    b.wait(format!(
        "then: delete job {:?} (its replica, the new live VM, is kept), remove the old VM's configuration on {live} (its disks are kept) and create a job from {standby} to {live}; the site is unprotected until that job's mirror completes ({unprotected})",
        job.name
    ));
}

/// An estimate in whole minutes (at least one): seconds would claim a precision it lacks.
fn minutes(d: Duration) -> String {
    let m = d.as_secs().div_ceil(60).max(1);
    humantime::format_duration(Duration::from_secs(m * 60)).to_string()
}
