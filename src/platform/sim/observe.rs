//! What an admin would see of the world from the controller: Services, Hyper-V Manager and
//! the Replication Console, for the hosts the controller can reach.

use std::time::Duration;

use super::world::{World, ms};
use crate::observed::{HostState, Job, MirrorRun, Observed, Vm, VmState};

impl World {
    /// The site as the controller sees it now.
    ///
    /// # Guarantees
    /// A host the controller cannot reach reports `reachable: false` and nothing else. The
    /// job is reported only while its target (which holds it) is reachable; otherwise
    /// `job` is `None`, and the planner must not read that as "no job".
    pub fn observe(&self) -> Observed {
        let hosts = self
            .hosts
            .iter()
            .map(|h| {
                if !self.reachable(&h.name) {
                    return HostState::unreachable(&h.name);
                }
                HostState {
                    name: h.name.clone(),
                    reachable: true,
                    services: h.services.iter().map(|s| s.observed()).collect(),
                    firewall: h.firewall.iter().copied().collect(),
                    jobs_known: true,
                    capacity: Some(h.capacity()),
                    email: h.email.clone(),
                    vms: h
                        .vms
                        .iter()
                        .map(|v| {
                            let answers =
                                v.guest_answers(self.clock_ms, ms(self.params.guest_boot));
                            // An isolated guest has no network: only PowerShell Direct reaches
                            // it, once it has booted and if it answers at all.
                            let readable = v.running && (!v.isolated || answers);
                            Vm {
                                name: v.name.clone(),
                                state: if v.running {
                                    VmState::Running
                                } else {
                                    VmState::Off
                                },
                                role: v.role,
                                isolated: v.isolated,
                                services: if readable {
                                    v.guest_services.iter().map(|s| s.observed()).collect()
                                } else {
                                    Vec::new()
                                },
                                disks: Vec::new(),
                                heartbeat: v
                                    .running
                                    .then(|| if answers { "OK" } else { "No Contact" }.to_string()),
                                memory_bytes: Some(self.params.vm_memory_bytes),
                                disk_bytes: Some(self.params.vm_disk_bytes),
                                listening: (v.isolated && answers).then(|| {
                                    if v.guest_services.iter().all(|s| s.running) {
                                        v.guest_ports.clone()
                                    } else {
                                        Vec::new()
                                    }
                                }),
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        let job = self
            .job
            .as_ref()
            .filter(|j| self.reachable(&j.target))
            .map(|j| {
                let now = self.clock_ms;
                let event_bytes = self.params.event_bytes;
                let queue_bytes = j.source_queue.len() * event_bytes;
                Job {
                    snapshot_schedule: j.snapshots,
                    snapshots: j.snapshot_list(self),
                    name: j.name.clone(),
                    source: j.source.clone(),
                    target: j.target.clone(),
                    replica: j.replica.clone(),
                    activity: j.activity(),
                    state_name: None,
                    percent: j.percent(),
                    health: self.health(j),
                    target_data_ok: j.target_data_ok(),
                    mirror_remaining_bytes: j.mirror_remaining_bytes,
                    replication_queue_bytes: queue_bytes,
                    disk_queue_bytes: queue_bytes.saturating_sub(self.params.memory_queue_bytes),
                    target_queue_bytes: j.target_queue.len() * event_bytes,
                    recovery_point_latency: Duration::from_millis(j.recovery_point_latency_ms(now)),
                    bytes_sent: j.bytes_sent,
                    connected_since: j.connected_since_ms.map(|t| self.timestamp_at(t)),
                    mirror: MirrorRun {
                        bytes_sent: j.mirror_total_bytes - j.mirror_remaining_bytes,
                        started: j.mirror_started_ms.map(|t| self.timestamp_at(t)),
                        ended: j.mirror_ended_ms.map(|t| self.timestamp_at(t)),
                    },
                    monitor: j.monitor,
                    monitor_status: j.monitor_status(now),
                }
            });
        Observed { hosts, job }
    }
}
