//! The simulated lab: a deterministic model of the redundant pair that every test runs against.
//!
//! One [`World`] holds all simulated state (hosts, links, VMs, the replication job, the access
//! control panels) on a virtual clock; the seed is the only randomness. Faults are verbs on the
//! world ([`World::host_down`], [`World::link_down`], ...). [`Lab`] wraps a world as a
//! [`crate::platform::Platform`] and persists it at `STATE/sim/SITE.json` so that CLI runs
//! continue one world.
//!
//! Modelling choices worth knowing (the guide is silent on them):
//! - Time moves in whole-second ticks; every transition happens on a tick, so
//!   [`World::next_event_in`] is exact.
//! - VM power changes are instant (no `Starting`/`Stopping` is ever reported); a clean shutdown
//!   of the job's source VM first flushes its replication queue to the target when it can.
//! - The job is observable only while its target (where it lives) is reachable from the
//!   controller; otherwise `Observed.job` is `None`.
//! - Replication needs the manifest's services (Double-Take) running on the target host and
//!   in the source VM's guest; the firewall rules are observed and set but do not gate
//!   replication (the lab has no packet filter).
//! - Events in the source queue count as lost at a hard failure of the source (host down or
//!   VM turned off), and at a live failover (they never reach the replica).

mod events;
mod execute;
mod faults;
mod host;
mod job;
mod leap;
mod observe;
mod persist;
mod replicate;
mod show;
mod snapshot;
mod traffic;
mod world;

pub use events::{EventCounts, Queue};
pub use faults::{Fault, FaultError};
pub use host::{Host, SimService, SimVm};
pub use job::{Phase, SimJob};
pub use persist::{DEFAULT_SEED, Lab, SEED_ENV, seed_from_env, world_path};
pub use show::{Snapshot, render_text};
pub use world::{EPOCH_SECONDS, Params, World};
