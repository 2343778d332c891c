//! Carbonite's snapshots of the replica's data in the lab: taken on the job's schedule while
//! it protects (the target's data state recorded with each), the oldest dropped beyond the
//! number kept, and a live failover to one of them, which loses what the replica took after it.

use super::job::{Phase, SimJob, SimSnapshot};
use super::world::World;
use crate::model::terms::SnapshotSchedule;
use crate::observed::Snapshot;

impl SimJob {
    /// When the next scheduled snapshot is due, while the job protects on a schedule.
    pub(crate) fn next_snapshot_ms(&self) -> Option<u64> {
        let schedule = self.snapshots?;
        if self.phase != Phase::Protecting {
            return None;
        }
        let every = u64::try_from(schedule.every.as_millis())
            .unwrap_or(u64::MAX)
            .max(1000);
        let last = self
            .snapshot_log
            .last()
            .map_or(self.created_ms, |s| s.at_ms);
        Some(last.saturating_add(every))
    }

    /// The snapshots as the controller observes them.
    pub(crate) fn snapshot_list(&self, world: &World) -> Vec<Snapshot> {
        self.snapshot_log
            .iter()
            .map(|s| Snapshot {
                id: s.id.clone(),
                at: world.timestamp_at(s.at_ms),
                good: s.good,
                reason: "Scheduled".into(),
            })
            .collect()
    }
}

impl World {
    /// Takes the scheduled snapshot when it is due (one tick).
    pub(crate) fn snapshot_tick(&mut self) {
        let now = self.clock_ms;
        let stored = self.ledger.stored;
        let serial = self.snapshots_taken + 1;
        let Some(job) = self.job.as_mut() else { return };
        if job.next_snapshot_ms().is_none_or(|t| now < t) {
            return;
        }
        let keep = job.snapshots.map_or(0, |s: SnapshotSchedule| s.keep) as usize;
        job.snapshot_log.push(SimSnapshot {
            id: format!("00000000-0000-4000-8000-{serial:012x}"),
            at_ms: now,
            good: job.target_data_ok(),
            stored,
        });
        let extra = job.snapshot_log.len().saturating_sub(keep.max(1));
        job.snapshot_log.drain(..extra);
        self.snapshots_taken = serial;
    }

    /// A live failover to snapshot `id`: what the replica took after it is lost (moved from
    /// stored to lost, so that the ledger still adds up), and so is every queue.
    pub(crate) fn revert_to_snapshot(&mut self, id: &str) -> Result<(), String> {
        let Some(job) = self.job.as_mut() else {
            return Err("no job".into());
        };
        let Some(snap) = job.snapshot_log.iter().find(|s| s.id == id).cloned() else {
            return Err(format!("job {:?} has no snapshot {id}", job.name));
        };
        let queued = job.source_queue.clear() + job.target_queue.clear();
        let since = self.ledger.stored.saturating_sub(snap.stored);
        self.ledger.stored -= since;
        self.ledger.lost += since + queued;
        Ok(())
    }
}
