//! Fixtures shared by the test modules: a site manifest and hand-built observations of it.

#![allow(dead_code)] // each test module uses its own part of the fixtures

pub mod cli;
pub mod maxrss;
pub mod programs;

use std::time::Duration;

use galaxy_ha::manifest::spec::{FailoverMode, Manifest, Startup, Threshold, default_services};
use galaxy_ha::memory::Memory;
use galaxy_ha::observed::*;

pub const A: &str = "GCSHOSTA";
pub const B: &str = "GCSHOSTB";

/// The guide's site, in the given failover mode, as YAML.
pub fn manifest_yaml(mode: &str) -> String {
    galaxy_ha::manifest::sample::guide_site_yaml(failover_mode(mode))
}

pub fn manifest(mode: &str) -> Manifest {
    galaxy_ha::manifest::sample::guide_site(failover_mode(mode))
}

fn failover_mode(mode: &str) -> FailoverMode {
    match mode {
        "automatic" => FailoverMode::Automatic,
        _ => FailoverMode::Manual,
    }
}

pub fn now() -> jiff::Timestamp {
    "2026-01-05T09:00:00Z".parse().unwrap()
}

pub fn services() -> Vec<ServiceState> {
    default_services()
        .into_iter()
        .map(|s| ServiceState {
            name: s.name,
            status: ServiceStatus::Running,
            startup: s.startup,
        })
        .collect()
}

pub fn firewall() -> Vec<FirewallRule> {
    let mut out = Vec::new();
    for port in [6320, 6325, 6330, 6332] {
        for protocol in [Protocol::Tcp, Protocol::Udp] {
            out.push(FirewallRule { port, protocol });
        }
    }
    out
}

pub fn sg_vm(name: &str, state: VmState) -> Vm {
    Vm {
        name: name.into(),
        state,
        role: VmRole::SystemGalaxy,
        isolated: false,
        services: if state == VmState::Running {
            services()
        } else {
            vec![]
        },
        disks: vec![],
        heartbeat: None,
        listening: None,
        memory_bytes: None,
        disk_bytes: None,
    }
}

pub fn replica_vm(name: &str) -> Vm {
    Vm {
        name: name.into(),
        state: VmState::Off,
        role: VmRole::Replica,
        isolated: false,
        services: vec![],
        disks: vec![],
        heartbeat: None,
        listening: None,
        memory_bytes: None,
        disk_bytes: None,
    }
}

pub fn host(name: &str, vms: Vec<Vm>) -> HostState {
    HostState {
        name: name.into(),
        reachable: true,
        services: services(),
        firewall: firewall(),
        email: None,
        vms,
        jobs_known: true,
        capacity: None,
    }
}

pub fn job(source: &str, target: &str, activity: Activity) -> Job {
    Job {
        snapshot_schedule: None,
        snapshots: Vec::new(),
        name: format!("GCSServer to {target}"),
        source: source.into(),
        target: target.into(),
        replica: format!("GCSServer_Replica_{target}").into(),
        activity,
        state_name: None,
        percent: None,
        health: Health::Ok,
        target_data_ok: true,
        mirror_remaining_bytes: 0,
        replication_queue_bytes: 0,
        disk_queue_bytes: 0,
        target_queue_bytes: 0,
        recovery_point_latency: Duration::from_secs(1),
        bytes_sent: 1 << 30,
        connected_since: Some(now()),
        mirror: Default::default(),
        monitor: MonitorSettings {
            interval: Duration::from_secs(10),
            threshold: Threshold::TotalTime(Duration::from_secs(300)),
            wait_for_user: true,
        },
        monitor_status: MonitorStatus {
            source_alive: true,
            missed_for: Duration::ZERO,
            failed_queries: 0,
            remaining: Duration::from_secs(300),
            condition_met: false,
        },
    }
}

/// A healthy, protected pair: System Galaxy on A, job A → B protecting.
pub fn healthy() -> Observed {
    Observed {
        hosts: vec![
            host(A, vec![sg_vm("GCSServer", VmState::Running)]),
            host(B, vec![replica_vm("GCSServer_Replica_GCSHOSTB")]),
        ],
        job: Some(job(A, B, Activity::Protecting)),
    }
}

/// A has been missed by both views for `missed`; the monitor's condition is met at 5 min.
pub fn live_host_down(missed: Duration) -> Observed {
    let mut o = healthy();
    o.hosts[0] = HostState {
        reachable: false,
        services: vec![],
        firewall: vec![],
        vms: vec![],
        ..o.hosts[0].clone()
    };
    let j = o.job.as_mut().unwrap();
    j.activity = Activity::ServerCommunicationError;
    j.monitor_status = MonitorStatus {
        source_alive: false,
        missed_for: missed,
        failed_queries: (missed.as_secs() / 10) as u32,
        remaining: Duration::from_secs(300).saturating_sub(missed),
        condition_met: missed >= Duration::from_secs(300),
    };
    o
}

/// Memory of a site adopted with A live.
pub fn adopted() -> Memory {
    Memory {
        live_host: Some(A.into()),
        acknowledged_primary: Some(A.into()),
        ..Memory::default()
    }
}

pub fn startup_manual() -> Startup {
    Startup::Manual
}

/// A site on a simulated lab kept in a temp state dir, driven through the library.
pub struct Rig {
    pub dir: tempfile::TempDir,
    pub site: galaxy_ha::manifest::Site,
    pub lab: galaxy_ha::platform::sim::Lab,
    pub alerts: galaxy_ha::alert::LogSink,
}

impl Rig {
    pub fn new(mode: &str) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let site = galaxy_ha::manifest::Site {
            name: "hq".into(),
            path: dir.path().join("hq.yaml"),
            manifest: manifest(mode),
        };
        let lab = galaxy_ha::platform::sim::Lab::create(dir.path(), &site).unwrap();
        Rig {
            dir,
            site,
            lab,
            alerts: Default::default(),
        }
    }

    pub fn store(&self) -> galaxy_ha::execute::Records<'_> {
        galaxy_ha::execute::Records::new(self.dir.path(), "hq")
    }

    pub fn pass(&mut self) -> galaxy_ha::reconcile::Outcome {
        let dir = self.dir.path().to_path_buf();
        let mut store = galaxy_ha::execute::Records::new(&dir, "hq");
        galaxy_ha::reconcile::pass(&self.site, &mut self.lab, &mut store, &mut self.alerts).unwrap()
    }

    pub fn converge(&mut self) -> galaxy_ha::reconcile::Outcome {
        let dir = self.dir.path().to_path_buf();
        let mut store = galaxy_ha::execute::Records::new(&dir, "hq");
        galaxy_ha::reconcile::converge(
            &self.site,
            &mut self.lab,
            &mut store,
            &mut self.alerts,
            Duration::from_secs(7200),
            |_, _| {},
        )
        .unwrap()
    }

    /// Passes every monitor interval for `total` of virtual time.
    pub fn run_for(&mut self, total: Duration) {
        use galaxy_ha::platform::Platform;
        let end = self.lab.now() + jiff::SignedDuration::try_from(total).unwrap();
        while self.lab.now() < end {
            self.pass();
            self.lab.sleep(Duration::from_secs(10));
        }
    }

    /// The process dies and restarts: only what is on disk survives.
    pub fn restart(&mut self) {
        self.lab =
            galaxy_ha::platform::sim::Lab::load_or_create(self.dir.path(), &self.site).unwrap();
    }

    pub fn memory(&self) -> Memory {
        galaxy_ha::store::files::load_memory(self.dir.path(), "hq").unwrap()
    }
}
