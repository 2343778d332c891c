//! Rule 1: System Galaxy running on both hosts is split brain; stop it at once on the host
//! that is not the remembered live host.

use super::builder::Builder;
use crate::model::operation::{AlertKind, Operation, Severity};
use crate::observed::Vm;

/// Plans the fence; returns true when the site is split-brained (the pass ends there).
pub(crate) fn plan(b: &mut Builder) -> bool {
    let running = b.observed.live_hosts();
    if running.len() < 2 {
        return false;
    }
    // Keep the remembered live host; else the job's source; else the manifest's primary.
    let keep = b
        .memory
        .live_host
        .clone()
        .or_else(|| b.observed.job.as_ref().map(|j| j.source.clone()))
        .unwrap_or_else(|| b.spec.primary.clone());
    let keep = if running.contains(&&keep) {
        keep
    } else {
        running[0].clone()
    };
    for host in running.iter().filter(|h| ***h != keep) {
        let Some(state) = b.observed.host(host) else {
            continue;
        };
        for vm in state.vms.iter().filter(|v| Vm::is_live(v)) {
            b.act(
                Operation::StopVm {
                    host: (*host).clone(),
                    vm: vm.name.clone(),
                    turn_off: true,
                },
                format!("rule 1 (fence split brain): System Galaxy runs on {host} and on {keep}, the live host"),
            );
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
