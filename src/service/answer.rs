//! The running controller's side of the requests channel: it looks for requests a person
//! left in the state dir (`galaxy-ha failover`, `apply`, `resume` while `run` serves), checks
//! the right each one's token grants, carries it out on the site's next pass as the command
//! itself would, and answers.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::Ctx;
use crate::alert::outbox::OutboxSink;
use crate::execute::Records;
use crate::manifest::Site;
use crate::platform::Platform;
use crate::reconcile;
use crate::requests;
use crate::rights::{self, Right};

/// Looks for requests in the state dir every second and wakes the sites when there are.
pub(super) async fn look_for_requests(
    state_dir: PathBuf,
    asked: Arc<Notify>,
    waiting: Arc<AtomicBool>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut every = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = every.tick() => {
                let dir = state_dir.clone();
                let pending = tokio::task::spawn_blocking(move || requests::any_pending(&dir))
                    .await
                    .unwrap_or(false);
                waiting.store(pending, Ordering::Relaxed);
                if pending {
                    asked.notify_waiters();
                }
            }
            _ = stopped.changed() => return,
        }
    }
}

/// Carries out a person's request (`galaxy-ha failover` while this controller runs) as the
/// command would, once its token grants a right that allows it ([`crate::rights`]),
/// journaling who asked with which right, and answers it. A request that cannot be read is
/// removed: nobody can be waiting on it. The token itself is never logged nor journaled.
pub(super) fn asked(
    ctx: &Ctx,
    site: &Site,
    platform: &mut dyn Platform,
    store: &mut Records,
    sink: &mut OutboxSink,
    received: Result<requests::Received, requests::RequestError>,
) {
    let requests::Received { via, request } = match received {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(site = %site.name, "a request cannot be read, removed: {e}");
            if let requests::RequestError::Unreadable { path, .. } = &e {
                requests::discard(path);
            }
            return;
        }
    };
    let what = request.ask.command(&site.name);
    let answer = match granted(ctx, site, via, &request) {
        Ok(right) => {
            let by = requests::Requester {
                right: Some(right),
                ..request.by.clone()
            };
            let answer = carry_out(site, platform, store, sink, &request.ask, &by);
            tracing::info!(site = %site.name, by = %request.by, right = %right, ask = %what, answer = ?answer, "request answered");
            answer
        }
        Err((right, why)) => {
            tracing::warn!(site = %site.name, by = %request.by, right = %right.map_or("none", Right::as_str), ask = %what, %why, "request refused");
            requests::Answer::Refused { why }
        }
    };
    if let Err(e) = requests::answer(&ctx.state_dir, via, &request.id, &answer) {
        tracing::error!(site = %site.name, "cannot answer a request: {e}");
    }
}

/// The right a request's token grants, at most the drill right for one found in the drill
/// right's directory, if it allows what is asked; else that right, if any, and why not, for
/// the person who asked.
fn granted(
    ctx: &Ctx,
    site: &Site,
    via: Right,
    request: &requests::Request,
) -> Result<Right, (Option<Right>, String)> {
    let right = rights::verify(&ctx.state_dir, request.token.as_ref())
        .map_err(|why| (None, why))?
        .min(via);
    match rights::refusal(&ctx.state_dir, right, &request.ask, &site.name) {
        Some(why) => Err((Some(right), why)),
        None => Ok(right),
    }
}

fn carry_out(
    site: &Site,
    platform: &mut dyn Platform,
    store: &mut Records,
    sink: &mut OutboxSink,
    ask: &requests::Ask,
    by: &requests::Requester,
) -> requests::Answer {
    let failed = |e: &dyn std::fmt::Display| requests::Answer::Failed {
        error: e.to_string(),
    };
    // `apply` asks for a pass as the controller would make it; the others for an approval,
    // checked against a fresh look exactly as the command checks it.
    let (mode, approval) = if *ask == requests::Ask::Apply {
        (reconcile::Mode::Apply, None)
    } else {
        let look = match reconcile::look_in(site, platform, store.backend()) {
            Ok(look) => look,
            Err(e) => return failed(&e),
        };
        match reconcile::approve(site, look, ask, by, platform.now()) {
            Ok((approval, look)) => (reconcile::Mode::Confirmed(Box::new(look)), Some(approval)),
            Err(why) => return requests::Answer::Refused { why },
        }
    };
    if let Err(e) = reconcile::journal_ask(store.backend(), &site.name, ask, by, platform.now()) {
        return failed(&e);
    }
    let mut rctx = reconcile::Context::new(store, sink);
    let report = match reconcile::reconcile(site, platform, &mut rctx, mode) {
        Ok(outcome) => outcome.report,
        Err(e) => return failed(&e),
    };
    let Some(approval) = approval else {
        let mut message = report.summary(&site.name);
        for action in &report.applied {
            message.push_str(&format!("\n  applied: {}", action.description));
        }
        for failure in report.failures() {
            message.push_str(&format!("\n  {failure}"));
        }
        return if report.failed.is_empty() {
            requests::Answer::Done { message }
        } else {
            requests::Answer::Failed { error: message }
        };
    };
    match report.failed.first() {
        Some((action, error)) => failed(&format!("{}: {error}", action.description)),
        None => requests::Answer::Done {
            message: reconcile::approved_next(&site.name, &approval),
        },
    }
}
