//! One module per command: resolve the arguments, call the library, report.

pub mod alert;
mod alerts;
mod apply;
mod ask;
mod demo;
pub mod doctor;
mod failover;
mod history;
pub mod message;
mod plan;
mod prompt;
mod report;
mod run;
pub mod schema;
mod service;
pub mod sim;
mod status;
pub mod validate;

use crate::cli::{Cli, Command};

/// How a command ended, mapped to an exit status in `main.rs` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Exit 0.
    Success,
    /// Exit 1: the input is invalid or a check failed; the message was already printed.
    Failed,
    /// Exit 2: `plan` found changes pending.
    ChangesPending,
    /// `status --check`: the monitoring plugin's exit code (0 OK, 1 WARNING, 2 CRITICAL,
    /// 3 UNKNOWN).
    Check(crate::status::CheckState),
}

/// The error is standard output's reader having gone away (`galaxy-ha status --watch | head`):
/// the command ends quietly then.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Runs the parsed command line.
///
/// # Errors
/// Any error that is not a reported validation failure; `main` prints it and exits 1.
pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    if cli.windows_service {
        return service::serve(cli.command);
    }
    dispatch(cli.command)
}

/// Runs one command.
fn dispatch(command: Command) -> anyhow::Result<Exit> {
    match command {
        Command::Validate { paths, secrets } => validate::run(&paths, secrets),
        Command::Schema { out, markdown } => schema::run(out.as_deref(), markdown),
        Command::Plan {
            site,
            format,
            assume,
            after,
        } => plan::run(&site.locate()?, format, &assume, after),
        Command::Apply {
            site,
            yes,
            wait,
            timeout,
        } => apply::run(&site.locate()?, yes, wait, timeout),
        Command::Status {
            site,
            format,
            watch,
            interval,
            check,
            coordination,
        } => {
            if check {
                status::check(&site, &coordination)
            } else {
                status::run(
                    &site.locate()?,
                    format,
                    watch.then_some(interval),
                    &coordination,
                )
            }
        }
        Command::Failover {
            name,
            site,
            test,
            end,
            notes,
            hold,
            force,
            commit,
            rollback,
            snapshot,
            right,
            yes,
            timeout,
        } => failover::run(
            &name,
            &site.locate()?,
            failover::Ask::of(test, end, force, commit, rollback, snapshot).with_drill(notes, hold),
            right.as_deref(),
            yes,
            timeout,
        ),
        Command::Resume {
            name,
            site,
            yes,
            timeout,
        } => failover::run(
            &name,
            &site.locate()?,
            failover::Ask::Resume,
            None,
            yes,
            timeout,
        ),
        Command::Demo { state_dir } => demo::run(state_dir),
        Command::History {
            site,
            since,
            kind,
            format,
            coordination,
        } => history::run(&site.locate()?, since, &kind, format, &coordination),
        Command::Report {
            run,
            site,
            since,
            format,
            out,
            coordination,
        } => report::run(
            &site.locate()?,
            &report::Options {
                run,
                since,
                format,
                out,
            },
            &coordination,
        ),
        Command::Sim { command } => sim::run(command),
        Command::Doctor { site, capture } => doctor::run(&site.locate()?, capture.as_deref()),
        Command::Run {
            site,
            dry_run,
            sim_speed,
            alert_retry,
            listen,
            no_listen,
            access,
            coordination,
        } => run::run(
            &site.locate()?,
            dry_run,
            sim_speed,
            alert_retry,
            (!no_listen).then_some(listen),
            access,
            &coordination,
        ),
        Command::Alert { command } => alert::run(command),
        Command::Service { command } => service::run(command),
    }
}
