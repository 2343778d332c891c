//! Establishes which host is live this pass, from what runs where and what memory says,
//! and adopts a site seen for the first time as it is.

use super::builder::Builder;
use crate::model::names::HostName;
use crate::model::operation::{AlertKind, Severity};
use crate::observed::{Job, Vm};

/// The pass's view of the pair.
pub(crate) struct View {
    /// The live host: where System Galaxy runs, or the remembered one while it runs nowhere.
    pub live: Option<HostName>,
    pub standby: Option<HostName>,
    /// System Galaxy is observed running on `live`.
    pub live_running: bool,
    pub job: Option<Job>,
}

impl View {
    pub fn is_live(&self, host: &str) -> bool {
        self.live.as_ref().is_some_and(|l| l == host)
    }

    /// The job replicates from the live host to the standby host.
    pub fn job_forward(&self) -> Option<&Job> {
        let job = self.job.as_ref()?;
        let standby = self.standby.as_ref()?;
        (self.is_live(&job.source) && job.target == *standby).then_some(job)
    }
}

pub(crate) fn establish(b: &mut Builder) -> View {
    let running = b.observed.live_hosts();
    let job = b.observed.job.clone();
    let remembered = b.memory.live_host.clone();
    let live = match (running.first().copied().cloned(), remembered) {
        (Some(host), None) => {
            // A site seen for the first time is adopted as it is.
            b.next.live_host = Some(host.clone());
            b.next.acknowledged_primary = Some(b.spec.primary.clone());
            b.next.live_since = Some(b.now);
            Some(host)
        }
        (Some(host), Some(r)) if host == r => Some(host),
        (Some(host), Some(r)) => {
            let failed_over_here = job
                .as_ref()
                .is_some_and(|j| j.activity.failover_begun() && j.target == host);
            if failed_over_here || b.reachable(&r) {
                // The failover completed, or System Galaxy moved while the old host is seen
                // without it: follow reality.
                let rolled_back = b
                    .memory
                    .rollback
                    .as_ref()
                    .is_some_and(|rb| rb.from == r && rb.to == host);
                if !failed_over_here && !rolled_back {
                    b.alert(
                        AlertKind::FailureDetected,
                        Severity::Warning,
                        format!("moved/{r}/{host}"),
                        format!("System Galaxy now runs on {host}, not on {r} where it ran before; the controller follows it"),
                        "System Galaxy runs on another host than remembered",
                    );
                }
                b.next.live_host = Some(host.clone());
                b.next.live_since = Some(b.now);
                // Establishing the live host acknowledges the manifest's primary as it is now:
                // a `primary` a person set while the move was under way asks for nothing more.
                b.next.acknowledged_primary = Some(b.spec.primary.clone());
                Some(host)
            } else {
                // The remembered live host cannot be seen: it may still run System Galaxy.
                b.alert(
                    AlertKind::FailureDetected,
                    Severity::Error,
                    format!("unseen-live/{r}/{host}"),
                    format!(
                        "System Galaxy runs on {host} while {r}, the live host, cannot be reached and no failover was recorded; it may run on both. Check {r} by hand"
                    ),
                    "System Galaxy runs on the standby host while the live host is unreachable",
                );
                b.degrade(
                    "PossibleSplitBrain",
                    format!("System Galaxy runs on {host} while {r} cannot be seen"),
                );
                Some(r)
            }
        }
        (None, Some(r)) => Some(r),
        (None, None) => {
            // Nothing runs and nothing is remembered: the job's source, else the manifest.
            job.as_ref()
                .map(|j| j.source.clone())
                .or_else(|| Some(b.spec.primary.clone()))
        }
    };
    // Canonical host names from the manifest.
    let live = live.and_then(|l| b.spec.host(&l).map(|h| h.name.clone()));
    let standby = live
        .as_ref()
        .and_then(|l| b.spec.other_host(l))
        .map(|h| h.name.clone());
    let live_running = live.as_ref().is_some_and(|l| {
        b.observed
            .host(l)
            .is_some_and(|h| h.reachable && h.vms.iter().any(Vm::is_live))
    });
    b.live_host = live.clone();
    b.standby_host = standby.clone();
    View {
        live,
        standby,
        live_running,
        job,
    }
}
