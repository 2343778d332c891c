//! `galaxy-ha sim`: drive the simulated lab of one site (show it, move its clock, reset it,
//! inject faults). The world lives at `STATE/sim/SITE.json`.

use anyhow::{Context, bail};

use crate::cli::{ChaosArgs, FaultArgs, OutputFormat, SimCommand};
use crate::manifest::Site;
use crate::platform::sim::{Fault, Lab, render_text};
use crate::settings::SiteArgs;

use super::Exit;

/// The one site a `sim` verb works on.
fn one_site(args: &SiteArgs) -> anyhow::Result<(Site, std::path::PathBuf)> {
    let settings = args.resolve()?;
    let state_dir = settings.state_dir;
    let mut sites = settings.sites;
    if sites.len() > 1 {
        let names: Vec<&str> = sites.iter().map(|s| s.name.as_str()).collect();
        bail!(
            "{} holds several sites ({}); choose one with --site NAME",
            args.manifests.display(),
            names.join(", ")
        );
    }
    let site = sites.pop().context("no site found")?;
    Ok((site, state_dir))
}

/// Runs one `sim` subcommand.
///
/// # Errors
/// Invalid manifests, an unreadable world file, or a fault the lab cannot inject.
pub fn run(command: SimCommand) -> anyhow::Result<Exit> {
    match command {
        SimCommand::Chaos(args) => return chaos(&args),
        SimCommand::Show { site, format } => {
            let (site, state_dir) = one_site(&site.locate()?)?;
            let lab = Lab::load_or_create(&state_dir, &site)?;
            let snapshot = lab.world().snapshot();
            match format {
                OutputFormat::Text => print!("{}", render_text(&snapshot)),
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&snapshot)?),
            }
        }
        SimCommand::Advance { duration, site } => {
            let (site, state_dir) = one_site(&site.locate()?)?;
            let mut lab = Lab::load_or_create(&state_dir, &site)?;
            lab.world_mut().advance(duration);
            lab.save()?;
            println!(
                "{}: clock advanced by {} to {}",
                site.name,
                humantime::format_duration(duration),
                lab.world().now()
            );
        }
        SimCommand::Reset { site } => {
            let (site, state_dir) = one_site(&site.locate()?)?;
            let lab = Lab::create(&state_dir, &site)?;
            println!(
                "{}: fresh world (seed {}) at {}",
                site.name,
                lab.world().seed(),
                lab.world().now()
            );
        }
        SimCommand::Fault(FaultArgs { kind, args, site }) => {
            let fault = Fault::parse(&kind, &args)?;
            let (site, state_dir) = one_site(&site.locate()?)?;
            let mut lab = Lab::load_or_create(&state_dir, &site)?;
            lab.world_mut().inject(&fault)?;
            lab.save()?;
            println!(
                "{}: {kind} {} at {}",
                site.name,
                args.join(" "),
                lab.world().now()
            );
        }
    }
    Ok(Exit::Success)
}

/// `sim chaos`: the figures, and each failing schedule with its replay command.
fn chaos(args: &ChaosArgs) -> anyhow::Result<Exit> {
    let options = crate::chaos::Options {
        first_seed: args.seed.unwrap_or(args.first_seed),
        cases: if args.seed.is_some() { 1 } else { args.cases },
        hours: args.hours,
        extras: crate::chaos::Extras {
            guest_faults: args.guest_faults,
            forced_failovers: args.forced_failovers,
            commits: args.commits,
            snapshots: args.snapshots,
        },
    };
    // On a terminal only: the schedules done, the failures so far and the time left.
    let bar = indicatif::ProgressBar::new(options.cases).with_style(
        indicatif::ProgressStyle::with_template(
            "{pos}/{len} schedules, {msg} failed [{elapsed_precise}, {eta} left]",
        )?,
    );
    bar.set_message("0");
    // Off a terminal (a soak under nohup or a service manager) the bar draws nothing, so a
    // plain line every 1 % shows the run is alive and how far it got.
    let every = (options.cases / 100).max(1);
    let started = std::time::Instant::now();
    let done = std::sync::atomic::AtomicU64::new(0);
    let failed = std::sync::atomic::AtomicU64::new(0);
    let figures = crate::chaos::run_reporting(&options, |held| {
        use std::sync::atomic::Ordering::Relaxed;
        let failures = if held {
            failed.load(Relaxed)
        } else {
            let n = failed.fetch_add(1, Relaxed) + 1;
            bar.set_message(n.to_string());
            n
        };
        bar.inc(1);
        let n = done.fetch_add(1, Relaxed) + 1;
        if bar.is_hidden() && (n.is_multiple_of(every) || n == options.cases) {
            eprintln!(
                "{n}/{} schedules, {failures} failed, {:.0} s",
                options.cases,
                started.elapsed().as_secs_f64()
            );
        }
    })?;
    bar.finish_and_clear();
    println!("{}", figures.summary());
    for case in &figures.failed {
        println!("{}", crate::chaos::describe_failure(case));
    }
    Ok(if figures.failed.is_empty() {
        Exit::Success
    } else {
        Exit::Failed
    })
}
