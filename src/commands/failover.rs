//! `galaxy-ha failover SITE`: a person's approval to fail over, switch over, or test. When
//! the controller (`galaxy-ha run`) works on the state dir, the request goes to it
//! ([`crate::requests`]) and it carries it out on its next pass; otherwise this command does.

use std::time::Duration;

use anyhow::{Context, bail};

use crate::commands::{Exit, prompt};
use crate::execute::Records;
use crate::manifest::Site;
use crate::plan::{Approval, render};
use crate::reconcile;
pub use crate::requests::Ask;
use crate::requests::Requester;
use crate::settings::SiteArgs;

pub fn run(
    name: &str,
    args: &SiteArgs,
    ask: Ask,
    right: Option<&str>,
    yes: bool,
    timeout: Duration,
) -> anyhow::Result<Exit> {
    let right = right
        .map(str::parse::<crate::rights::Right>)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--right: {e}"))?;
    let settings = args.resolve()?;
    let Some(site) = settings.sites.iter().find(|s| s.name == name) else {
        bail!("no site named {name:?} in {}", args.manifests.display());
    };
    let by = Requester::current();
    let Some(_lock) = super::ask::lock_or_controller(&settings.state_dir)? else {
        return ask_the_controller(&settings.state_dir, site, ask, &by, right, yes, timeout);
    };
    let _pair = crate::lock::PairLock::acquire(site, &settings.state_dir)?;
    let mut platform =
        crate::platform::open(site, &settings.state_dir).with_context(|| format!("site {name}"))?;
    let look = reconcile::look(site, platform.as_mut(), &settings.state_dir)?;
    let Some((approval, look)) = approval(site, look, &ask, &by, platform.now()) else {
        return Ok(Exit::Failed);
    };
    print!("{}", render::text(std::slice::from_ref(&look.plan)));
    if !prompt::confirm(&question(&approval), yes)? {
        println!("Failover cancelled; nothing was done.");
        return Ok(Exit::Failed);
    }
    let mut store = Records::new(&settings.state_dir, name);
    let mut alerts = super::alerts::sink(&settings.state_dir, site);
    reconcile::journal_ask(store.backend(), name, &ask, &by, platform.now())?;
    let report = reconcile::reconcile(
        site,
        platform.as_mut(),
        &mut reconcile::Context::new(&mut store, &mut alerts),
        reconcile::Mode::Confirmed(Box::new(look)),
    )?
    .report;
    if let Some((action, error)) = report.failed.first() {
        eprintln!("error: {}: {error}", action.description);
        super::alerts::deliver(&settings.state_dir);
        return Ok(Exit::Failed);
    }
    if let Approval::Switchover { to, .. } = &approval {
        let outcome = reconcile::converge(
            site,
            platform.as_mut(),
            &mut store,
            &mut alerts,
            timeout,
            |_, _| {},
        )
        .inspect_err(|_| super::alerts::deliver(&settings.state_dir))?;
        println!(
            "Switchover complete: System Galaxy runs on {to} ({}). Set spec.primary: {to} in the manifest.",
            outcome
                .plan
                .condition(crate::plan::ConditionType::Protected)
                .map(|c| c.message.as_ref())
                .unwrap_or_default()
        );
    } else {
        println!("{}", reconcile::approved_next(name, &approval));
    }
    super::alerts::deliver(&settings.state_dir);
    Ok(Exit::Success)
}

/// The approval and the look that carries it out, or `None` after saying why not.
fn approval(
    site: &Site,
    look: reconcile::Look,
    ask: &Ask,
    by: &Requester,
    now: jiff::Timestamp,
) -> Option<(Approval, reconcile::Look)> {
    match reconcile::approve(site, look, ask, by, now) {
        Ok(a) => Some(a),
        Err(why) => {
            let what = match ask {
                Ask::EndTest => "end a test failover of",
                Ask::Resume => "resume replication of",
                Ask::Commit => "commit the failover of",
                Ask::Rollback => "roll back the failover of",
                Ask::Failover
                | Ask::ForcedFailover
                | Ask::Test
                | Ask::Drill(_)
                | Ask::SnapshotFailover(_) => "fail over",
                Ask::Apply => "apply",
            };
            eprintln!("error: refusing to {what} site {}: {why}", site.name);
            None
        }
    }
}

fn question(approval: &Approval) -> String {
    match approval {
        Approval::Test { .. } => "Start a test failover?".to_string(),
        Approval::EndTest { .. } => {
            "End the test failover? Its isolated replica shuts down.".to_string()
        }
        Approval::Failover {
            from, forced: true, ..
        } => format!(
            "Force a failover from {from}? The failover monitor still reaches System Galaxy there: it may run on both hosts until {from} is shut down or fenced."
        ),
        Approval::Failover { from, .. } => {
            format!("Fail over from {from}? System Galaxy goes live on the standby host.")
        }
        Approval::Switchover { from, to } => {
            format!("Switch over from {from} to {to}? System Galaxy shuts down cleanly first.")
        }
        Approval::Resume { towards } => format!(
            "Resume replication towards {towards}? The stale VM there is removed (its disks are kept)."
        ),
        Approval::Commit { to } => format!(
            "Commit the failover to {to}? It can no longer be rolled back, and replication resumes towards the old live host."
        ),
        Approval::Rollback { open, old_vm } => format!(
            "Roll the failover back? System Galaxy shuts down on {} and {old_vm:?} starts on {}; what it recorded since {} is lost.",
            open.failover.to, open.failover.from, open.failover.at
        ),
    }
}

/// The controller holds the state dir: show what it would do, and on confirmation leave it
/// the request and wait for its answer.
fn ask_the_controller(
    state_dir: &std::path::Path,
    site: &Site,
    ask: Ask,
    by: &Requester,
    right: Option<crate::rights::Right>,
    yes: bool,
    timeout: Duration,
) -> anyhow::Result<Exit> {
    println!(
        "The controller (galaxy-ha run) works on {}: the request goes to it, and it carries it out on its next pass.",
        state_dir.display()
    );
    // The preview observes the hosts as this account. One given only a right to ask may
    // not reach them (no host credential): the controller checks the request anyway.
    let preview = crate::platform::open(site, state_dir)
        .with_context(|| format!("site {}", site.name))
        .and_then(|mut platform| {
            let look = reconcile::look(site, platform.as_mut(), state_dir)?;
            Ok((look, platform.now()))
        });
    let question = match preview {
        Ok((look, now)) => {
            let Some((approval, look)) = approval(site, look, &ask, by, now) else {
                return Ok(Exit::Failed);
            };
            print!("{}", render::text(std::slice::from_ref(&look.plan)));
            question(&approval)
        }
        Err(e) => {
            eprintln!(
                "note: the plan cannot be shown from this account ({}); the controller checks the request and answers",
                super::message::render(&e)
            );
            format!("Ask the controller: {}?", ask.command(&site.name))
        }
    };
    if !prompt::confirm(&question, yes)? {
        println!("Failover cancelled; nothing was asked.");
        return Ok(Exit::Failed);
    }
    super::ask::controller_with(
        state_dir,
        &site.name,
        ask,
        by,
        right.or(super::ask::right_from_env()?),
        timeout,
    )
}
