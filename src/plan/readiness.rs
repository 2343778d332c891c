//! Readiness, standing: what a failover needs beyond a protecting job, checked every
//! `spec.readiness.every` (12 hours unless set) — the replica on the standby host, room for
//! System Galaxy's VM there (memory, and disk headroom on the replica's volume), the
//! Carbonite services and licence there, and the failover monitor as the manifest says.
//! `FailoverReady` carries each reason; a check that turns not ready alerts once, and the
//! all-clear follows the check that finds it ready again.

use jiff::SignedDuration;

use super::builder::Builder;
use super::protect::desired_monitor;
use super::view::View;
use crate::manifest::spec::DEFAULT_READINESS_EVERY;
use crate::memory::Readiness;
use crate::model::operation::{ActionKind, AlertKind, Severity};
use crate::observed::{Activity, HostState, MonitorSettings, ServiceStatus, VmRole};
use crate::plan::ConditionType;

/// The free space the replica's volume must keep beyond the VM's disks, as a share of them:
/// the target queue is applied there at failover, and the VM then writes there.
const DISK_HEADROOM_PERCENT: u64 = 10;

pub(crate) fn plan(b: &mut Builder, view: &View) {
    let every = b
        .spec
        .readiness
        .map_or(DEFAULT_READINESS_EVERY, |r| r.every);
    let due = b.next.readiness.as_ref().is_none_or(|r| {
        r.checked
            .checked_add(SignedDuration::try_from(every).unwrap_or(SignedDuration::MAX))
            .is_ok_and(|next| b.now >= next)
    });
    // Judged only beside a protecting job, on a standby the controller can see: a site
    // without one has its own conditions and alerts, and is checked once it protects.
    let protecting = view
        .job_forward()
        .is_some_and(|j| j.activity == Activity::Protecting);
    if !protecting {
        if b.next
            .readiness
            .as_ref()
            .is_some_and(|r| !r.lacking.is_empty())
        {
            b.still_alerting("not-ready".into());
        }
        return;
    }
    if due && let Some(standby) = view.standby.clone().filter(|s| b.reachable(s)) {
        let lacking = lacking(b, view, &standby);
        b.next.readiness = Some(Readiness {
            checked: b.now,
            lacking,
        });
    }
    let Some(r) = b.next.readiness.as_ref().filter(|r| !r.lacking.is_empty()) else {
        return;
    };
    let message = format!(
        "the readiness check at {} found what a failover needs lacking: {}",
        r.checked,
        r.lacking.join("; ")
    );
    b.set(
        ConditionType::FailoverReady,
        false,
        "NotReady",
        message.clone(),
    );
    b.alert(
        AlertKind::NotReady,
        Severity::Warning,
        "not-ready".into(),
        message,
        "readiness (spec.readiness.every)",
    );
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
}

/// What a failover onto `standby` would lack now, each in a sentence.
fn lacking(b: &Builder, view: &View, standby: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Some(host) = b.observed.host(standby) else {
        return out;
    };
    let live_vm = view
        .live
        .as_ref()
        .and_then(|l| b.observed.host(l))
        .and_then(|h| h.vms.iter().find(|v| v.role == VmRole::SystemGalaxy));
    if let Some(job) = view.job_forward() {
        if !host
            .vms
            .iter()
            .any(|v| v.name.eq_ignore_ascii_case(&job.replica))
        {
            out.push(format!("the replica {:?} is not on {standby}", job.replica));
        }
        let want = desired_monitor(b);
        let desired = MonitorSettings {
            interval: want.interval,
            threshold: want.threshold,
            wait_for_user: true,
        };
        // Rule 5 mends a drifted monitor in the same pass; only one it cannot mend counts.
        if job.monitor != desired && !b.plans(ActionKind::UpdateJob) {
            out.push(format!(
                "job {:?}'s failover monitor differs from spec.failover.monitor",
                job.name
            ));
        }
    }
    out.extend(services(b, host));
    if let Some(c) = &host.capacity {
        if let Some(need) = live_vm.and_then(|v| v.memory_bytes)
            && c.memory_free_bytes < need
        {
            out.push(format!(
                "{standby} has {} of memory free; System Galaxy's VM starts with {}",
                gib(c.memory_free_bytes),
                gib(need)
            ));
        }
        if let Some(disks) = live_vm.and_then(|v| v.disk_bytes) {
            let need = disks / 100 * DISK_HEADROOM_PERCENT;
            if c.disk_free_bytes < need {
                out.push(format!(
                    "{standby} has {} free for the replica; it needs at least {} ({DISK_HEADROOM_PERCENT}% of the VM's {} of disks)",
                    gib(c.disk_free_bytes),
                    gib(need),
                    gib(disks)
                ));
            }
        }
        if !c.licence_valid {
            out.push(format!(
                "Carbonite's licence on {standby} is not valid: {}",
                c.licence
            ));
        }
    }
    out
}

fn services(b: &Builder, host: &HostState) -> Vec<String> {
    b.spec
        .services
        .iter()
        .filter(|want| {
            !host.services.iter().any(|s| {
                s.name.eq_ignore_ascii_case(&want.name) && s.status == ServiceStatus::Running
            })
        })
        .map(|want| format!("the service {:?} does not run on {}", want.name, host.name))
        .collect()
}
