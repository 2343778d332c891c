//! The `galaxy-ha` binary: parse, run, map the outcome to an exit status.

use std::process::ExitCode;

use clap::Parser;
use galaxy_ha::cli::Cli;
use galaxy_ha::commands::{self, Exit};

fn main() -> ExitCode {
    let cli = Cli::parse();
    galaxy_ha::logging::init(&cli.logging());
    galaxy_ha::runbook::init(cli.runbook_url.as_deref());
    match commands::run(cli) {
        Ok(Exit::Success) => ExitCode::SUCCESS,
        Ok(Exit::Failed) => ExitCode::from(1),
        Ok(Exit::ChangesPending) => ExitCode::from(2),
        Ok(Exit::Check(state)) => ExitCode::from(state.exit_code()),
        // The reader went away (`status --watch | head`): nothing is left to say to it.
        Err(err) if commands::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", commands::message::render(&err));
            ExitCode::from(1)
        }
    }
}
