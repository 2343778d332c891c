//! Benchmarks that print figures: `cargo bench --bench bench`.

mod engine;

fn main() {
    engine::plan_one_site();
    engine::pass_10000_sites();
}
