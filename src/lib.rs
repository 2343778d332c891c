//! galaxy-ha: a declarative reconciliation controller for the Galaxy redundant server
//! (two Hyper-V hosts, System Galaxy in one VM, a Carbonite Full Server to Hyper-V job).

pub mod alert;
pub mod chaos;
pub mod cli;
pub mod commands;
pub mod dirs;
pub mod duration;
pub mod execute;
pub mod fleet;
pub mod git;
pub mod history;
pub mod http;
pub mod journal;
pub mod last_good;
pub mod lock;
pub mod logging;
pub mod manifest;
pub mod memory;
pub mod observed;
pub mod os_service;
pub mod plan;
pub mod platform;
pub mod reconcile;
pub mod runbook;
pub mod secret_file;
pub mod service;
pub mod settings;
pub mod state;
pub mod status;
pub mod stop;
pub mod store;
pub mod watch;
pub mod whatif;
