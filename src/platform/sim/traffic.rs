//! The access control panels' traffic: events produced every second and delivered to the
//! live System Galaxy database, or to the job's source queue while it replicates, or kept in
//! the panels while System Galaxy runs nowhere.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::events::EventCounts;
use super::job::Phase;
use super::world::World;
use crate::model::names::{HostName, VmName};

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
                    && job.source == host
                    && job.source_vm == vm =>
            {
                job.source_queue.push(at_ms, deliver);
            }
            _ => self.ledger.stored += deliver,
        }
    }

    /// The VM the panels talk to: running System Galaxy with network on a host that is up;
    /// with two (split brain), the one that started last. Returns (host, vm) names.
    pub(crate) fn live_vm(&self) -> Option<(HostName, VmName)> {
        self.hosts
            .iter()
            .filter(|h| h.up)
            .flat_map(|h| h.vms.iter().filter(|v| v.is_live()).map(move |v| (h, v)))
            .max_by_key(|(_, v)| v.started_at_ms)
            .map(|(h, v)| (h.name.clone(), v.name.clone()))
    }
}
