//! Benchmarks, run with `cargo bench --bench bench`: a plain main that prints figures, one
//! module per area, one function per benchmark. `cargo bench --bench bench -- NAME` runs
//! only those whose name contains NAME.

mod engine;
mod fleet;
mod manifests;
mod service;
mod sim;

fn main() {
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let benches: [(&str, fn()); 6] = [
        ("validate_1000", manifests::bench_validate_1000),
        ("sim_24h", sim::bench_sim_24h),
        ("plan_one_site", engine::plan_one_site),
        ("pass_10000_sites", engine::pass_10000_sites),
        ("run_1000_sites", service::bench_run_1000_sites),
        ("fleet_10000_sites", fleet::bench_fleet_10000_sites),
    ];
    for (name, bench) in benches {
        if only.is_empty() || only.iter().any(|o| name.contains(o.as_str())) {
            bench();
        }
    }
}
