//! `galaxy-ha status`: every site's job health and conditions, once or redrawn in place.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;

use crate::cli::OutputFormat;
use crate::commands::Outcome;
use crate::fleet::{CoordinationArgs, Fleet};
use crate::reconcile;
use crate::settings::SiteArgs;
use crate::status::{self, Status};

pub fn run(
    args: &SiteArgs,
    format: OutputFormat,
    watch: Option<Duration>,
    coordination: &CoordinationArgs,
) -> anyhow::Result<Outcome> {
    let fleet = connect(coordination)?;
    let fleet = fleet.as_ref().map(|(_, f)| f);
    let Some(every) = watch else {
        let (doc, unobserved) = look(args, fleet)?;
        print(&doc, format, false)?;
        return Ok(if unobserved.is_empty() {
            Outcome::Success
        } else {
            Outcome::Failed
        });
    };
    loop {
        // Manifests are read afresh each time: an edit shows at the next redraw.
        match look(args, fleet) {
            Ok((doc, _)) => print(&doc, format, true)?,
            Err(e) => eprintln!("error: {e:#}"),
        }
        std::thread::sleep(every);
    }
}

/// `status --check`: one line and the monitoring plugin's exit code. Whatever keeps the
/// sites from being looked at (no manifest, etcd away) is UNKNOWN, never a plain error.
pub fn check(args: &SiteArgs, coordination: &CoordinationArgs) -> anyhow::Result<Outcome> {
    let looked = connect(coordination).and_then(|fleet| look(args, fleet.as_ref().map(|(_, f)| f)));
    let (state, line) = match looked {
        Ok((doc, unobserved)) => status::check::line(&doc, &unobserved),
        Err(e) => (
            status::CheckState::Unknown,
            format!(
                "GALAXY-HA UNKNOWN - {}",
                format!("{e:#}").replace('\n', " ")
            ),
        ),
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(Outcome::Check(state))
}

/// In a fleet, memory lives in etcd and each site shows its owner.
pub(super) fn connect(
    coordination: &CoordinationArgs,
) -> anyhow::Result<Option<(tokio::runtime::Runtime, Fleet)>> {
    Ok(match coordination.resolve()? {
        Some(options) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            let fleet = runtime.block_on(Fleet::connect(options))?;
            Some((runtime, fleet))
        }
        None => None,
    })
}

/// Every site's status, and the sites that could not be looked at with why (also reported
/// on stderr).
fn look(args: &SiteArgs, fleet: Option<&Fleet>) -> anyhow::Result<(Status, Vec<(String, String)>)> {
    let settings = args.resolve()?;
    let owners = match fleet {
        Some(f) => Some(
            f.runtime()
                .block_on(f.fetch_owners())
                .context("cannot read the sites' owners from etcd")?,
        ),
        None => None,
    };
    let files = crate::store::FileStore::new(&settings.state_dir);
    let store: &dyn crate::store::SiteStore = match fleet {
        Some(f) => f,
        None => &files,
    };
    let mut sites = Vec::new();
    let mut unobserved = Vec::new();
    let outbox = crate::alert::outbox::Outbox::new(&settings.state_dir);
    for site in &settings.sites {
        let pending = outbox.pending_for(&site.name);
        let result = (|| -> anyhow::Result<_> {
            let mut platform = crate::platform::open(site, &settings.state_dir)?;
            let look = reconcile::look_in(site, platform.as_mut(), store)?;
            let mut status = status::site(site, &look, platform.now(), pending);
            if let Some(owners) = &owners {
                status.owner = Some(
                    owners
                        .get(&site.name)
                        .cloned()
                        .unwrap_or_else(|| "none".to_string()),
                );
            }
            Ok(status)
        })();
        match result {
            Ok(s) => sites.push(s),
            Err(e) => {
                eprintln!("error: site {}: {e:#}", site.name);
                unobserved.push((site.name.clone(), format!("{e:#}")));
            }
        }
    }
    Ok((
        Status {
            format_version: status::FORMAT_VERSION,
            sites,
        },
        unobserved,
    ))
}

fn print(doc: &Status, format: OutputFormat, redraw: bool) -> anyhow::Result<()> {
    if format == OutputFormat::Text && redraw {
        // Clear the screen and home the cursor, then draw: the view stays in place. Through
        // `console`, which uses the console API on a Windows console that takes no escapes.
        console::Term::stdout().clear_screen()?;
    }
    let mut out = std::io::stdout().lock();
    match (format, redraw) {
        (OutputFormat::Text, true) => {
            write!(out, "{}", status::text(doc))?;
            writeln!(out, "(redrawn every few seconds; Ctrl-C to quit)")?;
        }
        (OutputFormat::Text, false) => write!(out, "{}", status::text(doc))?,
        (OutputFormat::Json, true) => writeln!(out, "{}", serde_json::to_string(doc)?)?,
        (OutputFormat::Json, false) => writeln!(out, "{}", status::json(doc))?,
    }
    out.flush()?;
    Ok(())
}
