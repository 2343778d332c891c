//! `galaxy-ha alert test`: a test message to every site's recipients, as the guide's Test
//! button sends one; it bypasses the level and event ID filters, like the button.

use anyhow::Context;

use crate::alert::outbox::new_id;
use crate::alert::{Alert, email};
use crate::cli::AlertCommand;
use crate::commands::Exit;
use crate::model::operation::{AlertKind, Severity};

pub fn run(command: AlertCommand) -> anyhow::Result<Exit> {
    let AlertCommand::Test(args) = command;
    let settings = args.locate()?.resolve()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut sent = 0;
    let mut failed = 0;
    for site in &settings.sites {
        let Some(spec) = site
            .manifest
            .spec
            .notifications
            .as_ref()
            .and_then(|n| n.email.as_ref())
        else {
            println!("Site {}: no notifications.email; nothing sent", site.name);
            continue;
        };
        let alert = Alert {
            site: site.name.clone(),
            kind: AlertKind::Test,
            severity: Severity::Information,
            key: "test".into(),
            message: format!(
                "Test message from galaxy-ha for site {}: e-mail notification works.",
                site.name
            ),
            at: jiff::Timestamp::now(),
            action: None,
        };
        match runtime.block_on(email::send(spec, &alert, &new_id())) {
            Ok(()) => {
                sent += 1;
                println!(
                    "Site {}: test message accepted by {}:{} for {}",
                    site.name,
                    spec.smtp.server,
                    spec.smtp.port,
                    spec.to.join(", ")
                );
            }
            Err(e) => {
                failed += 1;
                println!("Site {}: test message failed: {e}", site.name);
            }
        }
    }
    if sent + failed == 0 {
        eprintln!("error: no site has notifications.email; nothing to test");
        return Ok(Exit::Failed);
    }
    Ok(if failed == 0 {
        Exit::Success
    } else {
        Exit::Failed
    })
}
