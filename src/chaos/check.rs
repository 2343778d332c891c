//! The safety invariants of docs/architecture.md, checked after every step of a schedule against the lab's world
//! (the truth about the hosts), the controller's memory and its journal.
//!
//! The checker knows what people asked for (a `spec.primary` edit away from the live host, a
//! `galaxy-ha failover` command), so a move that was asked for is never counted as a failback,
//! and every other failover must answer a failure that both views saw.

use std::path::Path;
use std::time::Duration;

use super::intents::Intents;
use super::invariant::{Invariant, Violation};
use crate::journal::Event;
use crate::manifest::spec::{FailoverMode, SiteSpec};
use crate::model::names::HostName;
use crate::model::operation::{FailoverKind as Mode, Operation};
use crate::platform::sim::{Fault, Phase, World};

/// What the world looked like before a step: what the step's effects are judged against.
#[derive(Debug, Clone)]
pub struct Before {
    failovers: u32,
    lost: u64,
    /// The job's source host and its replication queue.
    source: Option<HostName>,
    source_queue: u64,
    /// Hosts running System Galaxy live, and those of them the controller can reach.
    live: Vec<HostName>,
    visible_live: Vec<HostName>,
    /// The job's failover monitor says the condition for failure is met; it still reaches
    /// the source.
    condition_met: bool,
    monitor_sees_source: bool,
    automatic: bool,
    maintenance: bool,
}

impl Before {
    pub fn of(world: &World, spec: &SiteSpec) -> Before {
        let live = live_hosts(world);
        let visible_live = live
            .iter()
            .filter(|h| world.reachable(h))
            .cloned()
            .collect();
        let job = world.job();
        let now = world.now();
        let monitor = job.map(|j| {
            j.monitor_status(u64::try_from(world.elapsed().as_millis()).unwrap_or(u64::MAX))
        });
        let maintenance = spec
            .maintenance
            .as_ref()
            .is_some_and(|m| m.until.is_none_or(|u| now < u));
        Before {
            failovers: world.failovers(),
            lost: world.events().lost,
            source: job.map(|j| j.source.clone()),
            source_queue: job.map_or(0, |j| j.source_queue.len()),
            live,
            visible_live,
            condition_met: monitor.is_some_and(|m| m.condition_met),
            monitor_sees_source: monitor.is_some_and(|m| m.source_alive),
            automatic: spec.failover.mode == FailoverMode::Automatic,
            maintenance,
        }
    }
}

/// Hosts (up) with a VM running System Galaxy live.
fn live_hosts(world: &World) -> Vec<HostName> {
    world
        .hosts()
        .iter()
        .filter(|h| h.up && h.live_vm().is_some())
        .map(|h| h.name.clone())
        .collect()
}

/// A move a person asked for, until the controller establishes it.
#[derive(Debug, Clone, PartialEq)]
struct Ask {
    to: HostName,
    /// System Galaxy was shut down cleanly for it: the switchover runs to its end even if the
    /// manifest changes back.
    started: bool,
    /// `--force`: the person accepted failing over on the controller's view alone.
    forced: bool,
}

/// The checker's state across a schedule.
#[derive(Debug, Default)]
pub struct Checker {
    pub violations: Vec<Violation>,
    /// Events lost beyond what the model allows (the source queue at a hard failure).
    pub lost_beyond_source_queue: u64,
    /// Failovers a person asked for, and failovers that answered a failure.
    pub asked_failovers: u32,
    pub failure_failovers: u32,
    /// System Galaxy started again by the controller (a switchover backing out).
    pub vm_starts: u32,
    /// Failovers forced while the failover monitor still reached the live host.
    pub forced_failovers: u32,
    /// Live failovers to a snapshot instead of the newest data.
    pub snapshot_failovers: u32,
    ask: Option<Ask>,
    /// A failover happened and the job has not protected since.
    latched: bool,
    intents: Intents,
    step: usize,
    elapsed: Duration,
}

impl Checker {
    /// Marks the step the next findings belong to.
    pub fn at(&mut self, step: usize, world: &World) {
        self.step = step;
        self.elapsed = world.elapsed();
    }

    fn violate(&mut self, invariant: Invariant, detail: impl Into<String>) {
        self.violations.push(Violation {
            step: self.step,
            elapsed: self.elapsed,
            invariant,
            detail: detail.into(),
        });
    }

    /// A person set `spec.primary`: away from the live host it asks for a move; back to it,
    /// it withdraws a move that has not started.
    pub fn primary_edited(&mut self, primary: &str, live: Option<&HostName>) {
        if live.is_some_and(|l| l == primary) {
            if self.ask.as_ref().is_some_and(|a| !a.started) {
                self.ask = None;
            }
        } else if !self.ask.as_ref().is_some_and(|a| a.started) {
            self.ask = Some(Ask {
                to: primary.into(),
                started: false,
                forced: false,
            });
        }
    }

    /// A person ran `galaxy-ha failover` and it was approved: a move to `to`.
    /// A person's `failover` was approved towards `to` (`forced`: with `--force`).
    pub fn failover_commanded(&mut self, to: &str, forced: bool) {
        self.ask = Some(Ask {
            to: to.into(),
            started: false,
            forced,
        });
    }

    /// After a fault: only the events of a source that failed hard may be lost.
    pub fn after_fault(&mut self, fault: &Fault, before: &Before, world: &World) {
        let hard_failure_of_source = matches!(fault, Fault::HostDown { host }
            if before.source.as_ref().is_some_and(|s| s == host));
        let allowance = if hard_failure_of_source {
            before.source_queue
        } else {
            0
        };
        self.events(before, world, allowance, "the fault");
        self.observe(world);
    }

    /// After the clock moved with no controller acting.
    pub fn after_time(&mut self, before: &Before, world: &World) {
        self.events(before, world, 0, "time passing");
        self.observe(world);
    }

    /// After a pass (or a person's command, `complete` false): the failovers, fences and
    /// shutdowns it issued, its journal lines, the events, and — for a pass that ran to its
    /// end — no split brain and no job onto the live host left behind, or else (a crash) the
    /// memory a restart reads.
    pub fn after_pass(
        &mut self,
        before: &Before,
        world: &World,
        state_dir: &Path,
        site: &str,
        complete: bool,
    ) {
        let entries = self.read_journal(state_dir, site);

        let mut allowance: u64 = 0;
        let mut failover_intent = false;
        for entry in &entries {
            let Event::Intent { op } = &entry.event else {
                continue;
            };
            match op {
                Operation::StopVm {
                    host,
                    turn_off: false,
                    ..
                } => match self.ask.as_mut() {
                    Some(ask) if ask.to != *host => ask.started = true,
                    _ => self.violate(
                        Invariant::NoUnaskedSwitchover,
                        format!(
                            "System Galaxy was shut down on {host} for a move nobody asked for"
                        ),
                    ),
                },
                Operation::StopVm {
                    host,
                    turn_off: true,
                    ..
                } => {
                    if before.visible_live.len() < 2
                        || !before.visible_live.iter().any(|h| h == host)
                    {
                        self.violate(
                            Invariant::FenceOnlySplitBrain,
                            format!(
                                "turned off System Galaxy on {host} while it ran live on {:?} only",
                                before.visible_live
                            ),
                        );
                    }
                    if before.source.as_ref().is_some_and(|s| s == host) {
                        allowance = allowance.saturating_add(before.source_queue);
                    }
                }
                Operation::Failover {
                    mode: Mode::Live,
                    snapshot,
                    ..
                } => {
                    failover_intent = true;
                    // A failover to a snapshot gives up what was replicated after it.
                    if snapshot.is_some() {
                        allowance = u64::MAX;
                        self.snapshot_failovers += 1;
                    }
                }
                Operation::StartVm { host, .. } => {
                    self.vm_starts += 1;
                    if !before.visible_live.is_empty() {
                        self.violate(
                            Invariant::SplitBrain,
                            format!(
                                "started System Galaxy on {host} while it ran on {:?}",
                                before.visible_live
                            ),
                        );
                    }
                }
                _ => {}
            }
        }
        let failovers = world.failovers().saturating_sub(before.failovers);
        if failovers > 1 {
            self.violate(
                Invariant::OneFailoverPerFailure,
                format!("{failovers} failovers in one pass"),
            );
        }
        if failovers > 0 {
            if !failover_intent {
                self.violate(
                    Invariant::JournaledFirst,
                    "a failover was issued without a failover intent in the journal",
                );
            }
            allowance = allowance.saturating_add(self.failover(before, world));
        }
        self.events(before, world, allowance, "the pass");
        self.ask_met(state_dir, site, world);
        if complete {
            // The next pass reads memory first and fails loudly if it cannot.
            self.left_behind(world);
        } else if let Err(e) = crate::store::files::load_memory(state_dir, site) {
            // A crash or a command: what the restarted controller will read.
            self.violate(Invariant::MemoryIntact, e.to_string());
        }
        self.observe(world);
    }

    /// Judges the failover a step made; returns the events it may lose.
    fn failover(&mut self, before: &Before, world: &World) -> u64 {
        let Some(target) = world.job().map(|j| j.target.clone()) else {
            return 0;
        };
        let target_live = before.live.contains(&target);
        let source_seen_live = before
            .visible_live
            .iter()
            .any(|h| before.source.as_ref().is_some_and(|s| s == h));
        if target_live {
            self.violate(
                Invariant::NoFailoverWithoutFailure,
                format!("failed over onto {target}, which already ran System Galaxy"),
            );
        }
        if source_seen_live {
            self.violate(
                Invariant::NoFailoverWithoutFailure,
                format!(
                    "failed over to {target} while the controller saw System Galaxy running on {:?}",
                    before.source
                ),
            );
        }
        // The ask stands until System Galaxy runs on its host: a failover that fails on the
        // way (its target dies, the job is stopped) leaves the person's request as it was.
        let asked = self.ask.clone().filter(|a| a.to == target);
        let was_latched = std::mem::replace(&mut self.latched, true);
        match asked {
            Some(ask) => {
                self.asked_failovers += 1;
                if ask.forced && before.monitor_sees_source {
                    self.forced_failovers += 1;
                } else if !ask.started && before.monitor_sees_source {
                    self.violate(
                        Invariant::NoFailoverWithoutFailure,
                        format!(
                            "failed over to {target} as asked while the failover monitor still reached System Galaxy on {:?}: one view only",
                            before.source
                        ),
                    );
                }
                // A switchover shut System Galaxy down cleanly first: nothing may be lost.
                if ask.started { 0 } else { before.source_queue }
            }
            None => {
                self.failure_failovers += 1;
                let mut why = Vec::new();
                if !before.automatic {
                    why.push("the site is in manual mode");
                }
                if before.maintenance {
                    why.push("the site is in maintenance");
                }
                if !before.condition_met {
                    why.push("the failover monitor's condition for failure was not met");
                }
                if was_latched {
                    self.violate(
                        Invariant::OneFailoverPerFailure,
                        format!(
                            "failed over to {target} again before the site protected after the last failover"
                        ),
                    );
                }
                if !why.is_empty() {
                    self.violate(
                        Invariant::NoFailoverWithoutFailure,
                        format!(
                            "failed over to {target} without a person asking, though {}",
                            why.join(" and ")
                        ),
                    );
                }
                before.source_queue
            }
        }
    }

    /// The lab's ledger adds up, and what was lost is what the step may lose.
    fn events(&mut self, before: &Before, world: &World, allowance: u64, what: &str) {
        let e = world.events();
        if e.produced != e.stored + e.buffered + e.lost + e.in_flight {
            self.violate(Invariant::Ledger, format!("after {what}: {e:?}"));
        }
        let lost = e.lost.saturating_sub(before.lost);
        if lost > allowance {
            self.lost_beyond_source_queue += lost - allowance;
            self.violate(
                Invariant::EventsLost,
                format!(
                    "{what} lost {lost} event(s); at most {allowance} (the source queue at a hard failure) may be"
                ),
            );
        }
    }

    /// What a pass must never leave behind: System Galaxy on both hosts the controller sees,
    /// a job replicating onto the host that runs it.
    fn left_behind(&mut self, world: &World) {
        let visible: Vec<HostName> = live_hosts(world)
            .into_iter()
            .filter(|h| world.reachable(h))
            .collect();
        if visible.len() > 1 {
            self.violate(
                Invariant::SplitBrain,
                format!("System Galaxy runs on {visible:?} after a pass"),
            );
        }
        if let Some(job) = world.job()
            && matches!(
                job.phase,
                Phase::Provisioning { .. } | Phase::Synchronizing | Phase::Protecting
            )
            && visible.contains(&job.target)
        {
            self.violate(
                Invariant::ReplicaOntoLive,
                format!(
                    "job {:?} replicates onto {}, which runs System Galaxy",
                    job.name, job.target
                ),
            );
        }
    }

    /// Releases the latch once the job protects again.
    fn observe(&mut self, world: &World) {
        if world.job().is_some_and(|j| j.phase == Phase::Protecting) {
            self.latched = false;
        }
    }

    /// An ask is met once the controller has established its host as the live host. Only
    /// memory says so: System Galaxy running there may still be fenced, or not be seen as
    /// live while the old host cannot be reached. Reading memory here can only end an ask,
    /// never make one.
    ///
    /// A move that began is over, though unmet, once the controller no longer drives it
    /// (memory holds no switchover) and System Galaxy runs again on another host than the
    /// one asked for (someone started it where it was shut down, and the controller kept it
    /// there): the manifest may still ask, but a change of mind now ends the ask, and a later
    /// failover answering a failure is no longer this move. While memory holds the
    /// switchover, it runs to its end even if the manifest changes back.
    fn ask_met(&mut self, state_dir: &Path, site: &str, world: &World) {
        let Some(ask) = &mut self.ask else { return };
        let memory = crate::store::files::load_memory(state_dir, site).ok();
        let live = memory.as_ref().and_then(|m| m.live_host.as_ref());
        if live.is_some_and(|l| *l == ask.to) {
            self.ask = None;
            return;
        }
        if ask.started
            && memory.as_ref().is_some_and(|m| m.switchover.is_none())
            && live_hosts(world).iter().any(|h| *h != ask.to)
        {
            ask.started = false;
        }
    }

    /// The journal lines written since the last look, each problem with them a violation.
    fn read_journal(&mut self, state_dir: &Path, site: &str) -> Vec<crate::journal::Entry> {
        let (entries, problems) = self.intents.read(state_dir, site);
        for (invariant, detail) in problems {
            self.violate(invariant, detail);
        }
        entries
    }

    /// At the end: every intent has its outcome, and memory holds no action in flight.
    pub fn finish(&mut self, state_dir: &Path, site: &str) {
        self.read_journal(state_dir, site);
        let open = self.intents.open();
        if !open.is_empty() {
            self.violate(
                Invariant::JournalIntact,
                format!("intent(s) without an outcome in the journal: {open:?}"),
            );
        }
        match crate::store::files::load_memory(state_dir, site) {
            Ok(m) if m.in_flight.is_some() => self.violate(
                Invariant::MemoryIntact,
                format!("memory still holds an action in flight: {:?}", m.in_flight),
            ),
            Ok(_) => {}
            Err(e) => self.violate(Invariant::MemoryIntact, e.to_string()),
        }
    }

    /// Records a violation found by the driver (a failed pass, a site not converged).
    pub fn report(&mut self, invariant: Invariant, detail: impl Into<String>) {
        self.violate(invariant, detail);
    }
}
