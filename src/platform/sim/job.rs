//! The replication job's lifecycle: provisioning, synchronizing, protecting, the failover
//! monitor on the target, failing over and test failover, tick by tick.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::events::Queue;
use super::host::runs_all;
use super::world::{World, ceil_second};
use crate::manifest::spec::Threshold;
use crate::observed::{Activity, Health, MonitorSettings, MonitorStatus, VmRole};

/// Where the job is in its life; the console's activity is derived from it and from the
/// failover monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Creating the replica VM on the target, until `until_ms`.
    Provisioning {
        until_ms: u64,
    },
    /// Mirroring the VM's disk.
    Synchronizing,
    Protecting,
    /// Until `until_ms`, then `FailedOver` with the replica live.
    FailingOver {
        until_ms: u64,
    },
    FailedOver,
    Stopped,
    /// The replica was started outside a failover, or the target died while failing over.
    Failed,
}

/// The Full Server to Hyper-V job, held by its target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimJob {
    pub name: String,
    /// The host the protected VM runs on.
    pub source: String,
    /// The protected VM's Hyper-V name on the source host.
    pub source_vm: String,
    /// The host holding the job and the replica.
    pub target: String,
    pub replica: String,
    pub replica_path: String,
    pub monitor: MonitorSettings,
    pub phase: Phase,
    pub created_ms: u64,
    pub mirror_total_bytes: u64,
    pub mirror_remaining_bytes: u64,
    pub bytes_sent: u64,
    pub connected_since_ms: Option<u64>,
    /// Stored by the live database, not yet sent to the target (in the source's guest).
    pub source_queue: Queue,
    /// Received by the target, not yet applied to the replica.
    pub target_queue: Queue,
    /// When the monitor first missed the source, while it still misses it.
    pub missed_since_ms: Option<u64>,
    pub failed_queries: u32,
    /// A test failover's isolated replica runs until then.
    pub test_until_ms: Option<u64>,
}

impl SimJob {
    /// Age of the oldest event not yet applied to the replica: the recovery point latency.
    pub fn recovery_point_latency_ms(&self, now_ms: u64) -> u64 {
        [self.source_queue.oldest_ms(), self.target_queue.oldest_ms()]
            .into_iter()
            .flatten()
            .min()
            .map_or(0, |t| now_ms.saturating_sub(t))
    }

    /// The monitor's query period in whole milliseconds (at least one tick).
    pub(crate) fn interval_ms(&self) -> u64 {
        ceil_second(u64::try_from(self.monitor.interval.as_millis()).unwrap_or(u64::MAX)).max(1000)
    }

    pub fn activity(&self) -> Activity {
        match self.phase {
            Phase::Provisioning { .. } => Activity::Provisioning,
            Phase::Synchronizing | Phase::Protecting if self.missed_since_ms.is_some() => {
                Activity::ServerCommunicationError
            }
            Phase::Synchronizing => Activity::Synchronizing,
            Phase::Protecting => Activity::Protecting,
            Phase::FailingOver { .. } => Activity::FailingOver,
            Phase::FailedOver => Activity::FailedOver,
            Phase::Stopped => Activity::Stopped,
            Phase::Failed => Activity::Failed,
        }
    }

    /// Synchronizing percentage, while synchronizing.
    pub fn percent(&self) -> Option<u8> {
        (self.phase == Phase::Synchronizing).then(|| {
            let total = self.mirror_total_bytes.max(1);
            let done = total.saturating_sub(self.mirror_remaining_bytes);
            u8::try_from(done.saturating_mul(100) / total).unwrap_or(100)
        })
    }

    /// Target data state `OK`: the replica holds a complete, consistent image.
    pub fn target_data_ok(&self) -> bool {
        !matches!(
            self.phase,
            Phase::Provisioning { .. } | Phase::Synchronizing | Phase::Failed
        )
    }

    /// What the failover monitor reports at `now_ms`.
    pub fn monitor_status(&self, now_ms: u64) -> MonitorStatus {
        let missed_for_ms = self.missed_since_ms.map_or(0, |t| now_ms.saturating_sub(t));
        let missed_for = Duration::from_millis(missed_for_ms);
        let (condition_met, remaining) = match self.monitor.threshold {
            Threshold::TotalTime(d) => (
                self.missed_since_ms.is_some() && missed_for >= d,
                d.saturating_sub(missed_for),
            ),
            Threshold::ConsecutiveFailures(n) => (
                self.failed_queries >= n,
                Duration::from_millis(
                    self.interval_ms() * u64::from(n.saturating_sub(self.failed_queries)),
                ),
            ),
        };
        MonitorStatus {
            source_alive: self.missed_since_ms.is_none(),
            missed_for,
            failed_queries: self.failed_queries,
            remaining,
            condition_met,
        }
    }

    fn reset_monitor(&mut self) {
        self.missed_since_ms = None;
        self.failed_queries = 0;
    }
}

impl World {
    /// The target's failover monitor can reach the source: the System Galaxy VM runs with
    /// network on the source host, both hosts are up and the link between them is.
    pub(crate) fn source_alive(&self, job: &SimJob) -> bool {
        let (Some(s), Some(t)) = (self.host(&job.source), self.host(&job.target)) else {
            return false;
        };
        s.up && t.up
            && self.link_is_up(&job.source, &job.target)
            && s.vm(&job.source_vm)
                .is_some_and(|v| v.running && !v.isolated)
    }

    /// Double-Take runs on the target host and in the source's guest.
    pub(crate) fn services_ready(&self, job: &SimJob) -> bool {
        let target_ok = self
            .host(&job.target)
            .is_some_and(|t| t.runs_all(&self.required_services));
        let source_ok = self
            .host(&job.source)
            .and_then(|s| s.vm(&job.source_vm))
            .is_some_and(|v| runs_all(&v.guest_services, &self.required_services));
        target_ok && source_ok
    }

    /// Data flows from source to target now.
    pub(crate) fn replicating(&self, job: &SimJob) -> bool {
        matches!(job.phase, Phase::Synchronizing | Phase::Protecting)
            && self.source_alive(job)
            && self.services_ready(job)
    }

    /// Console health: green while healthy, a warning around failover, red on errors.
    pub(crate) fn health(&self, job: &SimJob) -> Health {
        match job.activity() {
            Activity::ServerCommunicationError | Activity::Failed => Health::Error,
            Activity::Synchronizing | Activity::Protecting if !self.services_ready(job) => {
                Health::Error
            }
            Activity::FailingOver | Activity::FailedOver | Activity::Stopped => Health::Warning,
            _ => Health::Ok,
        }
    }

    /// Timed transitions due now.
    pub(crate) fn lifecycle_tick(&mut self) {
        let now = self.clock_ms;
        let Some(job) = self.job.as_mut() else { return };
        match job.phase {
            Phase::Provisioning { until_ms } if now >= until_ms => job.phase = Phase::Synchronizing,
            Phase::FailingOver { until_ms } if now >= until_ms => {
                job.phase = Phase::FailedOver;
                let (target, replica) = (job.target.clone(), job.replica.clone());
                if let Some(vm) = self.host_mut(&target).and_then(|h| h.vm_mut(&replica)) {
                    vm.role = VmRole::SystemGalaxy;
                    vm.power_on(now, false);
                }
            }
            _ => {}
        }
        let Some(job) = self.job.as_mut() else { return };
        if job.test_until_ms.is_some_and(|t| now >= t) {
            job.test_until_ms = None;
            let (target, replica) = (job.target.clone(), job.replica.clone());
            if let Some(vm) = self.host_mut(&target).and_then(|h| h.vm_mut(&replica)) {
                vm.power_off();
            }
        }
    }

    /// The failover monitor queries the source once per interval, from the target.
    pub(crate) fn monitor_tick(&mut self) {
        let Some(job) = self.job.as_ref() else { return };
        let monitoring = matches!(job.phase, Phase::Synchronizing | Phase::Protecting)
            && self.host(&job.target).is_some_and(|t| t.up);
        if !monitoring || !self.clock_ms.is_multiple_of(job.interval_ms()) {
            return;
        }
        let alive = self.source_alive(job);
        let now = self.clock_ms;
        let Some(job) = self.job.as_mut() else { return };
        if alive {
            job.reset_monitor();
        } else {
            job.missed_since_ms.get_or_insert(now);
            job.failed_queries = job.failed_queries.saturating_add(1);
        }
    }

    /// One second of replication: mirror, send the source queue, apply the target queue.
    pub(crate) fn replicate_tick(&mut self) {
        self.replicate_for(1, self.clock_ms);
    }

    /// `seconds` of mirroring, sending and applying, each at its rate: one tick, or a leap
    /// over a quiet stretch (what arrives is stamped `since_ms`).
    pub(crate) fn replicate_for(&mut self, seconds: u64, since_ms: u64) {
        let Some(job) = self.job.as_ref() else { return };
        let replicating = self.replicating(job);
        let target_up = self.host(&job.target).is_some_and(|t| t.up);
        let p = &self.params;
        let (link, apply, event_bytes, mirror_rate) = (
            p.events_per_sec(p.link_bytes_per_sec)
                .saturating_mul(seconds),
            p.events_per_sec(p.apply_bytes_per_sec)
                .saturating_mul(seconds),
            p.event_bytes,
            p.mirror_bytes_per_sec.max(1).saturating_mul(seconds),
        );
        let Some(job) = self.job.as_mut() else { return };
        if replicating {
            job.connected_since_ms.get_or_insert(since_ms);
            if job.phase == Phase::Synchronizing {
                let n = job.mirror_remaining_bytes.min(mirror_rate);
                job.mirror_remaining_bytes -= n;
                job.bytes_sent += n;
                if job.mirror_remaining_bytes == 0 {
                    job.phase = Phase::Protecting;
                }
            }
            let sent = job.source_queue.transfer(&mut job.target_queue, link);
            job.bytes_sent += sent * event_bytes;
        } else if matches!(job.phase, Phase::Synchronizing | Phase::Protecting) {
            job.connected_since_ms = None;
        }
        let applying = matches!(
            job.phase,
            Phase::Synchronizing | Phase::Protecting | Phase::Stopped
        );
        if applying && target_up {
            self.ledger.stored += job.target_queue.drain(apply);
        }
    }

    /// Milliseconds until the job next changes by itself.
    pub(crate) fn job_next_change_ms(&self) -> Option<u64> {
        let job = self.job.as_ref()?;
        let now = self.clock_ms;
        let next_tick = (now / 1000 + 1) * 1000;
        let mut due: Vec<u64> = Vec::new();
        match job.phase {
            Phase::Provisioning { until_ms } | Phase::FailingOver { until_ms } => {
                due.push(until_ms.max(next_tick))
            }
            Phase::Synchronizing if self.replicating(job) => {
                let ticks = job
                    .mirror_remaining_bytes
                    .div_ceil(self.params.mirror_bytes_per_sec.max(1))
                    .max(1);
                due.push(next_tick + (ticks - 1) * 1000);
            }
            _ => {}
        }
        if let Some(t) = job.test_until_ms {
            due.push(t.max(next_tick));
        }
        let monitoring = matches!(job.phase, Phase::Synchronizing | Phase::Protecting)
            && self.host(&job.target).is_some_and(|t| t.up);
        if monitoring {
            let iv = job.interval_ms();
            let next_query = (now / iv + 1) * iv;
            let alive = self.source_alive(job);
            if alive == job.missed_since_ms.is_some() {
                due.push(next_query);
            }
            if !alive && let Some(since) = job.missed_since_ms {
                match job.monitor.threshold {
                    Threshold::TotalTime(d) => {
                        let met_at = since + u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
                        if met_at > now {
                            due.push(met_at);
                        }
                    }
                    Threshold::ConsecutiveFailures(n) if job.failed_queries < n => {
                        due.push(next_query + u64::from(n - job.failed_queries - 1) * iv);
                    }
                    Threshold::ConsecutiveFailures(_) => {}
                }
            }
        }
        due.into_iter().min().map(|t| t - now)
    }
}
