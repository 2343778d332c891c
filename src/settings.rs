//! Arguments shared by the commands that work on sites, resolved into settings: manifests
//! found (given, or the ones the service on this machine runs with) and loaded, the site
//! chosen, the state dir found.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;

use crate::dirs;
use crate::manifest::{self, Site};
use crate::store::served;

/// `[-m PATH] [--site NAME] [--state-dir DIR]` as given.
#[derive(Debug, Clone, Args)]
pub struct SiteFlags {
    /// A manifest file or a directory of *.yaml manifests [default: the manifests the
    /// service on this machine runs with, as its state dir records them].
    #[arg(short = 'm', long = "manifests", value_name = "PATH")]
    pub manifests: Option<PathBuf>,
    /// Only this site of the directory.
    #[arg(long, value_name = "NAME")]
    pub site: Option<String>,
    /// Where the controller keeps memory, journal, outbox and the lab [default: the service's
    /// /var/lib/galaxy-ha when it exists, else .galaxy-ha/ beside the manifests unless they
    /// are in a git work tree (then ~/.local/state/galaxy-ha/...); on Windows
    /// %ProgramData%\galaxy-ha\state].
    #[arg(long, env = "GALAXY_HA_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

impl SiteFlags {
    /// The manifests: `-m`, else those the controller of the state dir (`--state-dir`, else
    /// the installed service's) records, with its `--site` unless one is given here. So the
    /// command an alert names runs as written on the controller's machine, and on the
    /// controller's state.
    ///
    /// # Errors
    /// No `-m`, and no record of a controller's manifests (or one that cannot be read).
    pub fn locate(&self) -> anyhow::Result<SiteArgs> {
        if let Some(manifests) = &self.manifests {
            return Ok(SiteArgs {
                manifests: manifests.clone(),
                site: self.site.clone(),
                state_dir: self.state_dir.clone(),
            });
        }
        let state_dir = self
            .state_dir
            .clone()
            .unwrap_or_else(dirs::service_state_dir);
        let Some(record) = served::read(&state_dir)? else {
            bail!(
                "no manifests given, and no controller has run on the state dir {} (it keeps the manifests it runs with in {}): give -m PATH (a manifest, or a directory of them), or --state-dir DIR of the controller",
                state_dir.display(),
                state_dir.join(served::FILE).display()
            );
        };
        Ok(SiteArgs {
            manifests: record.manifests,
            site: self.site.clone().or(record.site),
            state_dir: Some(state_dir),
        })
    }
}

/// The site arguments located: the manifests known.
#[derive(Debug, Clone)]
pub struct SiteArgs {
    /// A manifest file or a directory of *.yaml manifests.
    pub manifests: PathBuf,
    /// Only this site of the directory.
    pub site: Option<String>,
    /// `--state-dir`, or the controller's whose record named the manifests.
    pub state_dir: Option<PathBuf>,
}

/// Resolved site arguments.
#[derive(Debug, Clone)]
pub struct Settings {
    pub sites: Vec<Site>,
    pub state_dir: PathBuf,
}

impl SiteArgs {
    /// The state dir: `--state-dir`, else `GALAXY_HA_STATE_DIR`, else the platform's default
    /// ([`dirs::state_dir`]). Warns when it lies inside a git work tree.
    pub fn state_dir(&self) -> PathBuf {
        let dir = self
            .state_dir
            .clone()
            .unwrap_or_else(|| dirs::state_dir(&self.manifests));
        if let Some(warning) = dirs::inside_git_warning(&dir) {
            tracing::warn!("{warning}");
        }
        dir
    }

    /// Loads the manifests and narrows them to `--site`.
    ///
    /// # Errors
    /// Invalid manifests (every problem listed), or a `--site` that names no site.
    pub fn resolve(&self) -> anyhow::Result<Settings> {
        let mut sites =
            manifest::load(std::slice::from_ref(&self.manifests)).with_context(|| {
                format!(
                    "{}: manifests are invalid; nothing was done",
                    self.manifests.display()
                )
            })?;
        if let Some(name) = &self.site {
            sites.retain(|s| &s.name == name);
            if sites.is_empty() {
                bail!("no site named {name:?} in {}", self.manifests.display());
            }
        }
        if sites.is_empty() {
            bail!(
                "no manifests (*.yaml) found in {}",
                self.manifests.display()
            );
        }
        Ok(Settings {
            sites,
            state_dir: self.state_dir(),
        })
    }
}
