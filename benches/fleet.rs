//! Fleet benchmark: one controller (the real binary) owning 10,000 simulated sites through a
//! real etcd on loopback: how long claiming them takes, lease renewals per second, resident
//! memory, CPU, pass time and the requests etcd serves per second in steady state.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::service::{cpu_ticks, manifest, rss_kib, stop};

fn port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The body of `GET PATH` on a loopback port, or empty when nothing answers.
fn get(port: u16, path: &str) -> String {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = write!(stream, "GET {path} HTTP/1.0\r\n\r\n");
    let mut raw = String::new();
    let _ = stream.read_to_string(&mut raw);
    raw.split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default()
}

/// Sums the samples of each metric family named in `names` (OpenMetrics or Prometheus text).
fn sums(text: &str, names: &[&str]) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let name = series.split('{').next().unwrap_or(series);
        if names.contains(&name) {
            *out.entry(name.to_string()).or_insert(0.0) += value.parse::<f64>().unwrap_or(0.0);
        }
    }
    out
}

fn etcd(dir: &Path, client: u16, peer: u16) -> Child {
    let (c, p) = (
        format!("http://127.0.0.1:{client}"),
        format!("http://127.0.0.1:{peer}"),
    );
    Command::new("etcd")
        .args(["--name", "bench", "--data-dir"])
        .arg(dir)
        .args(["--listen-client-urls", &c, "--advertise-client-urls", &c])
        .args([
            "--listen-peer-urls",
            &p,
            "--initial-advertise-peer-urls",
            &p,
        ])
        .args([
            "--initial-cluster",
            &format!("bench={p}"),
            "--log-level",
            "error",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start etcd (apt-get install etcd-server)")
}

/// `galaxy-ha run` as one controller of a fleet, the lab `speed` times faster than the wall
/// clock, serving /metrics on `http`.
fn controller(dir: &Path, state: &Path, endpoint: &str, http: u16, speed: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
        .args(["run", "-m"])
        .arg(dir)
        .arg("--state-dir")
        .arg(state)
        .args([
            "--sim-speed",
            speed,
            "--listen",
            &format!("127.0.0.1:{http}"),
        ])
        .args(["--coordination", "etcd", "--etcd-endpoints", endpoint])
        .args(["--controller-id", "bench"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start galaxy-ha run")
}

/// Waits until the controller has carried out no action for 10 s (at most 10 minutes):
/// the sites have converged.
fn wait_quiet(http: u16) {
    let started = Instant::now();
    let mut last = (-1.0, Instant::now());
    while started.elapsed() < Duration::from_secs(600) {
        let done: f64 = sums(&get(http, "/metrics"), &["galaxy_ha_actions_total"])
            .values()
            .sum();
        if done != last.0 {
            last = (done, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(10) {
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// How long until the controller owns every site (`None` past 10 minutes).
fn wait_claimed(http: u16, sites: usize) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(600) {
        let text = get(http, "/metrics");
        let owned: f64 = sums(&text, &["galaxy_ha_fleet_sites_owned"]).values().sum();
        if owned as usize >= sites {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}

/// 10,000 sites (`GALAXY_HA_BENCH_FLEET_SITES` to change) at a 10 s monitor interval, one
/// controller with the default 15 s lease. The sites converge at `--sim-speed 100` (until no
/// action for 10 s); the controller stops (handing its sites over) and starts again at
/// speed 1, claims every site afresh, and 30 s of its steady state are measured.
/// Targets: one lease renewal per 5 s whatever the number of sites; under 256 MiB resident
/// and under a quarter of a core.
pub fn bench_fleet_10000_sites() -> Vec<crate::Figure> {
    let sites: usize = std::env::var("GALAXY_HA_BENCH_FLEET_SITES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let tmp = tempfile::tempdir().expect("temp dir");
    let (client, peer, http) = (port(), port(), port());
    let mut store = etcd(&tmp.path().join("etcd"), client, peer);
    let dir = tmp.path().join("m");
    fs::create_dir_all(&dir).expect("dir");
    for i in 0..sites {
        let name = format!("s{i:05}");
        fs::write(dir.join(format!("{name}.yaml")), manifest(&name, 10)).expect("manifest");
    }
    let endpoint = format!("http://127.0.0.1:{client}");
    let state = tmp.path().join("s");
    let mut fast = controller(&dir, &state, &endpoint, http, "100");
    let first = wait_claimed(http, sites);
    let converging = Instant::now();
    wait_quiet(http);
    let converged = converging.elapsed();
    let stopping = Instant::now();
    stop(&mut fast);
    let stopped = stopping.elapsed();
    let mut run = controller(&dir, &state, &endpoint, http, "1");
    let pid = run.id();
    let claimed = wait_claimed(http, sites);
    wait_quiet(http);
    let names = [
        "galaxy_ha_fleet_lease_renewals_total",
        "galaxy_ha_pass_duration_seconds_sum",
        "galaxy_ha_pass_duration_seconds_count",
    ];
    let grpc = ["grpc_server_handled_total"];
    let (before, etcd_before) = (
        sums(&get(http, "/metrics"), &names),
        sums(&get(client, "/metrics"), &grpc),
    );
    let (t0, c0) = (Instant::now(), cpu_ticks(pid));
    std::thread::sleep(Duration::from_secs(30));
    let secs = t0.elapsed().as_secs_f64();
    let cpu = (cpu_ticks(pid) - c0) as f64 / 100.0 / secs * 100.0;
    let rss = rss_kib(pid) as f64 / 1024.0;
    let (after, etcd_after) = (
        sums(&get(http, "/metrics"), &names),
        sums(&get(client, "/metrics"), &grpc),
    );
    let delta = |m: &BTreeMap<String, f64>, b: &BTreeMap<String, f64>, k: &str| {
        m.get(k).copied().unwrap_or(0.0) - b.get(k).copied().unwrap_or(0.0)
    };
    let renewals = delta(&after, &before, names[0]) / secs;
    let passes = delta(&after, &before, names[2]);
    let pass_ms = delta(&after, &before, names[1]) / passes.max(1.0) * 1000.0;
    let requests = delta(&etcd_after, &etcd_before, grpc[0]) / secs;
    stop(&mut run);
    let _ = store.kill();
    let _ = store.wait();
    use crate::Figure;
    let at = |d: Option<Duration>| {
        d.map_or_else(|| "not within 10 min".to_string(), |d| format!("{d:.1?}"))
    };
    vec![
        Figure::shown(
            &format!("{sites} sites, one controller: all claimed (fresh start)"),
            at(first),
        ),
        Figure::shown("all converged (fresh start)", format!("{converged:.1?}")),
        Figure::shown(
            "all claimed again after a restart onto converged sites",
            at(claimed),
        ),
        Figure::shown("stop and hand every site over", format!("{stopped:.1?}")),
        Figure::held(
            "lease renewals per second, steady state at --sim-speed 1",
            format!("{renewals:.2}/s"),
            "<= 0.25/s, whatever the number of sites",
            renewals <= 0.25,
        ),
        Figure::shown("etcd requests per second", format!("{requests:.0}/s")),
        Figure::shown("passes per second", format!("{:.0}/s", passes / secs)),
        Figure::shown("mean pass time", format!("{pass_ms:.2} ms")),
        Figure::held("RSS", format!("{rss:.0} MiB"), "< 256 MiB", rss < 256.0),
        Figure::shown(
            "memory per site (RSS over the sites)",
            format!("{:.1} KiB", rss * 1024.0 / sites as f64),
        ),
        Figure::held(
            "CPU",
            format!("{cpu:.1} % of one core"),
            "< 25 % of one core",
            cpu < 25.0,
        ),
    ]
}
