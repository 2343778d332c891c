//! Benchmarks, run with `cargo bench --bench bench`: a plain main that prints figures, one
//! module per area, one function per benchmark.

mod engine;
mod manifests;
mod service;
mod sim;

fn main() {
    manifests::bench_validate_1000();
    sim::bench_sim_24h();
    engine::plan_one_site();
    engine::pass_10000_sites();
    service::bench_run_1000_sites();
}
