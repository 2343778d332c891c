//! galaxy-ha: a declarative reconciliation controller for the Galaxy redundant server
//! (two Hyper-V hosts, System Galaxy in one VM, a Carbonite Full Server to Hyper-V job).

pub mod cli;
pub mod commands;
pub mod logging;
pub mod manifest;
pub mod observed;
pub mod plan;
pub mod platform;
pub mod settings;
pub mod state;
