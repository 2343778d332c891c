//! `galaxy-ha status`: every site's job health and conditions.

use crate::cli::OutputFormat;
use crate::commands::Outcome;
use crate::reconcile;
use crate::settings::SiteArgs;
use crate::status::{self, Status};

pub fn run(args: &SiteArgs, format: OutputFormat) -> anyhow::Result<Outcome> {
    let settings = args.resolve()?;
    let mut sites = Vec::new();
    let mut failed = false;
    for site in &settings.sites {
        let result = (|| -> anyhow::Result<_> {
            let mut platform = crate::platform::open(site, &settings.state_dir)?;
            let look = reconcile::look(site, platform.as_mut(), &settings.state_dir)?;
            Ok(status::site(
                &look.plan,
                &look.observed,
                &look.memory,
                &site.manifest.spec.vm.name,
                0,
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
    let doc = Status {
        format_version: status::FORMAT_VERSION,
        sites,
    };
    match format {
        OutputFormat::Text => print!("{}", status::text(&doc)),
        OutputFormat::Json => println!("{}", status::json(&doc)),
    }
    Ok(if failed {
        Outcome::Failed
    } else {
        Outcome::Success
    })
}
