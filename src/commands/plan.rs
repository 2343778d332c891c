//! `galaxy-ha plan`: observe and plan every site, act on nothing.

use crate::cli::OutputFormat;
use crate::commands::Outcome;
use crate::execute::Store;
use crate::plan::render;
use crate::reconcile;
use crate::settings::SiteArgs;

pub fn run(args: &SiteArgs, format: OutputFormat) -> anyhow::Result<Outcome> {
    let settings = args.resolve()?;
    let mut plans = Vec::new();
    let mut errors = Vec::new();
    for site in &settings.sites {
        let result = crate::platform::open(site, &settings.state_dir)
            .map_err(anyhow::Error::from)
            .and_then(|mut platform| {
                let store = Store::new(&settings.state_dir, &site.name);
                Ok(reconcile::dry_run(site, platform.as_mut(), &store)?)
            });
        match result {
            Ok(plan) => plans.push(plan),
            Err(e) => errors.push(format!("site {}: {e:#}", site.name)),
        }
    }
    match format {
        OutputFormat::Text => print!("{}", render::text(&plans)),
        OutputFormat::Json => println!("{}", render::json(&plans)),
    }
    for e in &errors {
        eprintln!("error: {e}");
    }
    Ok(if !errors.is_empty() {
        Outcome::Failed
    } else if plans.iter().any(|p| !p.actions.is_empty()) {
        Outcome::ChangesPending
    } else {
        Outcome::Success
    })
}
