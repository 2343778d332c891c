//! After a crash: a disruptive action whose intent was written but whose outcome was not.
//! The world decides — if it shows the action started, it is not issued again; if it shows
//! it did not, the rules plan it afresh (once).

use super::builder::Builder;
use crate::model::operation::{FailoverKind, Operation};
use crate::observed::VmState;

pub(crate) fn plan(b: &mut Builder) {
    let Some(flight) = b.memory.in_flight.clone() else {
        return;
    };
    let observed = b.observed;
    let job_named = |name: &str| observed.job.as_ref().filter(|j| j.name == name);
    let started = match &flight.op {
        Operation::Failover {
            job,
            target,
            mode: FailoverKind::Live,
            ..
        } => {
            job_named(job).is_some_and(|j| j.activity.failover_begun())
                || observed
                    .host(target)
                    .is_some_and(|h| h.vms.iter().any(|v| v.is_live()))
        }
        Operation::Failover { .. } => true,
        Operation::StopVm { host, vm, .. } => observed.host(host).is_some_and(|h| {
            h.reachable
                && h.vms
                    .iter()
                    .all(|v| &v.name != vm || v.state != VmState::Running)
        }),
        Operation::StartVm { host, vm } => observed.host(host).is_some_and(|h| {
            h.vms
                .iter()
                .any(|v| &v.name == vm && v.state == VmState::Running)
        }),
        Operation::DeleteJob { job, .. } => job_named(job).is_none(),
        Operation::RemoveReplica { host, vm } => observed
            .host(host)
            .is_some_and(|h| h.reachable && h.vms.iter().all(|v| &v.name != vm)),
        _ => true,
    };
    b.next.in_flight = None;
    let note = if started {
        if let Some(record) = flight.failover {
            b.next.failover_latched = true;
            b.next.last_failover = Some(record);
        }
        "had started before a restart; not issued again"
    } else {
        "had not started before a restart; planned afresh"
    };
    b.wait(format!("recovered: {} {note}", flight.action_id));
    b.recovered(flight.action_id, flight.op, note.to_string());
}
