//! The world: every simulated thing of one site, its parameters and its virtual clock.

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::events::Ledger;
use super::host::{Host, SimService, SimVm};
use super::job::SimJob;
use crate::manifest::spec::{SiteSpec, Startup};
use crate::model::names::VmName;
use crate::observed::VmRole;

/// The lab's clock starts at 2026-01-05T08:00:00Z, a Monday morning.
pub const EPOCH_SECONDS: i64 = 1_767_600_000;

/// The name links use for the controller's end.
pub const CONTROLLER: &str = "controller";

/// How fast and how big things are. Defaults are those of a typical Galaxy pair on a
/// 100 Mbit/s LAN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// How long a new job stays `Provisioning` (creating the replica VM).
    #[serde(with = "humantime_serde")]
    pub provisioning: Duration,
    /// The System Galaxy VM's disk, mirrored while `Synchronizing`.
    pub vm_disk_bytes: u64,
    /// The memory the System Galaxy VM starts with.
    pub vm_memory_bytes: u64,
    /// Mirror speed while synchronizing.
    pub mirror_bytes_per_sec: u64,
    /// Host↔host link speed: how fast the replication queue drains to the target.
    pub link_bytes_per_sec: u64,
    /// How fast the target applies its queue to the replica.
    pub apply_bytes_per_sec: u64,
    /// Replication queue held in memory; beyond it the queue spills to disk (disk queue).
    pub memory_queue_bytes: u64,
    /// How long `Failing Over` lasts.
    #[serde(with = "humantime_serde")]
    pub failover: Duration,
    /// How long a test failover's isolated replica stays up unless stopped earlier.
    #[serde(with = "humantime_serde")]
    pub test_failover: Duration,
    /// How long a guest takes to boot: its heartbeat answers, and its services can be read,
    /// this long after it starts.
    #[serde(with = "humantime_serde")]
    pub guest_boot: Duration,
    /// Events the panels produce per second (all panels together).
    pub event_rate_per_sec: u32,
    /// Per-second jitter of production, in percent of the rate.
    pub event_jitter_percent: u32,
    /// Size of one event in the database and on the wire.
    pub event_bytes: u64,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            provisioning: Duration::from_secs(180),
            vm_disk_bytes: 40 << 30,
            vm_memory_bytes: 16 << 30,
            mirror_bytes_per_sec: 100 << 20,
            link_bytes_per_sec: 12_500_000,
            apply_bytes_per_sec: 50 << 20,
            memory_queue_bytes: 64 << 20,
            failover: Duration::from_secs(120),
            test_failover: Duration::from_secs(600),
            guest_boot: Duration::from_secs(60),
            event_rate_per_sec: 1,
            event_jitter_percent: 20,
            event_bytes: 2048,
        }
    }
}

/// A duration in the lab's clock unit.
pub(crate) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Params {
    /// Events per second a byte rate carries (at least one, so queues always drain).
    pub(crate) fn events_per_sec(&self, bytes_per_sec: u64) -> u64 {
        (bytes_per_sec / self.event_bytes.max(1)).max(1)
    }
}

/// All simulated state of one site.
///
/// # Guarantees
/// Deterministic: the same site, spec, seed, parameters and sequence of calls give the same
/// world, whether or not it was saved and loaded in between.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    pub(crate) format_version: u32,
    pub(crate) site: String,
    pub(crate) seed: u64,
    pub(crate) params: Params,
    /// Virtual time since [`EPOCH_SECONDS`].
    pub(crate) clock_ms: u64,
    /// The System Galaxy VM's name (also the job's source server name).
    pub(crate) vm_name: VmName,
    /// Services Double-Take needs running on the target and in the source guest.
    pub(crate) required_services: Vec<String>,
    pub(crate) hosts: Vec<Host>,
    /// Links that are down, each as a sorted pair of lower-case ends.
    pub(crate) links_down: BTreeSet<(String, String)>,
    pub(crate) job: Option<SimJob>,
    pub(crate) ledger: Ledger,
    /// Live failovers carried out since the world began: what tests count to prove one
    /// failure never makes two failovers.
    #[serde(default)]
    pub(crate) failovers: u32,
    /// Snapshots taken since the world began: each one's id is made from its number.
    #[serde(default)]
    pub(crate) snapshots_taken: u64,
}

/// The world file's format; bumped on incompatible change (loading then says to reset).
pub const FORMAT_VERSION: u32 = 1;

impl World {
    /// A world where the guide starts: both hosts installed and up, the Double-Take services
    /// stopped with manual startup (hosts and guest), the ports closed, no e-mail settings,
    /// System Galaxy running on the primary host, no job.
    pub fn new(site: &str, spec: &SiteSpec, seed: u64) -> Self {
        Self::with_params(site, spec, seed, Params::default())
    }

    pub fn with_params(site: &str, spec: &SiteSpec, seed: u64, params: Params) -> Self {
        let stopped: Vec<SimService> = spec
            .services
            .iter()
            .map(|s| SimService {
                name: s.name.clone(),
                running: false,
                startup: Startup::Manual,
            })
            .collect();
        let primary = spec
            .host(&spec.primary)
            .or(spec.hosts.first())
            .map(|h| h.name.clone())
            .unwrap_or_default();
        // System Galaxy's own services come installed and automatic; the Double-Take ones
        // are set up by the guide's steps.
        let mut guest = stopped.clone();
        for name in &spec.vm.services {
            if !guest.iter().any(|s| s.name.eq_ignore_ascii_case(name)) {
                guest.push(SimService {
                    name: name.clone(),
                    running: true,
                    startup: Startup::Automatic,
                });
            }
        }
        let hosts = spec
            .hosts
            .iter()
            .map(|h| Host {
                name: h.name.clone(),
                address: h.address.clone(),
                up: true,
                services: stopped.clone(),
                firewall: BTreeSet::new(),
                email: None,
                memory_free_bytes: super::host::MEMORY_FREE,
                disk_free_bytes: super::host::DISK_FREE,
                licence_valid: true,
                vms: if h.name == primary {
                    vec![SimVm {
                        name: spec.vm.name.clone(),
                        role: VmRole::SystemGalaxy,
                        running: true,
                        isolated: false,
                        started_at_ms: 0,
                        guest_services: guest.clone(),
                        refuses_shutdown: false,
                        shutdown_times_out: false,
                        guest_silent: false,
                        guest_ports: spec.vm.ports.clone(),
                    }]
                } else {
                    Vec::new()
                },
            })
            .collect();
        Self {
            format_version: FORMAT_VERSION,
            site: site.to_string(),
            seed,
            params,
            clock_ms: 0,
            vm_name: spec.vm.name.clone(),
            required_services: spec.services.iter().map(|s| s.name.clone()).collect(),
            hosts,
            links_down: BTreeSet::new(),
            job: None,
            ledger: Ledger::default(),
            failovers: 0,
            snapshots_taken: 0,
        }
    }

    /// Live failovers carried out since the world began.
    pub fn failovers(&self) -> u32 {
        self.failovers
    }

    pub fn site(&self) -> &str {
        &self.site
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Parameters may change mid-run (e.g. a test slows the link); the next tick uses them.
    pub fn params_mut(&mut self) -> &mut Params {
        &mut self.params
    }

    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name == name)
    }

    pub(crate) fn host_mut(&mut self, name: &str) -> Option<&mut Host> {
        self.hosts.iter_mut().find(|h| h.name == name)
    }

    pub fn job(&self) -> Option<&SimJob> {
        self.job.as_ref()
    }

    /// Virtual time elapsed since the world began.
    pub fn elapsed(&self) -> Duration {
        Duration::from_millis(self.clock_ms)
    }

    /// The virtual clock.
    pub fn now(&self) -> Timestamp {
        self.timestamp_at(self.clock_ms)
    }

    /// The instant `ms` after the lab's epoch.
    pub(crate) fn timestamp_at(&self, ms: u64) -> Timestamp {
        let ms = i64::try_from(ms).unwrap_or(i64::MAX);
        Timestamp::from_second(EPOCH_SECONDS)
            .ok()
            .and_then(|t| t.checked_add(jiff::SignedDuration::from_millis(ms)).ok())
            .unwrap_or(Timestamp::MAX)
    }

    /// The link between two ends (host names or `controller`) is up.
    pub fn link_is_up(&self, a: &str, b: &str) -> bool {
        !self.links_down.contains(&link_key(a, b))
    }

    /// The controller can reach the host: the host is up and its link to the controller is.
    pub fn reachable(&self, host: &str) -> bool {
        self.host(host).is_some_and(|h| h.up) && self.link_is_up(CONTROLLER, host)
    }
}

/// A link's key: the two ends, lower-cased and sorted.
pub(crate) fn link_key(a: &str, b: &str) -> (String, String) {
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    if a <= b { (a, b) } else { (b, a) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::spec::Manifest;

    fn world() -> World {
        let yaml = "apiVersion: galaxy-ha/v1\nkind: RedundantServer\nmetadata: {name: t}\nspec:\n  \
            hosts: [{name: A, address: 10.0.0.1}, {name: B, address: 10.0.0.2}]\n  primary: B\n  \
            vm: {name: V, address: 10.0.0.3}\n";
        let spec = serde_saphyr::from_str::<Manifest>(yaml).map(|m| m.spec);
        World::new("t", &spec.expect("manifest"), 3)
    }

    #[test]
    fn ticks_happen_only_on_whole_seconds_however_the_clock_is_advanced() {
        let mut whole = world();
        whole.params_mut().event_jitter_percent = 0;
        let mut parts = whole.clone();
        whole.advance(Duration::from_secs(10));
        for _ in 0..40 {
            parts.advance(Duration::from_millis(250));
        }
        assert_eq!(whole, parts);
        assert_eq!(whole.events().produced, 10);
        parts.advance(Duration::from_millis(999));
        assert_eq!(
            parts.events().produced,
            10,
            "no tick before the next whole second"
        );
        assert_eq!(parts.now().to_string(), "2026-01-05T08:00:10.999Z");
    }

    #[test]
    fn system_galaxy_starts_on_the_primary_host() {
        let w = world();
        assert!(w.host("A").is_some_and(|h| h.vms.is_empty()));
        assert!(w.host("b").is_some_and(|h| h.live_vm().is_some()));
        assert!(w.reachable("A") && !w.reachable("C"));
    }

    #[test]
    fn a_world_read_back_and_compacted_is_the_same_world_without_spare_slots() {
        let saved = world();
        let mut read: World =
            serde_json::from_str(&serde_json::to_string(&saved).expect("saved")).expect("read");
        read.compact();
        assert_eq!(read, saved);
        assert_eq!(read.hosts.capacity(), read.hosts.len());
        for host in &read.hosts {
            assert_eq!(host.vms.capacity(), host.vms.len(), "{}", host.name);
            assert_eq!(
                host.services.capacity(),
                host.services.len(),
                "{}",
                host.name
            );
        }
    }

    #[test]
    fn link_keys_ignore_order_and_case() {
        assert_eq!(
            link_key("GCSHOSTB", "controller"),
            link_key("CONTROLLER", "gcshostb")
        );
    }
}

/// What a person sees change in the lab (the job's activity, hosts up or down, VMs running),
/// as opposed to the clock and the queues moving. The service saves the world whenever it
/// changed, so that a `sim` command run beside it starts from what status showed. Taken on
/// every pass of every site: a few words, no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Landmarks {
    job: Option<crate::observed::Activity>,
    /// One bit per host up and per VM running, in the world's order (a pair's two hosts and
    /// their few VMs fit many times over), and how many VMs there are.
    flags: u64,
    vms: usize,
}

impl World {
    /// Gives back what reading the world over-reserved: a list read from the file grows
    /// four slots at a time, and a pair's two hosts and their one or two VMs each filled one
    /// of four. A controller holds a world per site, 10,000 in a fleet (6 MB there).
    pub(crate) fn compact(&mut self) {
        self.required_services.shrink_to_fit();
        self.hosts.shrink_to_fit();
        for host in &mut self.hosts {
            host.services.shrink_to_fit();
            host.vms.shrink_to_fit();
        }
    }

    pub fn landmarks(&self) -> Landmarks {
        let flags = self
            .hosts
            .iter()
            .flat_map(|h| std::iter::once(h.up).chain(h.vms.iter().map(|v| v.running)))
            .take(64)
            .fold(0u64, |bits, on| (bits << 1) | u64::from(on));
        Landmarks {
            job: self.job.as_ref().map(super::job::SimJob::activity),
            flags,
            vms: self.hosts.iter().map(|h| h.vms.len()).sum(),
        }
    }
}
