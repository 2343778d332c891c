//! `galaxy-ha run` on the real binary: the lock, SIGTERM, watching, dry run.

use std::fs;
use std::time::{Duration, Instant};

use crate::run_support::*;

/// A temp dir with a manifest directory, a state dir and a log path.
fn workspace() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    std::path::PathBuf,
    std::path::PathBuf,
) {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, state, log) = (
        tmp.path().join("m"),
        tmp.path().join("s"),
        tmp.path().join("log"),
    );
    fs::create_dir_all(&dir).unwrap();
    (tmp, dir, state, log)
}

/// `run` on a workspace with site `a` (30 s interval), after its first pass started.
fn running_site_a() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    std::path::PathBuf,
    std::path::PathBuf,
    Running,
) {
    let (tmp, dir, state, log) = workspace();
    fs::write(dir.join("a.yaml"), manifest("a", "30s", None)).unwrap();
    let run = start_run(&dir, &state, &log, &[]);
    wait_for_log(
        &log,
        &["pass started", "site=a"],
        0,
        Duration::from_secs(10),
    );
    (tmp, dir, state, log, run)
}

#[test]
fn a_second_controller_on_the_same_state_dir_exits_1_with_the_lock_message() {
    let (_tmp, dir, state, log) = workspace();
    fs::write(dir.join("a.yaml"), manifest("a", "10s", None)).unwrap();
    let _first = start_run(&dir, &state, &log, &[]);
    wait_for_log(&log, &["controller started"], 0, Duration::from_secs(10));
    let second = std::process::Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
        .arg("run")
        .arg("-m")
        .arg(&dir)
        .arg("--state-dir")
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("only one controller may work on a state dir"),
        "{stderr}"
    );
}

#[test]
fn sigterm_finishes_the_pass_and_exits_0_with_memory_intact() {
    let (_tmp, dir, state, log) = workspace();
    fs::write(dir.join("a.yaml"), manifest("a", "1s", None)).unwrap();
    let mut run = start_run(&dir, &state, &log, &["--sim-speed", "200"]);
    let memory = state.join("sites/a/memory.json");
    eventually(Duration::from_secs(20), "memory written", || {
        memory.exists()
    });
    wait_for_log(
        &log,
        &["pass started", "site=a"],
        2,
        Duration::from_secs(20),
    );
    let asked = Instant::now();
    let status = run
        .terminate(Duration::from_secs(5))
        .expect("exited within 5 s");
    assert!(status.success(), "{status:?}");
    assert!(asked.elapsed() < Duration::from_secs(5));
    let doc: serde_json::Value = serde_json::from_slice(&fs::read(&memory).unwrap()).unwrap();
    assert_eq!(doc["live_host"], "GCSHOSTA", "{doc}");
    assert!(
        fs::read_to_string(&log)
            .unwrap()
            .contains("controller stopped")
    );
}

#[test]
fn edits_new_files_renames_deletions_and_checkouts_are_picked_up() {
    let (_tmp, dir, _state, log, _run) = running_site_a();

    // An edit starts a pass within 1 s.
    let passes = count_log(&log, &["pass started", "site=a"]);
    let edited = Instant::now();
    fs::write(dir.join("a.yaml"), manifest("a", "31s", None)).unwrap();
    wait_for_log(
        &log,
        &["pass started", "site=a"],
        passes,
        Duration::from_secs(5),
    );
    assert!(
        edited.elapsed() < Duration::from_secs(1),
        "edit → pass took {:?}",
        edited.elapsed()
    );

    // A new file starts a new site.
    fs::write(dir.join("b.yaml"), manifest("b", "30s", None)).unwrap();
    wait_for_log(&log, &["pass started", "site=b"], 0, Duration::from_secs(3));

    // A rename over a file (an editor's save).
    let passes = count_log(&log, &["pass started", "site=b"]);
    write_by_rename(&dir.join("b.yaml"), &manifest("b", "32s", None));
    wait_for_log(
        &log,
        &["pass started", "site=b"],
        passes,
        Duration::from_secs(3),
    );

    // An invalid edit keeps the site and says where the problem is.
    fs::write(
        dir.join("a.yaml"),
        manifest("a", "30s", None).replace("primary: GCSHOSTA", "primary: GCSHOSTC"),
    )
    .unwrap();
    wait_for_log(
        &log,
        &["a.yaml:", "spec.primary"],
        0,
        Duration::from_secs(3),
    );
    wait_for_log(&log, &["manifest-invalid"], 0, Duration::from_secs(3));
    assert_eq!(count_log(&log, &["no longer managing", "site=a"]), 0);

    // A deleted manifest stops managing its site, nothing else.
    fs::remove_file(dir.join("b.yaml")).unwrap();
    wait_for_log(
        &log,
        &["no longer managing", "site=b"],
        0,
        Duration::from_secs(3),
    );

    // A checkout of the whole directory: both files change at once.
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.test"])
            .args(args)
            .current_dir(&dir)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    fs::write(dir.join("a.yaml"), manifest("a", "30s", None)).unwrap();
    fs::write(dir.join("c.yaml"), manifest("c", "30s", None)).unwrap();
    git(&["add", "."]);
    git(&["commit", "-qm", "one"]);
    wait_for_log(&log, &["pass started", "site=c"], 0, Duration::from_secs(3));
    fs::write(dir.join("a.yaml"), manifest("a", "33s", None)).unwrap();
    fs::write(dir.join("c.yaml"), manifest("c", "33s", None)).unwrap();
    git(&["commit", "-qam", "two"]);
    std::thread::sleep(Duration::from_millis(500));
    let (pa, pc) = (
        count_log(&log, &["pass started", "site=a"]),
        count_log(&log, &["pass started", "site=c"]),
    );
    git(&["checkout", "-q", "HEAD~1", "--", "."]);
    wait_for_log(
        &log,
        &["pass started", "site=a"],
        pa,
        Duration::from_secs(3),
    );
    wait_for_log(
        &log,
        &["pass started", "site=c"],
        pc,
        Duration::from_secs(3),
    );
}

#[test]
fn dry_run_logs_the_plan_and_acts_on_nothing() {
    let (_tmp, dir, state, log) = workspace();
    fs::write(dir.join("a.yaml"), manifest("a", "1s", None)).unwrap();
    let mut run = start_run(&dir, &state, &log, &["--dry-run"]);
    wait_for_log(&log, &["dry run, nothing done"], 1, Duration::from_secs(10));
    assert!(
        run.terminate(Duration::from_secs(5))
            .is_some_and(|s| s.success())
    );
    let text = fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("Plan:") || text.contains("to change"),
        "{text}"
    );
    assert!(!state.join("sites/a/memory.json").exists());
    assert_eq!(count_log(&log, &["applied:"]), 0);
}

#[test]
fn a_sim_fault_injected_while_running_is_seen_and_fenced_in_the_next_pass() {
    let (_tmp, dir, state, log) = workspace();
    fs::write(dir.join("a.yaml"), manifest("a", "1s", None)).unwrap();
    let _run = start_run(&dir, &state, &log, &["--sim-speed", "60"]);
    eventually(Duration::from_secs(20), "the site adopted", || {
        state.join("sites/a/memory.json").exists()
    });
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
        .args(["sim", "fault", "vm-start", "GCSHOSTB", "-m"])
        .arg(&dir)
        .arg("--state-dir")
        .arg(&state)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_for_log(&log, &["split-brain-fenced"], 0, Duration::from_secs(20));
    let world: serde_json::Value =
        serde_json::from_slice(&fs::read(state.join("sim/a.json")).unwrap()).unwrap();
    let hosts = world["hosts"].as_array().unwrap();
    let b = hosts.iter().find(|h| h["name"] == "GCSHOSTB").unwrap();
    let vms = b["vms"].as_array().unwrap();
    assert!(!vms.is_empty(), "{b}");
    assert!(
        vms.iter().all(|vm| vm["running"] == false),
        "the VM started on GCSHOSTB is off again: {b}"
    );
}

/// `history` of a site while `run` manages it.
fn history(dir: &std::path::Path, state: &std::path::Path) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
        .arg("history")
        .arg("-m")
        .arg(dir)
        .arg("--state-dir")
        .arg(state)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_manifest_edited_under_run_is_journaled_and_history_shows_it() {
    let (_tmp, dir, state, _log, _run) = running_site_a();
    eventually(
        Duration::from_secs(10),
        "the first manifest journaled",
        || history(&dir, &state).contains("first seen by the controller"),
    );
    fs::write(dir.join("a.yaml"), manifest("a", "45s", None)).unwrap();
    eventually(Duration::from_secs(10), "the edit journaled", || {
        history(&dir, &state).contains("spec.failover.monitor.interval: 30s → 45s")
    });
}

#[test]
fn a_second_controller_on_another_state_dir_may_not_drive_the_same_pair() {
    let (tmp, dir, state, log) = workspace();
    let locks = tmp.path().join("pair-locks");
    let yaml = galaxy_ha::manifest::sample::real_site_yaml(
        "hq",
        ["GCSHOSTA", "GCSHOSTB"],
        ["10.1.0.1", "10.1.0.2", "10.1.0.3"],
    );
    fs::write(dir.join("hq.yaml"), &yaml).unwrap();
    let _run = {
        let file = fs::File::create(&log).unwrap();
        Running {
            child: std::process::Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
                .args(["run", "--listen", "127.0.0.1:0", "-m"])
                .arg(&dir)
                .arg("--state-dir")
                .arg(&state)
                .env(galaxy_ha::dirs::PAIR_LOCK_DIR_ENV, &locks)
                .env("RUST_LOG", "warn,galaxy_ha=info")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(file)
                .spawn()
                .unwrap(),
        }
    };
    wait_for_log(
        &log,
        &["managing site", "site=hq"],
        0,
        Duration::from_secs(10),
    );
    // The same pair from another checkout and state dir, as a second admin might.
    let other = tmp.path().join("other");
    fs::create_dir_all(&other).unwrap();
    fs::write(
        other.join("west.yaml"),
        yaml.replace("name: hq", "name: west"),
    )
    .unwrap();
    let apply = std::process::Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
        .args(["apply", "--yes", "-m"])
        .arg(&other)
        .arg("--state-dir")
        .arg(tmp.path().join("other-state"))
        .env(galaxy_ha::dirs::PAIR_LOCK_DIR_ENV, &locks)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&apply.stderr);
    assert_eq!(apply.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("is driven by another galaxy-ha controller on this machine"),
        "{stderr}"
    );
    assert!(stderr.contains("site hq"), "the holder is named: {stderr}");
    assert!(!stderr.contains("--state-dir"), "{stderr}");
    // A second service on that checkout does not manage the site either.
    let second_log = tmp.path().join("second.log");
    let _second = Running {
        child: std::process::Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
            .args(["run", "--listen", "127.0.0.1:0", "-m"])
            .arg(&other)
            .arg("--state-dir")
            .arg(tmp.path().join("other-state"))
            .env(galaxy_ha::dirs::PAIR_LOCK_DIR_ENV, &locks)
            .env("RUST_LOG", "warn,galaxy_ha=info")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(fs::File::create(&second_log).unwrap())
            .spawn()
            .unwrap(),
    };
    wait_for_log(
        &second_log,
        &["not managing the site", "site=west", "driven by another"],
        0,
        Duration::from_secs(10),
    );
    assert_eq!(
        count_log(&second_log, &["managing site", "site=west"]),
        0,
        "{}",
        fs::read_to_string(&second_log).unwrap_or_default()
    );
}

/// Under `--sim-speed` the controller keeps the lab's times, not the wall clock's: with a
/// 10-second monitor interval at 20 times the wall clock, it passes every 10 virtual seconds
/// (not every 200) and again when the failover monitor's condition falls due, so the
/// failover is issued as soon after the failure as at speed 1: the monitor's 5-minute
/// threshold, plus at most one interval for its first missed query, plus a pass.
#[test]
fn under_sim_speed_the_failover_is_issued_when_the_condition_falls_due_in_lab_time() {
    let manifest = crate::support::manifest_yaml("automatic").replace(
        "    mode: automatic\n",
        "    mode: automatic\n    monitor:\n      interval: 10s\n",
    );
    let c = Controller::start_manifest(&manifest, 20);
    c.wait_site("protecting", Duration::from_secs(60), |s| {
        s["activity"] == "Protecting"
    });
    // The lab's world file (which `sim fault` changes) is saved once a virtual minute: wait
    // until it shows the mirror complete too, or the fault lands in a world still mirroring.
    eventually(
        Duration::from_secs(30),
        "the world file shows the job protecting",
        || {
            let show = c.cli(&["sim", "show", "--format", "json"]);
            let doc: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap_or_default();
            doc["job"]["activity"] == "protecting"
        },
    );
    c.host_down("GCSHOSTA");
    let show = c.cli(&["sim", "show", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    let failed: jiff::Timestamp = doc["clock"].as_str().unwrap().parse().unwrap();
    let site = c.wait_site("failed over", Duration::from_secs(60), |s| {
        s["last_failover"]["at"].is_string()
    });
    let issued: jiff::Timestamp = site["last_failover"]["at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let took = issued.duration_since(failed);
    // Measured 5m3s to 5m7s; passes on the wall clock's 10 s (200 virtual seconds) took 7m8s.
    // 20 virtual seconds are one wall second of slack for a loaded machine.
    assert!(
        took <= jiff::SignedDuration::from_secs(300 + 10 + 20),
        "failover issued {took:?} after the failure; passes every 200 virtual seconds would take up to 8m20s"
    );
    assert!(took >= jiff::SignedDuration::from_secs(300), "{took:?}");
}

/// The controller's count of manifest reloads, from `/metrics`.
fn reloads(port: u16) -> f64 {
    let body = http_get(port, "/metrics").expect("metrics").body;
    body.lines()
        .find_map(|l| l.strip_prefix("galaxy_ha_manifest_reloads_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no manifest_reloads in /metrics:\n{body}"))
}

#[test]
fn reading_the_manifests_is_not_a_change_but_an_edit_is() {
    let c = Controller::start("manual", 50);
    let path = c.tmp.path().join("m").join("hq.yaml");
    // The start's reload opened the manifest; the watcher reports openings too, and they
    // must not set off another reload (each would open the files again, forever).
    std::thread::sleep(Duration::from_secs(2));
    let at_start = reloads(c.port);
    for _ in 0..5 {
        let _ = std::fs::read_to_string(&path).expect("read the manifest");
        std::thread::sleep(Duration::from_millis(300));
    }
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(reloads(c.port), at_start, "reading a manifest reloaded it");
    c.edit_manifest(|text| text.replace("interval: 1s", "interval: 2s"));
    eventually(Duration::from_secs(20), "the edit is read", || {
        reloads(c.port) > at_start
    });
}
