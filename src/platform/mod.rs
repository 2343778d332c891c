//! The seam between the controller and the hosts: observe, act, and tell the time.

pub mod powershell;
pub mod sim;

use std::time::Duration;

use jiff::Timestamp;

use crate::model::operation::Operation;
use crate::observed::Observed;

/// A platform drives one site's hosts.
///
/// # Guarantees
/// `observe` reflects every `execute` that returned `Ok` before it. Time comes only from
/// `now`, so a simulated platform can run a five-minute failure window in milliseconds.
pub trait Platform: Send {
    /// Observes the whole site afresh.
    ///
    /// # Errors
    /// Only when nothing could be observed at all (e.g. the lab's state cannot be read);
    /// an unreachable host is an observation (`reachable: false`), not an error.
    fn observe(&mut self) -> Result<Observed, PlatformError>;

    /// Carries out one operation.
    ///
    /// # Errors
    /// When the host, Hyper-V or Carbonite refuses it or cannot be reached.
    fn execute(&mut self, op: &Operation) -> Result<(), PlatformError>;

    /// The platform's time (virtual on the simulated lab).
    fn now(&self) -> Timestamp;

    /// Waits `d` (on the simulated lab: advances the virtual clock).
    fn sleep(&mut self, d: Duration);

    /// How many times faster than the wall clock the platform's clock runs: the lab under
    /// `run --sim-speed N` N times, real hosts once. The service divides its waits by it, so
    /// that its passes and back-offs fall at the same platform times at any speed.
    fn pace(&self) -> u32 {
        1
    }

    /// Makes durable what the platform keeps of its own (a simulated world); a no-op for
    /// real hosts, whose state lives on the hosts. The service calls it when it stops.
    ///
    /// # Errors
    /// The platform's state cannot be written.
    fn flush(&mut self) -> Result<(), PlatformError> {
        Ok(())
    }
}

/// Opens the platform a site's manifest names.
///
/// # Errors
/// The lab's world cannot be read, or the platform is not available in this build.
pub fn open(
    site: &crate::manifest::Site,
    state_dir: &std::path::Path,
) -> Result<Box<dyn Platform>, PlatformError> {
    match site.manifest.spec.platform.kind {
        crate::manifest::spec::PlatformKind::Simulated => {
            Ok(Box::new(sim::Lab::load_or_create(state_dir, site)?))
        }
        crate::manifest::spec::PlatformKind::Powershell => {
            let settings = site
                .manifest
                .spec
                .platform
                .powershell
                .clone()
                .unwrap_or_default();
            Ok(Box::new(powershell::PowershellPlatform::new(
                site,
                powershell::PowershellRunner::new(&settings),
            )))
        }
    }
}

/// [`open`] for the service: the lab's virtual clock follows the wall clock, `sim_speed`
/// times faster, and the lab saves its world on actions, once a virtual minute and on
/// [`Platform::flush`], not on every move of its clock. Real hosts ignore `sim_speed`.
///
/// # Errors
/// As [`open`].
pub fn open_for_service(
    site: &crate::manifest::Site,
    state_dir: &std::path::Path,
    sim_speed: u32,
) -> Result<Box<dyn Platform>, PlatformError> {
    match site.manifest.spec.platform.kind {
        crate::manifest::spec::PlatformKind::Simulated => Ok(Box::new(
            sim::Lab::load_or_create(state_dir, site)?.following_wall_clock(sim_speed),
        )),
        crate::manifest::spec::PlatformKind::Powershell => open(site, state_dir),
    }
}

/// Why a platform could not observe or act.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// A what-if assumption does not fit the site (an unknown host, a job that is not there).
    #[error("assumption {assumption:?}: {message}")]
    Assumption { assumption: String, message: String },
    /// The host cannot be reached from the controller.
    #[error("host {host} cannot be reached from the controller")]
    Unreachable { host: String },
    /// Carbonite, Hyper-V or Windows refused the operation, in their words.
    #[error("{system} refused: {message}")]
    Refused {
        /// `Carbonite`, `Hyper-V` or `Windows`.
        system: &'static str,
        message: String,
    },
    /// The manifest names a platform this build cannot drive yet.
    #[error(
        "site {site}: the {kind} platform is not available in this build of galaxy-ha; use `platform: {{kind: simulated}}` to try the manifest on the simulated lab"
    )]
    Unavailable { site: String, kind: &'static str },
    /// A script could not run, or printed what galaxy-ha cannot read.
    #[error("script on {host}: {message}")]
    Script { host: String, message: String },
    /// The platform's own state could not be read or written.
    #[error("platform state {path}: {message}")]
    State { path: String, message: String },
}
