//! `galaxy-ha run`: take the state dir's lock, run the service until a signal or the
//! Windows service's stop request (`stop`).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::commands::Exit;
use crate::fleet::CoordinationArgs;
use crate::http::listen::{AccessArgs, Listen};
use crate::lock::StateLock;
use crate::service::{self, Options};
use crate::settings::SiteArgs;
use crate::stop;
use crate::store::served;

pub fn run(
    args: &SiteArgs,
    dry_run: bool,
    sim_speed: u32,
    alert_retry: Duration,
    listen: Option<SocketAddr>,
    access: AccessArgs,
    coordination: &CoordinationArgs,
) -> anyhow::Result<Exit> {
    let fleet = coordination.resolve()?;
    if dry_run && fleet.is_some() {
        bail!(
            "--dry-run cannot join a fleet: it would own sites and act on none of them. Run the dry run without --coordination, on a copy of the state dir"
        );
    }
    if !args.manifests.exists() {
        bail!(
            "{}: no such file or directory; name a manifest or a directory of manifests",
            args.manifests.display()
        );
    }
    let state_dir = args.state_dir();
    // In a fleet, controllers may share a state dir (the lab's worlds): each locks its own.
    // A dry run writes nothing, so it takes no lock: it can watch beside the real controller.
    let _lock = match &fleet {
        _ if dry_run => None,
        Some(f) => Some(StateLock::acquire(&f.controller_dir(&state_dir))?),
        None => Some(StateLock::acquire(&state_dir)?),
    };
    if !dry_run {
        // So that a command on this machine given no -m works on these sites.
        served::record(&state_dir, &args.manifests, args.site.as_deref())?;
    }
    crate::allocator::configure();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(service::BLOCKING_THREADS)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let options = Options {
        manifests: args.manifests.clone(),
        site: args.site.clone(),
        state_dir,
        dry_run,
        sim_speed,
        alert_retry,
        listen: listen.map(|addr| Listen { addr, access }),
        fleet,
    };
    let result = runtime.block_on(service::run(options, stop::requested()));
    // A platform call stuck past the grace period must not keep the process alive.
    runtime.shutdown_timeout(Duration::from_millis(500));
    result?;
    Ok(Exit::Success)
}
