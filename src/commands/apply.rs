//! `galaxy-ha apply`: show the plan, confirm, carry it out; with `--wait`, keep reconciling
//! until every site is protecting.

use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::commands::{Exit, prompt};
use crate::execute::Records;
use crate::observed::Activity;
use crate::plan::render;
use crate::platform::Platform;
use crate::reconcile;
use crate::requests::{Ask, Requester};
use crate::settings::Settings;
use crate::settings::SiteArgs;

pub fn run(args: &SiteArgs, yes: bool, wait: bool, timeout: Duration) -> anyhow::Result<Exit> {
    let settings = args.resolve()?;
    let Some(_lock) = super::ask::lock_or_controller(&settings.state_dir)? else {
        return through_the_controller(&settings, yes, wait, timeout);
    };
    let _pairs = settings
        .sites
        .iter()
        .map(|site| crate::lock::PairLock::acquire(site, &settings.state_dir))
        .collect::<Result<Vec<_>, _>>()?;
    let mut platforms = Vec::new();
    let mut looks = Vec::new();
    for site in &settings.sites {
        let mut platform = crate::platform::open(site, &settings.state_dir)
            .with_context(|| format!("site {}", site.name))?;
        looks.push(reconcile::look(
            site,
            platform.as_mut(),
            &settings.state_dir,
        )?);
        platforms.push(platform);
    }
    let plans: Vec<_> = looks.iter().map(|l| l.plan.clone()).collect();
    print!("{}", render::text(&plans));
    let pending: usize = plans.iter().map(|p| p.actionable().len()).sum();
    if pending > 0 && !prompt::confirm(&format!("Apply {pending} action(s)?"), yes)? {
        println!("Apply cancelled; nothing was done.");
        return Ok(Exit::Failed);
    }
    let mut ok = true;
    for ((site, look), platform) in settings.sites.iter().zip(looks).zip(platforms.iter_mut()) {
        let mut store = Records::new(&settings.state_dir, &site.name);
        let mut alerts = super::alerts::sink(&settings.state_dir, site);
        // What was applied is the last good manifest, as for `run`: `status` and a later
        // `run` fall back on it while the file on disk is invalid.
        if let Err(e) = crate::last_good::save(&settings.state_dir, site) {
            tracing::warn!(site = %site.name, "cannot keep the last good manifest in the state dir: {e}");
        }
        let reconcile::Outcome { plan, report, .. } = reconcile::reconcile(
            site,
            platform.as_mut(),
            &mut reconcile::Context::new(&mut store, &mut alerts),
            reconcile::Mode::Confirmed(Box::new(look)),
        )?;
        let plan = &plan;
        println!(
            "{}{}",
            report.summary(&site.name),
            plan.maintenance
                .as_ref()
                .map(|m| format!(" (maintenance: {m})"))
                .unwrap_or_default()
        );
        for failure in report.failures() {
            println!("  {failure}");
            ok = false;
        }
        if wait {
            let mut bar = Progress::default();
            // Every pass's actions, so that the report counts what ran while waiting (a
            // switchover's shutdown, failover, resume), not only the first pass.
            let mut waited = 0usize;
            match reconcile::converge(
                site,
                platform.as_mut(),
                &mut store,
                &mut alerts,
                timeout,
                |o, p| {
                    waited += o.report.applied.len();
                    bar.show(o, p);
                    for action in &o.report.applied {
                        bar.say(&format!("[{}] applied: {}", p.now(), action.description));
                    }
                    for (action, error) in &o.report.failed {
                        bar.say(&format!(
                            "[{}] failed: {}: {error}",
                            p.now(),
                            action.description
                        ));
                    }
                },
            ) {
                Ok(outcome) => {
                    bar.done();
                    println!(
                        "Site {}: converged at {} after {waited} more action(s): {}",
                        site.name,
                        platform.now(),
                        outcome
                            .plan
                            .condition(crate::plan::ConditionType::Protected)
                            .map(|c| c.message.as_ref())
                            .unwrap_or_default()
                    );
                }
                Err(e) => {
                    bar.done();
                    eprintln!("error: {e}");
                    ok = false;
                }
            }
        }
    }
    super::alerts::deliver(&settings.state_dir);
    Ok(if ok { Exit::Success } else { Exit::Failed })
}

/// The controller (`galaxy-ha run`) holds the state dir: show the plans, and on confirmation
/// ask it for a pass of each site now; with `--wait`, follow each site until it protects.
fn through_the_controller(
    settings: &Settings,
    yes: bool,
    wait: bool,
    timeout: Duration,
) -> anyhow::Result<Exit> {
    println!(
        "The controller (galaxy-ha run) works on {}: it carries out each site's plan itself; this asks it for a pass now.",
        settings.state_dir.display()
    );
    let mut plans = Vec::new();
    for site in &settings.sites {
        let mut platform = crate::platform::open(site, &settings.state_dir)
            .with_context(|| format!("site {}", site.name))?;
        plans.push(reconcile::look(site, platform.as_mut(), &settings.state_dir)?.plan);
    }
    print!("{}", render::text(&plans));
    let pending: usize = plans.iter().map(|p| p.actionable().len()).sum();
    if pending > 0 && !prompt::confirm(&format!("Apply {pending} action(s)?"), yes)? {
        println!("Apply cancelled; nothing was asked.");
        return Ok(Exit::Failed);
    }
    let by = Requester::current();
    let mut exit = Exit::Success;
    for site in &settings.sites {
        if super::ask::controller(&settings.state_dir, &site.name, Ask::Apply, &by, timeout)?
            != Exit::Success
        {
            exit = Exit::Failed;
            continue;
        }
        if wait && !converged(settings, site, timeout)? {
            exit = Exit::Failed;
        }
    }
    Ok(exit)
}

/// Follows a site the controller drives until it protects, reading only.
fn converged(
    settings: &Settings,
    site: &crate::manifest::Site,
    timeout: Duration,
) -> anyhow::Result<bool> {
    let start = std::time::Instant::now();
    let mut last = None;
    let mut platform = crate::platform::open(site, &settings.state_dir)?;
    loop {
        let look = reconcile::look(site, platform.as_mut(), &settings.state_dir)?;
        let activity = look.observed.job.as_ref().map(|j| j.activity);
        if activity != last {
            last = activity;
            eprintln!(
                "[{}] {}: {}",
                platform.now(),
                site.name,
                look.observed
                    .job
                    .as_ref()
                    .map_or("no job".to_string(), |j| {
                        format!("job {:?} {}", j.name, j.activity)
                    })
            );
        }
        if look
            .plan
            .condition(crate::plan::ConditionType::Ready)
            .is_some_and(|c| c.status)
        {
            println!("Site {}: converged at {}", site.name, platform.now());
            return Ok(true);
        }
        if start.elapsed() >= timeout {
            eprintln!(
                "error: site {}: not converged within {}: {}",
                site.name,
                humantime::format_duration(timeout),
                look.plan.waiting.join("; ")
            );
            return Ok(false);
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// A progress bar while the job synchronizes, and one line per activity change for logs.
#[derive(Default)]
struct Progress {
    bar: Option<ProgressBar>,
    last: Option<Activity>,
}

impl Progress {
    fn show(&mut self, outcome: &reconcile::Outcome, platform: &dyn Platform) {
        let job = outcome.observed.job.as_ref();
        let current = job.map(|j| j.activity);
        if current != self.last {
            self.last = current;
            let what = job.map_or("no job".to_string(), |j| {
                format!("job {:?} {}", j.name, j.activity)
            });
            eprintln!("[{}] {}: {what}", platform.now(), outcome.plan.site);
        }
        if let Some(percent) = job
            .filter(|j| j.activity == Activity::Synchronizing)
            .and_then(|j| j.percent)
        {
            let bar = self.bar.get_or_insert_with(|| {
                let b = ProgressBar::new(100);
                b.set_style(
                    ProgressStyle::with_template("synchronizing {bar:40} {pos:>3}%")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                b
            });
            bar.set_position(u64::from(percent));
        }
    }

    /// A line of the report on standard output, above the bar while it shows.
    fn say(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| println!("{line}")),
            None => println!("{line}"),
        }
    }

    fn done(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
