//! galaxy-ha: a declarative reconciliation controller for the Galaxy redundant server
//! (two Hyper-V hosts, System Galaxy in one VM, a Carbonite Full Server to Hyper-V job).
//!
//! # The map, from the bottom up
//!
//! A module imports modules of its own layer or of the layers below, never above; the test
//! `layers` reads the groups below from this file and checks every `crate::` path in `src/`
//! against them. docs/architecture.md draws the same map with the safety invariants each
//! layer keeps.
//!
//! 1. **Model** — the vocabulary at the bottom: operations and planned actions, the words
//!    of Windows and Carbonite (`model`), what a platform observes (`observed`), the
//!    runbook's links. Plain data with no I/O, importing only each other.
//! 2. **Foundations** — bounded durations, files written atomically, where things live, a
//!    manifest's git commit.
//! 3. **Manifest** — the desired state admins write, loaded with located errors and
//!    validated; the password files it names.
//! 4. **Records** — what the controller remembers about a site and the journal of what it
//!    did, as documents (their files are the stores' business).
//! 5. **Plan** — the pure planner: manifest + observation + memory + time → actions and
//!    conditions. No I/O and no clock of its own.
//! 6. **Platform** — the seam to the hosts (observe, act, tell the time), with the simulated
//!    lab and Windows PowerShell behind it; what-if plans, which observe through it.
//! 7. **Stores** — where memory, the journal and the last good manifest live (files, or
//!    etcd in a fleet), the locks that keep one controller per state dir and per pair, and
//!    the requests a person leaves there for the running controller.
//! 8. **Reconcile** — the one code path that observes, plans, journals and acts, and what
//!    people are told: alerts, status, history.
//! 9. **Service** — `run`: scheduling passes, watching manifests, signals, logs, the OS
//!    service, the HTTP side, and many controllers on etcd.
//! 10. **Commands** — the command line's syntax and settings, one module per command, and the
//!     chaos driver that `sim chaos`, the tests and the benchmarks share.

// 1. Model
pub mod model;
pub mod observed;
pub mod runbook;
// 2. Foundations
pub mod dirs;
pub mod duration;
pub mod git;
pub mod state;
// 3. Manifest
pub mod manifest;
pub mod secret_file;
// 4. Records
pub mod journal;
pub mod memory;
// 5. Plan
pub mod plan;
// 6. Platform
pub mod platform;
pub mod whatif;
// 7. Stores
pub mod last_good;
pub mod lock;
pub mod requests;
pub mod rights;
pub mod store;
// 8. Reconcile
pub mod alert;
pub mod execute;
pub mod history;
pub mod hooks;
pub mod reconcile;
pub mod report;
pub mod status;
// 9. Service
pub mod allocator;
pub mod fleet;
pub mod http;
pub mod logging;
pub mod os_service;
pub mod service;
pub mod stop;
pub mod watch;
// 10. Commands
pub mod chaos;
pub mod cli;
pub mod commands;
pub mod settings;
