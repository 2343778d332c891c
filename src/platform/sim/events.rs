//! Access control panel events: production, the panel buffer, the replication queues, and
//! the counters that prove nothing is lost unless the model says so.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

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
