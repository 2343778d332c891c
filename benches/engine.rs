//! Engine benchmarks: `plan()` for one site, and one observe + plan pass over 10,000
//! simulated sites with nothing to do.

use std::hint::black_box;
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
