//! One module per command: resolve the arguments, call the library, report.

pub mod sim;

use crate::cli::{Cli, Command};

/// How a command ended, mapped to an exit status in `main.rs` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Success,
    /// Exit 1: the input is invalid or a check failed; the message was already printed.
    Failed,
    /// Exit 2: `plan` found changes pending.
    ChangesPending,
}

/// Runs the parsed command line.
///
/// # Errors
/// Any error that is not a reported validation failure; `main` prints it and exits 1.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Validate { paths } => {
            let _ = paths;
            Ok(Outcome::Success)
        }
        Command::Schema { out } => {
            let _ = out;
            Ok(Outcome::Success)
        }
        Command::Sim { command } => sim::run(command),
    }
}
