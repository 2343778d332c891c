//! Alerts raised by a command that acts (`apply`, `failover`): queued in the same durable
//! outbox as the service's, then e-mailed once before the command ends. What the mail server
//! does not accept now stays queued for the service.

use std::path::Path;
use std::sync::Arc;

use crate::alert::outbox::{self, Outbox, OutboxSink};
use crate::manifest::Site;

/// The sink for one site's alerts.
pub fn sink(state_dir: &Path, site: &Site) -> OutboxSink {
    OutboxSink::for_site(Outbox::new(state_dir), site, Arc::default())
}

/// Sends what waits in the outbox, once; says on stderr what was kept.
pub fn deliver(state_dir: &Path) {
    let outbox = Outbox::new(state_dir);
    if outbox.pending().is_empty() {
        return;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "warning: alerts kept in {} (cannot start the async runtime: {e})",
                outbox.dir().display()
            );
            return;
        }
    };
    let done = runtime.block_on(outbox::deliver_once(&outbox));
    if done.kept > 0 {
        eprintln!(
            "warning: {} alert(s) e-mailed, {} not delivered and kept in {}; the service sends them when it runs",
            done.sent,
            done.kept,
            outbox.dir().display()
        );
    }
}
