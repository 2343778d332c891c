//! `galaxy-ha service install|uninstall`: the controller as a Windows service, or on Linux the
//! systemd unit to install; and `run --windows-service`, how the service is entered.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Parser;

use crate::cli::{Cli, Command, ServiceCommand};
use crate::commands::Exit;
use crate::os_service::{self, Paths};
use crate::settings::SiteArgs;

pub fn run(command: ServiceCommand) -> anyhow::Result<Exit> {
    match command {
        ServiceCommand::Install { args } => install(&args),
        ServiceCommand::Uninstall => uninstall(),
    }
}

/// `run`'s arguments as `run` itself would read them, so that the service can never be
/// installed with arguments it would refuse at start. `None` when they asked for help, which
/// is printed.
fn parse_run(args: &[OsString]) -> anyhow::Result<Option<(Cli, SiteArgs)>> {
    let line = ["galaxy-ha".into(), "run".into()]
        .into_iter()
        .chain(args.iter().cloned())
        .collect::<Vec<OsString>>();
    match Cli::try_parse_from(line) {
        Ok(cli) => {
            let Command::Run {
                site,
                listen,
                no_listen,
                access,
                ..
            } = &cli.command
            else {
                bail!("the service's arguments are `run`'s")
            };
            if !no_listen {
                crate::http::listen::check(&crate::http::listen::Listen {
                    addr: *listen,
                    access: access.clone(),
                })?;
            }
            // The service is told its manifests; it does not find them from a record.
            let Some(manifests) = site.manifests.clone() else {
                bail!(
                    "name the manifests the service is to keep: -m PATH (a manifest, or a directory of *.yaml)"
                );
            };
            let site = SiteArgs {
                manifests,
                site: site.site.clone(),
                state_dir: site.state_dir.clone(),
            };
            Ok(Some((cli, site)))
        }
        Err(e) if e.use_stderr() => bail!(
            "the service's arguments are `run`'s, and these are not: {}",
            e.render().to_string().trim_start_matches("error: ")
        ),
        Err(e) => {
            print!("{}", e.render());
            Ok(None)
        }
    }
}

fn install(args: &[OsString]) -> anyhow::Result<Exit> {
    let Some((cli, site)) = parse_run(args)? else {
        return Ok(Exit::Success);
    };
    let manifests = absolute(&site.manifests)?;
    if !manifests.exists() {
        bail!(
            "{}: no such file or directory; name the manifests the service is to keep (a file, \
             or a directory of *.yaml)",
            manifests.display()
        );
    }
    let exe = std::env::current_exe().context("cannot tell where this program is")?;
    install_here(
        &exe,
        args,
        &service_paths(manifests, &cli, &site)?,
        site.site.as_deref(),
    )?;
    Ok(Exit::Success)
}

/// The service's paths, absolute. On Windows the state and log dirs are always named, so
/// that the service finds the same ones as an administrator's console whatever its own
/// environment says; on Linux the unit's defaults stand unless the arguments name others.
fn service_paths(manifests: PathBuf, cli: &Cli, site: &SiteArgs) -> anyhow::Result<Paths> {
    let (state_dir, log_dir) = if cfg!(windows) {
        (
            Some(site.state_dir()),
            cli.log_dir.clone().or_else(crate::dirs::log_dir),
        )
    } else {
        (site.state_dir.clone(), cli.log_dir.clone())
    };
    Ok(Paths {
        manifests,
        state_dir: state_dir.as_deref().map(absolute).transpose()?,
        log_dir: log_dir.as_deref().map(absolute).transpose()?,
    })
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path)
        .with_context(|| format!("{}: cannot make it absolute", path.display()))
}

#[cfg(windows)]
fn install_here(
    exe: &Path,
    args: &[OsString],
    paths: &Paths,
    site: Option<&str>,
) -> anyhow::Result<()> {
    use os_service::{DISPLAY_NAME, SERVICE_NAME};
    let launch = os_service::launch_arguments(args, paths);
    os_service::scm::install(exe, launch.clone())?;
    for dir in [&paths.state_dir, &paths.log_dir].into_iter().flatten() {
        os_service::scm::create_private_dir(dir);
    }
    if let Some(state_dir) = &paths.state_dir {
        // The command in an alert runs without -m before the service's first start too.
        crate::store::served::record(state_dir, &paths.manifests, site)?;
    }
    let line = launch
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    println!("Installed the service {SERVICE_NAME} ({DISPLAY_NAME}), started at boot:");
    println!("  {} {line}", exe.display());
    for (what, dir) in [("State", &paths.state_dir), ("Logs", &paths.log_dir)] {
        if let Some(dir) = dir {
            println!("{what}: {}", dir.display());
        }
    }
    println!(
        "Errors and alerts also go to the Application event log (source {}).",
        crate::logging::EVENT_SOURCE
    );
    println!("Start it now with: Start-Service {SERVICE_NAME}");
    Ok(())
}

/// On Linux the unit is printed, not installed: the service records its manifests when it
/// first starts (`run`).
#[cfg(not(windows))]
fn install_here(
    exe: &Path,
    args: &[OsString],
    paths: &Paths,
    _site: Option<&str>,
) -> anyhow::Result<()> {
    // The unit sets the state dir in its environment, for the CLI's sake as well.
    let run_args = os_service::run_arguments(
        args,
        &Paths {
            state_dir: None,
            ..paths.clone()
        },
    );
    print!(
        "{}",
        os_service::systemd::unit(exe, &run_args, &paths.manifests, paths.state_dir.as_deref())
    );
    eprintln!(
        "galaxy-ha runs under systemd on this system: save the unit above as \
         /etc/systemd/system/galaxy-ha.service, then `systemctl daemon-reload && systemctl \
         enable --now galaxy-ha`."
    );
    if let Some(dir) = &paths.state_dir {
        eprintln!(
            "The unit runs as a user of its own (DynamicUser): give it write access to {}, or \
             keep the unit's /var/lib/galaxy-ha.",
            dir.display()
        );
    }
    Ok(())
}

fn uninstall() -> anyhow::Result<Exit> {
    #[cfg(windows)]
    {
        os_service::scm::uninstall()?;
        println!(
            "Removed the service {} and its event log source; the state dir, logs and \
             manifests are kept.",
            os_service::SERVICE_NAME
        );
    }
    #[cfg(not(windows))]
    print!("{}", os_service::systemd::UNINSTALL);
    Ok(Exit::Success)
}

/// `run --windows-service`: `run` under the Service Control Manager, which learns its exit
/// status; an error that ends it is logged (file and event log), since a service has no
/// console to print it on.
pub fn serve(command: Command) -> anyhow::Result<Exit> {
    if !matches!(command, Command::Run { .. }) {
        bail!("--windows-service goes with `run` only");
    }
    serve_here(command)
}

#[cfg(windows)]
fn serve_here(command: Command) -> anyhow::Result<Exit> {
    let code = os_service::scm::serve(move || match super::dispatch(command) {
        Ok(Exit::Success) => 0,
        Ok(_) => 1,
        Err(e) => {
            tracing::error!("the controller stopped: {e:#}");
            1
        }
    })?;
    Ok(if code == 0 {
        Exit::Success
    } else {
        Exit::Failed
    })
}

#[cfg(not(windows))]
fn serve_here(_command: Command) -> anyhow::Result<Exit> {
    bail!(
        "--windows-service is for the Windows Service Control Manager; on this system run \
         `galaxy-ha run` under systemd (`galaxy-ha service install` prints the unit)"
    )
}
