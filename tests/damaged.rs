//! Damaged state on the real binary: a truncated memory, garbage and a torn line in the
//! journal, a corrupt lab world, a read-only state dir, a full disk. Each ends in a clear
//! error naming the file or in a safe recovery; never a panic, and never a failover acted on
//! memory that could not be read or written.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use galaxy_ha::journal;

use crate::run_support::{Running, wait_for_log};
use crate::support::A;
use crate::support::cli::Site;

/// A protected automatic site whose live host failed long enough ago that a failover is due.
fn failover_due() -> Site {
    let site = Site::new("automatic");
    site.converge();
    site.ok(&["sim", "fault", "host-down", A]);
    site.ok(&["sim", "advance", "6m"]);
    site
}

fn state(site: &Site) -> PathBuf {
    site.dir.path().join(".galaxy-ha")
}

fn memory_path(site: &Site) -> PathBuf {
    state(site).join("sites/hq/memory.json")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Exit 1 with a message that names `file` and contains `says`; no panic.
fn assert_refused(out: &Output, file: &Path, says: &str) {
    let text = text(out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    assert!(
        text.contains(&file.display().to_string()) || text.contains(&relative(file)),
        "names {}: {text}",
        file.display()
    );
    assert!(text.contains(says), "says {says:?}: {text}");
}

/// The path as the binary prints it for a state dir beside the manifest.
fn relative(file: &Path) -> String {
    let s = file.display().to_string();
    s.find(".galaxy-ha")
        .map_or(s.clone(), |i| format!("/{}", &s[i..]))
}

#[test]
fn a_truncated_memory_should_stop_every_command_and_the_service_from_acting() {
    let site = failover_due();
    let memory = memory_path(&site);
    let bytes = fs::read(&memory).unwrap();
    fs::write(&memory, &bytes[..bytes.len() / 3]).unwrap();
    for args in [
        &["apply", "--yes"][..],
        &["apply", "--yes", "--wait"],
        &["plan"],
        &["status"],
        &["failover", "hq", "--yes"],
    ] {
        let out = site.run(args);
        assert_refused(&out, &memory, "refusing to act on uncertain memory");
    }
    // The service keeps running, says why, and acts on nothing.
    let log = site.dir.path().join("run.log");
    let run = Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
        .args(["run", "--sim-speed", "60", "--no-listen", "-m"])
        .arg(site.manifest())
        .env("RUST_LOG", "warn")
        .env_remove("GALAXY_HA_STATE_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut run = Running { child: run };
    wait_for_log(
        &log,
        &["refusing to act on uncertain memory"],
        0,
        Duration::from_secs(20),
    );
    assert_eq!(
        run.terminate(Duration::from_secs(5)).and_then(|s| s.code()),
        Some(0)
    );
    assert!(!fs::read_to_string(&log).unwrap().contains("panicked"));
    assert_eq!(site.failovers(), 0, "no failover on uncertain memory");
    // Restored from a backup, the controller fails over, once.
    fs::write(&memory, &bytes).unwrap();
    site.ok(&["apply", "--yes"]);
    assert_eq!(site.failovers(), 1);
}

#[test]
fn garbage_and_a_torn_line_in_the_journal_should_be_skipped_and_lose_nothing_after_them() {
    let site = failover_due();
    let path = galaxy_ha::store::files::journal_path(&state(&site), "hq");
    let mut damaged = fs::read(&path).unwrap();
    damaged.extend_from_slice(b"not json at all\n\x00\xff\xfe binary\n{\"at\": 12}\n");
    // A crash in the middle of a line: no end of line.
    damaged.extend_from_slice(b"{\"at\":\"2026-01-05T08:15:49Z\",\"action_id\":\"torn");
    fs::write(&path, damaged).unwrap();
    let out = site.run(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(site.failovers(), 1);
    let (entries, skipped) = galaxy_ha::store::files::read_journal(&state(&site), "hq").unwrap();
    assert_eq!(skipped, 4, "the three garbage lines and the torn one");
    let intent = entries.iter().position(|e| {
        e.kind == Some(galaxy_ha::plan::ActionKind::Failover)
            && matches!(e.event, journal::Event::Intent { .. })
    });
    assert!(
        intent.is_some(),
        "the failover's intent, written after the torn line, is kept"
    );
    let history = site.run(&["history"]);
    assert!(history.status.success(), "{}", text(&history));
    assert!(
        text(&history).contains("4 damaged journal line(s) skipped"),
        "{}",
        text(&history)
    );
    assert!(text(&history).contains("fail over"), "{}", text(&history));
}

#[test]
fn a_corrupt_lab_world_should_be_refused_with_the_way_to_start_afresh() {
    let site = failover_due();
    let world = state(&site).join("sim/hq.json");
    let good = fs::read(&world).unwrap();
    for (what, bytes) in [
        ("truncated", good[..good.len() / 2].to_vec()),
        ("binary", vec![0xff, 0x00, 0xfe, 0x12]),
        ("another shape", b"{\"hosts\": 3}".to_vec()),
        ("empty", Vec::new()),
    ] {
        fs::write(&world, bytes).unwrap();
        for args in [&["apply", "--yes"][..], &["status"], &["sim", "show"]] {
            let out = site.run(args);
            assert_refused(&out, &world, "galaxy-ha sim reset");
            assert!(!text(&out).contains("panicked"), "{what}: {}", text(&out));
        }
    }
    fs::write(&world, good).unwrap();
    site.ok(&["apply", "--yes"]);
    assert_eq!(site.failovers(), 1);
}

/// Whether the tests run as root, whom file permissions do not stop.
fn root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

const NOBODY: u32 = 65534;

/// The binary where `nobody` can run it: linked (or copied) into a directory of its own that
/// every user may enter, since the build's own may be private.
fn reachable_binary() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let exe = env!("CARGO_BIN_EXE_galaxy-ha");
    let path = dir.path().join("galaxy-ha");
    if fs::hard_link(exe, &path).is_err() {
        fs::copy(exe, &path).unwrap();
    }
    (dir, path)
}

/// `galaxy-ha ARGS -m MANIFEST` as a user whom permissions bind: `nobody` through `setpriv`
/// when the tests run as root, else as is.
fn run_unprivileged(site: &Site, args: &[&str]) -> Output {
    // Kept until the command ends.
    let mut reachable = None;
    let mut command = if root() {
        let (dir, bin) = reachable_binary();
        reachable = Some(dir);
        let mut c = Command::new("setpriv");
        c.args([
            format!("--reuid={NOBODY}"),
            format!("--regid={NOBODY}"),
            "--clear-groups".into(),
            "--".into(),
        ])
        .arg(bin);
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
    };
    let out = command
        .args(args)
        .arg("-m")
        .arg(site.manifest())
        .env_remove("GALAXY_HA_STATE_DIR")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run galaxy-ha (setpriv from util-linux when root)");
    drop(reachable);
    out
}

/// Makes everything under `dir` readable by all, and `writable` (and what is in it) owned by
/// the unprivileged user when running as root.
fn open_up(dir: &Path, writable: &[PathBuf]) {
    for entry in walk(dir) {
        let mode = if entry.is_dir() { 0o755 } else { 0o644 };
        fs::set_permissions(&entry, fs::Permissions::from_mode(mode)).unwrap();
        if root() && writable.iter().any(|w| entry.starts_with(w)) {
            std::os::unix::fs::chown(&entry, Some(NOBODY), Some(NOBODY)).unwrap();
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    if dir.is_dir() {
        for e in fs::read_dir(dir).unwrap() {
            out.extend(walk(&e.unwrap().path()));
        }
    }
    out
}

#[test]
fn a_read_only_state_dir_should_end_in_a_clear_error_and_no_failover() {
    let site = failover_due();
    let state = state(&site);
    // The site's memory and journal cannot be written; the lock and the lab can.
    let sites = state.join("sites/hq");
    open_up(site.dir.path(), &[state.join("lock"), state.join("sim")]);
    if !root() {
        fs::set_permissions(&state, fs::Permissions::from_mode(0o755)).unwrap();
    }
    fs::set_permissions(&sites, fs::Permissions::from_mode(0o555)).unwrap();
    let out = run_unprivileged(&site, &["apply", "--yes"]);
    assert_refused(&out, &sites, "Permission denied");
    assert_eq!(
        site.failovers(),
        0,
        "no failover while its intent cannot be kept"
    );
    // The whole state dir read-only: the lock cannot be taken, nothing starts.
    fs::set_permissions(&sites, fs::Permissions::from_mode(0o755)).unwrap();
    if root() {
        std::os::unix::fs::chown(state.join("lock"), Some(0), Some(0)).unwrap();
    }
    fs::set_permissions(&state, fs::Permissions::from_mode(0o555)).unwrap();
    let out = run_unprivileged(&site, &["apply", "--yes"]);
    assert_refused(&out, &state.join("lock"), "Permission denied");
    assert_eq!(site.failovers(), 0);
    // Writable again: one failover.
    fs::set_permissions(&state, fs::Permissions::from_mode(0o755)).unwrap();
    site.ok(&["apply", "--yes"]);
    assert_eq!(site.failovers(), 1);
}

#[test]
fn a_full_disk_should_end_in_a_clear_error_and_no_failover() {
    let site = failover_due();
    // No file may grow (RLIMIT_FSIZE 0): every write fails as on a full disk. The shell
    // ignores SIGXFSZ first, so a write fails with an error instead of killing the process.
    let out = Command::new("prlimit")
        .args([
            "--fsize=0",
            "--",
            "sh",
            "-c",
            "trap '' XFSZ; exec \"$0\" \"$@\"",
        ])
        .arg(env!("CARGO_BIN_EXE_galaxy-ha"))
        .args(["apply", "--yes", "-m"])
        .arg(site.manifest())
        .env_remove("GALAXY_HA_STATE_DIR")
        .env("RUST_LOG", "warn")
        .output()
        .expect("prlimit (util-linux)");
    assert_refused(&out, &memory_path(&site), "File too large");
    assert_eq!(
        site.failovers(),
        0,
        "no failover while its intent cannot be kept"
    );
    // The files it could not write are intact.
    galaxy_ha::store::files::load_memory(&state(&site), "hq").expect("memory intact");
    let (_, skipped) = galaxy_ha::store::files::read_journal(&state(&site), "hq").unwrap();
    assert_eq!(skipped, 0);
    site.ok(&["apply", "--yes"]);
    assert_eq!(site.failovers(), 1);
}
