//! Rule 1: System Galaxy running on both hosts is split brain; stop it at once on the host
//! that is not the remembered live host.

use super::builder::Builder;
use crate::model::decision::{Decision, Vote};
use crate::model::names::HostName;
use crate::model::operation::{AlertKind, Operation, Severity};
use crate::observed::Vm;

/// Plans the fence; returns true when the site is split-brained (the pass ends there).
pub(crate) fn plan(b: &mut Builder) -> bool {
    let running = b.observed.live_hosts();
    if running.len() < 2 {
        return false;
    }
    // Keep the host a forced failover made live; else the remembered live host; else the
    // job's source; else the manifest's primary.
    let keep = forced_live(b)
        .or_else(|| b.memory.live_host.clone())
        .or_else(|| b.observed.job.as_ref().map(|j| j.source.clone()))
        .unwrap_or_else(|| b.spec.primary.clone());
    let keep = if running.contains(&&keep) {
        keep
    } else {
        running[0].clone()
    };
    let decision = evidence(b, &running, &keep);
    for host in running.iter().filter(|h| ***h != keep) {
        let Some(state) = b.observed.host(host) else {
            continue;
        };
        for vm in state.vms.iter().filter(|v| Vm::is_live(v)) {
            if let Some(action) = b.act(
                Operation::StopVm {
                    host: (*host).clone(),
                    vm: vm.name.clone(),
                    turn_off: true,
                },
                format!("rule 1 (fence split brain): System Galaxy runs on {host} and on {keep}, the live host"),
            ) {
                action.decision = Some(Box::new(decision.clone()));
            }
        }
        b.alert(
            AlertKind::SplitBrainFenced,
            Severity::Error,
            format!("split-brain/{host}"),
            format!("System Galaxy was running on both hosts; it was turned off on {host} and keeps running on {keep}"),
            "rule 1 (fence split brain)",
        );
    }
    b.live_host = Some(keep.clone());
    b.standby_host = b.spec.other_host(&keep).map(|h| h.name.clone());
    b.degrade(
        "SplitBrain",
        format!("System Galaxy ran on both hosts; fencing the one that is not {keep}"),
    );
    true
}

/// The host a forced failover made live (the other host of the pair than the one it left),
/// while its old host may still run System Galaxy.
fn forced_live(b: &Builder) -> Option<HostName> {
    let pending = b.memory.split_brain_pending.as_ref()?;
    b.spec.other_host(&pending.host).map(|h| h.name.clone())
}

/// What the pass saw when it fenced: System Galaxy running on each host, and which host
/// keeps it and why.
fn evidence(b: &Builder, running: &[&HostName], keep: &HostName) -> Decision {
    let mut views: Vec<Vote> = running
        .iter()
        .map(|host| Vote {
            view: "the controller".into(),
            saw: format!("System Galaxy runs on {host}"),
            votes_to_act: true,
            since: None,
        })
        .collect();
    let why_keep = if let Some(p) = b
        .memory
        .split_brain_pending
        .as_ref()
        .filter(|_| forced_live(b).as_ref() == Some(keep))
    {
        format!(
            "a person forced the failover from {} to {keep} (galaxy-ha failover --force)",
            p.host
        )
    } else if b.memory.live_host.as_ref() == Some(keep) {
        format!("{keep} is the live host")
    } else if b.observed.job.as_ref().is_some_and(|j| j.source == *keep) {
        format!("{keep} is the job's source (no live host remembered)")
    } else {
        format!("{keep} keeps System Galaxy (neither memory nor the job names another)")
    };
    views.push(Vote {
        view: "memory".into(),
        saw: why_keep,
        votes_to_act: false,
        since: (b.memory.live_host.as_ref() == Some(keep))
            .then_some(b.memory.live_since)
            .flatten(),
    });
    Decision {
        rule: "rule 1 (fence split brain): System Galaxy must never run on both hosts".into(),
        views,
        threshold: None,
        condition_met_at: None,
        target_data_good: None,
        recovery_point_latency: None,
        max_data_loss: None,
    }
}

/// After a forced failover the old live host may still run System Galaxy: until the
/// controller sees that host without it (shut down by a person, or fenced by rule 1 the
/// moment both are seen running), the site is degraded and on-call is told once.
pub(crate) fn pending(b: &mut Builder) {
    let Some(p) = b.memory.split_brain_pending.clone() else {
        return;
    };
    let seen_off = b
        .observed
        .host(&p.host)
        .is_some_and(|h| h.reachable && !h.vms.iter().any(Vm::is_live));
    if seen_off {
        b.next.split_brain_pending = None;
        return;
    }
    let host = &p.host;
    b.alert(
        AlertKind::SplitBrainPending,
        Severity::Error,
        format!("split-brain-pending/{host}"),
        format!(
            "a failover was forced from {host} at {} while the failover monitor still reached System Galaxy there: it may run on {host} and on {} at once. Shut it down on {host} (Hyper-V Manager or Stop-VM); the controller turns it off there the moment it sees both running",
            p.since,
            forced_live(b).unwrap_or_default()
        ),
        "forced failover: the old live host not yet seen without System Galaxy",
    );
    b.degrade(
        "SplitBrainPending",
        format!(
            "a forced failover left System Galaxy possibly running on {host} since {}",
            p.since
        ),
    );
}
