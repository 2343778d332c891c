//! `galaxy-ha status`: every site's job health and conditions, once or redrawn in place.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;

use crate::cli::OutputFormat;
use crate::commands::Exit;
use crate::fleet::{CoordinationArgs, Fleet};
use crate::last_good;
use crate::manifest::{self, Site};
use crate::reconcile;
use crate::settings::{SiteArgs, SiteFlags};
use crate::status::{self, Status};

pub fn run(
    args: &SiteArgs,
    format: OutputFormat,
    watch: Option<Duration>,
    coordination: &CoordinationArgs,
) -> anyhow::Result<Exit> {
    let fleet = connect(coordination)?;
    let fleet = fleet.as_ref().map(|(_, f)| f);
    let Some(every) = watch else {
        let (doc, unobserved) = look(args, fleet)?;
        print(&doc, format, false)?;
        return Ok(if unobserved.is_empty() {
            Exit::Success
        } else {
            Exit::Failed
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
pub fn check(flags: &SiteFlags, coordination: &CoordinationArgs) -> anyhow::Result<Exit> {
    let looked = flags.locate().and_then(|args| {
        connect(coordination).and_then(|fleet| look(&args, fleet.as_ref().map(|(_, f)| f)))
    });
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
    Ok(Exit::Check(state))
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
    let (shown, mut unobserved) = sites(args)?;
    let state_dir = args.state_dir();
    let owners = match fleet {
        Some(f) => Some(
            f.runtime()
                .block_on(f.fetch_owners())
                .context("cannot read the sites' owners from etcd")?,
        ),
        None => None,
    };
    let files = crate::store::FileStore::new(&state_dir);
    let store: &dyn crate::store::SiteStore = match fleet {
        Some(f) => f,
        None => &files,
    };
    let mut sites = Vec::new();
    let outbox = crate::alert::outbox::Outbox::new(&state_dir);
    for (site, invalid) in &shown {
        let pending = outbox.pending_for(&site.name);
        let result = (|| -> anyhow::Result<_> {
            let mut platform = crate::platform::open(site, &state_dir)?;
            let look = reconcile::look_in(site, platform.as_mut(), store)?;
            let mut status = status::site(site, &look, platform.now(), pending);
            status.mark_manifest_invalid(invalid.as_deref());
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

/// The sites to show, each with its manifest file's errors when the file on disk is invalid
/// and the site is shown on its last good manifest (kept in the state dir, as the running
/// controller uses it); and the sites or files that cannot be shown, with why. A typo in one
/// manifest must not blank the status of every site at 3 a.m.
#[allow(clippy::type_complexity)]
fn sites(args: &SiteArgs) -> anyhow::Result<(Vec<(Site, Option<String>)>, Vec<(String, String)>)> {
    let state_dir = args.state_dir();
    let only = args.site.as_deref();
    let loaded = manifest::each::load(
        &args.manifests,
        only,
        &mut Default::default(),
        &[] as &[Site],
    );
    let mut shown: Vec<(Site, Option<String>)> = loaded
        .sites
        .into_iter()
        .map(|s| (std::sync::Arc::unwrap_or_clone(s), None))
        .collect();
    let mut unshown = Vec::new();
    for (file, invalid) in loaded.invalid {
        let errors = invalid.to_string();
        let wanted = |name: &str| only.is_none_or(|n| n == name);
        match last_good::find(&state_dir, &file) {
            last_good::Found::Site(site)
                if wanted(&site.name) && !shown.iter().any(|(s, _)| s.name == site.name) =>
            {
                eprintln!(
                    "warning: site {}: its manifest is invalid; shown as it runs, on its last good manifest:\n{errors}",
                    site.name
                );
                shown.push((*site, Some(errors)));
            }
            last_good::Found::Unusable { site, why } if wanted(&site) => {
                let why = format!("its manifest is invalid and {why}:\n{errors}");
                eprintln!("error: site {site}: {why}");
                unshown.push((site, why));
            }
            last_good::Found::Nothing if only.is_none() => {
                let name = file.file_stem().map_or_else(
                    || file.display().to_string(),
                    |s| s.to_string_lossy().into_owned(),
                );
                let why = format!("its manifest is invalid and was never managed:\n{errors}");
                eprintln!("error: {}: {why}", file.display());
                unshown.push((name, why));
            }
            _ => {}
        }
    }
    if shown.is_empty() && unshown.is_empty() {
        // Nothing to show: the loader's own error says why (no such path, no site of that
        // name, no manifests).
        args.resolve()?;
        anyhow::bail!("no site to show in {}", args.manifests.display());
    }
    Ok((shown, unshown))
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
