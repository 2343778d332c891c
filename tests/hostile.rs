//! Hostile input to the manifest loader through the real binary: a 100 MB manifest, a device
//! and a pipe named as manifests, alias bombs and deep nesting. Each is refused with a clear
//! message, and the process's peak memory (measured by `tests/maxrss.py`) stays bounded.

use std::path::Path;
use std::process::Command;

/// Peak memory any refusal may take: the binary's own footprint is about 15 MiB; a loader
/// that read or expanded its input would take hundreds.
const MAX_RSS_KIB: u64 = 48 * 1024;

/// `galaxy-ha validate PATH` under `tests/maxrss.py`: (exit code, peak KiB, output).
fn validate(path: &Path) -> (i64, u64, String) {
    let peak = crate::support::maxrss::run(
        env!("CARGO_BIN_EXE_galaxy-ha").as_ref(),
        &["validate".as_ref(), path.as_os_str()],
    );
    (peak.code, peak.kib, peak.output)
}

/// Refused (exit 1, not a crash), saying `says`, within the memory bound.
fn assert_refused(path: &Path, says: &str) {
    let (code, rss, text) = validate(path);
    assert_eq!(code, 1, "{}: {text}", path.display());
    assert!(!text.contains("panicked"), "{text}");
    assert!(
        text.contains(says),
        "{}: expected {says:?} in: {text}",
        path.display()
    );
    assert!(
        rss < MAX_RSS_KIB,
        "{}: peak memory {rss} KiB (bound {MAX_RSS_KIB} KiB)",
        path.display()
    );
}

#[test]
fn a_100_mb_manifest_should_be_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    // Sparse: 100 MB that takes no disk.
    std::fs::File::create(&path)
        .unwrap()
        .set_len(100 * 1024 * 1024)
        .unwrap();
    assert_refused(&path, "104857600 bytes is too large for a manifest");
    // Just over the cap, with real bytes.
    let over = dir.path().join("over.yaml");
    std::fs::write(
        &over,
        "#".repeat(galaxy_ha::manifest::MAX_MANIFEST_BYTES + 1),
    )
    .unwrap();
    assert_refused(&over, "too large for a manifest");
}

#[test]
fn a_device_or_a_pipe_named_as_a_manifest_should_be_refused_unread() {
    assert_refused(Path::new("/dev/zero"), "not a regular file");
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    assert_refused(&fifo, "not a regular file");
}

#[test]
fn alias_bombs_and_deep_nesting_should_be_refused_without_being_expanded() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = galaxy_ha::manifest::sample::hostile();
    assert!(hostile.len() >= 7);
    for (name, text) in &hostile {
        assert!(
            text.len() < galaxy_ha::manifest::MAX_MANIFEST_BYTES,
            "{name}"
        );
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, text).unwrap();
        assert_refused(&path, name);
    }
    // Where the manifest accepts strings, the alias budget is what refuses it.
    assert_refused(
        &dir.path().join("string-referenced-2000-times.yaml"),
        "too many scalar bytes for a manifest",
    );
}
