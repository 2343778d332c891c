//! Crash safety (docs/architecture.md): a controller killed after any durable step of a failover and of
//! the resume that follows, then restarted from its state dir, converges with exactly one
//! failover.

use std::path::Path;
use std::time::Duration;

use galaxy_ha::execute::{ExecuteError, Records};
use galaxy_ha::manifest::Site;
use galaxy_ha::memory::Memory;
use galaxy_ha::observed::Activity;
use galaxy_ha::platform::Platform;
use galaxy_ha::platform::sim::Lab;
use galaxy_ha::reconcile::{self, ReconcileError};

use crate::support::{A, B, Rig};

/// What a run from the live host's failure to a resumed, protecting site did.
struct Run {
    steps: u32,
    crashed: bool,
    failovers: u32,
    memory: Memory,
    forward: Option<(String, String, Activity)>,
}

/// Copies a state dir (the converged site) so each crash point starts from the same world.
fn copy_dir(from: &Path, to: &Path) {
    for entry in walk(from) {
        let rel = entry.strip_prefix(from).unwrap();
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &dest).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.file_name().is_some_and(|n| n != "lock") {
            out.push(p);
        }
    }
    out
}

/// The live host fails; the controller fails over, the host returns, replication resumes.
/// The first controller "dies" before its durable step `crash_at`; a new one restarts from
/// disk.
fn run(template: &Path, site: &Site, crash_at: Option<u32>) -> Run {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(template, dir.path());
    let mut lab = Lab::load_or_create(dir.path(), site).unwrap();
    lab.world_mut().host_down(A).unwrap();
    lab.save().unwrap();
    let mut alerts = galaxy_ha::alert::LogSink::default();
    let mut store = Records::new(dir.path(), "hq");
    store.crash_at = crash_at;
    let (mut crashed, mut returned, mut steps) = (false, false, 0);
    for _ in 0..5000 {
        match reconcile::pass(site, &mut lab, &mut store, &mut alerts) {
            Err(ReconcileError::Execute(ExecuteError::Crashed(_))) => {
                crashed = true;
                steps += store.steps();
                // Restart: nothing survives but the state dir.
                lab = Lab::load_or_create(dir.path(), site).unwrap();
                store = Records::new(dir.path(), "hq");
                continue;
            }
            Err(e) => panic!("pass failed: {e}"),
            Ok(o) => {
                let failed_over = o
                    .observed
                    .job
                    .as_ref()
                    .is_some_and(|j| j.activity == Activity::FailedOver);
                if failed_over && !returned {
                    lab.world_mut().host_up(A).unwrap();
                    lab.save().unwrap();
                    returned = true;
                }
                if returned && o.converged() {
                    break;
                }
            }
        }
        let step = lab.next_change().unwrap_or(Duration::from_secs(10));
        lab.sleep(step.clamp(Duration::from_secs(1), Duration::from_secs(10)));
    }
    steps += store.steps();
    let job = lab.observe().unwrap().job;
    Run {
        steps,
        crashed,
        failovers: lab.world().failovers(),
        memory: galaxy_ha::store::files::load_memory(dir.path(), "hq").unwrap(),
        forward: job.map(|j| (j.source.to_string(), j.target.to_string(), j.activity)),
    }
}

#[test]
fn a_crash_after_any_step_of_a_failover_and_resume_should_converge_with_one_failover() {
    let mut rig = Rig::new("automatic");
    rig.converge();
    let template = rig.dir.path();
    let clean = run(template, &rig.site, None);
    assert_eq!(clean.failovers, 1);
    assert!(
        clean.steps > 5,
        "a failover and a resume take several durable steps ({})",
        clean.steps
    );
    let mut crashes = 0;
    for k in 1..=clean.steps {
        let r = run(template, &rig.site, Some(k));
        assert!(r.crashed, "crash point {k} was reached");
        crashes += 1;
        assert_eq!(
            r.failovers, 1,
            "crash before step {k}: exactly one failover"
        );
        assert_eq!(
            r.forward,
            Some((B.to_string(), A.to_string(), Activity::Protecting)),
            "crash before step {k}: replication resumed from {B} to {A}"
        );
        assert!(
            r.memory.in_flight.is_none(),
            "crash before step {k}: no intent left open"
        );
        let last = r
            .memory
            .last_failover
            .as_ref()
            .expect("the failover is remembered");
        assert_eq!(
            (last.from.as_str(), last.to.as_str()),
            (A, B),
            "crash before step {k}"
        );
        assert_eq!(r.memory.live_host.as_deref(), Some(B));
    }
    assert_eq!(crashes, clean.steps);
}
