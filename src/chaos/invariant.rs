//! What the chaos checker holds the controller to: the safety invariants of docs/architecture.md (and the end
//! state: protecting an hour after the faults heal), and a violation of one, where and when.

use std::time::Duration;

/// The invariant a violation broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Invariant {
    /// System Galaxy ran on both hosts, both visible to the controller, after a pass.
    SplitBrain,
    /// A job replicated onto the host that runs System Galaxy after a pass.
    ReplicaOntoLive,
    /// A second failover for one failure (before the site protected again).
    OneFailoverPerFailure,
    /// A failover nobody asked for without both views agreeing the live host failed, or onto
    /// a host already running System Galaxy, or while the controller saw it on the source.
    NoFailoverWithoutFailure,
    /// A clean shutdown of System Galaxy (a switchover) nobody asked for.
    NoUnaskedSwitchover,
    /// A fence of a VM that was not half of a split brain.
    FenceOnlySplitBrain,
    /// A disruptive action issued without its intent in the journal first.
    JournaledFirst,
    /// Events lost beyond the source queue at a hard failure (or any at a switchover).
    EventsLost,
    /// The lab's ledger does not add up: produced ≠ stored + buffered + lost + in flight.
    Ledger,
    /// Memory cannot be read back.
    MemoryIntact,
    /// A journal line cannot be read back, or an intent has no outcome at the end.
    JournalIntact,
    /// A pass failed with an error (other than the crash the schedule injected).
    PassFailed,
    /// The site is not protecting after the faults healed and an hour passed.
    Converged,
}

/// One broken invariant, where and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The index of the schedule step (the heal phase counts after the last step).
    pub step: usize,
    /// Virtual time since the lab began.
    pub elapsed: Duration,
    pub invariant: Invariant,
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "step {} at +{}: {:?}: {}",
            self.step,
            humantime::format_duration(Duration::from_secs(self.elapsed.as_secs())),
            self.invariant,
            self.detail
        )
    }
}
