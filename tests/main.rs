//! Integration tests: one binary, one module per scenario family.

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
