//! The job as virtual time passes: its timed transitions, the failover monitor's queries,
//! mirroring and sending the source queue, applying on the target, and when it next changes.

use super::host::runs_all;
use super::job::{Phase, SimJob};
use super::world::World;
use crate::manifest::spec::Threshold;
use crate::observed::{Activity, Health, VmRole};

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
                job.mirror_started_ms.get_or_insert(since_ms);
                let n = job.mirror_remaining_bytes.min(mirror_rate);
                job.mirror_remaining_bytes -= n;
                job.bytes_sent += n;
                if job.mirror_remaining_bytes == 0 {
                    job.phase = Phase::Protecting;
                    // The last bytes went at the mirror's rate, part of the way into the span.
                    let rate = mirror_rate.div_ceil(seconds.max(1)).max(1);
                    job.mirror_ended_ms = Some(since_ms + n.div_ceil(rate) * 1000);
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
        if let Some(t) = job.next_snapshot_ms() {
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
