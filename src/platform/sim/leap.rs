//! How virtual time passes: second by second, or long stretches in one step. Between two changes of the job (a phase
//! ending, the failover monitor's verdict changing, a test failover ending) every second of
//! the lab does the same thing, so a stretch of them is computed at once: the monitor's
//! queries counted, the panels' events produced at their mean rate and carried as far as
//! replication and the target's apply rate allow. A year of quiet costs what its changes
//! cost, not 31 million ticks.
//!
//! Only stretches of at least [`LEAP_MIN`] are leapt, so the second-by-second world the
//! controller, the tests and the chaos schedules step through is unchanged; what a leap
//! gives up is the per-second jitter of production within it.

use std::time::Duration;

use super::job::Phase;
use super::world::World;

/// The shortest stretch taken in one step.
pub const LEAP_MIN: Duration = Duration::from_secs(86_400);

impl World {
    /// Advances the virtual clock by `d`, running every whole-second tick on the way, or
    /// leaping over a long stretch in which nothing changes.
    pub fn advance(&mut self, d: Duration) {
        let target = self
            .clock_ms
            .saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        loop {
            let next_tick = (self.clock_ms / 1000 + 1) * 1000;
            if next_tick > target {
                break;
            }
            let quiet = self.quiet_seconds(target);
            if quiet >= LEAP_MIN.as_secs() {
                self.leap(quiet);
                continue;
            }
            self.clock_ms = next_tick;
            self.tick();
        }
        self.clock_ms = target;
    }

    /// One second of the world, in a fixed order: timed transitions, the failover monitor,
    /// the panels, then replication.
    pub(crate) fn tick(&mut self) {
        self.lifecycle_tick();
        self.snapshot_tick();
        self.monitor_tick();
        self.produce_tick();
        self.replicate_tick();
    }

    /// Time until the next lifecycle transition (provisioning done, synchronized, failover
    /// done, test failover over, the failover monitor's next change); `None` when nothing
    /// will change by itself. Advancing by it makes the transition happen.
    pub fn next_event_in(&self) -> Option<Duration> {
        self.job_next_change_ms().map(Duration::from_millis)
    }

    /// Whole seconds from now (on a whole second) until `target_ms`, stopping one second
    /// before the job's next change so that the change itself is ticked.
    pub(crate) fn quiet_seconds(&self, target_ms: u64) -> u64 {
        if !self.clock_ms.is_multiple_of(1000) {
            return 0;
        }
        let mut end = target_ms / 1000 * 1000;
        if let Some(next) = self.job_next_change_ms() {
            end = end.min((self.clock_ms + next).saturating_sub(1000));
        }
        end.saturating_sub(self.clock_ms) / 1000
    }

    /// `seconds` ticks at once; the caller made sure no job change falls within them
    /// ([`World::quiet_seconds`]).
    pub(crate) fn leap(&mut self, seconds: u64) {
        let start = self.clock_ms;
        let end = start + seconds * 1000;
        self.leap_monitor(start, end);
        self.leap_production(seconds, start + 1000);
        self.replicate_for(seconds, start + 1000);
        self.clock_ms = end;
    }

    /// The failover monitor's queries in `(start, end]`, all with the same answer.
    fn leap_monitor(&mut self, start: u64, end: u64) {
        let Some(job) = self.job.as_ref() else { return };
        let monitoring = matches!(job.phase, Phase::Synchronizing | Phase::Protecting)
            && self.host(&job.target).is_some_and(|t| t.up);
        let iv = job.interval_ms();
        let first = (start / iv + 1) * iv;
        if !monitoring || first > end {
            return;
        }
        let queries = u32::try_from((end - first) / iv + 1).unwrap_or(u32::MAX);
        let alive = self.source_alive(job);
        let Some(job) = self.job.as_mut() else { return };
        if alive {
            job.missed_since_ms = None;
            job.failed_queries = 0;
        } else {
            job.missed_since_ms.get_or_insert(first);
            job.failed_queries = job.failed_queries.saturating_add(queries);
        }
    }

    /// The panels' events of `seconds`, at the mean rate, delivered as one tick would.
    fn leap_production(&mut self, seconds: u64, first_ms: u64) {
        let rate = u64::from(self.params.event_rate_per_sec);
        self.produce(rate.saturating_mul(100).saturating_mul(seconds), first_ms);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use crate::manifest::spec::Manifest;
    use crate::platform::sim::World;

    fn world() -> World {
        let yaml = "apiVersion: galaxy-ha/v1\nkind: RedundantServer\nmetadata: {name: t}\nspec:\n  \
            hosts: [{name: A, address: 10.0.0.1}, {name: B, address: 10.0.0.2}]\n  primary: A\n  \
            vm: {name: V, address: 10.0.0.3}\n";
        let spec = serde_saphyr::from_str::<Manifest>(yaml).map(|m| m.spec);
        World::new("t", &spec.expect("manifest"), 3)
    }

    #[test]
    fn ten_years_of_quiet_cost_no_more_than_a_moment() {
        let mut w = world();
        let started = Instant::now();
        w.advance(crate::duration::MAX);
        assert!(started.elapsed().as_secs() < 2, "{:?}", started.elapsed());
        assert_eq!(
            u128::from(w.clock_ms),
            crate::duration::MAX.as_millis(),
            "the clock moved the whole way"
        );
        let l = &w.ledger;
        assert_eq!(l.produced, l.stored + l.buffered + l.lost, "{l:?}");
        let rate = u64::from(w.params.event_rate_per_sec);
        assert_eq!(l.produced, rate * crate::duration::MAX.as_secs());
    }

    #[test]
    fn a_leap_and_the_ticks_it_replaces_agree_without_jitter() {
        let mut ticked = world();
        ticked.params_mut().event_jitter_percent = 0;
        let mut leapt = ticked.clone();
        let day = 86_400;
        for _ in 0..day {
            ticked.clock_ms += 1000;
            ticked.tick();
        }
        leapt.leap(day);
        assert_eq!(leapt.clock_ms, ticked.clock_ms);
        assert_eq!(leapt.ledger, ticked.ledger);
    }
}
