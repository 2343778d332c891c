//! Access control panel events: production, the panel buffer, the replication queues, and
//! the counters that prove nothing is lost unless the model says so.

use std::collections::VecDeque;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::job::Phase;
use super::world::World;

/// Events counted by where they are now. At every instant
/// `produced == stored + buffered + lost + in_flight`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EventCounts {
    /// Produced by the panels since the world began.
    pub produced: u64,
    /// In the live database and, while a job replicates it, applied to the replica too.
    pub stored: u64,
    /// Waiting in the panels' memory for a live System Galaxy.
    pub buffered: u64,
    /// Gone: in a source queue at a hard failure, or discarded at a failover.
    pub lost: u64,
    /// Stored by the live database but still in the source or target replication queue.
    pub in_flight: u64,
}

/// The panels' side of the ledger (in-flight events live in the job's queues).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Ledger {
    pub produced: u64,
    pub stored: u64,
    pub buffered: u64,
    pub lost: u64,
    /// Production not yet whole, in hundredths of an event, so rates and jitter stay exact.
    pub centi: u64,
}

/// Events stored at the same second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub at_ms: u64,
    pub events: u64,
}

/// A FIFO of events kept as per-second batches, so a day of traffic costs one entry per
/// second of backlog, not one per event, and the oldest event's age stays exact.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Queue {
    batches: VecDeque<Batch>,
    len: u64,
}

impl Queue {
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// When the oldest queued event was stored.
    pub fn oldest_ms(&self) -> Option<u64> {
        self.batches.front().map(|b| b.at_ms)
    }

    pub fn push(&mut self, at_ms: u64, events: u64) {
        if events == 0 {
            return;
        }
        match self.batches.back_mut() {
            Some(b) if b.at_ms == at_ms => b.events += events,
            _ => self.batches.push_back(Batch { at_ms, events }),
        }
        self.len += events;
    }

    /// Removes up to `n` of the oldest events; returns how many.
    pub fn drain(&mut self, n: u64) -> u64 {
        self.move_front(n, None)
    }

    /// Moves up to `n` of the oldest events to the back of `to`; returns how many.
    pub fn transfer(&mut self, to: &mut Queue, n: u64) -> u64 {
        self.move_front(n, Some(to))
    }

    fn move_front(&mut self, n: u64, mut to: Option<&mut Queue>) -> u64 {
        let mut left = n;
        while left > 0 {
            let Some(front) = self.batches.front_mut() else {
                break;
            };
            let k = front.events.min(left);
            if let Some(to) = to.as_deref_mut() {
                to.push(front.at_ms, k);
            }
            front.events -= k;
            left -= k;
            if front.events == 0 {
                self.batches.pop_front();
            }
        }
        let moved = n - left;
        self.len -= moved;
        moved
    }

    /// Puts `older` (events stored before any here) back in front.
    pub fn prepend(&mut self, mut older: Queue) {
        older.len += self.len;
        older.batches.append(&mut self.batches);
        *self = older;
    }

    /// Empties the queue; returns how many events it held.
    pub fn clear(&mut self) -> u64 {
        let n = self.len;
        *self = Queue::default();
        n
    }
}

impl World {
    /// The counters, with the events in flight read from the queues themselves.
    pub fn events(&self) -> EventCounts {
        let in_flight = self
            .job
            .as_ref()
            .map_or(0, |j| j.source_queue.len() + j.target_queue.len());
        EventCounts {
            produced: self.ledger.produced,
            stored: self.ledger.stored,
            buffered: self.ledger.buffered,
            lost: self.ledger.lost,
            in_flight,
        }
    }

    /// The RNG for the current tick: derived from the seed and the clock, so that a world
    /// saved and loaded mid-run continues exactly as one that was never saved.
    fn tick_rng(&self) -> SmallRng {
        let second = self.clock_ms / 1000;
        SmallRng::seed_from_u64(self.seed ^ second.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// One second of panel traffic: produced with jitter, then delivered to the live
    /// database (with the panel buffer first) or kept in the panels.
    pub(crate) fn produce_tick(&mut self) {
        let rate = u64::from(self.params.event_rate_per_sec);
        let jitter = i64::from(self.params.event_jitter_percent.min(100));
        let pct = if jitter > 0 {
            100 + self.tick_rng().random_range(-jitter..=jitter)
        } else {
            100
        };
        // `pct` is within 0..=200 by construction.
        self.produce(rate * pct.unsigned_abs(), self.clock_ms);
    }

    /// Adds `centi` hundredths of events to the panels' production and delivers the whole
    /// events to the live database (with the panel buffer first), stamped `at_ms`, or keeps
    /// them in the panels while System Galaxy runs nowhere. One tick, or a leap.
    pub(crate) fn produce(&mut self, centi: u64, at_ms: u64) {
        self.ledger.centi += centi;
        let n = self.ledger.centi / 100;
        self.ledger.centi %= 100;
        self.ledger.produced += n;
        let Some((host, vm)) = self.live_vm() else {
            self.ledger.buffered += n;
            return;
        };
        let deliver = n + std::mem::take(&mut self.ledger.buffered);
        match self.job.as_mut() {
            Some(job)
                if matches!(job.phase, Phase::Synchronizing | Phase::Protecting)
                    && job.source.eq_ignore_ascii_case(&host)
                    && job.source_vm.eq_ignore_ascii_case(&vm) =>
            {
                job.source_queue.push(at_ms, deliver);
            }
            _ => self.ledger.stored += deliver,
        }
    }

    /// The VM the panels talk to: running System Galaxy with network on a host that is up;
    /// with two (split brain), the one that started last. Returns (host, vm) names.
    pub(crate) fn live_vm(&self) -> Option<(String, String)> {
        self.hosts
            .iter()
            .filter(|h| h.up)
            .flat_map(|h| h.vms.iter().filter(|v| v.is_live()).map(move |v| (h, v)))
            .max_by_key(|(_, v)| v.started_at_ms)
            .map(|(h, v)| (h.name.clone(), v.name.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_keeps_fifo_order_and_counts_across_transfer_and_prepend() {
        let mut a = Queue::default();
        a.push(1000, 3);
        a.push(1000, 2);
        a.push(2000, 4);
        assert_eq!(a.len(), 9);
        let mut b = Queue::default();
        assert_eq!(a.transfer(&mut b, 6), 6);
        assert_eq!((a.len(), a.oldest_ms()), (3, Some(2000)));
        assert_eq!((b.len(), b.oldest_ms()), (6, Some(1000)));
        a.prepend(b);
        assert_eq!((a.len(), a.oldest_ms()), (9, Some(1000)));
        assert_eq!(a.drain(100), 9);
        assert!(a.is_empty());
        assert_eq!(a.oldest_ms(), None);
    }
}
