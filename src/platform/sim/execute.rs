//! Operations carried out on the world, refused where Carbonite, Hyper-V or Windows would
//! refuse them, in their kind of words.

use super::host::SimVm;
use super::job::{Phase, SimJob, ceil_second};
use super::world::World;
use crate::manifest::spec::Startup;
use crate::model::operation::{FailoverKind, MonitorOptions, NewJob, Operation, Place};
use crate::observed::{FirewallRule, MonitorSettings, VmRole};
use crate::platform::PlatformError;

fn refused(system: &'static str, message: impl Into<String>) -> PlatformError {
    PlatformError::Refused {
        system,
        message: message.into(),
    }
}

fn carbonite(message: impl Into<String>) -> PlatformError {
    refused("Carbonite", message)
}

fn hyperv(message: impl Into<String>) -> PlatformError {
    refused("Hyper-V", message)
}

fn windows(message: impl Into<String>) -> PlatformError {
    refused("Windows", message)
}

use super::world::ms;

impl World {
    /// Carries out one operation.
    ///
    /// # Errors
    /// `Unreachable` when the controller cannot reach the host the operation goes to;
    /// `Refused` with the refusing system's words otherwise (see the module's tests for
    /// every refusal).
    pub fn execute(&mut self, op: &Operation) -> Result<(), PlatformError> {
        match op {
            Operation::StartService { place, service } => self.start_service(place, service),
            Operation::SetServiceStartup {
                place,
                service,
                startup,
            } => self.set_service_startup(place, service, *startup),
            Operation::OpenFirewallPort {
                host,
                port,
                protocol,
            } => {
                let i = self.reach(host)?;
                self.hosts[i].firewall.insert(FirewallRule {
                    port: *port,
                    protocol: *protocol,
                });
                Ok(())
            }
            Operation::SetEmailNotification { host, settings } => {
                let i = self.reach(host)?;
                if !self.hosts[i].runs_all(&self.required_services) {
                    return Err(carbonite(format!(
                        "cannot connect to Double-Take on {}: the Double-Take services are not running",
                        self.hosts[i].name
                    )));
                }
                self.hosts[i].email = Some(settings.clone());
                Ok(())
            }
            Operation::CreateJob(new) => self.create_job(new),
            Operation::UpdateJob {
                job,
                target,
                monitor,
                snapshots,
            } => self.update_job(job, target, monitor, *snapshots),
            Operation::DeleteJob {
                job,
                target,
                delete_replica,
            } => self.delete_job(job, target, *delete_replica),
            Operation::RemoveReplica { host, vm } => self.remove_vm(host, vm),
            Operation::StopVm { host, vm, turn_off } => self.stop_vm(host, vm, *turn_off),
            Operation::StartVm { host, vm } => self.start_vm(host, vm),
            Operation::Failover {
                job,
                target,
                mode,
                apply_queued_data,
                snapshot,
            } => self.failover(job, target, *mode, *apply_queued_data, snapshot.as_deref()),
            Operation::EndTestFailover { job, target } => self.end_test_failover(job, target),
            // Alerts are the controller's business, not the hosts'.
            // The controller runs hooks itself, on its own machine.
            Operation::Alert { .. } | Operation::RunHook { .. } => Ok(()),
        }
    }

    /// The index of a host the controller can reach.
    fn reach(&self, host: &str) -> Result<usize, PlatformError> {
        let i = self
            .hosts
            .iter()
            .position(|h| h.name == host)
            .ok_or_else(|| windows(format!("no host named {host} in site {}", self.site)))?;
        if !self.reachable(host) {
            return Err(PlatformError::Unreachable {
                host: self.hosts[i].name.to_string(),
            });
        }
        Ok(i)
    }

    /// The services of a place: the host's, or the guest's of the System Galaxy VM running
    /// on that host.
    fn services_at(
        &mut self,
        place: &Place,
    ) -> Result<&mut Vec<super::host::SimService>, PlatformError> {
        let i = self.reach(place.host())?;
        let host = &mut self.hosts[i];
        match place {
            Place::Host(_) => Ok(&mut host.services),
            Place::Guest(_) => {
                let name = host.name.clone();
                host.vms
                    .iter_mut()
                    .find(|v| v.running && v.role == VmRole::SystemGalaxy)
                    .map(|v| &mut v.guest_services)
                    .ok_or_else(|| {
                        hyperv(format!(
                            "no running System Galaxy virtual machine on {name}"
                        ))
                    })
            }
        }
    }

    /// A service at a place, or Windows' own "cannot find" error.
    fn service_at(
        &mut self,
        place: &Place,
        service: &str,
    ) -> Result<&mut super::host::SimService, PlatformError> {
        let where_ = place.to_string();
        self.services_at(place)?
            .iter_mut()
            .find(|s| s.name.eq_ignore_ascii_case(service))
            .ok_or_else(|| {
                windows(format!(
                    "Cannot find any service with service name '{service}' on {where_}"
                ))
            })
    }

    fn start_service(&mut self, place: &Place, service: &str) -> Result<(), PlatformError> {
        let where_ = place.to_string();
        let s = self.service_at(place, service)?;
        if s.startup == Startup::Disabled {
            return Err(windows(format!(
                "Service '{service}' cannot be started on {where_}: it is disabled"
            )));
        }
        s.running = true;
        Ok(())
    }

    fn set_service_startup(
        &mut self,
        place: &Place,
        service: &str,
        startup: Startup,
    ) -> Result<(), PlatformError> {
        self.service_at(place, service)?.startup = startup;
        Ok(())
    }

    fn create_job(&mut self, new: &NewJob) -> Result<(), PlatformError> {
        if new.source == new.target {
            return Err(carbonite("the source and the target are the same server"));
        }
        let s = self.reach(&new.source)?;
        let t = self.reach(&new.target)?;
        let (source, target) = (&self.hosts[s], &self.hosts[t]);
        if target.live_vm().is_some() {
            return Err(carbonite(format!(
                "{} is running System Galaxy: never back up the synchronized copy onto the live \
                 server (total loss of data in the event of a failure); choose the other host as target",
                target.name
            )));
        }
        let Some(vm) = source.live_vm() else {
            return Err(carbonite(format!(
                "the source server {} is not running on {}",
                new.vm, source.name
            )));
        };
        if let Some(existing) = &self.job {
            return Err(if existing.name.eq_ignore_ascii_case(&new.name) {
                carbonite(format!("a job named {:?} already exists", existing.name))
            } else {
                carbonite(format!(
                    "{} is already protected by job {:?}; delete it first",
                    new.vm, existing.name
                ))
            });
        }
        if let Some(v) = target.vms.iter().find(|v| v.name == new.replica) {
            return Err(hyperv(format!(
                "a virtual machine named {:?} already exists on {}",
                v.name, target.name
            )));
        }
        if !target.runs_all(&self.required_services) {
            return Err(carbonite(format!(
                "cannot connect to Double-Take on the target {}: the Double-Take services are not running",
                target.name
            )));
        }
        if !super::host::runs_all(&vm.guest_services, &self.required_services) {
            return Err(carbonite(format!(
                "cannot connect to Double-Take on the source server {}: the Double-Take services are not running in the VM",
                vm.name
            )));
        }
        if !self.link_is_up(&source.name, &target.name) {
            return Err(carbonite(format!(
                "the target {} cannot communicate with the source server {}",
                target.name, vm.name
            )));
        }
        let now = self.clock_ms;
        let replica = SimVm {
            name: new.replica.clone(),
            role: VmRole::Replica,
            running: false,
            isolated: false,
            started_at_ms: 0,
            guest_services: vm
                .guest_services
                .iter()
                .map(|g| super::host::SimService {
                    running: false,
                    ..g.clone()
                })
                .collect(),
            refuses_shutdown: false,
            shutdown_times_out: false,
            guest_silent: false,
            guest_ports: vm.guest_ports.clone(),
        };
        let job = SimJob {
            name: new.name.clone(),
            source: source.name.clone(),
            source_vm: vm.name.clone(),
            target: target.name.clone(),
            replica: new.replica.clone(),
            replica_path: new.replica_path.clone(),
            monitor: monitor_settings(&new.monitor),
            phase: Phase::Provisioning {
                until_ms: ceil_second(now + ms(self.params.provisioning)),
            },
            created_ms: now,
            mirror_total_bytes: self.params.vm_disk_bytes,
            mirror_remaining_bytes: self.params.vm_disk_bytes,
            bytes_sent: 0,
            connected_since_ms: None,
            mirror_started_ms: None,
            mirror_ended_ms: None,
            source_queue: Default::default(),
            target_queue: Default::default(),
            missed_since_ms: None,
            failed_queries: 0,
            test_until_ms: None,
            snapshots: new.snapshots,
            snapshot_log: Vec::new(),
            data_bad: false,
        };
        self.hosts[t].vms.push(replica);
        self.job = Some(job);
        Ok(())
    }

    /// The job by name, held by `target`, which the controller must reach.
    fn job_at(&mut self, name: &str, target: &str) -> Result<&mut SimJob, PlatformError> {
        self.reach(target)?;
        match self.job.as_mut() {
            Some(j) if j.name.eq_ignore_ascii_case(name) && j.target == target => Ok(j),
            _ => Err(carbonite(format!("no job named {name:?} on {target}"))),
        }
    }

    /// Carbonite's undo of a test failover: the isolated test replica is turned off and the
    /// job goes on protecting.
    fn end_test_failover(&mut self, name: &str, target: &str) -> Result<(), PlatformError> {
        let job = self.job_at(name, target)?;
        if job.test_until_ms.take().is_none() {
            return Err(carbonite(format!(
                "job {name:?} has no test failover to end (CanUndoFailover is false)"
            )));
        }
        let replica = job.replica.clone();
        if let Some(vm) = self.host_mut(target).and_then(|h| h.vm_mut(&replica)) {
            vm.power_off();
        }
        Ok(())
    }

    fn update_job(
        &mut self,
        name: &str,
        target: &str,
        monitor: &MonitorOptions,
        snapshots: Option<crate::model::terms::SnapshotSchedule>,
    ) -> Result<(), PlatformError> {
        let job = self.job_at(name, target)?;
        if matches!(job.phase, Phase::FailingOver { .. }) {
            return Err(carbonite(format!(
                "job {:?} is failing over and cannot be edited",
                job.name
            )));
        }
        job.monitor = monitor_settings(monitor);
        job.snapshots = snapshots;
        Ok(())
    }

    fn delete_job(
        &mut self,
        name: &str,
        target: &str,
        delete_replica: bool,
    ) -> Result<(), PlatformError> {
        let job = self.job_at(name, target)?;
        if matches!(job.phase, Phase::FailingOver { .. }) {
            return Err(carbonite(format!(
                "job {:?} is failing over and cannot be deleted",
                job.name
            )));
        }
        let failed_over = job.phase == Phase::FailedOver;
        let (target, replica) = (job.target.clone(), job.replica.clone());
        let replica_running = self
            .host(&target)
            .and_then(|h| h.vm(&replica))
            .is_some_and(|v| v.running);
        // After a failover the replica is System Galaxy itself: deleting the job keeps it.
        let remove = delete_replica && !failed_over;
        if remove && replica_running {
            return Err(carbonite(format!(
                "the replica {replica:?} is running (test failover?); stop it before deleting the job with its replica"
            )));
        }
        if let Some(mut job) = self.job.take() {
            // What was still queued is in the live database already; only the replica
            // will not get it.
            self.ledger.stored += job.source_queue.clear() + job.target_queue.clear();
        }
        if remove && let Some(h) = self.host_mut(&target) {
            h.vms.retain(|v| v.name != replica);
        }
        Ok(())
    }

    fn remove_vm(&mut self, host: &str, vm: &str) -> Result<(), PlatformError> {
        let i = self.reach(host)?;
        let h = &self.hosts[i];
        let Some(v) = h.vm(vm) else {
            return Err(hyperv(format!(
                "Hyper-V was unable to find a virtual machine with name \"{vm}\" on {}",
                h.name
            )));
        };
        if v.running {
            return Err(hyperv(format!(
                "cannot remove virtual machine \"{}\" on {}: it is running; stop it first",
                v.name, h.name
            )));
        }
        if let Some(job) = &self.job
            && job.target == h.name
            && job.replica == v.name
            && job.phase != Phase::FailedOver
        {
            return Err(carbonite(format!(
                "\"{}\" is the replica of job {:?}; delete the job (with its replica) instead",
                v.name, job.name
            )));
        }
        let name = v.name.clone();
        self.hosts[i].vms.retain(|v| v.name != name);
        Ok(())
    }

    fn stop_vm(&mut self, host: &str, vm: &str, turn_off: bool) -> Result<(), PlatformError> {
        let i = self.reach(host)?;
        let host_name = self.hosts[i].name.clone();
        let Some(v) = self.hosts[i].vm(vm) else {
            return Err(hyperv(format!(
                "Hyper-V was unable to find a virtual machine with name \"{vm}\" on {host_name}"
            )));
        };
        if !v.running {
            return Ok(());
        }
        let vm_name = v.name.clone();
        // The guest finishes shutting down cleanly; only Stop-VM's wait ran out.
        let timed_out = !turn_off && v.shutdown_times_out;
        if !turn_off && v.refuses_shutdown {
            if let Some(v) = self.hosts[i].vm_mut(&vm_name) {
                v.refuses_shutdown = false;
            }
            return Err(hyperv(format!(
                "the guest operating system of {vm_name} on {host_name} did not shut down; the VM is still running"
            )));
        }
        let replicating = self.job.as_ref().is_some_and(|j| self.replicating(j));
        if let Some(job) = self.job.as_mut() {
            let is_source = job.source == host_name && job.source_vm == vm_name;
            let is_replica = job.target == host_name && job.replica == vm_name;
            if is_source && turn_off {
                // Turned off like a power cut: the queue in the guest's memory is gone.
                self.ledger.lost += job.source_queue.clear();
            } else if is_source && replicating {
                // A clean shutdown lets Double-Take send what it queued before the guest stops.
                let n = job.source_queue.len();
                let sent = job.source_queue.transfer(&mut job.target_queue, n);
                job.bytes_sent += sent * self.params.event_bytes;
            }
            if is_replica {
                job.test_until_ms = None;
            }
        }
        if let Some(v) = self.hosts[i].vm_mut(&vm_name) {
            v.power_off();
        }
        if timed_out {
            return Err(hyperv(format!(
                "the operation timed out waiting for the guest operating system of {vm_name} on {host_name} to shut down"
            )));
        }
        Ok(())
    }

    /// Hyper-V's Start-VM as the script runs it: a VM already running is left as it is.
    fn start_vm(&mut self, host: &str, vm: &str) -> Result<(), PlatformError> {
        let i = self.reach(host)?;
        let host_name = self.hosts[i].name.clone();
        let Some(v) = self.hosts[i].vm(vm) else {
            return Err(hyperv(format!(
                "Hyper-V was unable to find a virtual machine with name \"{vm}\" on {host_name}"
            )));
        };
        if v.running {
            return Ok(());
        }
        let vm_name = v.name.clone();
        self.power_on_system_galaxy(i, &vm_name);
        Ok(())
    }

    /// Boots a VM of host `i` as System Galaxy. Booting the job's replica outside a failover
    /// breaks the job, as Carbonite's would.
    pub(super) fn power_on_system_galaxy(&mut self, i: usize, vm: &crate::model::names::VmName) {
        let now = self.clock_ms;
        let host_name = self.hosts[i].name.clone();
        let Some(v) = self.hosts[i].vm_mut(vm) else {
            return;
        };
        v.role = VmRole::SystemGalaxy;
        v.power_on(now, false);
        if let Some(job) = self.job.as_mut()
            && job.target == host_name
            && job.replica == *vm
            && !matches!(job.phase, Phase::FailedOver)
        {
            job.phase = Phase::Failed;
            job.test_until_ms = None;
        }
    }

    fn failover(
        &mut self,
        name: &str,
        target: &str,
        mode: FailoverKind,
        apply: bool,
        snapshot: Option<&str>,
    ) -> Result<(), PlatformError> {
        let ready = self
            .host(target)
            .is_some_and(|h| h.runs_all(&self.required_services));
        let now = self.clock_ms;
        let (test_len, failover_len) = (ms(self.params.test_failover), ms(self.params.failover));
        let job = self.job_at(name, target)?;
        let (job_name, phase, activity) = (job.name.clone(), job.phase, job.activity());
        let (testing, replica) = (job.test_until_ms.is_some(), job.replica.clone());
        if !ready {
            return Err(carbonite(format!(
                "cannot connect to Double-Take on {target}: the Double-Take services are not running"
            )));
        }
        let state = activity.label().to_lowercase();
        match phase {
            Phase::Protecting => {}
            Phase::Synchronizing | Phase::Provisioning { .. } => {
                return Err(carbonite(format!(
                    "job {job_name:?} is {state}: the replica is not complete yet; failover is possible once it is protecting"
                )));
            }
            Phase::FailingOver { .. } | Phase::FailedOver => {
                return Err(carbonite(format!(
                    "job {job_name:?} has already failed over"
                )));
            }
            Phase::Stopped | Phase::Failed => {
                return Err(carbonite(format!(
                    "job {job_name:?} is {state}: failover needs a protecting job"
                )));
            }
        }
        if testing {
            return Err(carbonite(format!(
                "a test failover of job {job_name:?} is running; stop the test replica first"
            )));
        }
        match mode {
            FailoverKind::Test => {
                let vm = self
                    .host_mut(target)
                    .and_then(|h| h.vm_mut(&replica))
                    .ok_or_else(|| {
                        hyperv(format!(
                            "the replica \"{replica}\" does not exist on {target}"
                        ))
                    })?;
                if vm.running {
                    return Err(hyperv(format!(
                        "the replica \"{replica}\" is already running"
                    )));
                }
                vm.power_on(now, true);
                if let Some(job) = self.job.as_mut() {
                    job.test_until_ms = Some(ceil_second(now + test_len));
                }
            }
            FailoverKind::Live => {
                if let Some(id) = snapshot {
                    self.revert_to_snapshot(id).map_err(carbonite)?;
                }
                self.failovers += 1;
                if let Some(job) = self.job.as_mut() {
                    if snapshot.is_none() {
                        // What the source had not sent will never reach the replica.
                        self.ledger.lost += job.source_queue.clear();
                        let queued = job.target_queue.clear();
                        if apply {
                            self.ledger.stored += queued;
                        } else {
                            self.ledger.lost += queued;
                        }
                    }
                    job.phase = Phase::FailingOver {
                        until_ms: ceil_second(now + failover_len),
                    };
                    job.missed_since_ms = None;
                    job.failed_queries = 0;
                    job.connected_since_ms = None;
                }
            }
        }
        Ok(())
    }
}

/// galaxy-ha always creates jobs with "wait for user to initiate failover": the controller
/// is the third vote, so the lab never fails over by itself.
fn monitor_settings(m: &MonitorOptions) -> MonitorSettings {
    MonitorSettings {
        interval: m.interval,
        threshold: m.threshold,
        wait_for_user: true,
    }
}
