//! Hosts, their Windows services and their Hyper-V VMs, as the lab keeps them.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::manifest::spec::Startup;
use crate::model::names::{HostName, VmName};
use crate::observed::{EmailSettings, FirewallRule, ServiceState, ServiceStatus, VmRole};

/// A Windows service on a host or in a VM's guest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimService {
    pub name: String,
    pub running: bool,
    pub startup: Startup,
}

impl SimService {
    /// What Windows does with the service at boot: automatic ones start, the others stay
    /// stopped.
    pub fn boot(&mut self) {
        self.running = matches!(self.startup, Startup::Automatic | Startup::AutomaticDelayed);
    }

    pub fn observed(&self) -> ServiceState {
        ServiceState {
            name: self.name.clone(),
            status: if self.running {
                ServiceStatus::Running
            } else {
                ServiceStatus::Stopped
            },
            startup: self.startup,
        }
    }
}

/// A Hyper-V VM. Power changes are instant in the lab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimVm {
    pub name: VmName,
    pub role: VmRole,
    pub running: bool,
    /// Booted without network (a test failover).
    pub isolated: bool,
    /// When it last started; when two VMs run System Galaxy (split brain) the panels talk
    /// to the one that started last, as the last ARP announcement wins.
    pub started_at_ms: u64,
    pub guest_services: Vec<SimService>,
    /// Its guest will not shut down cleanly the next time it is asked (`sim fault
    /// shutdown-fails`): the clean shutdown fails and the VM keeps running.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refuses_shutdown: bool,
    /// Its guest will take too long over the next clean shutdown (`sim fault
    /// shutdown-times-out`): Stop-VM gives up with an error, and the guest goes off anyway.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shutdown_times_out: bool,
    /// Its guest never answers (`sim fault guest-silent`): no heartbeat, and nothing can be
    /// read inside it, until `sim fault guest-answers`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub guest_silent: bool,
    /// The ports its guest listens on while its services run (the manifest's `spec.vm.ports`
    /// when the lab was made).
    #[serde(default)]
    pub guest_ports: Vec<u32>,
}

impl SimVm {
    /// Running System Galaxy for the panels: running, with network, not a replica.
    pub fn is_live(&self) -> bool {
        self.running && !self.isolated && self.role == VmRole::SystemGalaxy
    }

    /// Powers the VM on; its guest services start per their startup type.
    pub fn power_on(&mut self, now_ms: u64, isolated: bool) {
        self.running = true;
        self.isolated = isolated;
        self.started_at_ms = now_ms;
        self.guest_services.iter_mut().for_each(SimService::boot);
    }

    /// The guest answers its heartbeat: running, booted for `boot_ms`, and not silent.
    pub fn guest_answers(&self, now_ms: u64, boot_ms: u64) -> bool {
        self.running && !self.guest_silent && now_ms.saturating_sub(self.started_at_ms) >= boot_ms
    }

    /// Powers the VM off (clean or not: the difference is in the replication queue).
    pub fn power_off(&mut self) {
        self.running = false;
        self.isolated = false;
        // What kept the guest from shutting down ends with it.
        self.refuses_shutdown = false;
        self.shutdown_times_out = false;
        self.guest_services
            .iter_mut()
            .for_each(|s| s.running = false);
    }
}

/// One Hyper-V host of the pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    pub name: HostName,
    pub address: String,
    /// Powered on and booted.
    pub up: bool,
    pub services: Vec<SimService>,
    pub firewall: BTreeSet<FirewallRule>,
    pub email: Option<EmailSettings>,
    pub vms: Vec<SimVm>,
    /// Physical memory free for VMs (`sim fault memory-low` takes it away).
    #[serde(default = "default_memory_free")]
    pub memory_free_bytes: u64,
    /// Free space on the replicas' volume (`sim fault disk-low`).
    #[serde(default = "default_disk_free")]
    pub disk_free_bytes: u64,
    /// Carbonite's activation is valid (`sim fault licence-invalid`).
    #[serde(default = "valid")]
    pub licence_valid: bool,
}

/// A Galaxy host's free memory with nothing else running: room for System Galaxy's VM.
pub const MEMORY_FREE: u64 = 48 << 30;
/// A Galaxy host's free space for replicas.
pub const DISK_FREE: u64 = 500 << 30;

fn default_memory_free() -> u64 {
    MEMORY_FREE
}

fn default_disk_free() -> u64 {
    DISK_FREE
}

fn valid() -> bool {
    true
}

impl Host {
    pub fn vm(&self, name: &str) -> Option<&SimVm> {
        self.vms.iter().find(|v| v.name == name)
    }

    pub fn vm_mut(&mut self, name: &str) -> Option<&mut SimVm> {
        self.vms.iter_mut().find(|v| v.name == name)
    }

    pub fn service_mut(&mut self, name: &str) -> Option<&mut SimService> {
        self.services
            .iter_mut()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// Every named service exists here and runs.
    pub fn runs_all(&self, names: &[String]) -> bool {
        runs_all(&self.services, names)
    }

    /// What a failover onto this host needs of it, as the controller reads it.
    pub fn capacity(&self) -> crate::observed::Capacity {
        crate::observed::Capacity {
            memory_free_bytes: self.memory_free_bytes,
            disk_free_bytes: self.disk_free_bytes,
            licence_valid: self.licence_valid,
            licence: if self.licence_valid {
                "activated".into()
            } else {
                "the activation code is not valid (expired)".into()
            },
        }
    }

    /// The VM running System Galaxy live on this host, if any.
    pub fn live_vm(&self) -> Option<&SimVm> {
        self.vms.iter().find(|v| v.is_live())
    }
}

/// Every named service exists in `services` and runs.
pub fn runs_all(services: &[SimService], names: &[String]) -> bool {
    names.iter().all(|n| {
        services
            .iter()
            .any(|s| s.name.eq_ignore_ascii_case(n) && s.running)
    })
}
