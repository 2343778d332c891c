//! The pure planner: compares a site's spec with what was observed and what the controller
//! remembers, and plans the actions that converge it.

pub mod action;
