//! `galaxy-ha failover SITE`: a person's approval to fail over, switch over, or test.

use std::time::Duration;

use anyhow::{Context, bail};

use crate::commands::{Exit, prompt};
use crate::execute::Records;
use crate::lock::StateLock;
use crate::plan::{self, Approval, render};
use crate::reconcile;
use crate::settings::SiteArgs;

/// What the person asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// A failover, or a planned switchover when both hosts are healthy.
    Failover,
    /// A test failover (a drill).
    Test,
    /// The end of the running test failover.
    EndTest,
}

impl Ask {
    pub fn of(test: bool, end: bool) -> Ask {
        match (test, end) {
            (true, true) => Ask::EndTest,
            (true, false) => Ask::Test,
            _ => Ask::Failover,
        }
    }
}

pub fn run(
    name: &str,
    args: &SiteArgs,
    ask: Ask,
    yes: bool,
    timeout: Duration,
) -> anyhow::Result<Exit> {
    let settings = args.resolve()?;
    let Some(site) = settings.sites.iter().find(|s| s.name == name) else {
        bail!("no site named {name:?} in {}", args.manifests.display());
    };
    let _lock = StateLock::acquire(&settings.state_dir)?;
    let _pair = crate::lock::PairLock::acquire(site, &settings.state_dir)?;
    let mut platform =
        crate::platform::open(site, &settings.state_dir).with_context(|| format!("site {name}"))?;
    let look = reconcile::look(site, platform.as_mut(), &settings.state_dir)?;
    if let Some(why) = &look.plan.maintenance {
        bail!("site {name} is in maintenance ({why}); remove spec.maintenance first");
    }
    let approval = match ask {
        Ask::EndTest => plan::approve_end(&look.observed),
        Ask::Test => plan::approve(&site.manifest, &look.observed, &look.memory, true),
        Ask::Failover => plan::approve(&site.manifest, &look.observed, &look.memory, false),
    };
    let approval = match approval {
        Ok(a) => a,
        Err(why) => {
            let what = if ask == Ask::EndTest {
                "end a test failover of"
            } else {
                "fail over"
            };
            eprintln!("error: refusing to {what} site {name}: {why}");
            return Ok(Exit::Failed);
        }
    };
    let plan = plan::approved(
        &site.manifest,
        &look.observed,
        &look.memory,
        platform.now(),
        &approval,
    );
    print!("{}", render::text(std::slice::from_ref(&plan)));
    let look = reconcile::Look { plan, ..look };
    let question = match &approval {
        Approval::Test { .. } => "Start a test failover?".to_string(),
        Approval::EndTest { .. } => {
            "End the test failover? Its isolated replica shuts down.".to_string()
        }
        Approval::Failover { from, .. } => {
            format!("Fail over from {from}? System Galaxy goes live on the standby host.")
        }
        Approval::Switchover { from, to } => {
            format!("Switch over from {from} to {to}? System Galaxy shuts down cleanly first.")
        }
    };
    if !prompt::confirm(&question, yes)? {
        println!("Failover cancelled; nothing was done.");
        return Ok(Exit::Failed);
    }
    let mut store = Records::new(&settings.state_dir, name);
    let mut alerts = super::alerts::sink(&settings.state_dir, site);
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
    match approval {
        Approval::Test { .. } => println!(
            "Test failover started: the replica boots without network; replication keeps protecting. End it with: galaxy-ha failover {name} --test --end"
        ),
        Approval::EndTest { .. } => println!(
            "Test failover ended: the isolated replica is off; replication keeps protecting."
        ),
        Approval::Failover { .. } => println!(
            "Failover started. Replication resumes in the other direction when the old live host returns; then set spec.primary to the new live host."
        ),
        Approval::Switchover { to, .. } => {
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
                    .map(|c| c.message.as_str())
                    .unwrap_or_default()
            );
        }
    }
    super::alerts::deliver(&settings.state_dir);
    Ok(Exit::Success)
}
