//! `galaxy-ha plan`: observe and plan every site, act on nothing; with `--assume`/`--after`,
//! plan a projected site instead (what-if).

use std::time::Duration;

use crate::cli::OutputFormat;
use crate::commands::Exit;
use crate::execute::Records;
use crate::manifest::Site;
use crate::plan::{self, Plan, render};
use crate::platform::sim::Fault;
use crate::reconcile;
use crate::settings::SiteArgs;
use crate::whatif;

pub fn run(
    args: &SiteArgs,
    format: OutputFormat,
    assume: &[String],
    after: Option<Duration>,
) -> anyhow::Result<Exit> {
    let settings = args.resolve()?;
    let faults = assume
        .iter()
        .map(|a| whatif::parse(a))
        .collect::<Result<Vec<_>, _>>()?;
    let what_if = !faults.is_empty() || after.is_some();
    let mut plans = Vec::new();
    let mut errors = Vec::new();
    for site in &settings.sites {
        let result = if what_if {
            projected(
                site,
                &settings.state_dir,
                &faults,
                after.unwrap_or_default(),
            )
        } else {
            crate::platform::open(site, &settings.state_dir)
                .map_err(anyhow::Error::from)
                .and_then(|mut platform| {
                    let store = Records::new(&settings.state_dir, &site.name);
                    Ok(reconcile::dry_run(site, platform.as_mut(), &store)?)
                })
        };
        match result {
            Ok(plan) => plans.push(plan),
            Err(e) => errors.push(super::message::render(
                &e.context(format!("site {}", site.name)),
            )),
        }
    }
    // Errors first: a summary of the sites that could be planned must not read as "nothing
    // to do" for the ones that could not.
    for e in &errors {
        eprintln!("error: {e}");
    }
    if plans.is_empty() && !errors.is_empty() && format == OutputFormat::Text {
        return Ok(Exit::Failed);
    }
    match format {
        OutputFormat::Text => {
            if what_if {
                let faults: Vec<String> = faults.iter().map(Fault::to_string).collect();
                println!(
                    "What if: {}, then {} with nothing done. A projection: nothing was changed.\n",
                    if faults.is_empty() {
                        "nothing happens".into()
                    } else {
                        faults.join(", ")
                    },
                    humantime::format_duration(after.unwrap_or_default())
                );
            }
            print!("{}", render::text(&plans));
        }
        OutputFormat::Json => println!("{}", render::json(&plans)),
    }
    Ok(if !errors.is_empty() {
        Exit::Failed
    } else if plans.iter().any(|p| !p.actions.is_empty()) {
        Exit::ChangesPending
    } else {
        Exit::Success
    })
}

/// The plan the controller would make if `faults` happened now and `after` passed.
fn projected(
    site: &Site,
    state_dir: &std::path::Path,
    faults: &[Fault],
    after: Duration,
) -> anyhow::Result<Plan> {
    let memory = crate::store::files::load_memory(state_dir, &site.name)?;
    let (observed, now) = whatif::look_ahead(site, state_dir, faults, after)?;
    Ok(plan::plan(&site.manifest, &observed, &memory, now))
}
