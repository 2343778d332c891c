//! The CLI under hostile input: broken secrets, extreme durations, memory from a newer
//! version, odd entries in a manifest directory, every error said once, and every
//! command's arguments fuzzed over the clap definitions.

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use proptest::prelude::*;

use crate::support::cli::Site;

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `galaxy-ha ARGS` in `dir`, the state dir in it too, killed after `limit`.
fn galaxy(dir: &Path, args: &[&str], limit: Duration) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
        .args(args)
        .current_dir(dir)
        .env("GALAXY_HA_STATE_DIR", dir.join("state"))
        .env("RUST_LOG", "warn")
        .env_remove("GALAXY_HA_CHAOS_CASES")
        .env_remove("GALAXY_HA_CHAOS_SEED")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "galaxy-ha {args:?} still running after {limit:?}: {}",
                text(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (out.status.code(), text(&out))
}

/// The guide's site with e-mail (to a loopback port nobody serves) whose password comes
/// from `password_file`.
fn with_password_file(password_file: &Path) -> Site {
    let email = format!(
        "  notifications:\n    email:\n      smtp:\n        server: 127.0.0.1\n        port: 9\n        security: none\n        username: alerts\n        passwordFrom: {{ file: {} }}\n      from: galaxy-ha@example.test\n      to: [ops@example.test]\n",
        password_file.display()
    );
    Site::with_yaml(&(crate::support::manifest_yaml("manual") + &email))
}

#[test]
fn each_kind_of_broken_secret_is_a_located_error_before_it_is_needed() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing");
    let empty = tmp.path().join("empty");
    fs::write(&empty, "").unwrap();
    let two = tmp.path().join("two");
    fs::write(&two, "Zebra-Quokka-7731!\nsecond\n").unwrap();
    let fifo = tmp.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let cases = [
        (missing.as_path(), "No such file"),
        (empty.as_path(), "is empty"),
        (two.as_path(), "more than one line"),
        (tmp.path(), "is a directory"),
        (fifo.as_path(), "is a FIFO"),
        (Path::new("/dev/null"), "is a device"),
    ];
    for (file, want) in cases {
        let site = with_password_file(file);
        let m = site.manifest();
        let m = m.to_str().unwrap();
        let dir = site.dir.path();
        let limit = Duration::from_secs(20);
        // CI: a warning that says it could not be checked; exit 0.
        let (code, out) = galaxy(dir, &["validate", m], limit);
        assert_eq!(code, Some(0), "{want}: {out}");
        assert!(
            out.contains("warning:") && out.contains("not checked here"),
            "{out}"
        );
        assert!(out.contains("passwordFrom") && out.contains(want), "{out}");
        // The controller's machine: an error, located.
        let (code, out) = galaxy(dir, &["validate", "--secrets", m], limit);
        assert_eq!(code, Some(1), "{want}: {out}");
        assert!(out.contains(&format!("{m}:")), "file named: {out}");
        assert!(
            out.contains("spec.notifications.email.smtp.passwordFrom"),
            "{out}"
        );
        let (code, out) = galaxy(dir, &["doctor", "-m", m], limit);
        assert_eq!(code, Some(1), "{want}: {out}");
        assert!(out.contains("FAIL") && out.contains(want), "{out}");
        // Reading never blocks, and a failed read is an error, not an empty password.
        let (code, out) = galaxy(dir, &["alert", "test", "-m", m], limit);
        assert_eq!(code, Some(1), "{want}: {out}");
        assert!(out.contains(want), "{out}");
        assert!(!out.contains("Zebra") && !out.contains("second"), "{out}");
    }
}

#[test]
fn extreme_durations_are_refused_or_cheap_never_a_panic() {
    let site = Site::new("automatic");
    let m = site.manifest();
    let m = m.to_str().unwrap();
    let dir = site.dir.path();
    let limit = Duration::from_secs(60);
    for args in [
        vec!["history", "-m", m, "--since", "999999999999d"],
        vec!["history", "-m", m, "--since", "300000y"],
        vec!["sim", "advance", "999999999999d", "-m", m],
        vec![
            "plan",
            "-m",
            m,
            "--assume",
            "host-down GCSHOSTA",
            "--after",
            "999999999d",
        ],
        vec!["apply", "-m", m, "--yes", "--wait", "--timeout", "3651d"],
    ] {
        let (code, out) = galaxy(dir, &args, limit);
        assert_eq!(code, Some(2), "{args:?}: {out}");
        assert!(out.contains("at most 3650d"), "{args:?}: {out}");
        assert!(!out.contains("panicked"), "{out}");
    }
    // The longest duration allowed costs what its events cost.
    for args in [
        vec!["sim", "advance", "3650d", "-m", m],
        vec![
            "plan",
            "-m",
            m,
            "--assume",
            "host-down GCSHOSTA",
            "--after",
            "3650d",
        ],
        vec!["history", "-m", m, "--since", "3650d"],
    ] {
        let start = Instant::now();
        let (code, out) = galaxy(dir, &args, limit);
        assert!(matches!(code, Some(0 | 2)), "{args:?}: {out}");
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{args:?} took {:?}",
            start.elapsed()
        );
    }
    // And in a manifest.
    site.edit(
        "    mode: automatic\n",
        "    mode: automatic\n    monitor:\n      interval: 3651d\n",
    );
    let (code, out) = galaxy(dir, &["validate", m], limit);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("spec.failover.monitor.interval") && out.contains("at most 3650d"),
        "{out}"
    );
}

#[test]
fn memory_from_a_newer_version_or_without_its_version_is_refused_and_kept() {
    let site = Site::new("automatic");
    let m = site.manifest();
    let m = m.to_str().unwrap();
    let dir = site.dir.path();
    let limit = Duration::from_secs(60);
    let (code, out) = galaxy(dir, &["apply", "-m", m, "--yes"], limit);
    assert_eq!(code, Some(0), "{out}");
    let path = dir.join("state/sites/hq/memory.json");
    let mut doc: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    doc["format_version"] = 2.into();
    doc["written_by"] = "9.9.9".into();
    doc["future_field"] = 1.into();
    let future = serde_json::to_vec_pretty(&doc).unwrap();
    for bytes in [future.as_slice(), b"{}".as_slice()] {
        fs::write(&path, bytes).unwrap();
        for args in [vec!["apply", "-m", m, "--yes"], vec!["plan", "-m", m]] {
            let (code, out) = galaxy(dir, &args, limit);
            assert_eq!(code, Some(1), "{args:?}: {out}");
            if bytes == future.as_slice() {
                assert!(
                    out.contains("memory format 2 was written by galaxy-ha 9.9.9"),
                    "{out}"
                );
            } else {
                assert!(out.contains("no format_version"), "{out}");
            }
            assert!(!out.contains("Plan:"), "no plan before the error: {out}");
        }
        assert_eq!(fs::read(&path).unwrap(), bytes, "memory left as it was");
    }
}

#[test]
fn a_directory_scan_names_every_manifest_entry_it_skips_and_calls_loops_loops() {
    let site = Site::new("manual");
    let dir = site.dir.path();
    std::os::unix::fs::symlink(dir.join("gone.yaml"), dir.join("dangling.yaml")).unwrap();
    std::os::unix::fs::symlink(dir.join("loop.yaml"), dir.join("loop.yaml")).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(dir.join("fifo.yaml"))
            .status()
            .unwrap()
            .success()
    );
    fs::create_dir(dir.join("folder.yaml")).unwrap();
    let (code, out) = galaxy(
        dir,
        &["validate", dir.to_str().unwrap()],
        Duration::from_secs(20),
    );
    assert_eq!(code, Some(0), "{out}");
    for (name, why) in [
        ("dangling.yaml", "broken symlink"),
        ("loop.yaml", "symlink loop"),
        ("fifo.yaml", "not a regular file"),
        ("folder.yaml", "a directory"),
    ] {
        assert!(
            out.lines()
                .any(|l| l.contains(name) && l.contains(why) && l.contains("skipped")),
            "{name}: {out}"
        );
    }
    let looped = dir.join("loop.yaml");
    let (code, out) = galaxy(
        dir,
        &["validate", looped.to_str().unwrap()],
        Duration::from_secs(20),
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("symlink loop") && !out.contains("no such file"),
        "{out}"
    );
}

/// A clause (a part between ": ") that an error line says twice.
fn repeated_clause(line: &str) -> Option<String> {
    let line = line.strip_prefix("error: ").unwrap_or(line);
    let clauses: Vec<&str> = line.split(": ").map(str::trim).collect();
    clauses
        .iter()
        .enumerate()
        .find(|(i, c)| clauses[i + 1..].contains(c))
        .map(|(_, c)| (*c).to_string())
}

#[test]
fn a_repeated_clause_is_found() {
    let doubled = "error: cannot listen on 127.0.0.1:9: Address in use (os error 98): Address in use (os error 98)";
    assert_eq!(
        repeated_clause(doubled).as_deref(),
        Some("Address in use (os error 98)")
    );
    assert_eq!(
        repeated_clause("error: site hq: site hq: cannot observe").as_deref(),
        Some("site hq")
    );
    assert_eq!(
        repeated_clause("error: cannot listen: Address in use (os error 98)"),
        None
    );
}

#[test]
fn every_error_of_the_cli_says_each_clause_once() {
    let site = Site::new("automatic");
    let dir = site.dir.path();
    let m = site.manifest();
    let m = m.to_str().unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = busy.local_addr().unwrap().to_string();
    let file = dir.join("plain-file");
    fs::write(&file, "x").unwrap();
    let under_file = file.join("state");
    let f = file.to_str().unwrap();
    let uf = under_file.to_str().unwrap();
    let token = dir.join("token");
    fs::write(&token, "").unwrap();
    let t = token.to_str().unwrap();
    // A path inside the test's own directory: a machine may well have a `/nonexistent`.
    let missing = dir.join("no-such-manifest.yaml");
    let missing = missing.to_str().unwrap();
    let limit = Duration::from_secs(30);
    let (code, out) = galaxy(dir, &["apply", "-m", m, "--yes"], limit);
    assert_eq!(code, Some(0), "{out}");
    let memory = dir.join("state/sites/hq/memory.json");
    let paths: Vec<Vec<&str>> = vec![
        vec!["run", "-m", m, "--listen", &busy],
        vec!["run", "-m", m, "--listen", "0.0.0.0:0"],
        vec![
            "run",
            "-m",
            m,
            "--listen",
            "127.0.0.1:0",
            "--auth-token-file",
            t,
        ],
        vec!["run", "-m", missing],
        vec!["apply", "-m", m, "--yes", "--state-dir", f],
        vec!["apply", "-m", m, "--yes", "--state-dir", uf],
        vec!["plan", "-m", m, "--assume", "host-down"],
        vec!["plan", "-m", m, "--assume", "meteor GCSHOSTA"],
        vec!["plan", "-m", m, "--site", "nope"],
        vec!["failover", "nope", "-m", m, "--yes"],
        vec!["sim", "fault", "host-down", "-m", m],
        vec!["sim", "fault", "host-down", "GCSHOSTZ", "-m", m],
        vec!["history", "-m", m, "--since", "soon"],
        vec!["validate", missing],
        vec!["status", "-m", m, "--state-dir", f],
    ];
    let mut checked = 0;
    for args in &paths {
        let (code, out) = galaxy(dir, args, limit);
        assert_ne!(code, Some(0), "{args:?} should fail: {out}");
        for line in out.lines().filter(|l| l.starts_with("error")) {
            checked += 1;
            assert_eq!(repeated_clause(line), None, "{args:?}: {line}");
        }
    }
    // Memory that is a directory.
    fs::remove_file(&memory).unwrap();
    fs::create_dir(&memory).unwrap();
    for args in [vec!["plan", "-m", m], vec!["apply", "-m", m, "--yes"]] {
        let (code, out) = galaxy(dir, &args, limit);
        assert_eq!(code, Some(1), "{out}");
        for line in out.lines().filter(|l| l.starts_with("error")) {
            checked += 1;
            assert_eq!(repeated_clause(line), None, "{args:?}: {line}");
        }
    }
    assert!(checked >= paths.len(), "{checked} error lines checked");
    let (_, out) = galaxy(dir, &["apply", "-m", m, "--yes", "--state-dir", f], limit);
    assert!(out.contains("is not a directory"), "{out}");
    let (_, out) = galaxy(dir, &["plan", "-m", m, "--assume", "host-down"], limit);
    assert!(out.contains(r#"usage: --assume "host-down HOST""#), "{out}");
}

/// One argument value of the kinds that break programs.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("999999999999d".to_string()),
        Just("300000y".to_string()),
        Just("3650d".to_string()),
        Just("0s".to_string()),
        Just("-1".to_string()),
        Just("18446744073709551616".to_string()),
        Just("0".to_string()),
        Just("hq.yaml".to_string()),
        Just(".".to_string()),
        Just("/dev/zero".to_string()),
        Just("/nonexistent/galaxy-ha/hq.yaml".to_string()),
        Just("host-down".to_string()),
        Just("host-down GCSHOSTA".to_string()),
        Just("GCSHOSTA".to_string()),
        Just("hq".to_string()),
        "[ -~]{0,12}",
        "\\PC{0,8}",
    ]
}

/// A path of subcommands and its arguments: each one's flag (`None`: positional) and
/// whether it takes a value.
type CommandPath = (Vec<String>, Vec<(Option<String>, bool)>);

/// A command line drawn from the clap definitions: a path of subcommands, then any of each
/// one's arguments, with values from [`value`].
fn command_line() -> impl Strategy<Value = Vec<String>> {
    use clap::CommandFactory;
    let cli = galaxy_ha::cli::Cli::command();
    // Each runnable path of subcommands with its arguments' long names (or positionals).
    let mut paths: Vec<CommandPath> = Vec::new();
    fn walk(cmd: &clap::Command, prefix: Vec<String>, out: &mut Vec<CommandPath>) {
        let args = cmd
            .get_arguments()
            .filter(|a| !a.is_hide_set())
            .map(|a| {
                let flag = a.get_long().map(|l| format!("--{l}"));
                let takes = a.get_action().takes_values();
                (flag, takes)
            })
            .collect();
        if cmd.get_subcommands().next().is_none() {
            out.push((prefix.clone(), args));
        }
        for sub in cmd.get_subcommands() {
            let mut p = prefix.clone();
            p.push(sub.get_name().to_string());
            walk(sub, p, out);
        }
    }
    walk(&cli, Vec::new(), &mut paths);
    // `run` and `status --watch` serve until stopped, `demo` and `sim chaos` run long, and
    // `service` prints an installation: their arguments are fuzzed through parsing below.
    paths.retain(|(p, _)| {
        !matches!(
            p.first().map(String::as_str),
            Some("run" | "demo" | "service" | "help")
        ) && p != &["sim", "chaos"]
            && p.last().is_none_or(|l| l != "help")
    });
    let n = paths.len();
    (0..n, prop::collection::vec((any::<bool>(), value()), 12)).prop_map(move |(i, picks)| {
        let (path, args) = &paths[i];
        let mut line: Vec<String> = path.clone();
        for ((flag, takes), (on, v)) in args.iter().zip(picks.iter().cycle()) {
            // The site's manifest, most of the time, so that commands get past their
            // arguments and run; positionals always, since most are required.
            if flag.as_deref() == Some("--manifests") && !on {
                line.extend(["--manifests".to_string(), "hq.yaml".to_string()]);
                continue;
            }
            if (!on && flag.is_some()) || flag.as_deref() == Some("--watch") {
                continue;
            }
            match flag {
                Some(f) => {
                    line.push(f.clone());
                    if *takes {
                        line.push(v.clone());
                    }
                }
                None => line.push(v.clone()),
            }
        }
        line
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Every command, with arguments from its own definition and values that break
    /// programs, ends cleanly: 0, 1 or 2 (and 3, UNKNOWN, for `status --check`, as
    /// monitoring plugins exit), in bounded time, never a panic.
    #[test]
    fn any_command_line_ends_cleanly(line in command_line()) {
        let site = Site::new("automatic");
        let args: Vec<&str> = line.iter().map(String::as_str).collect();
        let (code, out) = galaxy(site.dir.path(), &args, Duration::from_secs(60));
        let check = line.first().is_some_and(|c| c == "status") && line.iter().any(|a| a == "--check");
        let highest = if check { 3 } else { 2 };
        prop_assert!(
            code.is_some_and(|c| (0..=highest).contains(&c)),
            "{line:?}: exit {code:?}: {out}"
        );
        prop_assert!(!out.contains("panicked"), "{line:?}: {out}");
    }

    /// Parsing alone, many more lines, `run` and `service` included.
    #[test]
    fn parsing_any_command_line_never_panics(
        words in prop::collection::vec(prop_oneof![
            value(),
            Just("run".to_string()),
            Just("--listen".to_string()),
            Just("--tls-cert".to_string()),
            Just("--since".to_string()),
            Just("--after".to_string()),
            Just("--timeout".to_string()),
            Just("-m".to_string()),
            Just("sim".to_string()),
            Just("advance".to_string()),
        ], 0..8)
    ) {
        use clap::Parser;
        let _ = galaxy_ha::cli::Cli::try_parse_from(
            std::iter::once("galaxy-ha".to_string()).chain(words),
        );
    }
}
