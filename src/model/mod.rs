//! The vocabulary every layer speaks: plain data with no I/O, imported by the planner, the
//! platforms, the journal and memory, and importing none of them.

pub mod ask;
pub mod decision;
pub mod drill;
pub mod names;
pub mod operation;
pub mod run;
pub mod terms;

pub use decision::Decision;
pub use operation::{Action, ActionKind, AlertKind, FailoverKind, Operation, Severity};
