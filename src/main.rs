//! The `galaxy-ha` binary: parse, run, map the outcome to an exit status.

use std::process::ExitCode;

use clap::Parser;
use galaxy_ha::cli::{Cli, Command};
use galaxy_ha::commands::{self, Outcome};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo prints its own timeline; its log shows only what went wrong.
    let quiet = matches!(cli.command, Command::Demo { .. });
    galaxy_ha::logging::init(
        cli.log_format,
        if quiet { "warn" } else { "warn,galaxy_ha=info" },
    );
    match commands::run(cli) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::from(1),
        Ok(Outcome::ChangesPending) => ExitCode::from(2),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}
