//! A runner that answers scripts from the simulated lab, so the PowerShell platform runs the
//! same scenarios as the lab without Windows: observe gets the document the real script
//! would print (enum names, `/Date(ms)/` dates), and every action script's data is decoded
//! back into the operation and applied to the world.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::parse::{
    EmailDoc, FirewallDoc, HostDoc, JobDoc, MonitorDoc, MonitorStatusDoc, ServiceDoc, VmDoc,
};
use super::payload::{level_name, protocol_name, security_name};
use super::runner::{HostTarget, RunError, Runner};
use super::scripts::{Script, ScriptKind, script};
use crate::manifest::spec::{EventLevel, SmtpSecurity, Startup, Threshold};
use crate::observed::{
    Activity, EmailSettings, Health, Protocol, ServiceState, ServiceStatus, VmState,
};
use crate::plan::action::{FailoverMode, MonitorOptions, NewJob, Operation, Place};
use crate::platform::PlatformError;
use crate::platform::sim::World;

/// The lab behind a [`Runner`].
#[derive(Debug)]
pub struct SimRunner {
    world: Mutex<World>,
}

impl SimRunner {
    pub fn new(world: World) -> Self {
        Self {
            world: Mutex::new(world),
        }
    }

    /// The world, for faults and checks.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Runner for SimRunner {
    fn run(
        &self,
        host: &HostTarget,
        given: &Script,
        input: &Value,
        _timeout: Duration,
    ) -> Result<String, RunError> {
        if given != script(given.kind) {
            return Err(failed(
                host,
                given.kind,
                "the script is not the generated one",
            ));
        }
        let mut world = self.world();
        if !world.reachable(&host.name) {
            return Err(RunError::Unreachable {
                host: host.name.clone(),
                message: "WinRM cannot complete the operation (simulated)".into(),
            });
        }
        match given.kind {
            ScriptKind::Observe => Ok(observe_document(&world, &host.name).to_string()),
            ScriptKind::Doctor => Ok(json!({
                "computerName": host.name,
                "psVersion": "5.1.17763.1",
                "checks": [],
            })
            .to_string()),
            kind => {
                let op = decode(kind, &host.name, input)
                    .map_err(|m| failed(host, kind, &format!("bad input: {m}")))?;
                world.execute(&op).map_err(|e| match e {
                    PlatformError::Unreachable { host } => RunError::Unreachable {
                        host,
                        message: "simulated".into(),
                    },
                    PlatformError::Refused { system, message } => RunError::Refused {
                        host: host.name.clone(),
                        system,
                        message,
                    },
                    other => failed(host, kind, &other.to_string()),
                })?;
                Ok(String::new())
            }
        }
    }

    fn now(&self) -> Timestamp {
        self.world().now()
    }

    fn sleep(&self, d: Duration) {
        self.world().advance(d);
    }

    fn next_change(&self) -> Option<Duration> {
        self.world().next_event_in()
    }
}

fn failed(host: &HostTarget, kind: ScriptKind, message: &str) -> RunError {
    RunError::Failed {
        host: host.name.clone(),
        script: kind.as_str(),
        status: "exit status 1".into(),
        stderr: message.to_string(),
    }
}

fn service_doc(s: &ServiceState) -> ServiceDoc {
    ServiceDoc {
        name: s.name.clone(),
        status: json!(match s.status {
            ServiceStatus::Running => "Running",
            ServiceStatus::Stopped => "Stopped",
        }),
        start_type: json!(match s.startup {
            Startup::Automatic | Startup::AutomaticDelayed => "Automatic",
            Startup::Manual => "Manual",
            Startup::Disabled => "Disabled",
        }),
        delayed_auto_start: s.startup == Startup::AutomaticDelayed,
    }
}

/// Carbonite's high-level state for an activity (the inverse of parse.rs's table).
fn state_name(a: Activity) -> &'static str {
    match a {
        Activity::Provisioning => "Provisioning",
        Activity::Synchronizing => "Mirroring",
        Activity::Protecting => "Protecting",
        Activity::ServerCommunicationError => "CommunicationError",
        Activity::FailingOver => "FailingOver",
        Activity::FailedOver => "FailedOver",
        Activity::Stopped => "Stopped",
        Activity::Failed => "Error",
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The document the observe script prints on this host of the world.
pub fn observe_document(world: &World, host: &str) -> Value {
    let observed = world.observe();
    let Some(h) = observed.host(host) else {
        return Value::Null;
    };
    let jobs: Vec<JobDoc> = observed
        .job
        .iter()
        .filter(|j| j.target.eq_ignore_ascii_case(host))
        .map(|j| {
            let (total, failures, use_failures) = match j.monitor.threshold {
                Threshold::TotalTime(d) => (json!(ms(d)), Value::Null, false),
                Threshold::ConsecutiveFailures(n) => (Value::Null, json!(n), true),
            };
            JobDoc {
                id: Some(format!("sim-{}", j.name.len())),
                name: j.name.clone(),
                replica_name: j.replica.clone(),
                high_level_state: json!(state_name(j.activity)),
                health: json!(match j.health {
                    Health::Ok => "Ok",
                    Health::Warning => "Warning",
                    Health::Error => "Error",
                }),
                permillage_complete: json!(u32::from(j.percent.unwrap_or(0)) * 10),
                target_state: json!(if j.target_data_ok { "OK" } else { "NotLoaded" }),
                mirror_bytes_remaining: json!(j.mirror_remaining_bytes),
                replication_bytes_queued: json!(j.replication_queue_bytes),
                disk_queue_bytes: json!(j.disk_queue_bytes),
                target_queue_bytes: json!(j.target_queue_bytes),
                recovery_point_latency_ms: json!(ms(j.recovery_point_latency)),
                total_bytes_sent: json!(j.bytes_sent),
                start_time: j.connected_since.map_or(Value::Null, |t| {
                    json!(format!("/Date({})/", t.as_millisecond()))
                }),
                monitor: MonitorDoc {
                    interval_ms: json!(ms(j.monitor.interval)),
                    total_time_ms: total,
                    consecutive_failures: failures,
                    use_consecutive_failures: use_failures,
                    wait_for_user: j.monitor.wait_for_user,
                },
                monitor_status: Some(MonitorStatusDoc {
                    alive: j.monitor_status.source_alive,
                    failover_condition_met: j.monitor_status.condition_met,
                    warning_condition_met: !j.monitor_status.source_alive,
                    remaining_ms: json!(ms(j.monitor_status.remaining)),
                }),
            }
        })
        .collect();
    let doc = HostDoc {
        format_version: super::parse::FORMAT_VERSION,
        computer_name: h.name.clone(),
        ps_version: Some("5.1.17763.1".into()),
        services: h.services.iter().map(service_doc).collect(),
        firewall: h
            .firewall
            .iter()
            .map(|r| FirewallDoc {
                port: r.port,
                protocol: protocol_name(r.protocol).into(),
            })
            .collect(),
        vms: h
            .vms
            .iter()
            .map(|v| VmDoc {
                name: v.name.clone(),
                state: json!(match v.state {
                    VmState::Running => "Running",
                    VmState::Off => "Off",
                    VmState::Starting => "Starting",
                    VmState::Stopping => "Stopping",
                }),
                isolated: v.isolated,
                guest_services: (v.state == VmState::Running && !v.isolated)
                    .then(|| v.services.iter().map(service_doc).collect()),
            })
            .collect(),
        email: h.email.as_ref().map(|e| EmailDoc {
            server: e.server.clone(),
            port: e.port,
            security: security_name(e.security).into(),
            username: e.username.clone(),
            from: e.from.clone(),
            to: e.to.clone(),
            subject_prefix: e.subject_prefix.clone(),
            add_event_description: e.add_event_description,
            include: e
                .include
                .iter()
                .map(|l| level_name(*l).to_string())
                .collect(),
            exclude_event_ids: e.exclude_event_ids.clone(),
        }),
        jobs,
        double_take_error: None,
    };
    serde_json::to_value(doc).unwrap_or(Value::Null)
}

fn text(input: &Value, key: &str) -> Result<String, String> {
    input
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| format!("`{key}` is not a string"))
}

fn flag(input: &Value, key: &str) -> Result<bool, String> {
    input
        .get(key)
        .and_then(Value::as_bool)
        .ok_or_else(|| format!("`{key}` is not a boolean"))
}

fn monitor(input: &Value) -> Result<MonitorOptions, String> {
    let m = input.get("monitor").ok_or("no `monitor`")?;
    let interval = m
        .get("intervalSeconds")
        .and_then(Value::as_u64)
        .ok_or("no `monitor.intervalSeconds`")?;
    let threshold = match (
        m.get("totalTimeSeconds").and_then(Value::as_u64),
        m.get("consecutiveFailures").and_then(Value::as_u64),
    ) {
        (_, Some(n)) => {
            Threshold::ConsecutiveFailures(u32::try_from(n).map_err(|e| e.to_string())?)
        }
        (Some(t), None) => Threshold::TotalTime(Duration::from_secs(t)),
        (None, None) => return Err("no monitor threshold".into()),
    };
    Ok(MonitorOptions {
        interval: Duration::from_secs(interval),
        threshold,
    })
}

/// The operation a script's data describes (what the real script would do).
///
/// # Errors
/// Data that does not describe one, as a message.
pub fn decode(kind: ScriptKind, host: &str, input: &Value) -> Result<Operation, String> {
    let place = || -> Result<Place, String> {
        Ok(if flag(input, "guest")? {
            Place::Guest(host.to_string())
        } else {
            Place::Host(host.to_string())
        })
    };
    Ok(match kind {
        ScriptKind::StartService => Operation::StartService {
            place: place()?,
            service: text(input, "service")?,
        },
        ScriptKind::SetServiceStartup => Operation::SetServiceStartup {
            place: place()?,
            service: text(input, "service")?,
            startup: match text(input, "startup")?.as_str() {
                "automatic" => Startup::Automatic,
                "automatic-delayed" => Startup::AutomaticDelayed,
                "manual" => Startup::Manual,
                "disabled" => Startup::Disabled,
                other => return Err(format!("unknown startup {other}")),
            },
        },
        ScriptKind::OpenFirewallPort => Operation::OpenFirewallPort {
            host: host.to_string(),
            port: input
                .get("port")
                .and_then(Value::as_u64)
                .and_then(|p| u16::try_from(p).ok())
                .ok_or("no `port`")?,
            protocol: match text(input, "protocol")?.as_str() {
                "TCP" => Protocol::Tcp,
                "UDP" => Protocol::Udp,
                other => return Err(format!("unknown protocol {other}")),
            },
        },
        ScriptKind::SetEmailNotification => {
            let s = input.get("settings").ok_or("no `settings`")?;
            let strings = |key: &str| -> Result<Vec<String>, String> {
                s.get(key)
                    .and_then(Value::as_array)
                    .ok_or(format!("no `settings.{key}`"))?
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .ok_or(format!("`settings.{key}` holds a non-string"))
                    })
                    .collect()
            };
            Operation::SetEmailNotification {
                host: host.to_string(),
                settings: EmailSettings {
                    server: text(s, "server")?,
                    port: s
                        .get("port")
                        .and_then(Value::as_u64)
                        .and_then(|p| u16::try_from(p).ok())
                        .ok_or("no `settings.port`")?,
                    security: match text(s, "security")?.as_str() {
                        "none" => SmtpSecurity::None,
                        "starttls" => SmtpSecurity::Starttls,
                        "tls" => SmtpSecurity::Tls,
                        other => return Err(format!("unknown security {other}")),
                    },
                    username: s
                        .get("username")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    from: text(s, "from")?,
                    to: strings("to")?,
                    subject_prefix: text(s, "subjectPrefix")?,
                    add_event_description: flag(s, "addEventDescription")?,
                    include: strings("include")?
                        .iter()
                        .map(|l| match l.as_str() {
                            "Information" => Ok(EventLevel::Information),
                            "Warning" => Ok(EventLevel::Warning),
                            "Error" => Ok(EventLevel::Error),
                            other => Err(format!("unknown level {other}")),
                        })
                        .collect::<Result<_, _>>()?,
                    exclude_event_ids: text(s, "excludeEventIds")?,
                },
            }
        }
        ScriptKind::CreateJob => Operation::CreateJob(NewJob {
            name: text(input, "name")?,
            vm: text(input, "vm")?,
            source: text(input, "source")?,
            target: text(input, "target")?,
            replica: text(input, "replica")?,
            replica_path: text(input, "replicaPath")?,
            monitor: monitor(input)?,
        }),
        ScriptKind::UpdateJob => Operation::UpdateJob {
            job: text(input, "job")?,
            target: host.to_string(),
            monitor: monitor(input)?,
        },
        ScriptKind::DeleteJob => Operation::DeleteJob {
            job: text(input, "job")?,
            target: host.to_string(),
            delete_replica: flag(input, "deleteReplica")?,
        },
        ScriptKind::RemoveVm => Operation::RemoveReplica {
            host: host.to_string(),
            vm: text(input, "vm")?,
        },
        ScriptKind::StopVm => Operation::StopVm {
            host: host.to_string(),
            vm: text(input, "vm")?,
            turn_off: flag(input, "turnOff")?,
        },
        ScriptKind::Failover => Operation::Failover {
            job: text(input, "job")?,
            target: host.to_string(),
            mode: match text(input, "mode")?.as_str() {
                "live" => FailoverMode::Live,
                "test" => FailoverMode::Test,
                other => return Err(format!("unknown mode {other}")),
            },
            apply_queued_data: flag(input, "applyQueuedData")?,
        },
        ScriptKind::Observe | ScriptKind::Doctor => {
            return Err(format!("{} is not an operation", kind.as_str()));
        }
    })
}
