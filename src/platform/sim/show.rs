//! `galaxy-ha sim show`: the lab's omniscient view (unlike `observe`, it sees hosts and a job
//! the controller cannot reach), as JSON and as a table like the Replication Console's.

use std::fmt::Write as _;

use jiff::Timestamp;
use serde::Serialize;

use super::events::EventCounts;
use super::world::World;
use crate::observed::{Activity, Health, VmRole};

/// `sim show --format json`, version 1.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub format_version: u32,
    pub site: String,
    pub seed: u64,
    pub clock: Timestamp,
    pub elapsed_ms: u64,
    pub hosts: Vec<HostView>,
    /// Links that are down, each as its two ends.
    pub links_down: Vec<[String; 2]>,
    pub job: Option<JobView>,
    pub events: EventCounts,
    /// Live failovers carried out since the world began.
    pub failovers: u32,
    /// Time until the next lifecycle transition, if any.
    pub next_event_in_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HostView {
    pub name: String,
    pub address: String,
    pub up: bool,
    /// Reachable from the controller.
    pub reachable: bool,
    /// `running` (System Galaxy live), `isolated` (a test failover), `off` or `none`.
    pub vm_state: &'static str,
    pub vms: Vec<VmView>,
    pub services_running: Vec<String>,
    pub open_ports: Vec<String>,
    pub email_configured: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct VmView {
    pub name: String,
    pub role: VmRole,
    pub running: bool,
    pub isolated: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct JobView {
    pub name: String,
    pub source: String,
    pub target: String,
    pub replica: String,
    pub activity: Activity,
    pub percent: Option<u8>,
    pub health: Health,
    pub target_data_state: &'static str,
    pub mirror_remaining_bytes: u64,
    pub replication_queue_bytes: u64,
    pub target_queue_bytes: u64,
    pub recovery_point_latency_ms: u64,
    pub bytes_sent: u64,
    pub connected_since: Option<Timestamp>,
    pub source_missed_for_ms: u64,
    pub failed_queries: u32,
    pub condition_met: bool,
    pub remaining_ms: u64,
}

use super::world::ms;

impl World {
    pub fn snapshot(&self) -> Snapshot {
        let hosts = self
            .hosts
            .iter()
            .map(|h| {
                let vm_state = if h.vms.iter().any(|v| v.running && !v.isolated) {
                    "running"
                } else if h.vms.iter().any(|v| v.running) {
                    "isolated"
                } else if h.vms.is_empty() {
                    "none"
                } else {
                    "off"
                };
                HostView {
                    name: h.name.to_string(),
                    address: h.address.clone(),
                    up: h.up,
                    reachable: self.reachable(&h.name),
                    vm_state,
                    vms: h
                        .vms
                        .iter()
                        .map(|v| VmView {
                            name: v.name.to_string(),
                            role: v.role,
                            running: v.running,
                            isolated: v.isolated,
                        })
                        .collect(),
                    services_running: h
                        .services
                        .iter()
                        .filter(|s| s.running)
                        .map(|s| s.name.clone())
                        .collect(),
                    open_ports: h
                        .firewall
                        .iter()
                        .map(|r| {
                            format!(
                                "{}/{}",
                                r.port,
                                serde_json::to_value(r.protocol)
                                    .ok()
                                    .and_then(|v| v.as_str().map(str::to_string))
                                    .unwrap_or_default()
                            )
                        })
                        .collect(),
                    email_configured: h.email.is_some(),
                }
            })
            .collect();
        let job = self.job.as_ref().map(|j| {
            let now = self.clock_ms;
            let status = j.monitor_status(now);
            JobView {
                name: j.name.clone(),
                source: j.source.to_string(),
                target: j.target.to_string(),
                replica: j.replica.to_string(),
                activity: j.activity(),
                percent: j.percent(),
                health: self.health(j),
                target_data_state: if j.target_data_ok() { "OK" } else { "Not OK" },
                mirror_remaining_bytes: j.mirror_remaining_bytes,
                replication_queue_bytes: j.source_queue.len() * self.params.event_bytes,
                target_queue_bytes: j.target_queue.len() * self.params.event_bytes,
                recovery_point_latency_ms: j.recovery_point_latency_ms(now),
                bytes_sent: j.bytes_sent,
                connected_since: j.connected_since_ms.map(|t| self.timestamp_at(t)),
                source_missed_for_ms: ms(status.missed_for),
                failed_queries: status.failed_queries,
                condition_met: status.condition_met,
                remaining_ms: ms(status.remaining),
            }
        });
        Snapshot {
            format_version: 1,
            site: self.site.clone(),
            seed: self.seed,
            clock: self.now(),
            elapsed_ms: self.clock_ms,
            hosts,
            links_down: self
                .links_down
                .iter()
                .map(|(a, b)| [self.end_name(a), self.end_name(b)])
                .collect(),
            job,
            events: self.events(),
            failovers: self.failovers,
            next_event_in_ms: self.next_event_in().map(ms),
        }
    }
}

impl World {
    /// A link end as the site spells it (`controller` or the host's name).
    fn end_name(&self, end: &str) -> String {
        self.host(end)
            .map_or_else(|| end.to_string(), |h| h.name.to_string())
    }
}

fn dur(ms: u64) -> String {
    humantime::format_duration(std::time::Duration::from_secs(ms / 1000)).to_string()
}

/// The snapshot as a readable table: Hyper-V states per host, then the job's highlights.
pub fn render_text(s: &Snapshot) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "site {}   clock {} (+{})   seed {}",
        s.site,
        s.clock,
        dur(s.elapsed_ms),
        s.seed
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<14} {:<5} {:<10} {:<9} VMS",
        "HOST", "UP", "REACHABLE", "VM"
    );
    for h in &s.hosts {
        let vms: Vec<String> = h
            .vms
            .iter()
            .map(|v| {
                let state = match (v.running, v.isolated) {
                    (true, false) => "Running",
                    (true, true) => "Running (isolated)",
                    _ => "Off",
                };
                let role = if v.role == VmRole::Replica {
                    " [replica]"
                } else {
                    ""
                };
                format!("{}{role}: {state}", v.name)
            })
            .collect();
        let _ = writeln!(
            out,
            "{:<14} {:<5} {:<10} {:<9} {}",
            h.name,
            if h.up { "up" } else { "DOWN" },
            if h.reachable { "yes" } else { "no" },
            h.vm_state,
            if vms.is_empty() {
                "-".into()
            } else {
                vms.join(", ")
            }
        );
        let _ = writeln!(
            out,
            "{:<14} services running: {}; open ports: {}; e-mail: {}",
            "",
            if h.services_running.is_empty() {
                "none".into()
            } else {
                h.services_running.join(", ")
            },
            if h.open_ports.is_empty() {
                "none".into()
            } else {
                h.open_ports.join(" ")
            },
            if h.email_configured { "set" } else { "not set" }
        );
    }
    let links: Vec<String> = s
        .links_down
        .iter()
        .map(|[a, b]| format!("{a}<->{b}"))
        .collect();
    let _ = writeln!(
        out,
        "links down: {}",
        if links.is_empty() {
            "none".into()
        } else {
            links.join(", ")
        }
    );
    let _ = writeln!(out);
    match &s.job {
        None => {
            let _ = writeln!(out, "job: none");
        }
        Some(j) => {
            let activity = match j.percent {
                Some(p) => format!("{} {p}%", j.activity.label()),
                None => j.activity.label().to_string(),
            };
            let _ = writeln!(
                out,
                "{:<28} {:<14} {:<14} {:<28} HEALTH",
                "JOB", "SOURCE", "TARGET", "ACTIVITY"
            );
            let _ = writeln!(
                out,
                "{:<28} {:<14} {:<14} {:<28} {:?}",
                j.name, j.source, j.target, activity, j.health
            );
            let _ = writeln!(out, "  Target data state:      {}", j.target_data_state);
            let _ = writeln!(
                out,
                "  Mirror remaining:       {}",
                indicatif::HumanBytes(j.mirror_remaining_bytes)
            );
            let _ = writeln!(
                out,
                "  Replication queue:      {}",
                indicatif::HumanBytes(j.replication_queue_bytes)
            );
            let _ = writeln!(
                out,
                "  Target queue:           {}",
                indicatif::HumanBytes(j.target_queue_bytes)
            );
            let _ = writeln!(
                out,
                "  Recovery point latency: {}",
                dur(j.recovery_point_latency_ms)
            );
            let _ = writeln!(
                out,
                "  Bytes sent:             {}",
                indicatif::HumanBytes(j.bytes_sent)
            );
            let _ = writeln!(
                out,
                "  Connected since:        {}",
                j.connected_since.map_or("-".to_string(), |t| t.to_string())
            );
            let monitor = if j.failed_queries == 0 {
                "source alive".to_string()
            } else if j.condition_met {
                format!(
                    "source missed for {} ({} failed queries): condition for failure met",
                    dur(j.source_missed_for_ms),
                    j.failed_queries
                )
            } else {
                format!(
                    "source missed for {} ({} failed queries); condition for failure met in {}",
                    dur(j.source_missed_for_ms),
                    j.failed_queries,
                    dur(j.remaining_ms)
                )
            };
            let _ = writeln!(out, "  Failover monitor:       {monitor}");
        }
    }
    let e = &s.events;
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "events: produced {}, stored {}, buffered {}, in flight {}, lost {}",
        e.produced, e.stored, e.buffered, e.in_flight, e.lost
    );
    if let Some(n) = s.next_event_in_ms {
        let _ = writeln!(out, "next change in {}", dur(n));
    }
    out
}
