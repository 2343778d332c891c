//! Leaving a request for the running controller and reporting its answer: how `failover`,
//! `resume` and `apply` reach `galaxy-ha run` ([`crate::requests`]).

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use crate::commands::Exit;
use crate::lock::{LockError, StateLock};
use crate::requests::{self, Answer, Ask, Request, Requester, Waited};

/// The state dir's lock for this command, or `None` when a running controller holds it and
/// performs requests: the command then asks it. Held by `apply` or `failover`, it is refused.
///
/// # Errors
/// The lock cannot be taken and no controller serves.
pub fn lock_or_controller(state_dir: &Path) -> Result<Option<StateLock>, LockError> {
    match StateLock::acquire(state_dir) {
        Ok(lock) => Ok(Some(lock)),
        Err(LockError::Held { .. }) if requests::served(state_dir) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Leaves `ask` for the controller that works on `state_dir`, waits at most `timeout` for its
/// answer (a line every 10 s), and reports it.
///
/// # Errors
/// The request cannot be written (this account may not administer the controller) or its
/// answer cannot be read.
pub fn controller(
    state_dir: &Path,
    site: &str,
    ask: Ask,
    by: &Requester,
    timeout: Duration,
) -> anyhow::Result<Exit> {
    let request = Request::new(site, ask, by.clone());
    requests::submit(state_dir, &request).with_context(|| {
        "cannot leave the request for the controller: run this as an account that may administer it"
    })?;
    let answer = requests::wait(state_dir, &request.id, timeout, |waited| {
        if waited.as_secs().is_multiple_of(10) {
            eprintln!("waiting for the controller ({}s)...", waited.as_secs());
        }
    })?;
    match answer {
        Waited::Answered(Answer::Done { message }) => {
            println!("{message}");
            Ok(Exit::Success)
        }
        Waited::Answered(Answer::Refused { why }) => {
            eprintln!("error: the controller refused: {why}");
            Ok(Exit::Failed)
        }
        Waited::Answered(Answer::Failed { error }) => {
            eprintln!("error: the controller tried and failed: {error}");
            Ok(Exit::Failed)
        }
        Waited::TimedOut => {
            eprintln!(
                "error: the controller did not answer within {}; the request was withdrawn. Is `galaxy-ha run` still running (see its log)?",
                humantime::format_duration(timeout)
            );
            Ok(Exit::Failed)
        }
        Waited::NoController => {
            eprintln!(
                "error: the controller stopped before it answered; the request was withdrawn. See `galaxy-ha history` for what it began, then run the command again: with no controller running, the command acts itself"
            );
            Ok(Exit::Failed)
        }
    }
}
