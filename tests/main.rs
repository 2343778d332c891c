//! Integration tests: one binary, one module per scenario family.

/// Fixtures: the guide's site and hand-built observations.
mod support;

/// Table tests of the pure planner, a rule and a guard each.
mod planner_rules;

/// Property tests of the safety invariants over random observations and memories.
mod planner_props;
