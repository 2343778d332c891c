//! Engine benchmarks: `plan()` for one site, one observe + plan pass over 10,000
//! simulated sites with nothing to do, and what a whole pass with nothing to do allocates.

use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use galaxy_ha::alert::LogSink;
use galaxy_ha::execute::Records;
use galaxy_ha::manifest::Site;
use galaxy_ha::manifest::spec::FailoverMode;
use galaxy_ha::memory::Memory;
use galaxy_ha::platform::Platform;
use galaxy_ha::platform::sim::{Lab, World};
use galaxy_ha::{plan, reconcile};

/// A converged lab and its memory: the steady state of a healthy site.
fn converged() -> (Site, Lab, Memory) {
    let manifest = galaxy_ha::manifest::sample::guide_site(FailoverMode::Automatic);
    let dir = tempfile::tempdir().expect("temp dir");
    let site = Site {
        name: "bench".into(),
        path: dir.path().join("bench.yaml"),
        manifest,
    };
    let mut lab = Lab::new(World::new("bench", &site.manifest.spec, 1));
    let mut store = Records::new(dir.path(), "bench");
    reconcile::converge(
        &site,
        &mut lab,
        &mut store,
        &mut LogSink::default(),
        Duration::from_secs(7200),
        |_, _| {},
    )
    .expect("bench site converges");
    let memory = galaxy_ha::store::files::load_memory(dir.path(), "bench").expect("memory");
    (site, lab, memory)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn plan_one_site() -> Vec<crate::Figure> {
    let (site, mut lab, memory) = converged();
    let observed = lab.observe().expect("observe");
    let now = lab.now();
    let mut samples = Vec::new();
    for _ in 0..200 {
        let start = Instant::now();
        for _ in 0..100 {
            black_box(plan::plan(
                black_box(&site.manifest),
                black_box(&observed),
                black_box(&memory),
                now,
            ));
        }
        samples.push(start.elapsed() / 100);
    }
    let m = median(samples);
    vec![crate::Figure::held(
        "plan() for one converged site",
        format!("{} median per call", crate::report::human(m)),
        "< 20 µs",
        m < Duration::from_micros(20),
    )]
}

pub fn pass_10000_sites() -> Vec<crate::Figure> {
    let (site, lab, memory) = converged();
    let mut labs: Vec<Lab> = (0..10_000).map(|_| lab.clone()).collect();
    let mut runs = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let mut actions = 0;
        for lab in &mut labs {
            let observed = lab.observe().expect("observe");
            let p = plan::plan(&site.manifest, &observed, &memory, lab.now());
            actions += p.actions.len();
        }
        runs.push(start.elapsed());
        assert_eq!(actions, 0, "converged sites plan nothing");
    }
    let m = median(runs);
    vec![crate::Figure::held(
        "observe + plan over 10,000 converged simulated sites",
        format!("{} median of 5", crate::report::human(m)),
        "< 2 s",
        m < Duration::from_secs(2),
    )]
}

/// Memory held in the process, as a fleet member holds the memory of the sites it owns: a
/// pass reads no file.
struct HeldMemory(Mutex<Memory>);

impl galaxy_ha::store::SiteStore for HeldMemory {
    fn load(&self, _site: &str) -> Result<Memory, galaxy_ha::store::StoreError> {
        Ok(self.0.lock().expect("memory").clone())
    }
    fn save(&self, _site: &str, memory: &Memory) -> Result<(), galaxy_ha::store::StoreError> {
        *self.0.lock().expect("memory") = memory.clone();
        Ok(())
    }
    fn share(&self, site: &str, memory: &Memory) {
        self.save(site, memory).expect("held in memory");
    }
    fn append(
        &self,
        _site: &str,
        entry: &galaxy_ha::journal::Entry,
    ) -> Result<(), galaxy_ha::store::StoreError> {
        panic!("a pass with nothing to do journals nothing: {entry:?}")
    }
    fn journal(
        &self,
        _site: &str,
    ) -> Result<(Vec<galaxy_ha::journal::Entry>, usize), galaxy_ha::store::StoreError> {
        Ok((Vec::new(), 0))
    }
    fn journal_stamp(&self, _site: &str) -> Option<u64> {
        None
    }
}

/// A whole pass (`reconcile::pass`: memory loaded, observed, planned, nothing to carry out)
/// of a converged site whose memory is held in the process, as in a fleet: what it
/// allocates. The lab's world is in memory, so the pass touches no file.
pub fn idle_pass_allocations() -> Vec<crate::Figure> {
    let (site, mut lab, memory) = converged();
    let dir = tempfile::tempdir().expect("temp dir");
    let held: Arc<dyn galaxy_ha::store::SiteStore> = Arc::new(HeldMemory(Mutex::new(memory)));
    let mut store = Records::new(dir.path(), "bench")
        .on(held)
        .writing_only_changes();
    let mut alerts = LogSink::default();
    // The first pass shares the manifest's spec with memory; then every pass is alike.
    for _ in 0..10 {
        reconcile::pass(&site, &mut lab, &mut store, &mut alerts).expect("pass");
    }
    const PASSES: usize = 1_000;
    let region = stats_alloc::Region::new(crate::ALLOCATOR);
    for _ in 0..PASSES {
        let outcome = reconcile::pass(&site, &mut lab, &mut store, &mut alerts).expect("pass");
        assert!(
            outcome.report.applied.is_empty(),
            "a converged site does nothing"
        );
        drop(black_box(outcome));
    }
    let stats = region.change();
    let per_pass = stats.allocations / PASSES;
    let bytes = stats.bytes_allocated / PASSES;
    let files = std::fs::read_dir(dir.path()).expect("temp dir").count();
    assert_eq!(
        files, 0,
        "a pass on memory held in the process writes no file"
    );
    vec![crate::Figure::held(
        "allocations of one pass with nothing to do (memory held, as in a fleet)",
        format!("{per_pass} allocations, {} KiB", bytes / 1024),
        "< 64 KiB",
        bytes < 64 * 1024,
    )]
}
