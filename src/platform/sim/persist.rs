//! The lab as a [`Platform`]: a world, optionally persisted at `STATE/sim/SITE.json` so that
//! CLI runs continue one world.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;

use super::world::{FORMAT_VERSION, World};
use crate::manifest::Site;
use crate::model::operation::Operation;
use crate::observed::Observed;
use crate::platform::{Platform, PlatformError};

/// The environment variable that seeds new worlds.
pub const SEED_ENV: &str = "GALAXY_HA_SIM_SEED";

/// The seed when `GALAXY_HA_SIM_SEED` is not set: fixed, so runs repeat.
pub const DEFAULT_SEED: u64 = 20_260_105;

/// The seed from `GALAXY_HA_SIM_SEED`, else [`DEFAULT_SEED`].
///
/// # Errors
/// A value that is not an unsigned integer (a typo must not silently change the run).
pub fn seed_from_env() -> Result<u64, PlatformError> {
    match std::env::var(SEED_ENV) {
        Ok(v) => v.trim().parse().map_err(|_| PlatformError::State {
            path: SEED_ENV.into(),
            message: format!("{v:?} is not an unsigned integer seed"),
        }),
        Err(_) => Ok(DEFAULT_SEED),
    }
}

/// Where a site's world is kept: `STATE/sim/SITE.json`.
pub fn world_path(state_dir: &Path, site: &str) -> PathBuf {
    state_dir.join("sim").join(format!("{site}.json"))
}

/// The simulated lab of one site.
#[derive(Debug, Clone)]
pub struct Lab {
    world: World,
    /// Where the world is saved after every change; `None` keeps it in memory only.
    path: Option<PathBuf>,
    /// Save after every clock move too (CLI runs continue one world). The service turns it
    /// off: a thousand labs fsyncing every pass cost a core; it saves on actions, on
    /// `flush` and at shutdown instead.
    save_on_sleep: bool,
    /// The world file as last read or written (modified time, length): when it differs, a
    /// `galaxy-ha sim` command changed the world under a running controller, and the lab
    /// reads it again.
    stamp: Option<(std::time::SystemTime, u64)>,
    /// The world's clock when it was last saved.
    saved_at: Duration,
    /// What a person could see of the world when it was last saved.
    saved_landmarks: super::world::Landmarks,
    /// Under the service the wall clock drives the virtual one: this many virtual seconds
    /// per wall second, counted from the last observation.
    follow: Option<(u32, std::time::Instant)>,
}

impl Lab {
    /// A lab kept in memory (tests, benchmarks).
    pub fn new(world: World) -> Self {
        Self::at(world, None)
    }

    /// A lab saved at `path`, whose file holds `world` (or is about to).
    fn at(world: World, path: Option<PathBuf>) -> Self {
        Self {
            saved_landmarks: world.landmarks(),
            world,
            path,
            save_on_sleep: true,
            stamp: None,
            saved_at: Duration::ZERO,
            follow: None,
        }
    }

    /// The lab as the service drives it: its virtual clock moves `speed` times as fast as
    /// the wall clock (caught up at each observation), and it saves its world on actions,
    /// once a virtual minute and on [`Platform::flush`] rather than on every clock move.
    pub fn following_wall_clock(mut self, speed: u32) -> Self {
        self.save_on_sleep = false;
        self.follow = Some((speed, std::time::Instant::now()));
        // Each world saves at its own point of the minute: ten thousand labs started
        // together would otherwise all write their worlds in the same second, a burst of a
        // whole core every virtual minute.
        let phase = self.path.as_deref().map_or(0, |path| {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            path.hash(&mut hasher);
            hasher.finish() % SAVE_EVERY.as_millis() as u64
        });
        self.saved_at = self
            .world
            .elapsed()
            .saturating_sub(Duration::from_millis(phase));
        self
    }

    /// The lab's next change by itself ([`World::next_event_in`]): the lab's tools (the
    /// demo, the chaos driver) jump to it.
    pub fn next_change(&self) -> Option<Duration> {
        self.world.next_event_in()
    }

    /// What the lab would show if `faults` happened now and `after` passed with nothing
    /// done, and the time then: a copy of the world runs forward; the saved world is left
    /// as it is.
    ///
    /// # Errors
    /// A fault that does not fit the world (an unknown host, no job).
    pub fn project(
        &self,
        faults: &[super::Fault],
        after: Duration,
    ) -> Result<(Observed, Timestamp), PlatformError> {
        let mut world = self.world.clone();
        for fault in faults {
            world.inject(fault).map_err(|e| PlatformError::Assumption {
                assumption: fault.to_string(),
                message: e.to_string(),
            })?;
        }
        world.advance(after);
        Ok((world.observe(), world.now()))
    }

    fn file_stamp(&self) -> Option<(std::time::SystemTime, u64)> {
        let meta = std::fs::metadata(self.path.as_ref()?).ok()?;
        Some((meta.modified().ok()?, meta.len()))
    }

    /// Reads the world again when another process changed its file.
    fn refresh(&mut self) -> Result<(), PlatformError> {
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        let now = self.file_stamp();
        if now.is_some() && now != self.stamp {
            self.world = load(&path)?;
            self.stamp = now;
            self.saved_at = self.world.elapsed();
            self.saved_landmarks = self.world.landmarks();
        }
        Ok(())
    }

    /// The site's world from the state dir, or a fresh one from the manifest (seeded by
    /// `GALAXY_HA_SIM_SEED`), saved at once.
    ///
    /// # Errors
    /// A world file that cannot be read or parsed, or one built from another manifest;
    /// the message names the file and says that `galaxy-ha sim reset` starts afresh.
    pub fn load_or_create(state_dir: &Path, site: &Site) -> Result<Self, PlatformError> {
        let path = world_path(state_dir, &site.name);
        if !path.exists() {
            return Self::create(state_dir, site);
        }
        let world = load(&path)?;
        let spec = &site.manifest.spec;
        let same_hosts = world.hosts.len() == spec.hosts.len()
            && world
                .hosts
                .iter()
                .zip(&spec.hosts)
                .all(|(w, s)| w.name == s.name);
        if !same_hosts || world.site != site.name {
            return Err(corrupt(
                &path,
                "the world was built from a different manifest (its hosts or site name differ)",
            ));
        }
        let mut lab = Self::at(world, Some(path));
        lab.stamp = lab.file_stamp();
        Ok(lab)
    }

    /// A fresh world from the manifest, replacing any saved one.
    ///
    /// # Errors
    /// The seed variable is invalid or the world cannot be written.
    pub fn create(state_dir: &Path, site: &Site) -> Result<Self, PlatformError> {
        let world = World::new(&site.name, &site.manifest.spec, seed_from_env()?);
        let mut lab = Self::at(world, Some(world_path(state_dir, &site.name)));
        lab.save()?;
        Ok(lab)
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    /// The world, for faults and clock moves; call [`Lab::save`] afterwards to keep them.
    pub fn world_mut(&mut self) -> &mut World {
        &mut self.world
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Writes the world atomically to its file (nothing when kept in memory).
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn save(&mut self) -> Result<(), PlatformError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let json = serde_json::to_vec_pretty(&self.world).map_err(|e| PlatformError::State {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        crate::state::write_atomic(path, &json).map_err(|e| PlatformError::State {
            path: path.display().to_string(),
            message: format!("cannot write the simulated lab's world: {e}"),
        })?;
        self.stamp = self.file_stamp();
        self.saved_at = self.world.elapsed();
        self.saved_landmarks = self.world.landmarks();
        Ok(())
    }
}

/// How much virtual time a lab that does not save on every move lets pass between saves.
const SAVE_EVERY: Duration = Duration::from_secs(60);

fn corrupt(path: &Path, why: &str) -> PlatformError {
    PlatformError::State {
        path: path.display().to_string(),
        message: format!("{why}; `galaxy-ha sim reset` starts a fresh world from the manifest"),
    }
}

/// Reads a saved world.
fn load(path: &Path) -> Result<World, PlatformError> {
    let text = std::fs::read(path)
        .map_err(|e| corrupt(path, &format!("cannot read the simulated lab's world: {e}")))?;
    let mut world: World = serde_json::from_slice(&text)
        .map_err(|e| corrupt(path, &format!("the simulated lab's world is corrupt ({e})")))?;
    world.compact();
    if world.format_version != FORMAT_VERSION {
        return Err(corrupt(
            path,
            &format!(
                "the world file has format {} but this galaxy-ha reads format {FORMAT_VERSION}",
                world.format_version
            ),
        ));
    }
    Ok(world)
}

impl Platform for Lab {
    fn observe(&mut self) -> Result<Observed, PlatformError> {
        if let Some((speed, since)) = &mut self.follow {
            let moved = since.elapsed().saturating_mul(*speed);
            *since = std::time::Instant::now();
            if !moved.is_zero() {
                self.sleep(moved);
            }
        }
        self.refresh()?;
        Ok(self.world.observe())
    }

    /// Carries out the operation and saves the world when it changed it.
    fn execute(&mut self, op: &Operation) -> Result<(), PlatformError> {
        // A refused operation may still have changed the world (a guest's failed shutdown
        // ends what held it up): saved either way, the refusal reported first.
        let done = self.world.execute(op);
        let saved = self.save();
        done.and(saved)
    }

    fn now(&self) -> Timestamp {
        self.world.now()
    }

    /// Advances the virtual clock and saves the world (a save failure is logged: `sleep`
    /// cannot fail, and the next `execute` reports it).
    fn sleep(&mut self, d: Duration) {
        if let Err(e) = self.refresh() {
            tracing::warn!(error = %e, "could not read the simulated lab");
        }
        self.world.advance(d);
        // Without saving on every move, still save once a virtual minute has passed and
        // whenever something a person sees changed (a mirror completed, a VM stopped), so
        // that a `sim` command run beside the service continues a world at most a minute
        // behind, and never one behind what status showed.
        let due = self.world.elapsed().saturating_sub(self.saved_at) >= SAVE_EVERY
            || self.saved_landmarks != self.world.landmarks();
        if (self.save_on_sleep || due)
            && let Err(e) = self.save()
        {
            tracing::warn!(error = %e, "could not save the simulated lab");
        }
    }

    fn pace(&self) -> u32 {
        self.follow.map_or(1, |(speed, _)| speed.max(1))
    }

    fn flush(&mut self) -> Result<(), PlatformError> {
        self.save()
    }
}
