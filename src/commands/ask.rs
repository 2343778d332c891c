//! Leaving a request for the running controller and reporting its answer: how `failover`,
//! `resume` and `apply` reach `galaxy-ha run` ([`crate::requests`]), with the token of a
//! right ([`crate::rights`]) the controller checks.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::commands::Exit;
use crate::lock::{LockError, StateLock};
use crate::requests::{self, Answer, Ask, Request, Requester, Waited};
use crate::rights::{self, Right, Token};

/// Chooses the right whose token a request carries, for an account given both (or an
/// administrator): `drill` or `operate`. Unset, the command reads the operate right's token
/// if it may, else the drill right's.
pub const RIGHT_ENV: &str = "GALAXY_HA_RIGHT";

/// The state dir's lock for this command, or `None` when a running controller holds it and
/// performs requests: the command then asks it. Held by `apply` or `failover`, it is refused.
/// An account that may not write the state dir (given a right only) asks the controller too.
///
/// # Errors
/// The lock cannot be taken and no controller serves.
pub fn lock_or_controller(state_dir: &Path) -> Result<Option<StateLock>, LockError> {
    match StateLock::acquire(state_dir) {
        Ok(lock) => Ok(Some(lock)),
        Err(LockError::Held { .. } | LockError::NotWritable { .. })
            if requests::served_any(state_dir) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The right `GALAXY_HA_RIGHT` names, if it is set.
///
/// # Errors
/// It names no right.
pub fn right_from_env() -> anyhow::Result<Option<Right>> {
    match std::env::var(RIGHT_ENV) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => v
            .parse()
            .map(Some)
            .map_err(|e: String| anyhow::anyhow!("{RIGHT_ENV}: {e}")),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            bail!("{RIGHT_ENV}: not a right: expected drill or operate")
        }
    }
}

/// The right and token a request carries: `chosen`'s, or the first of operate and drill
/// this account may read; none when it may read neither (the controller then refuses,
/// saying which files give a right).
///
/// # Errors
/// The chosen right's token cannot be read.
pub fn credentials(
    state_dir: &Path,
    chosen: Option<Right>,
) -> anyhow::Result<Option<(Right, Token)>> {
    if let Some(right) = chosen {
        let token = rights::read(state_dir, right).with_context(|| {
            format!(
                "cannot use the {right} right: an administrator gives it as read access to {} (docs/rights.md)",
                rights::token_path(state_dir, right).display()
            )
        })?;
        return Ok(Some((right, token)));
    }
    Ok(Right::ALL
        .into_iter()
        .find_map(|right| rights::read(state_dir, right).ok().map(|t| (right, t))))
}

/// Leaves `ask` for the controller that works on `state_dir`, with the token of the right
/// `GALAXY_HA_RIGHT` names or the widest this account holds, waits at most `timeout` for its
/// answer (a line every 10 s), and reports it.
///
/// # Errors
/// The request cannot be written (this account was given no right to ask) or its answer
/// cannot be read.
pub fn controller(
    state_dir: &Path,
    site: &str,
    ask: Ask,
    by: &Requester,
    timeout: Duration,
) -> anyhow::Result<Exit> {
    controller_with(state_dir, site, ask, by, right_from_env()?, timeout)
}

/// [`controller`], the right chosen by the caller (a `--right` flag) instead of the
/// environment.
///
/// # Errors
/// See [`controller`].
pub fn controller_with(
    state_dir: &Path,
    site: &str,
    ask: Ask,
    by: &Requester,
    right: Option<Right>,
    timeout: Duration,
) -> anyhow::Result<Exit> {
    let mut request = Request::new(site, ask, by.clone());
    if let Some((right, token)) = credentials(state_dir, right)? {
        request = request.with_right(right, token);
    }
    let via = request.via();
    requests::submit(state_dir, &request).with_context(|| {
        format!(
            "cannot leave the request for the controller in {}: run this as an account given a right to ask (docs/rights.md)",
            requests::dir_of(state_dir, via).display()
        )
    })?;
    let answer = requests::wait(state_dir, via, &request.id, timeout, |waited| {
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
