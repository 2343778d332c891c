//! What-if plans: "what would the controller plan if this happened?" Assumptions use the
//! lab's fault verbs. The simulated lab runs a copy of its world forward; for real hosts the
//! assumptions are applied to the observed state here, and the failover monitor advanced.

use std::path::Path;
use std::time::Duration;

use jiff::Timestamp;

use crate::manifest::Site;
use crate::manifest::spec::{PlatformKind, SiteSpec};
use crate::model::names::HostName;
use crate::observed::{Activity, Health, HostState, Observed, ServiceStatus, Vm, VmRole, VmState};
use crate::platform::sim::{Fault, FaultError, Lab};
use crate::platform::{self, PlatformError};

/// Reads `KIND ARGS...` (`host-down GCSHOSTA`; a service name may hold spaces:
/// `service-stop GCSHOSTA Double-Take Management Service`).
///
/// # Errors
/// An unknown kind or the wrong arguments, with the expected usage.
pub fn parse(text: &str) -> Result<Fault, FaultError> {
    let mut words = text.split_whitespace();
    let kind = words.next().unwrap_or_default();
    let rest: Vec<String> = words.map(str::to_string).collect();
    let args = match (kind, rest.split_first()) {
        ("service-stop", Some((host, service))) if !service.is_empty() => {
            vec![host.clone(), service.join(" ")]
        }
        _ => rest,
    };
    Fault::parse_for(|form| format!("--assume \"{form}\""), kind, &args)
}

/// What the site would look like if `faults` happened now and `after` passed with nothing
/// done, and the time then, without touching anything: the lab runs a copy of its world
/// forward; real hosts are observed and the assumptions applied to the observation
/// ([`project`]).
///
/// # Errors
/// The site cannot be observed, or an assumption does not fit it.
pub fn look_ahead(
    site: &Site,
    state_dir: &Path,
    faults: &[Fault],
    after: Duration,
) -> Result<(Observed, Timestamp), PlatformError> {
    if site.manifest.spec.platform.kind == PlatformKind::Simulated {
        return Lab::load_or_create(state_dir, site)?.project(faults, after);
    }
    let mut platform = platform::open(site, state_dir)?;
    let observed = platform.observe()?;
    let now = platform
        .now()
        .checked_add(jiff::SignedDuration::try_from(after).unwrap_or(jiff::SignedDuration::MAX))
        .unwrap_or(Timestamp::MAX);
    Ok((project(&observed, &site.manifest.spec, faults, after), now))
}

/// The controller can no longer see the host: nothing of it is known.
fn unseen(o: &mut Observed, host: &str) {
    if let Some(h) = o.hosts.iter_mut().find(|h| h.name == host) {
        *h = HostState::unreachable(&h.name);
    }
}

/// Applies the assumptions to an observation of real hosts and lets `after` pass with
/// nothing done: the failover monitor keeps counting.
pub fn project(
    observed: &Observed,
    spec: &SiteSpec,
    faults: &[Fault],
    after: Duration,
) -> Observed {
    let mut o = observed.clone();
    let mut source_missed = false;
    let source = o.job.as_ref().map(|j| j.source.clone());
    let target = o.job.as_ref().map(|j| j.target.clone());
    let is = |a: &str, b: &Option<HostName>| b.as_ref().is_some_and(|b| b == a);
    for fault in faults {
        match fault {
            Fault::HostDown { host } => {
                unseen(&mut o, host);
                source_missed |= is(host, &source);
                if is(host, &target) {
                    o.job = None;
                }
            }
            Fault::LinkDown { a, b } => {
                let controller = |x: &str| x.eq_ignore_ascii_case("controller");
                if controller(a) || controller(b) {
                    let host = if controller(a) { b } else { a };
                    unseen(&mut o, host);
                    if is(host, &target) {
                        o.job = None;
                    }
                } else if (is(a, &source) && is(b, &target)) || (is(b, &source) && is(a, &target)) {
                    source_missed = true;
                }
            }
            Fault::ServiceStop { host, service } => {
                if let Some(h) = o.hosts.iter_mut().find(|h| h.name == *host) {
                    for s in h
                        .services
                        .iter_mut()
                        .filter(|s| s.name.eq_ignore_ascii_case(service))
                    {
                        s.status = ServiceStatus::Stopped;
                    }
                }
            }
            Fault::PortClose { host, port } => {
                if let Some(h) = o.hosts.iter_mut().find(|h| h.name == *host) {
                    h.firewall.retain(|r| r.port != *port);
                }
            }
            Fault::VmStart { host } => {
                if let Some(h) = o.hosts.iter_mut().find(|h| h.name == *host && h.reachable) {
                    match h.vms.iter_mut().find(|v| v.state == VmState::Off) {
                        Some(vm) => {
                            vm.state = VmState::Running;
                            vm.role = VmRole::SystemGalaxy;
                        }
                        None => h.vms.push(Vm {
                            name: spec.vm.name.clone(),
                            state: VmState::Running,
                            role: VmRole::SystemGalaxy,
                            isolated: false,
                            services: Vec::new(),
                            disks: Vec::new(),
                            heartbeat: None,
                            listening: None,
                            memory_bytes: None,
                            disk_bytes: None,
                        }),
                    }
                }
            }
            Fault::EmailDrift { host } => {
                if let Some(h) = o.hosts.iter_mut().find(|h| h.name == *host) {
                    h.email = None;
                }
            }
            Fault::JobStop => {
                if let Some(j) = o.job.as_mut() {
                    j.activity = Activity::Stopped;
                }
            }
            Fault::TargetDataBad | Fault::TargetDataGood => {
                if let Some(j) = o.job.as_mut() {
                    j.target_data_ok = *fault == Fault::TargetDataGood;
                }
            }
            Fault::GuestSilent { host } | Fault::GuestAnswers { host } => {
                let answers = matches!(fault, Fault::GuestAnswers { .. });
                for vm in o
                    .hosts
                    .iter_mut()
                    .filter(|h| h.name == *host && h.reachable)
                    .flat_map(|h| h.vms.iter_mut())
                    .filter(|v| v.state == VmState::Running)
                {
                    vm.heartbeat = Some(if answers { "OK" } else { "No Contact" }.into());
                    if !answers && vm.isolated {
                        vm.services.clear();
                        vm.listening = None;
                    }
                }
            }
            // What a failover would find on a host shows at readiness's next check.
            Fault::MemoryLow { host }
            | Fault::MemoryOk { host }
            | Fault::DiskLow { host }
            | Fault::DiskOk { host }
            | Fault::LicenceInvalid { host }
            | Fault::LicenceValid { host } => {
                if let Some(c) = o
                    .hosts
                    .iter_mut()
                    .find(|h| h.name == *host && h.reachable)
                    .and_then(|h| h.capacity.as_mut())
                {
                    match fault {
                        Fault::MemoryLow { .. } => c.memory_free_bytes = 2 << 30,
                        Fault::DiskLow { .. } => c.disk_free_bytes = 1 << 30,
                        Fault::LicenceInvalid { .. } => c.licence_valid = false,
                        Fault::LicenceValid { .. } => c.licence_valid = true,
                        _ => {}
                    }
                }
            }
            // A host or link coming back shows only in a fresh observation; a guest that will
            // refuse or be slow over its next clean shutdown shows only when one is asked of it.
            Fault::HostUp { .. }
            | Fault::LinkUp { .. }
            | Fault::ShutdownFails { .. }
            | Fault::ShutdownTimesOut { .. } => {}
        }
    }
    if source_missed && let Some(job) = o.job.as_mut() {
        let status = &mut job.monitor_status;
        let threshold = job.monitor.threshold.time_to_failure(job.monitor.interval);
        let interval = job.monitor.interval.max(Duration::from_secs(1));
        status.source_alive = false;
        status.missed_for += after;
        status.failed_queries =
            u32::try_from(status.missed_for.as_secs() / interval.as_secs()).unwrap_or(u32::MAX);
        status.remaining = threshold.saturating_sub(status.missed_for);
        status.condition_met = status.missed_for >= threshold;
        if matches!(job.activity, Activity::Protecting | Activity::Synchronizing) {
            job.activity = Activity::ServerCommunicationError;
            job.health = Health::Error;
        }
    }
    o
}
