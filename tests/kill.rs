//! The real binary killed with SIGKILL at random moments of `apply --wait` and of `run`, and
//! started again, until the site converges: one failover per failure, memory and journal
//! intact, every intent with its outcome. The delays are drawn from a seed, printed, and taken
//! from `GALAXY_HA_KILL_SEED` to replay a run.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use galaxy_ha::journal::Event;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::support::cli::Site;
use crate::support::{A, B};

const SEED_ENV: &str = "GALAXY_HA_KILL_SEED";

/// Kills each test makes at least: 52 in all.
const APPLY_KILLS: u32 = 40;
const RUN_KILLS: u32 = 12;

fn rng(test: u64) -> SmallRng {
    let seed = std::env::var(SEED_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_260_105 + test);
    eprintln!("{SEED_ENV}={seed}");
    SmallRng::seed_from_u64(seed)
}

fn spawn(site: &Site, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
        .args(args)
        .arg("-m")
        .arg(site.manifest())
        .env_remove("GALAXY_HA_STATE_DIR")
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start galaxy-ha")
}

/// Lets the child run for `delay`, then kills it with SIGKILL unless it ended by itself.
/// Returns whether it was killed, or else whether it exited 0.
fn kill_after(mut child: Child, delay: Duration) -> (bool, bool) {
    let start = Instant::now();
    while start.elapsed() < delay {
        if let Ok(Some(status)) = child.try_wait() {
            return (false, status.success());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    if let Ok(Some(status)) = child.try_wait() {
        return (false, status.success());
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    (true, false)
}

fn state(site: &Site) -> std::path::PathBuf {
    site.dir.path().join(".galaxy-ha")
}

/// The lab as `sim show` reads it from the state dir.
fn world(site: &Site) -> Value {
    site.show()
}

fn host_up(world: &Value, host: &str) -> bool {
    world["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["name"] == host && h["up"] == true)
}

fn protecting_from(world: &Value, source: &str) -> bool {
    world["job"]["source"] == source && world["job"]["activity"] == "protecting"
}

/// Memory reads back; every journal line reads back; every intent has an outcome. Prints how
/// many intents a restart found open (kills that fell between an intent and its outcome) and
/// what temporary files kills left.
fn assert_intact(site: &Site) {
    let dir = state(site);
    let memory = galaxy_ha::store::files::load_memory(&dir, "hq").expect("memory.json reads back");
    assert!(memory.in_flight.is_none(), "no action left in flight");
    let (entries, skipped) = galaxy_ha::store::files::read_journal(&dir, "hq").expect("journal");
    assert_eq!(skipped, 0, "every journal line reads back");
    let mut open: Vec<&str> = Vec::new();
    for e in &entries {
        match &e.event {
            Event::Intent { .. } => open.push(&e.action_id),
            Event::Done | Event::Failed { .. } | Event::Recovered { .. } => {
                open.retain(|id| *id != e.action_id)
            }
            Event::ManifestChanged { .. } | Event::Asked { .. } | Event::RunFinished { .. } => {}
        }
    }
    assert!(open.is_empty(), "intents without an outcome: {open:?}");
    let recovered = entries
        .iter()
        .filter(|e| matches!(e.event, Event::Recovered { .. }))
        .count();
    let mut stray = Vec::new();
    for sub in ["sites/hq", "sim"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if name.starts_with(".tmp") {
                stray.push(name);
            }
        }
    }
    eprintln!(
        "{} journal entries, {recovered} intents found open after a kill, {} temporary files left: {stray:?}",
        entries.len(),
        stray.len()
    );
}

/// Kills `galaxy-ha ARGS` at random moments until a run ends by itself with success and
/// `done` holds; `between` runs while no process does (faults a person injects). The moment
/// is drawn within the length of the last run that ended by itself, so that most runs die
/// on the way whatever the machine's speed. Returns the kills.
fn until_converged(
    site: &Site,
    args: &[&str],
    rng: &mut SmallRng,
    mut between: impl FnMut(&Site),
    done: impl Fn(&Value) -> bool,
) -> u32 {
    let mut kills = 0;
    let mut longest = Duration::from_millis(100);
    for _ in 0..400 {
        let bound = u64::try_from(longest.as_millis())
            .unwrap_or(u64::MAX)
            .max(20);
        let delay = Duration::from_millis(rng.random_range(5..=bound));
        let started = Instant::now();
        let (killed, success) = kill_after(spawn(site, args), delay);
        if !killed {
            longest = started.elapsed();
        }
        kills += u32::from(killed);
        between(site);
        if success && done(&world(site)) {
            return kills;
        }
    }
    panic!("not converged after 400 runs; the lab: {:#}", world(site));
}

/// The live host fails, the controller (killed on the way by `cycle`) fails over and resumes,
/// then the new live host fails, and so on until `target` kills (two failures at least).
/// `cycle(failure, live, standby)` converges one failure and returns its kills. Returns all
/// kills and the failures, each checked to have made exactly one failover.
fn failures(
    site: &Site,
    mut kills: u32,
    target: u32,
    mut cycle: impl FnMut(u64, &'static str, &'static str) -> u32,
) -> (u32, u64) {
    let mut live = A;
    for failure in 1..=30u64 {
        let standby = if live == A { B } else { A };
        site.ok(&["sim", "fault", "host-down", live]);
        kills += cycle(failure, live, standby);
        assert_eq!(site.failovers(), failure, "one failover per failure");
        live = standby;
        if kills >= target && failure >= 2 {
            return (kills, failure);
        }
    }
    panic!("{kills} kills after 30 failures");
}

/// A person powers the failed host on again once the failover happened (between two runs).
fn return_after_failover(site: &Site, failure: u64, host: &str) {
    let w = world(site);
    if w["failovers"].as_u64() == Some(failure) && !host_up(&w, host) {
        site.ok(&["sim", "fault", "host-up", host]);
    }
}

#[test]
fn apply_wait_killed_at_random_moments_should_converge_with_one_failover_per_failure() {
    let mut rng = rng(1);
    let site = Site::new("automatic");
    let apply = ["apply", "--yes", "--wait", "--timeout", "2h"];
    // From nothing to protecting, killed on the way.
    let kills = until_converged(&site, &apply, &mut rng, |_| {}, |w| protecting_from(w, A));
    // The live host fails, again and again: each time a failover, and replication resumes
    // once the host returns (a person powers it on after the failover, between two runs).
    let (kills, failures) = failures(&site, kills, APPLY_KILLS, |failure, live, standby| {
        until_converged(
            &site,
            &apply,
            &mut rng,
            |s| return_after_failover(s, failure, live),
            |w| protecting_from(w, standby),
        )
    });
    assert_intact(&site);
    eprintln!("apply --wait: {kills} SIGKILLs over {failures} failures");
    assert!(kills >= APPLY_KILLS, "{kills} kills");
}

#[test]
fn run_killed_at_random_moments_should_converge_with_one_failover_per_failure() {
    let mut rng = rng(2);
    // The service passes every monitor interval of wall-clock time (1 s at least) and moves
    // the lab's clock by what passed times --sim-speed: a 1 s interval at 300× makes each
    // pass five virtual minutes, so a run killed after a second or two has done something.
    let site = Site::with_yaml(&crate::run_support::guide_manifest("automatic"));
    site.converge();
    let run = ["run", "--sim-speed", "300", "--no-listen"];
    let (kills, failures) = failures(&site, 0, RUN_KILLS, |failure, live, standby| {
        // `run` never ends by itself: each run is killed, and the lab decides.
        let mut kills = 0;
        for round in 0.. {
            assert!(round < 400, "not converged; the lab: {:#}", world(&site));
            let delay = Duration::from_millis(rng.random_range(100..=1800));
            let (killed, _) = kill_after(spawn(&site, &run), delay);
            kills += u32::from(killed);
            return_after_failover(&site, failure, live);
            if protecting_from(&world(&site), standby) {
                return kills;
            }
        }
        kills
    });
    // A last pass to completion resolves what the last kill left in flight.
    site.converge();
    assert_eq!(site.failovers(), failures);
    assert_intact(&site);
    eprintln!("run: {kills} SIGKILLs over {failures} failures");
    assert!(kills >= RUN_KILLS, "{kills} kills");
}

#[test]
fn a_killed_controller_should_leave_its_lock_to_the_next_one() {
    let site = Site::new("manual");
    let (killed, _) = kill_after(
        spawn(&site, &["run", "--sim-speed", "60", "--no-listen"]),
        Duration::from_millis(300),
    );
    assert!(killed);
    assert!(Path::new(&state(&site).join("lock")).exists());
    site.ok(&["apply", "--yes"]);
}
