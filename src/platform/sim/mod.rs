//! The simulated lab: a deterministic model of the redundant pair.
