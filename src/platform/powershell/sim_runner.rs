//! A runner that answers scripts from the simulated lab, so the PowerShell platform runs the
//! same scenarios as the lab without Windows. Carbonite's objects are built as the model
//! types them and written as Windows PowerShell 5.1 writes them ([`super::ps51`]: enums as
//! numbers, `DateTimeOffset` and `TimeSpan` as objects, `$null` for unset nullables); observe
//! gets what the script makes of them, capture gets them unformatted. Every action script's
//! data is decoded back into the operation and applied to the world.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::input::{Input, Observe, level_name, protocol_name};
use super::latency::{Latency, Opened};
use super::parse::{
    ActivationCodeDoc, EmailDoc, FirewallDoc, HostDoc, JobDoc, LicenceDoc, ServiceDoc, VmDoc,
    VolumeDoc,
};
use super::ps51;
use super::runner::{HostTarget, RunError, Runner};
use super::scripts::{Script, ScriptKind, script};
use crate::manifest::spec::{SessionMode, SmtpSecurity, Startup, Threshold};
use crate::model::operation::Operation;
use crate::observed::{Activity, Capacity, Health, Job, ServiceState, ServiceStatus, Vm, VmState};
use crate::platform::PlatformError;
use crate::platform::sim::World;

/// The lab behind a [`Runner`].
#[derive(Debug)]
pub struct SimRunner {
    world: Mutex<World>,
    /// With a latency model, each script moves the lab's clock by what it would cost.
    latency: Option<(Latency, SessionMode)>,
    /// What each host's warm session has opened (with a latency model in `warm` mode).
    opened: Mutex<HashMap<String, Opened>>,
    /// Every script run and its modelled cost, in order.
    spent: Mutex<Vec<(ScriptKind, Duration)>>,
}

impl SimRunner {
    pub fn new(world: World) -> Self {
        Self {
            world: Mutex::new(world),
            latency: None,
            opened: Mutex::new(HashMap::new()),
            spent: Mutex::new(Vec::new()),
        }
    }

    /// Scripts take the time `latency` says, run as `mode` runs them: the lab's clock moves
    /// by each script's cost before it acts, as it would on a real host.
    #[must_use]
    pub fn with_latency(mut self, latency: Latency, mode: SessionMode) -> Self {
        self.latency = Some((latency, mode));
        self
    }

    /// The scripts run so far, each with its modelled cost; emptied.
    pub fn take_spent(&self) -> Vec<(ScriptKind, Duration)> {
        std::mem::take(&mut *self.spent.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Charges a script's modelled cost: the clock moves, the cost is recorded.
    fn charge(&self, world: &mut World, host: &str, kind: ScriptKind) {
        let Some((latency, mode)) = self.latency else {
            return;
        };
        let mut opened = self.opened.lock().unwrap_or_else(|p| p.into_inner());
        let cost = latency.cost_in(kind, mode, opened.entry(host.to_string()).or_default());
        world.advance(cost);
        self.spent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((kind, cost));
    }

    /// A failed script ends its warm session, as the real runner's does.
    fn forget_session(&self, host: &str) {
        self.opened
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(host);
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
            self.forget_session(&host.name);
            return Err(RunError::Unreachable {
                host: host.name.clone(),
                message: "WinRM cannot complete the operation (simulated)".into(),
            });
        }
        self.charge(&mut world, &host.name, given.kind);
        let result = self.answer(&mut world, host, given.kind, input);
        if result.is_err() {
            self.forget_session(&host.name);
        }
        result
    }

    fn now(&self) -> Timestamp {
        self.world().now()
    }

    fn sleep(&self, d: Duration) {
        self.world().advance(d);
    }
}

impl SimRunner {
    fn answer(
        &self,
        world: &mut World,
        host: &HostTarget,
        kind: ScriptKind,
        input: &Value,
    ) -> Result<String, RunError> {
        match kind {
            ScriptKind::Observe => match Input::decode(kind, input) {
                Ok(Input::Observe(asked)) => {
                    Ok(observe_document(world, &host.name, &asked).to_string())
                }
                Ok(_) => Err(failed(host, kind, "bad input: not the observe script's")),
                Err(m) => Err(failed(host, kind, &format!("bad input: {m}"))),
            },
            ScriptKind::Capture => Ok(capture_document(world, &host.name).to_string()),
            ScriptKind::Doctor => Ok(json!({
                "computerName": host.name,
                "psVersion": "5.1.17763.1",
                "osBuild": 17763,
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
        start_value: Value::Null,
        delayed_auto_start: s.startup == Startup::AutomaticDelayed,
    }
}

/// Carbonite's high-level state for an activity (the inverse of `parse::HIGH_LEVEL_STATES`).
fn state_name(j: &Job) -> &str {
    match j.activity {
        Activity::Provisioning => "Provisioning",
        Activity::Synchronizing => "Mirroring",
        Activity::Protecting => "Protecting",
        Activity::ServerCommunicationError => "ServerCommunicationError",
        Activity::FailingOver => "FailingOver",
        Activity::FailedOver => "FailedOver",
        Activity::Stopped => "Stopped",
        Activity::Failed => "FailoverFailed",
        Activity::Deleting => "Deleting",
        Activity::Unknown => j.state_name.as_deref().unwrap_or("Unknown"),
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The number of `name` in enum `enum_name` of the model (what 5.1 writes for an enum).
fn enum_value(enum_name: &str, name: &str) -> Value {
    super::model::model()
        .and_then(|m| m.enums.get(enum_name))
        .and_then(|e| e.get(name))
        .map_or(Value::Null, |v| json!(v))
}

/// A `JobInfo` as `Get-DtJob | ConvertTo-Json` writes it on Windows PowerShell 5.1: every
/// property of the model, the lab's values where it has them. The job's source is the
/// System Galaxy guest, its target the host that holds it.
pub fn raw_job(j: &Job, guest: &str, target_address: &str) -> Value {
    let given = lab_job(j, guest, target_address);
    match super::model::model() {
        Some(m) => ps51::instance(
            m,
            "DoubleTake.Jobs.Contract.JobInfo",
            Some(&given),
            ps51::DEPTH,
        ),
        None => given,
    }
}

/// The lab's values of a `JobInfo`.
fn lab_job(j: &Job, guest: &str, target_address: &str) -> Value {
    let (use_total, total, attempts) = match j.monitor.threshold {
        Threshold::TotalTime(d) => (true, d, 5),
        Threshold::ConsecutiveFailures(n) => (false, Duration::ZERO, n),
    };
    let processing = if j.monitor.wait_for_user {
        "UserInterventionRequired"
    } else {
        "None"
    };
    json!({
        "Id": format!("5e1a0000-0000-4000-8000-{:012x}", j.name.len()),
        "JobType": "VRA",
        "SourceHostUri": format!("http://{guest}:6325/"),
        "TargetHostUri": format!("http://{target_address}:6325/"),
        "Options": {
            "Name": j.name,
            "FailoverMonitoringEnabled": true,
            "CoreConnectionOptions": {
                "ConnectionStartParameters": {
                    "SnapshotSchedule": {
                        "IsEnabled": j.snapshot_schedule.is_some(),
                        "Interval": ps51::time_span(j.snapshot_schedule.map_or(Duration::ZERO, |s| s.every)),
                        "MaxNumberOfSnapshots": j.snapshot_schedule.map_or(0, |s| s.keep),
                    },
                },
            },
            "VRAOptions": { "ReplicaVMInfo": { "DisplayName": j.replica, "Path": null } },
            "CoreMonitorOptions": {
                "TotalTimeAllowed": ps51::time_span(total),
                "UseTotalTimeAllowed": use_total,
                "MonitorConfiguration": {
                    "ProcessingOptions": enum_value("FailoverProcessingOptions", processing),
                    "Addresses": [{
                        "Address": guest,
                        "PingInterval": ps51::time_span(j.monitor.interval),
                        "MaxPingAttempts": attempts,
                    }],
                },
            },
        },
        "Status": {
            "HighLevelState": enum_value("HighLevelState", state_name(j)),
            "Health": enum_value("Health", match j.health {
                Health::Ok => "Ok",
                Health::Warning => "Warning",
                Health::Error => "Error",
            }),
            // Carbonite's own rule is not known; the lab allows a failover from these.
            "CanFailover": matches!(j.activity, Activity::Protecting | Activity::ServerCommunicationError | Activity::Stopped),
            "CanUndoFailover": false,
            "PermillageComplete": u32::from(j.percent.unwrap_or(if j.activity == Activity::Protecting { 100 } else { 0 })) * 10,
            "TargetState": if j.target_data_ok { "OK" } else { "NotLoaded" },
        },
        "Statistics": {
            "CoreConnectionDetails": {
                "SourceMachineName": guest,
                "TargetMachineName": j.target,
                "MirrorBytesRemaining": j.mirror_remaining_bytes,
                "ReplicationBytesQueued": j.replication_queue_bytes,
                "DiskQueueBytes": j.disk_queue_bytes,
                "TargetQueueBytes": j.target_queue_bytes,
                "SourceRecoveryPointLatency": ms(j.recovery_point_latency),
                "TotalBytesSent": j.bytes_sent,
                "StartTime": ps51::date_time_offset(j.connected_since),
                "MirrorBytesSent": j.mirror.bytes_sent,
                "MirrorStartTime": ps51::date_time_offset(j.mirror.started),
                "MirrorEndTime": ps51::date_time_offset(j.mirror.ended),
            },
            "CoreMonitorDetails": {
                "MonitoredAddressStatuses": [{
                    "Address": guest,
                    "Alive": j.monitor_status.source_alive,
                    "FailoverConditionMet": j.monitor_status.condition_met,
                    "WarningConditionMet": !j.monitor_status.source_alive,
                    "RemainingTime": ps51::time_span(j.monitor_status.remaining),
                }],
            },
        },
    })
}

/// `Get-DtSnapshot`'s entries for a job as 5.1 writes them. The lab knows only whether a
/// snapshot's data was good; one that was not carries `RestoreRequired`.
pub fn raw_snapshots(j: &Job) -> Vec<Value> {
    j.snapshots
        .iter()
        .map(|s| {
            let given = json!({
                "Id": s.id,
                "Timestamp": ps51::date_time_offset(Some(s.at)),
                "States": enum_value("TargetStates", if s.good { "Good" } else { "RestoreRequired" }),
                "Reason": enum_value("SnapshotCreationReason", &s.reason),
                "Attributes": enum_value("SnapshotAttributes", "JobManaged"),
            });
            super::model::model().map_or(given.clone(), |m| {
                ps51::instance(m, "SnapshotEntry", Some(&given), ps51::DEPTH)
            })
        })
        .collect()
}

/// The jobs this host of the world holds (it is their target).
fn held_jobs(world: &World, host: &str) -> Vec<Job> {
    world
        .observe()
        .job
        .into_iter()
        .filter(|j| j.target == host)
        .collect()
}

/// A job as `Get-DtJob` lists it on this host of the world, unformatted.
fn raw_held_job(world: &World, host: &str, j: &Job) -> Value {
    let address = world
        .host(host)
        .map_or(host.to_string(), |h| h.address.clone());
    raw_job(j, &world.vm_name, &address)
}

/// `EmailNotificationOptions` as 5.1 writes it (what Carbonite keeps; no password is ever
/// read back).
fn raw_email(world: &World, host: &str) -> Value {
    let observed = world.observe();
    let e = observed.host(host).and_then(|h| h.email.clone());
    let given = match &e {
        None => json!({ "Enabled": false }),
        Some(e) => json!({
            "Enabled": true,
            "SmtpServer": e.server,
            "SmtpPort": e.port,
            "ConnectionSecurity": enum_value("SmtpConnectionSecurity", match e.security {
                SmtpSecurity::None => "Plain",
                SmtpSecurity::Tls => "SSL",
                SmtpSecurity::Starttls => "TLS",
            }),
            "LoginToSmtpServer": e.username.is_some(),
            "SmtpCredentials": e.username.as_ref().map(|u| json!({ "UserName": u, "Password": null, "Domain": null })),
            "From": e.from,
            "To": e.to.join(","),
            "SubjectPrefix": e.subject_prefix,
            "IncludeEventDescriptionInSubject": e.add_event_description,
            "EntryTypeFilter": e.include.iter().map(|l| level_name(*l)).collect::<Vec<_>>().join(","),
            "EntryIdFilter": e.exclude_event_ids,
        }),
    };
    super::model::model().map_or(given.clone(), |m| {
        ps51::instance(m, "EmailNotificationOptions", Some(&given), ps51::DEPTH)
    })
}

/// What the capture script prints on this host of the world.
pub fn capture_document(world: &World, host: &str) -> Value {
    let held = held_jobs(world, host);
    let jobs: Vec<Value> = held.iter().map(|j| raw_held_job(world, host, j)).collect();
    let snapshots: Vec<Value> = held
        .iter()
        .zip(&jobs)
        .map(|(j, raw)| json!({ "JobId": raw["Id"], "Entries": raw_snapshots(j), "Error": null }))
        .collect();
    let failover: Vec<Value> = jobs
        .iter()
        .map(|j| {
            let given = json!({
                "FailoverOptions": {
                    "FailoverDataAction": enum_value("FailoverDataAction", "Apply"),
                    "FailoverMode": enum_value("FailoverMode", "Live"),
                },
                "IsTestFailoverSupported": true,
            });
            let options = super::model::model().map_or(given.clone(), |m| {
                ps51::instance(m, "RecommendedFailoverOptions", Some(&given), ps51::DEPTH)
            });
            json!({ "JobId": j["Id"], "Options": options })
        })
        .collect();
    let activation = world
        .observe()
        .host(host)
        .and_then(|h| h.capacity.clone())
        .map_or(Value::Null, |c| {
            captured_activation(&raw_activation(&c, world.now()))
        });
    json!({
        "computerName": host,
        "psVersionTable": { "PSVersion": "5.1.17763.1", "PSEdition": "Desktop" },
        "osCaption": "Microsoft Windows Server 2019 Standard",
        "osBuild": "17763",
        "carbonite": {
            "Jobs": jobs,
            "RecommendedFailoverOptions": failover,
            "Snapshots": snapshots,
            "EmailNotificationOptions": raw_email(world, host),
            "ActivationStatus": activation,
            "ActivationError": null,
        },
        "doubleTakeError": null,
    })
}

/// A VM as the observe script writes it, from what the lab observes: the heartbeat of every
/// running VM; inside a live guest its services; inside an isolated one (a drill's test
/// replica, reached through PowerShell Direct once it has booted) those of `asked`'s
/// `vmServices` found there, under the names asked, and which of `vmPorts` listen.
fn vm_doc(v: &Vm, asked: &Observe) -> VmDoc {
    let running = v.state == VmState::Running;
    // The lab reads an isolated guest's ports exactly when the guest answers.
    let answers = running && (!v.isolated || v.listening.is_some());
    let guest_services = answers.then(|| {
        if v.isolated {
            asked
                .vm_services
                .iter()
                .filter_map(|n| {
                    v.services
                        .iter()
                        .find(|s| s.name.eq_ignore_ascii_case(n))
                        .map(|s| ServiceDoc {
                            name: n.clone(),
                            ..service_doc(s)
                        })
                })
                .collect()
        } else {
            v.services.iter().map(service_doc).collect()
        }
    });
    let listening = v
        .listening
        .as_ref()
        .filter(|_| running && v.isolated)
        .map(|open| {
            asked
                .vm_ports
                .iter()
                .filter(|p| open.contains(p))
                .map(|p| json!(p))
                .collect()
        });
    VmDoc {
        name: v.name.to_string(),
        state: json!(match v.state {
            VmState::Running => "Running",
            VmState::Off => "Off",
            VmState::Starting => "Starting",
            VmState::Stopping => "Stopping",
        }),
        isolated: v.isolated,
        heartbeat: if running { v.heartbeat.clone() } else { None },
        guest_services,
        listening,
        guest_error: (running && !answers).then(|| {
            format!(
                "the virtual machine {} did not answer through PowerShell Direct (simulated)",
                v.name
            )
        }),
        disks: Vec::new(),
        // The lab keeps no disk files, only their total: what Get-VHD's sizes add up to.
        memory_bytes: v.memory_bytes.map_or(Value::Null, |b| json!(b)),
        disk_bytes: v.disk_bytes.map_or(Value::Null, |b| json!(b)),
        size_error: None,
    }
}

/// `Get-DtActivationStatus` as 5.1 writes it, from what the lab says of the host's licence:
/// one site licence, valid for a year yet, or expired the day before `now`.
pub fn raw_activation(c: &Capacity, now: Timestamp) -> Value {
    let day = jiff::SignedDuration::from_hours(24);
    let expires = if c.licence_valid {
        now.checked_add(day * 365)
    } else {
        now.checked_sub(day)
    }
    .unwrap_or(now);
    let given = json!({
        "IsValid": c.licence_valid,
        "IsNodeLocked": false,
        "Codes": [{
            "Code": "LAB00-00000-00000-00000",
            "ProductName": "Carbonite Availability",
            "LicenseType": enum_value("LicenseType", "Site"),
            "IsValid": c.licence_valid,
            "IsExpired": !c.licence_valid,
            "IsEvaluation": false,
            "IsNodeLocked": false,
            "ExpirationDate": format!("/Date({})/", expires.as_millisecond()),
            "MajorVersion": 8,
            "MinorVersion": 1,
        }],
        "AddOnCodes": [],
    });
    super::model::model().map_or(given.clone(), |m| {
        ps51::instance(m, "ActivationStatus", Some(&given), ps51::DEPTH)
    })
}

/// The codes of an `ActivationStatus` written by 5.1.
fn activation_codes(raw: &Value) -> Vec<Value> {
    match &raw["Codes"] {
        Value::Array(codes) => codes.clone(),
        Value::Null => Vec::new(),
        one => vec![one.clone()],
    }
}

/// What the observe script makes of `Get-DtActivationStatus`: each code's enum by name and
/// its `ExpirationDate` as `yyyy-MM-dd`.
fn observed_licence(raw: &Value) -> LicenceDoc {
    let codes = activation_codes(raw)
        .iter()
        .map(|code| ActivationCodeDoc {
            product: code["ProductName"].as_str().unwrap_or("").to_string(),
            license_type: super::model::model().map_or(Value::Null, |m| {
                ps51::enum_name(m, "LicenseType", &code["LicenseType"])
            }),
            is_valid: code["IsValid"].as_bool().unwrap_or(false),
            is_expired: code["IsExpired"].as_bool().unwrap_or(false),
            is_evaluation: code["IsEvaluation"].as_bool().unwrap_or(false),
            expires: match super::parse::date(&code["ExpirationDate"]) {
                Ok(Some(t)) => json!(t.strftime("%Y-%m-%d").to_string()),
                _ => json!("0001-01-01"),
            },
        })
        .collect();
    LicenceDoc {
        is_valid: json!(raw["IsValid"].as_bool().unwrap_or(false)),
        codes,
        error: None,
    }
}

/// What the capture script records of `Get-DtActivationStatus`: its validity and codes,
/// without the codes themselves and their serial numbers.
fn captured_activation(raw: &Value) -> Value {
    let codes: Vec<Value> = activation_codes(raw)
        .into_iter()
        .map(|mut code| {
            if let Some(map) = code.as_object_mut() {
                map.remove("Code");
                map.remove("SerialNumber");
            }
            code
        })
        .collect();
    json!({ "IsValid": raw["IsValid"], "Codes": codes })
}

/// `Split-Path -Qualifier`: a path's drive (`D:`), or the error it gives for a path without
/// one.
fn qualifier(path: &str) -> Result<String, String> {
    let mut chars = path.chars();
    match (chars.next(), chars.next()) {
        (Some(letter), Some(':')) if letter.is_ascii_alphabetic() => Ok(format!("{letter}:")),
        _ => Err(format!(
            "Cannot parse path because path '{path}' does not have a qualifier specified."
        )),
    }
}

/// The replica path's volume as the observe script reads it on a host with `capacity`.
fn replica_volume(capacity: &Capacity, replica_path: &str) -> VolumeDoc {
    match qualifier(replica_path) {
        Ok(drive) => VolumeDoc {
            drive: Some(drive),
            free_bytes: json!(capacity.disk_free_bytes),
            error: None,
        },
        Err(e) => VolumeDoc {
            drive: None,
            free_bytes: Value::Null,
            error: Some(e),
        },
    }
}

/// The document the observe script prints on this host of the world, given the script's
/// data.
pub fn observe_document(world: &World, host: &str, asked: &Observe) -> Value {
    let observed = world.observe();
    let Some(h) = observed.host(host) else {
        return Value::Null;
    };
    let Some(model) = super::model::model() else {
        return Value::Null;
    };
    let jobs: Vec<JobDoc> = held_jobs(world, host)
        .iter()
        .filter_map(|j| {
            let raw = raw_held_job(world, host, j);
            serde_json::from_value(ps51::observe_job(model, &raw, &raw_snapshots(j))).ok()
        })
        .collect();
    let doc = HostDoc {
        format_version: super::parse::FORMAT_VERSION,
        computer_name: h.name.to_string(),
        ps_version: Some("5.1.17763.1".into()),
        os_caption: Some("Microsoft Windows Server 2019 Standard".into()),
        os_build: Some(17763),
        services: h.services.iter().map(service_doc).collect(),
        firewall: h
            .firewall
            .iter()
            .map(|r| FirewallDoc {
                port: r.port,
                protocol: protocol_name(r.protocol).into(),
            })
            .collect(),
        vms: h.vms.iter().map(|v| vm_doc(v, asked)).collect(),
        email: h.email.as_ref().map(|e| EmailDoc {
            server: e.server.clone(),
            port: json!(e.port),
            // The script's [string] of SmtpConnectionSecurity.
            security: json!(match e.security {
                SmtpSecurity::None => "Plain",
                SmtpSecurity::Tls => "SSL",
                SmtpSecurity::Starttls => "TLS",
            }),
            login: e.username.is_some(),
            username: e.username.clone(),
            from: e.from.clone(),
            to: e.to.join(","),
            subject_prefix: e.subject_prefix.clone(),
            add_event_description: e.add_event_description,
            include: e
                .include
                .iter()
                .map(|l| level_name(*l))
                .collect::<Vec<_>>()
                .join(","),
            exclude_event_ids: e.exclude_event_ids.clone(),
        }),
        jobs,
        double_take_error: None,
        // FreePhysicalMemory counts whole KB.
        memory_free_bytes: h
            .capacity
            .as_ref()
            .map_or(Value::Null, |c| json!(c.memory_free_bytes / 1024 * 1024)),
        replica_volume: h
            .capacity
            .as_ref()
            .map(|c| replica_volume(c, &asked.replica_path)),
        licence: h
            .capacity
            .as_ref()
            .map(|c| observed_licence(&raw_activation(c, world.now()))),
    };
    serde_json::to_value(doc).unwrap_or(Value::Null)
}

/// The operation a script's data describes (what the real script would do).
///
/// # Errors
/// Data that does not describe one, as a message.
pub fn decode(kind: ScriptKind, host: &str, input: &Value) -> Result<Operation, String> {
    Input::decode(kind, input)?.into_operation(host)
}
