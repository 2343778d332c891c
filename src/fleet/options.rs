//! `--coordination etcd --etcd-endpoints URL,... [--controller-id ID] [--lease-ttl DUR]`:
//! the flags and their checks.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};

/// How controllers share the sites of a manifest directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Coordination {
    /// One controller, alone on its state dir (the lock file keeps a second one off).
    #[default]
    None,
    /// A fleet: each site owned by one controller at a time through an etcd lease; memory
    /// and journal kept in etcd.
    Etcd,
}

/// The flags of `run` and `status` that place a controller in a fleet.
#[derive(Debug, Clone, Args)]
pub struct CoordinationArgs {
    /// `none`: this controller alone, with the state dir's lock file. `etcd`: one of a fleet
    /// of controllers; each site is owned by one of them at a time through an etcd lease, and
    /// its memory and journal live in etcd (docs/fleet.md).
    #[arg(long, value_enum, default_value_t)]
    pub coordination: Coordination,
    /// etcd client URLs, comma-separated (e.g. http://10.0.0.5:2379,http://10.0.0.6:2379).
    #[arg(
        long,
        env = "GALAXY_HA_ETCD_ENDPOINTS",
        value_delimiter = ',',
        value_name = "URL,..."
    )]
    pub etcd_endpoints: Vec<String>,
    /// This controller's name in the fleet, unique among the controllers
    /// [default: the machine's host name].
    #[arg(long, env = "GALAXY_HA_CONTROLLER_ID", value_name = "ID")]
    pub controller_id: Option<String>,
    /// How long a site stays owned by a controller that stopped renewing its lease: a dead
    /// controller's sites are taken over after this plus one monitor interval. At least 2s.
    #[arg(long, value_parser = crate::duration::parse, default_value = "15s", value_name = "DURATION")]
    pub lease_ttl: Duration,
}

/// A fleet member's settings, checked.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    pub endpoints: Vec<String>,
    pub controller_id: String,
    pub lease_ttl: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    #[error(
        "--coordination etcd needs --etcd-endpoints URL,... (or GALAXY_HA_ETCD_ENDPOINTS), e.g. --etcd-endpoints http://127.0.0.1:2379"
    )]
    NoEndpoints,
    #[error("--etcd-endpoints: {0:?} is not a URL; write it as http://HOST:PORT")]
    Endpoint(String),
    #[error(
        "--controller-id: {0:?} may hold only letters, digits, '.', '_' and '-' (1 to 63 of them); name each controller uniquely, e.g. --controller-id ctl-1"
    )]
    ControllerId(String),
    #[error(
        "--controller-id: the host name cannot be read ({0}); name this controller with --controller-id"
    )]
    Hostname(String),
    #[error(
        "--lease-ttl: {0} is shorter than etcd's shortest lease (2s); use 2s or more (15s is the default)"
    )]
    Ttl(String),
}

impl CoordinationArgs {
    /// `None` for a single controller; the checked fleet settings for `etcd`.
    ///
    /// # Errors
    /// A missing or malformed endpoint, controller id or TTL, each saying how to fix it.
    pub fn resolve(&self) -> Result<Option<FleetOptions>, OptionsError> {
        if self.coordination == Coordination::None {
            return Ok(None);
        }
        let endpoints: Vec<String> = self
            .etcd_endpoints
            .iter()
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty())
            .collect();
        if endpoints.is_empty() {
            return Err(OptionsError::NoEndpoints);
        }
        if let Some(bad) = endpoints
            .iter()
            .find(|e| !(e.starts_with("http://") || e.starts_with("https://")) || e.len() < 8)
        {
            return Err(OptionsError::Endpoint(bad.clone()));
        }
        let id = match &self.controller_id {
            Some(id) => id.clone(),
            None => hostname::get()
                .map_err(|e| OptionsError::Hostname(e.to_string()))?
                .to_string_lossy()
                .into_owned(),
        };
        let valid = (1..=63).contains(&id.len())
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !valid {
            return Err(OptionsError::ControllerId(id));
        }
        if self.lease_ttl < Duration::from_secs(2) {
            return Err(OptionsError::Ttl(
                humantime::format_duration(self.lease_ttl).to_string(),
            ));
        }
        Ok(Some(FleetOptions {
            endpoints,
            controller_id: id,
            lease_ttl: self.lease_ttl,
        }))
    }
}

impl FleetOptions {
    /// `STATE/controllers/ID/`: this controller's lock and outbox. Controllers may share a
    /// state dir (the simulated lab's worlds live there), each with its own lock and outbox,
    /// so that no two deliver one alert.
    pub fn controller_dir(&self, state_dir: &Path) -> PathBuf {
        state_dir.join("controllers").join(&self.controller_id)
    }
}
