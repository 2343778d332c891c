//! Hostile manifests: how fast the loader refuses them, and the peak memory of
//! `galaxy-ha validate` doing so (measured by `tests/maxrss.py`, the child's own peak).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[path = "../tests/support/maxrss.rs"]
mod maxrss;

/// Peak resident memory of `galaxy-ha validate PATH`, in KiB.
fn peak_kib(path: &Path) -> u64 {
    let peak = maxrss::run(
        env!("CARGO_BIN_EXE_galaxy-ha").as_ref(),
        &["validate".as_ref(), path.as_os_str()],
    );
    assert_eq!(peak.code, 1, "refused: {}", peak.output);
    peak.kib
}

/// The slowest refusal and the largest peak over a 100 MB file and every hostile document.
/// Targets: refused within 100 ms, in less than 48 MiB.
pub fn bench_refusals() -> Vec<crate::Figure> {
    let dir = tempfile::tempdir().expect("temp dir");
    let huge = dir.path().join("huge.yaml");
    std::fs::File::create(&huge)
        .and_then(|f| f.set_len(100 * 1024 * 1024))
        .expect("a sparse 100 MB file");
    let mut files: Vec<(String, PathBuf)> = vec![("100 MB file".into(), huge)];
    for (name, text) in galaxy_ha::manifest::sample::hostile() {
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, text).expect("write");
        files.push((name.to_string(), path));
    }
    let mut figures = Vec::new();
    let (mut slowest, mut largest) = (Duration::ZERO, 0u64);
    for (name, path) in &files {
        let started = Instant::now();
        let refused = galaxy_ha::manifest::load(std::slice::from_ref(path)).is_err();
        let took = started.elapsed();
        let peak = peak_kib(path);
        assert!(refused, "{name} was accepted");
        slowest = slowest.max(took);
        largest = largest.max(peak);
        figures.push(crate::Figure::shown(
            &format!("… {name}"),
            format!(
                "refused in {}, peak {:.1} MiB",
                crate::report::human(took),
                peak as f64 / 1024.0
            ),
        ));
    }
    let mut out = vec![
        crate::Figure::held(
            "hostile manifests: slowest refusal (100 MB, alias bombs, deep nesting)",
            crate::report::human(slowest),
            "< 100 ms",
            slowest < Duration::from_millis(100),
        ),
        crate::Figure::held(
            "hostile manifests: largest peak memory of galaxy-ha validate",
            format!("{:.1} MiB", largest as f64 / 1024.0),
            "< 48 MiB",
            largest < 48 * 1024,
        ),
    ];
    out.append(&mut figures);
    out
}
