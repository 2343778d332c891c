//! Benchmarks, run with `cargo bench --bench bench`: a plain main that runs one module per
//! area and prints each figure beside its target. `-- --report FILE` also writes them as the
//! Markdown report (`docs/benchmarks.md`); the run exits 1 when a figure misses its target.

mod chaos;
mod engine;
mod hostile;
mod manifests;
mod report;
mod service;
mod sim;

pub use report::Figure;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let report = args
        .iter()
        .position(|a| a == "--report")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from);
    let started = std::time::Instant::now();
    let mut figures = Vec::new();
    let mut section = |name: &'static str, found: Vec<Figure>| {
        for f in &found {
            println!("{f}");
        }
        figures.push((name, found));
    };
    section("Manifests", manifests::bench_validate_1000());
    section("Hostile manifests", hostile::bench_refusals());
    section("Simulated lab", sim::bench_sim_24h());
    section("Planner", engine::plan_one_site());
    section("Planner", engine::pass_10000_sites());
    section("Service", service::bench_run_1000_sites());
    section("Demo", service::bench_demo());
    section("Chaos", chaos::bench_chaos());
    let missed = figures
        .iter()
        .flat_map(|(_, f)| f)
        .filter(|f| f.pass == Some(false))
        .count();
    if let Some(path) = report {
        let text = report::markdown(&figures, started.elapsed());
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
        println!("report written to {}", path.display());
    }
    if missed > 0 {
        eprintln!("{missed} figure(s) missed their target");
        std::process::exit(1);
    }
}
