//! `galaxy-ha history`: each site's journal as a timeline.

use std::time::Duration;

use crate::cli::OutputFormat;
use crate::commands::Exit;
use crate::fleet::CoordinationArgs;
use crate::history::{self, Item};
use crate::settings::SiteArgs;

/// The site's journal, saying how many damaged lines were skipped.
///
/// # Errors
/// The store cannot be read.
pub(super) fn journal(
    store: &dyn crate::store::SiteStore,
    site: &str,
    state_dir: &std::path::Path,
) -> anyhow::Result<Vec<crate::journal::Entry>> {
    let (entries, skipped) = store.journal(site)?;
    if skipped > 0 {
        eprintln!(
            "warning: site {site}: {skipped} damaged journal line(s) skipped in {}",
            crate::store::files::journal_path(state_dir, site).display()
        );
    }
    Ok(entries)
}

/// Runs `f` on where the journals live: the state dir's files, or etcd in a fleet.
///
/// # Errors
/// etcd cannot be reached, or `f`'s.
pub(super) fn with_store<T>(
    state_dir: &std::path::Path,
    coordination: &CoordinationArgs,
    f: impl FnOnce(&dyn crate::store::SiteStore) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let fleet = super::status::connect(coordination)?;
    let files = crate::store::FileStore::new(state_dir);
    match &fleet {
        Some((_, f_store)) => f(f_store),
        None => f(&files),
    }
}

/// The instant `since` before `now` (the site's own clock); past the start of time counts
/// from the start: everything.
///
/// # Errors
/// `since` is beyond what a timestamp can hold.
pub(super) fn back_from(
    now: jiff::Timestamp,
    since: Option<Duration>,
) -> anyhow::Result<Option<jiff::Timestamp>> {
    Ok(match since {
        Some(d) => now.checked_sub(jiff::SignedDuration::try_from(d)?).ok(),
        None => None,
    })
}

pub fn run(
    args: &SiteArgs,
    since: Option<Duration>,
    kinds: &[String],
    format: OutputFormat,
    coordination: &CoordinationArgs,
) -> anyhow::Result<Exit> {
    let settings = args.resolve()?;
    let mut items: Vec<Item> = Vec::new();
    with_store(&settings.state_dir, coordination, |store| {
        for site in &settings.sites {
            let entries = journal(store, &site.name, &settings.state_dir)?;
            // "Since" counts back from the site's own clock (the lab's virtual one, or now).
            let cutoff = match since {
                Some(_) => back_from(
                    crate::platform::open(site, &settings.state_dir)?.now(),
                    since,
                )?,
                None => None,
            };
            items.extend(history::since(
                history::timeline(&site.name, &entries),
                cutoff,
            ));
        }
        Ok(())
    })?;
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
