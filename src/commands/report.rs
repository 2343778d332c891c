//! `galaxy-ha report`: run reports (failovers, switchovers, rollbacks, resumes, drills) for
//! auditors, as Markdown, one printable HTML page, or JSON.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::cli::ReportFormat;
use crate::commands::Exit;
use crate::fleet::CoordinationArgs;
use crate::report::{self, Report};
use crate::settings::SiteArgs;

pub struct Options {
    pub run: Option<String>,
    pub since: Option<Duration>,
    pub format: ReportFormat,
    pub out: Option<PathBuf>,
}

pub fn run(args: &SiteArgs, o: &Options, coordination: &CoordinationArgs) -> anyhow::Result<Exit> {
    let settings = args.resolve()?;
    let mut reports: Vec<Report> = Vec::new();
    let mut generated = jiff::Timestamp::now();
    super::history::with_store(&settings.state_dir, coordination, |store| {
        for site in &settings.sites {
            let entries = super::history::journal(store, &site.name, &settings.state_dir)?;
            let memory = store.load(&site.name)?;
            // The site's own clock: the lab's virtual one, or now.
            let now = crate::platform::open(site, &settings.state_dir)?.now();
            generated = now;
            reports.extend(report::since(
                report::runs(&site.name, &entries, &memory, now),
                super::history::back_from(now, o.since)?,
            ));
        }
        Ok(())
    })?;
    if let Some(id) = &o.run {
        reports.retain(|r| r.run.id == *id);
        if reports.is_empty() {
            bail!("no run {id:?} in the journal; `galaxy-ha report` lists them all");
        }
    }
    reports.sort_by_key(|r| r.run.started);
    let text = match o.format {
        ReportFormat::Md if reports.is_empty() => "No run in this period.\n".to_string(),
        ReportFormat::Md => report::markdown(&reports),
        ReportFormat::Html => {
            let names: Vec<&str> = settings.sites.iter().map(|s| s.name.as_str()).collect();
            let title = match &o.run {
                Some(id) => format!("galaxy-ha run report: {id}"),
                None => format!("galaxy-ha run reports: {}", names.join(", ")),
            };
            report::html(&title, generated, &reports)
        }
        ReportFormat::Json => format!("{}\n", report::json(&reports)),
    };
    match &o.out {
        Some(path) => {
            crate::state::write_atomic(path, text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "{} run report(s) written to {}",
                reports.len(),
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(Exit::Success)
}
