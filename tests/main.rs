//! Integration tests: one binary, one module per scenario family.

/// Fixtures: the guide's site and hand-built observations.
mod support;

/// Table tests of the pure planner, a rule and a guard each.
mod planner_rules;

/// Property tests of the safety invariants over random observations and memories.
mod planner_props;

// Every file in tests/bad/ fails validation with the snapshotted diagnostics.
mod manifest_bad;
// Loading never panics, whatever the bytes (proptest).
mod manifest_fuzz;
// The checked-in schema is current, and every example manifest satisfies it.
mod manifest_schema;
// `galaxy-ha validate` on good manifests, directories, JSON, exit codes.
mod manifest_validate;

// Shared helpers for the simulated-lab tests.
mod sim_support;
// The lab's job lifecycle: provisioning, synchronizing, protecting, monitor, failovers.
mod sim_lifecycle;
// What Carbonite, Hyper-V and Windows refuse in the lab, and that a refusal changes nothing.
mod sim_refusals;
// Every `sim fault` verb on the world.
mod sim_faults;
// Panel events: the ledger property, determinism, switchover and failure losses.
mod sim_events;
// The world file: round trip, corrupt files, a different manifest.
mod sim_persist;
// `galaxy-ha sim` on the real binary in a temp dir.
mod sim_cli;

// Helpers for the `run` tests: the real binary, a log to poll, a loopback SMTP server.
mod run_support;
// `galaxy-ha run`: the state dir lock, SIGTERM, manifest watching, dry run.
mod run_service;
// Alert e-mails: `alert test`, subjects and bodies, the outbox across an outage and a restart.
mod run_alerts;
