//! Faults as verbs on the world: what `galaxy-ha sim fault` injects.

use serde::{Deserialize, Serialize};

use super::job::Phase;
use super::world::{CONTROLLER, World, link_key};
use crate::manifest::spec::{EventLevel, SmtpSecurity};
use crate::model::names::HostName;
use crate::observed::{EmailSettings, VmRole};

/// A fault the lab cannot inject as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    /// The name is neither a host of the site nor `controller` (where allowed).
    #[error("no host named {0:?} in this site")]
    UnknownHost(String),
    /// The host has no service by that name.
    #[error("host {host} has no service named {service:?}")]
    UnknownService { host: String, service: String },
    /// Both ends of a link are the same.
    #[error("a link joins two different ends, not {0} to itself")]
    SameEnds(String),
    /// The host is down, so nothing can be done on it.
    #[error("host {0} is down")]
    HostDown(String),
    /// `vm-start` found no VM that is off on the host.
    #[error("host {0} has no VM that is off")]
    NoVmToStart(String),
    /// `shutdown-fails` or `shutdown-times-out` found no VM running on the host.
    #[error("host {0} has no VM that is running")]
    NoVmRunning(String),
    /// `job-stop` without a job.
    #[error("there is no replication job")]
    NoJob,
    /// A fault verb or its arguments could not be read.
    #[error("{0}")]
    Usage(String),
}

/// One fault, as `galaxy-ha sim fault KIND ARGS...` names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Fault {
    HostDown {
        host: String,
    },
    HostUp {
        host: String,
    },
    LinkDown {
        a: String,
        b: String,
    },
    LinkUp {
        a: String,
        b: String,
    },
    ServiceStop {
        host: String,
        service: String,
    },
    PortClose {
        host: String,
        port: u16,
    },
    VmStart {
        host: String,
    },
    ShutdownFails {
        host: String,
    },
    ShutdownTimesOut {
        host: String,
    },
    EmailDrift {
        host: String,
    },
    JobStop,
    /// The replica's data goes bad (Carbonite: target data state not good, e.g. restore
    /// required) until a new job mirrors it again.
    TargetDataBad,
    /// The replica's data is good again (a person mirrored it anew).
    TargetDataGood,
    /// The guests of the host's VMs never answer: no heartbeat, nothing read inside them.
    GuestSilent {
        host: String,
    },
    /// The guests of the host's VMs answer again.
    GuestAnswers {
        host: String,
    },
    /// Almost no physical memory is free on the host (2 GiB): System Galaxy's VM would not start there.
    MemoryLow {
        host: String,
    },
    /// The host's free memory is back.
    MemoryOk {
        host: String,
    },
    /// Almost no space is free on the host's replica volume (1 GiB).
    DiskLow {
        host: String,
    },
    /// The replica volume's free space is back.
    DiskOk {
        host: String,
    },
    /// Carbonite's activation code on the host is no longer valid (expired).
    LicenceInvalid {
        host: String,
    },
    /// A valid activation code again.
    LicenceValid {
        host: String,
    },
}

impl Fault {
    /// The fault verbs, as the CLI spells them.
    pub const KINDS: [&'static str; 21] = [
        "host-down",
        "host-up",
        "link-down",
        "link-up",
        "service-stop",
        "port-close",
        "vm-start",
        "shutdown-fails",
        "shutdown-times-out",
        "email-drift",
        "job-stop",
        "target-data-bad",
        "target-data-good",
        "guest-silent",
        "guest-answers",
        "memory-low",
        "memory-ok",
        "disk-low",
        "disk-ok",
        "licence-invalid",
        "licence-valid",
    ];

    /// Reads `KIND ARGS...`.
    ///
    /// # Errors
    /// An unknown kind, or the wrong number or form of arguments, with the expected usage.
    pub fn parse(kind: &str, args: &[String]) -> Result<Self, FaultError> {
        Self::parse_for(|form| format!("sim fault {form}"), kind, args)
    }

    /// [`Fault::parse`], with the usage written as `command` shows it (`plan --assume` takes
    /// the fault as one quoted argument).
    ///
    /// # Errors
    /// As [`Fault::parse`].
    pub fn parse_for(
        command: impl Fn(&str) -> String,
        kind: &str,
        args: &[String],
    ) -> Result<Self, FaultError> {
        let usage = |u: &str| {
            let form = format!("{kind} {u}");
            FaultError::Usage(format!("usage: {}", command(form.trim_end())))
        };
        let one = |u: &str| match args {
            [h] => Ok(h.clone()),
            _ => Err(usage(u)),
        };
        let two = |u: &str| match args {
            [a, b] => Ok((a.clone(), b.clone())),
            _ => Err(usage(u)),
        };
        Ok(match kind {
            "host-down" => Fault::HostDown { host: one("HOST")? },
            "host-up" => Fault::HostUp { host: one("HOST")? },
            "link-down" => {
                let (a, b) = two("A B   (a host name or `controller`)")?;
                Fault::LinkDown { a, b }
            }
            "link-up" => {
                let (a, b) = two("A B   (a host name or `controller`)")?;
                Fault::LinkUp { a, b }
            }
            "service-stop" => {
                let (host, service) = two("HOST SERVICE")?;
                Fault::ServiceStop { host, service }
            }
            "port-close" => {
                let (host, port) = two("HOST PORT")?;
                let port = port.parse().map_err(|_| {
                    FaultError::Usage(format!("port {port:?} is not a number from 1 to 65535"))
                })?;
                Fault::PortClose { host, port }
            }
            "vm-start" => Fault::VmStart { host: one("HOST")? },
            "shutdown-fails" => Fault::ShutdownFails { host: one("HOST")? },
            "shutdown-times-out" => Fault::ShutdownTimesOut { host: one("HOST")? },
            "email-drift" => Fault::EmailDrift { host: one("HOST")? },
            "guest-silent" => Fault::GuestSilent { host: one("HOST")? },
            "guest-answers" => Fault::GuestAnswers { host: one("HOST")? },
            "memory-low" => Fault::MemoryLow { host: one("HOST")? },
            "memory-ok" => Fault::MemoryOk { host: one("HOST")? },
            "disk-low" => Fault::DiskLow { host: one("HOST")? },
            "disk-ok" => Fault::DiskOk { host: one("HOST")? },
            "licence-invalid" => Fault::LicenceInvalid { host: one("HOST")? },
            "licence-valid" => Fault::LicenceValid { host: one("HOST")? },
            "job-stop" if args.is_empty() => Fault::JobStop,
            "job-stop" => return Err(usage("")),
            "target-data-bad" if args.is_empty() => Fault::TargetDataBad,
            "target-data-bad" => return Err(usage("")),
            "target-data-good" if args.is_empty() => Fault::TargetDataGood,
            "target-data-good" => return Err(usage("")),
            other => {
                return Err(FaultError::Usage(format!(
                    "unknown fault {other:?}; one of: {}",
                    Fault::KINDS.join(", ")
                )));
            }
        })
    }
}

/// The fault as the CLI spells it: `host-down GCSHOSTA`.
impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::HostDown { host } => write!(f, "host-down {host}"),
            Fault::HostUp { host } => write!(f, "host-up {host}"),
            Fault::LinkDown { a, b } => write!(f, "link-down {a} {b}"),
            Fault::LinkUp { a, b } => write!(f, "link-up {a} {b}"),
            Fault::ServiceStop { host, service } => write!(f, "service-stop {host} {service}"),
            Fault::PortClose { host, port } => write!(f, "port-close {host} {port}"),
            Fault::VmStart { host } => write!(f, "vm-start {host}"),
            Fault::ShutdownFails { host } => write!(f, "shutdown-fails {host}"),
            Fault::ShutdownTimesOut { host } => write!(f, "shutdown-times-out {host}"),
            Fault::EmailDrift { host } => write!(f, "email-drift {host}"),
            Fault::JobStop => write!(f, "job-stop"),
            Fault::TargetDataBad => write!(f, "target-data-bad"),
            Fault::TargetDataGood => write!(f, "target-data-good"),
            Fault::GuestSilent { host } => write!(f, "guest-silent {host}"),
            Fault::GuestAnswers { host } => write!(f, "guest-answers {host}"),
            Fault::MemoryLow { host } => write!(f, "memory-low {host}"),
            Fault::MemoryOk { host } => write!(f, "memory-ok {host}"),
            Fault::DiskLow { host } => write!(f, "disk-low {host}"),
            Fault::DiskOk { host } => write!(f, "disk-ok {host}"),
            Fault::LicenceInvalid { host } => write!(f, "licence-invalid {host}"),
            Fault::LicenceValid { host } => write!(f, "licence-valid {host}"),
        }
    }
}

impl World {
    /// Injects one fault.
    ///
    /// # Errors
    /// See the individual verbs.
    pub fn inject(&mut self, fault: &Fault) -> Result<(), FaultError> {
        match fault {
            Fault::HostDown { host } => self.host_down(host),
            Fault::HostUp { host } => self.host_up(host),
            Fault::LinkDown { a, b } => self.link_down(a, b),
            Fault::LinkUp { a, b } => self.link_up(a, b),
            Fault::ServiceStop { host, service } => self.service_stop(host, service),
            Fault::PortClose { host, port } => self.port_close(host, *port),
            Fault::VmStart { host } => self.vm_start(host),
            Fault::ShutdownFails { host } => self.shutdown_fails(host),
            Fault::ShutdownTimesOut { host } => self.shutdown_times_out(host),
            Fault::EmailDrift { host } => self.email_drift(host),
            Fault::JobStop => self.job_stop(),
            Fault::TargetDataBad => self.target_data(false),
            Fault::TargetDataGood => self.target_data(true),
            Fault::GuestSilent { host } => self.guest_silent(host, true),
            Fault::GuestAnswers { host } => self.guest_silent(host, false),
            Fault::MemoryLow { host } => self.capacity(host, |h| h.memory_free_bytes = 2 << 30),
            Fault::MemoryOk { host } => {
                self.capacity(host, |h| h.memory_free_bytes = super::host::MEMORY_FREE)
            }
            Fault::DiskLow { host } => self.capacity(host, |h| h.disk_free_bytes = 1 << 30),
            Fault::DiskOk { host } => {
                self.capacity(host, |h| h.disk_free_bytes = super::host::DISK_FREE)
            }
            Fault::LicenceInvalid { host } => self.capacity(host, |h| h.licence_valid = false),
            Fault::LicenceValid { host } => self.capacity(host, |h| h.licence_valid = true),
        }
    }

    fn canonical_host(&self, name: &str) -> Result<HostName, FaultError> {
        self.host(name)
            .map(|h| h.name.clone())
            .ok_or_else(|| FaultError::UnknownHost(name.to_string()))
    }

    /// A host that is up, for a fault acted out inside it, and its name as the site spells it.
    fn up_host(&mut self, host: &str) -> Result<(HostName, &mut super::host::Host), FaultError> {
        let (name, i) = self.up_index(host)?;
        Ok((name, &mut self.hosts[i]))
    }

    /// [`World::up_host`]'s name and place in the site's hosts.
    fn up_index(&self, host: &str) -> Result<(HostName, usize), FaultError> {
        let i = self
            .hosts
            .iter()
            .position(|h| h.name == host)
            .ok_or_else(|| FaultError::UnknownHost(host.to_string()))?;
        let h = &self.hosts[i];
        if !h.up {
            return Err(FaultError::HostDown(h.name.to_string()));
        }
        Ok((h.name.clone(), i))
    }

    fn link_end(&self, name: &str) -> Result<String, FaultError> {
        if name.eq_ignore_ascii_case(CONTROLLER) {
            Ok(CONTROLLER.to_string())
        } else {
            self.canonical_host(name).map(String::from)
        }
    }

    /// A hard failure: the host's VMs stop at once, its services with it; a source queue in
    /// its guest is lost; a target queue on it goes back to the source to be resent.
    ///
    /// # Errors
    /// An unknown host.
    pub fn host_down(&mut self, host: &str) -> Result<(), FaultError> {
        let name = self.canonical_host(host)?;
        if let Some(h) = self.host_mut(&name) {
            h.up = false;
            h.services.iter_mut().for_each(|s| s.running = false);
            h.vms.iter_mut().for_each(|v| v.power_off());
        }
        if let Some(job) = self.job.as_mut() {
            if job.source == name {
                self.ledger.lost += job.source_queue.clear();
            }
            if job.target == name {
                let resend = std::mem::take(&mut job.target_queue);
                job.source_queue.prepend(resend);
                job.test_until_ms = None;
                job.missed_since_ms = None;
                job.failed_queries = 0;
                job.connected_since_ms = None;
                if matches!(job.phase, Phase::FailingOver { .. }) {
                    job.phase = Phase::Failed;
                }
            }
        }
        Ok(())
    }

    /// The host boots: its VMs stay off (a failed host does not start System Galaxy by
    /// itself); services come back per their startup type.
    ///
    /// # Errors
    /// An unknown host.
    pub fn host_up(&mut self, host: &str) -> Result<(), FaultError> {
        let name = self.canonical_host(host)?;
        if let Some(h) = self.host_mut(&name)
            && !h.up
        {
            h.up = true;
            h.services.iter_mut().for_each(|s| s.boot());
        }
        Ok(())
    }

    /// Cuts the link between `a` and `b` (host names or `controller`).
    ///
    /// # Errors
    /// An unknown end, or the same end twice.
    pub fn link_down(&mut self, a: &str, b: &str) -> Result<(), FaultError> {
        let key = self.link(a, b)?;
        self.links_down.insert(key);
        Ok(())
    }

    /// Restores the link between `a` and `b`.
    ///
    /// # Errors
    /// An unknown end, or the same end twice.
    pub fn link_up(&mut self, a: &str, b: &str) -> Result<(), FaultError> {
        let key = self.link(a, b)?;
        self.links_down.remove(&key);
        Ok(())
    }

    fn link(&self, a: &str, b: &str) -> Result<(String, String), FaultError> {
        let (a, b) = (self.link_end(a)?, self.link_end(b)?);
        if a.eq_ignore_ascii_case(&b) {
            return Err(FaultError::SameEnds(a));
        }
        Ok(link_key(&a, &b))
    }

    /// Stops a service on a host (its startup type is kept).
    ///
    /// # Errors
    /// An unknown host or service, or a host that is down.
    pub fn service_stop(&mut self, host: &str, service: &str) -> Result<(), FaultError> {
        let (name, h) = self.up_host(host)?;
        let s = h
            .service_mut(service)
            .ok_or_else(|| FaultError::UnknownService {
                host: name.to_string(),
                service: service.to_string(),
            })?;
        s.running = false;
        Ok(())
    }

    /// Removes the firewall rules for a port, TCP and UDP.
    ///
    /// # Errors
    /// An unknown host.
    pub fn port_close(&mut self, host: &str, port: u16) -> Result<(), FaultError> {
        let name = self.canonical_host(host)?;
        if let Some(h) = self.host_mut(&name) {
            h.firewall.retain(|r| r.port != port);
        }
        Ok(())
    }

    /// Starts System Galaxy's VM, or else the replica, on the host, with network: the way
    /// to provoke split brain. A replica started this way runs System Galaxy, and its job
    /// goes `Failed`, as Carbonite's would.
    ///
    /// # Errors
    /// An unknown host, a host that is down, or no VM that is off there.
    pub fn vm_start(&mut self, host: &str) -> Result<(), FaultError> {
        let (name, i) = self.up_index(host)?;
        let vms = &self.hosts[i].vms;
        let pick = vms
            .iter()
            .find(|v| !v.running && v.role == VmRole::SystemGalaxy)
            .or_else(|| vms.iter().find(|v| !v.running));
        let Some(vm) = pick.map(|v| v.name.clone()) else {
            return Err(FaultError::NoVmToStart(name.to_string()));
        };
        self.power_on_system_galaxy(i, &vm);
        Ok(())
    }

    /// The guest of the VM running on `host` will not shut down cleanly the next time it is
    /// asked (a hung service, a pending update): the clean shutdown fails, the VM keeps
    /// running. Turning it off still works.
    ///
    /// # Errors
    /// An unknown host, a host that is down, or no VM running there.
    pub fn shutdown_fails(&mut self, host: &str) -> Result<(), FaultError> {
        self.running_vm(host)?.refuses_shutdown = true;
        Ok(())
    }

    /// The guest of the VM running on `host` will take too long over its next clean
    /// shutdown: Stop-VM gives up with an error, and the guest goes off anyway (cleanly,
    /// having sent what it queued).
    ///
    /// # Errors
    /// As [`World::shutdown_fails`].
    pub fn shutdown_times_out(&mut self, host: &str) -> Result<(), FaultError> {
        self.running_vm(host)?.shutdown_times_out = true;
        Ok(())
    }

    /// The guests of every VM on `host` stop (or start again) answering: Hyper-V's heartbeat
    /// and PowerShell Direct get nothing from them, as with a guest hung at boot. A replica
    /// made later on the host answers.
    ///
    /// # Errors
    /// An unknown host, or one that is down.
    pub fn guest_silent(&mut self, host: &str, silent: bool) -> Result<(), FaultError> {
        let (_, h) = self.up_host(host)?;
        h.vms.iter_mut().for_each(|v| v.guest_silent = silent);
        Ok(())
    }

    /// Changes what a failover onto `host` would find there (memory, disk, licence).
    ///
    /// # Errors
    /// An unknown host, or one that is down.
    pub fn capacity(
        &mut self,
        host: &str,
        change: impl FnOnce(&mut super::host::Host),
    ) -> Result<(), FaultError> {
        let (_, h) = self.up_host(host)?;
        change(h);
        Ok(())
    }

    fn running_vm(&mut self, host: &str) -> Result<&mut super::host::SimVm, FaultError> {
        let (name, h) = self.up_host(host)?;
        h.vms
            .iter_mut()
            .find(|v| v.running)
            .ok_or_else(|| FaultError::NoVmRunning(name.to_string()))
    }

    /// Changes the host's e-mail notification settings behind the controller's back.
    ///
    /// # Errors
    /// An unknown host.
    pub fn email_drift(&mut self, host: &str) -> Result<(), FaultError> {
        let name = self.canonical_host(host)?;
        if let Some(h) = self.host_mut(&name) {
            let drifted = match h.email.take() {
                Some(mut s) => {
                    s.server = format!("drifted.{}", s.server);
                    s.include = vec![EventLevel::Error];
                    s
                }
                None => EmailSettings {
                    server: "smtp.drifted.example".into(),
                    port: 25,
                    security: SmtpSecurity::None,
                    username: None,
                    from: "doubletake@drifted.example".into(),
                    to: vec!["nobody@drifted.example".into()],
                    subject_prefix: String::new(),
                    add_event_description: true,
                    include: vec![EventLevel::Error],
                    exclude_event_ids: String::new(),
                },
            };
            h.email = Some(drifted);
        }
        Ok(())
    }

    /// Stops the job: replication stops, the console shows `Stopped`.
    ///
    /// # Errors
    /// No job.
    pub fn target_data(&mut self, good: bool) -> Result<(), FaultError> {
        self.job.as_mut().ok_or(FaultError::NoJob)?.data_bad = !good;
        Ok(())
    }

    pub fn job_stop(&mut self) -> Result<(), FaultError> {
        let job = self.job.as_mut().ok_or(FaultError::NoJob)?;
        job.phase = Phase::Stopped;
        job.connected_since_ms = None;
        job.missed_since_ms = None;
        job.failed_queries = 0;
        Ok(())
    }
}
