//! `galaxy-ha status`: every site's job health and conditions, once or redrawn in place.

use std::io::Write;
use std::time::Duration;

use crate::cli::OutputFormat;
use crate::commands::Outcome;
use crate::reconcile;
use crate::settings::SiteArgs;
use crate::status::{self, Status};

pub fn run(
    args: &SiteArgs,
    format: OutputFormat,
    watch: Option<Duration>,
) -> anyhow::Result<Outcome> {
    let Some(every) = watch else {
        let (doc, failed) = look(args)?;
        print(&doc, format, false)?;
        return Ok(if failed {
            Outcome::Failed
        } else {
            Outcome::Success
        });
    };
    loop {
        // Manifests are read afresh each time: an edit shows at the next redraw.
        match look(args) {
            Ok((doc, _)) => print(&doc, format, true)?,
            Err(e) => eprintln!("error: {e:#}"),
        }
        std::thread::sleep(every);
    }
}

/// Every site's status; sites that could not be looked at are reported on stderr.
fn look(args: &SiteArgs) -> anyhow::Result<(Status, bool)> {
    let settings = args.resolve()?;
    let mut sites = Vec::new();
    let mut failed = false;
    let outbox = crate::alert::outbox::Outbox::new(&settings.state_dir);
    for site in &settings.sites {
        let pending = outbox.pending_for(&site.name);
        let result = (|| -> anyhow::Result<_> {
            let mut platform = crate::platform::open(site, &settings.state_dir)?;
            let look = reconcile::look(site, platform.as_mut(), &settings.state_dir)?;
            Ok(status::site(
                &look.plan,
                &look.observed,
                &look.memory,
                &site.manifest.spec.vm.name,
                pending,
            ))
        })();
        match result {
            Ok(s) => sites.push(s),
            Err(e) => {
                eprintln!("error: site {}: {e:#}", site.name);
                failed = true;
            }
        }
    }
    Ok((
        Status {
            format_version: status::FORMAT_VERSION,
            sites,
        },
        failed,
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
