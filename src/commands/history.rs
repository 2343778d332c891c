//! `galaxy-ha history`: each site's journal as a timeline.

use std::time::Duration;

use crate::cli::OutputFormat;
use crate::commands::Exit;
use crate::fleet::CoordinationArgs;
use crate::history::{self, Item};
use crate::settings::SiteArgs;

pub fn run(
    args: &SiteArgs,
    since: Option<Duration>,
    kinds: &[String],
    format: OutputFormat,
    coordination: &CoordinationArgs,
) -> anyhow::Result<Exit> {
    let settings = args.resolve()?;
    let fleet = super::status::connect(coordination)?;
    let files = crate::store::FileStore::new(&settings.state_dir);
    let store: &dyn crate::store::SiteStore = match &fleet {
        Some((_, f)) => f,
        None => &files,
    };
    let mut items: Vec<Item> = Vec::new();
    for site in &settings.sites {
        let (entries, skipped) = store.journal(&site.name)?;
        if skipped > 0 {
            eprintln!(
                "warning: site {}: {skipped} damaged journal line(s) skipped in {}",
                site.name,
                crate::store::files::journal_path(&settings.state_dir, &site.name).display()
            );
        }
        // "Since" counts back from the site's own clock (the lab's virtual one, or now).
        let cutoff = match since {
            Some(d) => {
                let now = crate::platform::open(site, &settings.state_dir)?.now();
                // Past the start of time counts from the start: everything.
                now.checked_sub(jiff::SignedDuration::try_from(d)?).ok()
            }
            None => None,
        };
        items.extend(history::since(
            history::timeline(&site.name, &entries),
            cutoff,
        ));
    }
    items.retain(|i| kinds.is_empty() || kinds.iter().any(|k| k == i.category));
    items.sort_by_key(|i| i.at);
    match format {
        OutputFormat::Text => {
            if items.is_empty() {
                println!("{}", history::nothing(since.is_some() || !kinds.is_empty()));
            } else {
                print!("{}", history::text(&history::fold_baseline(items)));
            }
        }
        OutputFormat::Json => println!("{}", history::json(&items)),
    }
    Ok(Exit::Success)
}
