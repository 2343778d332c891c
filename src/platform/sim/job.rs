//! The replication job's lifecycle: provisioning, synchronizing, protecting, the failover
//! monitor on the target, failing over and test failover, tick by tick.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::events::Queue;
use crate::manifest::spec::Threshold;
use crate::model::names::{HostName, VmName};
use crate::observed::{Activity, MonitorSettings, MonitorStatus};

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
    pub source: HostName,
    /// The protected VM's Hyper-V name on the source host.
    pub source_vm: VmName,
    /// The host holding the job and the replica.
    pub target: HostName,
    pub replica: VmName,
    pub replica_path: String,
    pub monitor: MonitorSettings,
    pub phase: Phase,
    pub created_ms: u64,
    pub mirror_total_bytes: u64,
    pub mirror_remaining_bytes: u64,
    pub bytes_sent: u64,
    pub connected_since_ms: Option<u64>,
    /// When the mirror began and ended (worlds saved before these were kept have none).
    #[serde(default)]
    pub mirror_started_ms: Option<u64>,
    #[serde(default)]
    pub mirror_ended_ms: Option<u64>,
    /// Stored by the live database, not yet sent to the target (in the source's guest).
    pub source_queue: Queue,
    /// Received by the target, not yet applied to the replica.
    pub target_queue: Queue,
    /// When the monitor first missed the source, while it still misses it.
    pub missed_since_ms: Option<u64>,
    pub failed_queries: u32,
    /// A test failover's isolated replica runs until then.
    pub test_until_ms: Option<u64>,
    /// The snapshot schedule (`SnapshotSchedule`), when the job has one.
    #[serde(default)]
    pub snapshots: Option<crate::model::terms::SnapshotSchedule>,
    /// The snapshots kept on the target, oldest first.
    #[serde(default)]
    pub snapshot_log: Vec<SimSnapshot>,
    /// The target's data is bad (`sim fault target-data-bad`) until a new job mirrors it.
    #[serde(default)]
    pub data_bad: bool,
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
        !self.data_bad
            && !matches!(
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

    pub(crate) fn reset_monitor(&mut self) {
        self.missed_since_ms = None;
        self.failed_queries = 0;
    }
}

/// Rounds a virtual instant up to the next whole second, where ticks happen.
pub(crate) fn ceil_second(ms: u64) -> u64 {
    ms.div_ceil(1000) * 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceil_second_rounds_up_to_the_tick() {
        assert_eq!(ceil_second(1), 1000);
        assert_eq!(ceil_second(2000), 2000);
        assert_eq!(ceil_second(0), 0);
    }
}

/// One snapshot the lab keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimSnapshot {
    pub id: String,
    pub at_ms: u64,
    pub good: bool,
    /// The events stored when it was taken: a failover to it loses those stored since.
    pub stored: u64,
}
