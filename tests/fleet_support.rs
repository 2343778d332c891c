//! Helpers for the fleet tests: a real etcd on 127.0.0.1 (Debian's etcd-server) with free
//! ports and a temporary data dir, stopped and restarted at will; and a fleet of real
//! `galaxy-ha run` controllers sharing one manifest directory and one simulated lab.

#![allow(dead_code)] // each fleet test uses its own part

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::run_support::{Running, cli_at, free_port, http_get};

/// The lease TTL the fleet tests run with: short, so a takeover takes seconds.
pub const TTL: &str = "3s";

/// A single-member etcd on loopback ports; killed when dropped.
pub struct Etcd {
    pub endpoint: String,
    client_port: u16,
    peer_port: u16,
    dir: tempfile::TempDir,
    process: Option<Running>,
}

/// etcd's data in memory where the machine has a tmpfs: etcd syncs every write to disk,
/// and on a loaded machine a slow sync makes answers late, which the fleet's short call
/// timeouts count as etcd being unreachable.
fn data_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().unwrap()
}

impl Etcd {
    /// Starts etcd and waits until it answers `/health`.
    pub fn start() -> Etcd {
        let client_port = free_port();
        let mut peer_port = free_port();
        while peer_port == client_port {
            peer_port = free_port();
        }
        let mut etcd = Etcd {
            endpoint: format!("http://127.0.0.1:{client_port}"),
            client_port,
            peer_port,
            dir: data_dir(),
            process: None,
        };
        etcd.resume();
        etcd
    }

    /// Starts (again) on the same ports and data: leases and keys survive a stop.
    pub fn resume(&mut self) {
        let client = format!("http://127.0.0.1:{}", self.client_port);
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("etcd.log"))
            .unwrap();
        let child = Command::new(crate::support::programs::etcd())
            .args(["--name", "test", "--data-dir"])
            .arg(self.dir.path().join("data"))
            .args([
                "--listen-client-urls",
                &client,
                "--advertise-client-urls",
                &client,
            ])
            .args([
                "--listen-peer-urls",
                &peer,
                "--initial-advertise-peer-urls",
                &peer,
            ])
            .arg("--initial-cluster")
            .arg(format!("test={peer}"))
            .args(["--log-level", "error"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start etcd");
        self.process = Some(Running { child });
        let start = Instant::now();
        loop {
            if let Ok(r) = http_get(self.client_port, "/health")
                && r.status == 200
                && r.body.contains("true")
            {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "etcd did not become healthy; its log:\n{}",
                fs::read_to_string(self.dir.path().join("etcd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops etcd dead (SIGKILL), as a crashed or unreachable etcd.
    pub fn stop(&mut self) {
        self.process = None;
    }
}

/// A site manifest on the lab in automatic mode with a 1 s monitor interval.
/// The runtime a library-level fleet test drives its controllers on.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

pub fn site_manifest(name: &str) -> String {
    crate::run_support::manifest(name, "1s", None)
        .replace("  failover:\n", "  failover:\n    mode: automatic\n")
}

/// Several `galaxy-ha run --coordination etcd` controllers over one manifest directory and
/// one state dir (the lab's worlds), each with its own log.
pub struct Fleet {
    pub tmp: tempfile::TempDir,
    pub etcd: Etcd,
    pub ids: Vec<String>,
    pub sites: Vec<String>,
    pub controllers: Vec<Option<Running>>,
    /// Where each controller serves its dashboard and status API.
    pub ports: Vec<u16>,
    speed: String,
}

impl Fleet {
    /// `n` controllers (`c1`…) over `sites` sites (`site-00`…), the lab `speed` times faster
    /// than the wall clock.
    pub fn start(n: usize, sites: usize, speed: u32) -> Fleet {
        let etcd = Etcd::start();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("m");
        fs::create_dir_all(&dir).unwrap();
        let names: Vec<String> = (0..sites).map(|i| format!("site-{i:02}")).collect();
        for name in &names {
            fs::write(dir.join(format!("{name}.yaml")), site_manifest(name)).unwrap();
        }
        let mut fleet = Fleet {
            tmp,
            etcd,
            ids: (1..=n).map(|i| format!("c{i}")).collect(),
            sites: names,
            controllers: Vec::new(),
            ports: (0..n).map(|_| free_port()).collect(),
            speed: speed.to_string(),
        };
        for i in 0..n {
            let run = fleet.spawn(i);
            fleet.controllers.push(Some(run));
        }
        fleet
    }

    fn spawn(&self, i: usize) -> Running {
        let file = fs::File::create(self.log(i)).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
            .arg("run")
            .arg("-m")
            .arg(self.tmp.path().join("m"))
            .arg("--state-dir")
            .arg(self.tmp.path().join("s"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.ports[i]))
            .args(["--sim-speed", &self.speed])
            .args([
                "--coordination",
                "etcd",
                "--etcd-endpoints",
                &self.etcd.endpoint,
            ])
            .args(["--controller-id", &self.ids[i], "--lease-ttl", TTL])
            .env("RUST_LOG", "warn,galaxy_ha=info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("start galaxy-ha run");
        Running { child }
    }

    pub fn log(&self, i: usize) -> PathBuf {
        self.tmp.path().join(format!("{}.log", self.ids[i]))
    }

    pub fn log_text(&self, i: usize) -> String {
        fs::read_to_string(self.log(i)).unwrap_or_default()
    }

    pub fn pid(&self, i: usize) -> u32 {
        self.controllers[i].as_ref().expect("running").child.id()
    }

    /// Sends a signal (KILL, STOP, CONT) to controller `i`.
    pub fn signal(&mut self, i: usize, signal: &str) {
        let pid = self.pid(i).to_string();
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        assert!(status.success());
        if signal == "KILL"
            && let Some(mut run) = self.controllers[i].take()
        {
            let _ = run.child.wait();
        }
    }

    /// `galaxy-ha ARGS -m DIR --state-dir STATE`.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        cli_at(self.tmp.path(), args)
    }

    /// `status --coordination etcd --format json`: every site, with its owner.
    pub fn status(&self) -> serde_json::Value {
        let out = self.cli(&[
            "status",
            "--format",
            "json",
            "--coordination",
            "etcd",
            "--etcd-endpoints",
            &self.etcd.endpoint,
        ]);
        assert!(
            out.status.success(),
            "status failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Each site's owner (`none` when nobody owns it).
    pub fn owners(&self) -> Vec<(String, String)> {
        self.status()["sites"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().unwrap().to_string(),
                    s["owner"].as_str().unwrap_or("none").to_string(),
                )
            })
            .collect()
    }

    /// Waits until every site is protecting with its owner among `owners`; returns the owners.
    pub fn wait_protecting(&self, owners: &[&str], limit: Duration) -> Vec<(String, String)> {
        let start = Instant::now();
        loop {
            let doc = self.status();
            let sites = doc["sites"].as_array().unwrap();
            let ready = sites.len() == self.sites.len()
                && sites.iter().all(|s| {
                    s["activity"] == "Protecting"
                        && owners.contains(&s["owner"].as_str().unwrap_or("none"))
                });
            if ready {
                return self.owners();
            }
            if start.elapsed() >= limit {
                // What each stuck site shows and what its journal says: a failure here is
                // rare and must explain itself from the CI log alone.
                let stuck: Vec<String> = sites
                    .iter()
                    .filter(|s| {
                        s["activity"] != "Protecting"
                            || !owners.contains(&s["owner"].as_str().unwrap_or("none"))
                    })
                    .map(|s| {
                        let name = s["name"].as_str().unwrap_or_default();
                        let history = self.cli(&[
                            "history",
                            "--coordination",
                            "etcd",
                            "--etcd-endpoints",
                            &self.etcd.endpoint,
                            "--site",
                            name,
                        ]);
                        format!(
                            "{s}\nits lab: {}\nits history:\n{}",
                            self.show(name),
                            String::from_utf8_lossy(&history.stdout)
                        )
                    })
                    .collect();
                panic!(
                    "not every site protecting and owned by {owners:?} within {limit:?}: {:?}\n{}",
                    sites
                        .iter()
                        .map(|s| format!("{} {} {}", s["name"], s["activity"], s["owner"]))
                        .collect::<Vec<_>>(),
                    stuck.join("\n\n")
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `sim show --site SITE --format json`.
    pub fn show(&self, site: &str) -> serde_json::Value {
        let out = self.cli(&["sim", "show", "--site", site, "--format", "json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Live failovers the lab carried out on the site.
    pub fn failovers(&self, site: &str) -> u64 {
        self.show(site)["failovers"].as_u64().unwrap()
    }

    /// Injects a fault with `sim fault ARGS --site SITE`, repeated until `holds` sees it in
    /// the world: a pass in progress may save its world over a fault written meanwhile.
    pub fn fault(&self, site: &str, args: &[&str], holds: impl Fn(&serde_json::Value) -> bool) {
        self.fault_held(site, args, holds, Duration::ZERO);
    }

    /// [`Fleet::fault`], counted only once it still holds `settle` later: the controller may
    /// have read the lab's world just before the fault was written and save it over the
    /// fault (the world file is the controller's and the sim command's at once).
    fn fault_held(
        &self,
        site: &str,
        args: &[&str],
        holds: impl Fn(&serde_json::Value) -> bool,
        settle: Duration,
    ) {
        let start = Instant::now();
        loop {
            let mut all = vec!["sim", "fault"];
            all.extend_from_slice(args);
            all.extend_from_slice(&["--site", site]);
            let out = self.cli(&all);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(100));
            if holds(&self.show(site)) {
                std::thread::sleep(settle);
                if holds(&self.show(site)) {
                    return;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "fault {args:?} on {site} did not hold"
            );
        }
    }

    /// Takes the site's host down until the world shows it down.
    pub fn host_down(&self, site: &str, host: &str) {
        self.fault(site, &["host-down", host], |doc| host_is(doc, host, false));
    }

    /// Takes the host down, or keeps it down: where a controller's save undid an earlier
    /// `host_down`, it is done again (outside the times a test measures).
    pub fn host_kept_down(&self, site: &str, host: &str) {
        let settle = Duration::from_secs(1);
        self.fault_held(
            site,
            &["host-down", host],
            |doc| host_is(doc, host, false),
            settle,
        );
    }

    /// Brings the host up until the world still shows it up a second later.
    pub fn host_up(&self, site: &str, host: &str) {
        let settle = Duration::from_secs(1);
        self.fault_held(
            site,
            &["host-up", host],
            |doc| host_is(doc, host, true),
            settle,
        );
    }
}

/// The host's `up` in a `sim show` document.
pub fn host_is(doc: &serde_json::Value, host: &str, up: bool) -> bool {
    doc["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["name"] == host && h["up"] == up)
}

/// The live host named in a `status` site.
pub fn live_host(site: &serde_json::Value) -> String {
    site["live_host"].as_str().unwrap_or_default().to_string()
}
