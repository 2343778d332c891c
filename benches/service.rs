//! `galaxy-ha run` benchmark: many simulated sites in one controller (the real binary).

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn manifest(name: &str, interval: u32) -> String {
    format!(
        "apiVersion: galaxy-ha/v1\nkind: RedundantServer\nmetadata: {{name: {name}}}\nspec:\n  \
         hosts: [{{name: GCSHOSTA, address: 10.100.0.43}}, {{name: GCSHOSTB, address: 10.100.0.44}}]\n  \
         primary: GCSHOSTA\n  vm: {{name: GCSServer, address: 10.100.0.45}}\n  \
         failover: {{monitor: {{interval: {interval}s}}}}\n"
    )
}

fn start(dir: &Path, state: &Path, log: &Path, speed: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
        .args(["run", "-m"])
        .arg(dir)
        .arg("--state-dir")
        .arg(state)
        .args(["--sim-speed", speed])
        // An ephemeral port: the bench must not depend on (or occupy) the default one.
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn,galaxy_ha::service=debug")
        .stdout(Stdio::null())
        .stderr(fs::File::create(log).expect("log"))
        .spawn()
        .expect("start galaxy-ha run")
}

pub fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// CPU time (user + system) of a process, from /proc/PID/stat, in clock ticks (1/100 s).
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, s)| s).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the command name: state is field 3, utime 14, stime 15 (1-based over the line).
    let get = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    get(11) + get(12)
}

pub fn rss_kib(pid: u32) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// 1,000 simulated sites (`GALAXY_HA_BENCH_SITES` to change) at a 10 s monitor interval.
/// Converges at `--sim-speed 100` until every site protects, restarts at speed 1, then measures resident memory and CPU
/// over 30 s of idle, and manifest edit → pass start over 100 edits.
/// Targets: RSS < 150 MiB, CPU < 5 % of one core idle, p99 edit → pass < 1 s.
pub fn bench_run_1000_sites() -> Vec<crate::Figure> {
    let sites: usize = std::env::var("GALAXY_HA_BENCH_SITES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let tmp = tempfile::tempdir().expect("temp dir");
    let (dir, state) = (tmp.path().join("m"), tmp.path().join("s"));
    fs::create_dir_all(&dir).expect("dir");
    for i in 0..sites {
        fs::write(
            dir.join(format!("s{i:04}.yaml")),
            manifest(&format!("s{i:04}"), 10),
        )
        .expect("manifest");
    }
    let log = tmp.path().join("log");

    // Converged means every site protecting, read from `status` as an admin would; a fixed
    // window left a fifth of them still provisioning on a slow machine.
    let started = Instant::now();
    let mut fast = start(&dir, &state, &log, "100");
    let protecting = || {
        let out = Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
            .args(["status", "--format", "json", "-m"])
            .arg(&dir)
            .arg("--state-dir")
            .arg(&state)
            .output()
            .expect("galaxy-ha status");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        doc["sites"].as_array().map_or(0, |s| {
            s.iter().filter(|s| s["activity"] == "Protecting").count()
        })
    };
    while started.elapsed() < Duration::from_secs(600) && protecting() < sites {
        std::thread::sleep(Duration::from_secs(5));
    }
    stop(&mut fast);
    let converge = started.elapsed();
    let converged = protecting();

    let mut run = start(&dir, &state, &log, "1");
    let pid = run.id();
    std::thread::sleep(Duration::from_secs(15));
    let (t0, c0) = (Instant::now(), cpu_ticks(pid));
    std::thread::sleep(Duration::from_secs(30));
    let cpu = (cpu_ticks(pid) - c0) as f64 / 100.0 / t0.elapsed().as_secs_f64() * 100.0;
    let rss = rss_kib(pid) as f64 / 1024.0;

    // Edit → pass start, read from the log as it grows.
    let mut reader = BufReader::new(fs::File::open(&log).expect("log"));
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 {
        line.clear();
    }
    let mut latencies = Vec::new();
    for k in 0..100 {
        let name = format!("s{:04}", (k * 7919) % sites);
        let edited = Instant::now();
        fs::write(
            dir.join(format!("{name}.yaml")),
            manifest(&name, 10 + 1 + (k as u32 % 2)),
        )
        .expect("edit");
        let needle = format!("site={name}");
        let deadline = edited + Duration::from_secs(10);
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                if Instant::now() > deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
                continue;
            }
            if line.contains("pass started") && line.contains(&needle) {
                latencies.push(edited.elapsed());
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    stop(&mut run);
    latencies.sort();
    let p = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or_default()
    };
    let (p50, p99) = (p(0.5), p(0.99));
    let all_edits = latencies.len() == 100;
    vec![
        crate::Figure::held(
            &format!("run with {sites} sites: resident memory, idle"),
            format!("{rss:.1} MiB"),
            "< 150 MiB",
            rss < 150.0,
        ),
        crate::Figure::held(
            &format!("run with {sites} sites: CPU, idle at --sim-speed 1"),
            format!("{cpu:.2} % of one core over 30 s"),
            "< 5 %",
            cpu < 5.0,
        ),
        crate::Figure::held(
            &format!("run with {sites} sites: manifest edit → pass start"),
            format!(
                "p99 {}, p50 {} over {} edits",
                crate::report::human(p99),
                crate::report::human(p50),
                latencies.len()
            ),
            "p99 < 1 s",
            all_edits && p99 < Duration::from_secs(1),
        ),
        crate::Figure::shown(
            &format!("run with {sites} sites: converging at --sim-speed 100"),
            format!("{converge:.0?} until {converged} of {sites} protect (status read every 5 s)"),
        ),
    ]
}

/// `galaxy-ha demo`, the guide's four stages end to end on a fresh lab, three times.
pub fn bench_demo() -> Vec<crate::Figure> {
    let mut runs: Vec<Duration> = (0..3)
        .map(|_| {
            let started = Instant::now();
            let out = Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
                .arg("demo")
                .env("RUST_LOG", "warn")
                .output()
                .expect("galaxy-ha demo");
            assert!(
                out.status.success(),
                "the demo failed: {}",
                String::from_utf8_lossy(&out.stdout)
            );
            started.elapsed()
        })
        .collect();
    runs.sort();
    vec![crate::Figure::held(
        "galaxy-ha demo (four stages, every check)",
        format!("{} median of 3", crate::report::human(runs[1])),
        "< 10 s",
        runs[1] < Duration::from_secs(10),
    )]
}
