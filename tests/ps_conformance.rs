//! One conformance suite for both platforms: the same engine scenarios run against the lab
//! and against the PowerShell platform answered by the lab, with the same outcomes.

use std::time::Duration;

use galaxy_ha::alert::LogSink;
use galaxy_ha::execute::Records;
use galaxy_ha::manifest::Site;
use galaxy_ha::manifest::spec::Manifest;
use galaxy_ha::model::operation::{FailoverKind, MonitorOptions, Operation, SnapshotSchedule};
use galaxy_ha::observed::{Activity, ServiceStatus, Snapshot, VmState};
use galaxy_ha::platform::Platform;
use galaxy_ha::platform::powershell::{PowershellPlatform, SimRunner};
use galaxy_ha::platform::sim::{Lab, World};
use galaxy_ha::reconcile;

fn site() -> Site {
    let manifest: Manifest =
        galaxy_ha::manifest::sample::guide_site(galaxy_ha::manifest::spec::FailoverMode::Automatic);
    Site {
        name: "hq".into(),
        path: "hq.yaml".into(),
        manifest,
    }
}

/// A platform under test and a way to reach its world for faults.
enum Subject {
    Lab(Box<Lab>),
    Powershell(Box<PowershellPlatform<SimRunner>>),
}

impl Subject {
    fn both(site: &Site) -> [Subject; 2] {
        let world = || World::new("hq", &site.manifest.spec, 7);
        [
            Subject::Lab(Box::new(Lab::new(world()))),
            Subject::Powershell(Box::new(PowershellPlatform::new(
                site,
                SimRunner::new(world()),
            ))),
        ]
    }

    fn platform(&mut self) -> &mut dyn Platform {
        match self {
            Subject::Lab(l) => l.as_mut(),
            Subject::Powershell(p) => p.as_mut(),
        }
    }

    fn world<T>(&mut self, f: impl FnOnce(&mut World) -> T) -> T {
        match self {
            Subject::Lab(l) => f(l.world_mut()),
            Subject::Powershell(p) => f(&mut p.runner().world()),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Subject::Lab(_) => "lab",
            Subject::Powershell(_) => "powershell+sim",
        }
    }
}

/// What a scenario must agree on across platforms.
#[derive(Debug, PartialEq)]
struct Summary {
    job: Option<(String, String, String, Activity)>,
    /// The job's snapshot schedule and snapshots.
    snapshots: Option<(Option<SnapshotSchedule>, Vec<Snapshot>)>,
    live: Vec<String>,
    lost: u64,
    failovers: usize,
    clock: String,
}

fn summary(s: &mut Subject, failovers: usize) -> Summary {
    let observed = s.platform().observe().expect("observe");
    let live = observed
        .live_hosts()
        .into_iter()
        .map(|h| h.to_string())
        .collect();
    Summary {
        snapshots: observed
            .job
            .as_ref()
            .map(|j| (j.snapshot_schedule, j.snapshots.clone())),
        job: observed.job.map(|j| {
            (
                j.name,
                j.source.to_string(),
                j.target.to_string(),
                j.activity,
            )
        }),
        live,
        lost: s.world(|w| w.events().lost),
        failovers,
        clock: s.platform().now().to_string(),
    }
}

fn converge(site: &Site, s: &mut Subject, dir: &std::path::Path) -> usize {
    let mut store = Records::new(dir, "hq");
    let mut alerts = LogSink::default();
    let mut failovers = 0;
    reconcile::converge(
        site,
        s.platform(),
        &mut store,
        &mut alerts,
        Duration::from_secs(7200),
        |o, _| {
            failovers += o
                .report
                .applied
                .iter()
                .filter(|a| a.kind() == galaxy_ha::plan::ActionKind::Failover)
                .count();
        },
    )
    .unwrap_or_else(|e| panic!("{}: {e}", s.name()));
    failovers
}

/// Runs `scenario` on both platforms and asserts the same summaries.
fn conform<T: PartialEq + std::fmt::Debug>(
    scenario: impl Fn(&Site, &mut Subject, &std::path::Path) -> Vec<T>,
) {
    conform_on(site(), scenario);
}

/// [`conform`] on another site.
fn conform_on<T: PartialEq + std::fmt::Debug>(
    site: Site,
    scenario: impl Fn(&Site, &mut Subject, &std::path::Path) -> Vec<T>,
) {
    let [mut lab, mut ps] = Subject::both(&site);
    let (d1, d2) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let a = scenario(&site, &mut lab, d1.path());
    let b = scenario(&site, &mut ps, d2.path());
    assert_eq!(a, b, "the lab and the PowerShell platform disagree");
}

#[test]
fn both_platforms_should_converge_a_fresh_site_to_protecting() {
    conform(|site, s, dir| {
        let n = converge(site, s, dir);
        let sum = summary(s, n);
        assert!(
            matches!(&sum.job, Some((_, src, tgt, Activity::Protecting)) if src == "GCSHOSTA" && tgt == "GCSHOSTB"),
            "{}: {sum:?}",
            s.name()
        );
        vec![sum]
    });
}

#[test]
fn both_platforms_should_fail_over_once_when_the_live_host_dies_and_then_resume() {
    conform(|site, s, dir| {
        let mut out = Vec::new();
        let n = converge(site, s, dir);
        out.push(summary(s, n));
        s.world(|w| w.host_down("GCSHOSTA")).expect("host down");
        let mut store = Records::new(dir, "hq");
        let mut alerts = LogSink::default();
        let mut failovers = 0;
        for _ in 0..200 {
            let o = reconcile::pass(site, s.platform(), &mut store, &mut alerts).expect("pass");
            failovers += o
                .report
                .applied
                .iter()
                .filter(|a| a.kind() == galaxy_ha::plan::ActionKind::Failover)
                .count();
            if o.observed.live_hosts() == ["GCSHOSTB"] {
                break;
            }
            s.platform().sleep(o.requeue_after);
        }
        out.push(summary(s, failovers));
        assert_eq!(failovers, 1, "{}: exactly one failover", s.name());
        s.platform().sleep(Duration::from_secs(600));
        s.world(|w| w.host_up("GCSHOSTA")).expect("host up");
        let n = converge(site, s, dir);
        let sum = summary(s, n);
        assert!(
            matches!(&sum.job, Some((_, src, tgt, Activity::Protecting)) if src == "GCSHOSTB" && tgt == "GCSHOSTA"),
            "{}: resumed B to A: {sum:?}",
            s.name()
        );
        out.push(sum);
        out
    });
}

#[test]
fn both_platforms_should_keep_snapshots_on_schedule_and_fail_over_to_one() {
    conform(|site, s, dir| {
        let mut out = Vec::new();
        let n = converge(site, s, dir);
        let job = s
            .platform()
            .observe()
            .expect("observe")
            .job
            .expect("the job");
        assert_eq!(job.snapshot_schedule, None, "{}", s.name());
        let schedule = SnapshotSchedule {
            every: Duration::from_secs(3600),
            keep: 2,
        };
        let update = |snapshots| Operation::UpdateJob {
            job: job.name.clone(),
            target: job.target.clone(),
            monitor: MonitorOptions {
                interval: job.monitor.interval,
                threshold: job.monitor.threshold,
            },
            snapshots,
        };
        s.platform()
            .execute(&update(Some(schedule)))
            .unwrap_or_else(|e| panic!("{}: {e}", s.name()));
        s.platform().sleep(Duration::from_secs(3 * 3600 + 60));
        let observed = s
            .platform()
            .observe()
            .expect("observe")
            .job
            .expect("the job");
        assert_eq!(observed.snapshot_schedule, Some(schedule), "{}", s.name());
        assert_eq!(
            observed.snapshots.len(),
            2,
            "{}: the newest two kept",
            s.name()
        );
        assert!(
            observed.snapshots[0].at < observed.snapshots[1].at
                && observed
                    .snapshots
                    .iter()
                    .all(|x| x.good && x.reason == "Scheduled"),
            "{}: {:?}",
            s.name(),
            observed.snapshots
        );
        out.push(summary(s, n));
        // Turned off, the schedule reads as none; the snapshots taken are kept.
        s.platform()
            .execute(&update(None))
            .unwrap_or_else(|e| panic!("{}: {e}", s.name()));
        let off = s
            .platform()
            .observe()
            .expect("observe")
            .job
            .expect("the job");
        assert_eq!(off.snapshot_schedule, None, "{}", s.name());
        assert_eq!(off.snapshots, observed.snapshots, "{}", s.name());
        let failover = |snapshot: &str| Operation::Failover {
            snapshot: Some(snapshot.to_string()),
            job: job.name.clone(),
            target: job.target.clone(),
            mode: FailoverKind::Live,
            apply_queued_data: false,
        };
        assert!(
            s.platform()
                .execute(&failover("00000000-0000-4000-8000-00000000ffff"))
                .is_err(),
            "{}: a snapshot not kept is refused",
            s.name()
        );
        s.platform()
            .execute(&failover(&observed.snapshots[0].id))
            .unwrap_or_else(|e| panic!("{}: {e}", s.name()));
        s.platform().sleep(Duration::from_secs(600));
        out.push(summary(s, 1));
        out
    });
}

/// What a drill checks in a running isolated VM (the test replica), as observed.
#[derive(Debug, PartialEq)]
struct TestReplica {
    host: String,
    name: String,
    heartbeat: Option<String>,
    services: Vec<(String, ServiceStatus)>,
    listening: Option<Vec<u32>>,
}

fn test_replica(s: &mut Subject) -> Option<TestReplica> {
    let observed = s.platform().observe().expect("observe");
    observed.hosts.iter().find_map(|h| {
        h.vms
            .iter()
            .find(|v| v.isolated && v.state == VmState::Running)
            .map(|v| TestReplica {
                host: h.name.to_string(),
                name: v.name.to_string(),
                heartbeat: v.heartbeat.clone(),
                services: v
                    .services
                    .iter()
                    .map(|s| (s.name.clone(), s.status))
                    .collect(),
                listening: v.listening.clone(),
            })
    })
}

/// The guide's site whose drills check one more guest service (a SQL Server's) and a port
/// the firewall does not open: what is read in the test replica is `spec.vm`'s, not the
/// site's services and firewall ports.
fn drill_site() -> Site {
    let mut site = site();
    let spec = std::sync::Arc::make_mut(&mut site.manifest.spec);
    spec.vm.services.push("MSSQLSERVER".into());
    spec.vm.ports = vec![6320, 6325, 1433];
    site
}

#[test]
fn both_platforms_should_read_a_drills_checks_inside_the_test_replica_once_it_boots() {
    conform_on(drill_site(), |site, s, dir| {
        let n = converge(site, s, dir);
        let job = s
            .platform()
            .observe()
            .expect("observe")
            .job
            .expect("the job");
        assert_eq!(test_replica(s), None, "{}: no drill yet", s.name());
        s.platform()
            .execute(&Operation::Failover {
                snapshot: None,
                job: job.name.clone(),
                target: job.target.clone(),
                mode: FailoverKind::Test,
                apply_queued_data: false,
            })
            .unwrap_or_else(|e| panic!("{}: {e}", s.name()));
        // Booting: Hyper-V has no contact yet, and nothing can be read inside.
        let booting = test_replica(s).expect("the test replica runs isolated");
        assert_eq!(booting.host, job.target.to_string(), "{}", s.name());
        assert_eq!(booting.name, job.replica.to_string(), "{}", s.name());
        assert_eq!(
            booting.heartbeat.as_deref(),
            Some("No Contact"),
            "{}",
            s.name()
        );
        assert!(
            booting.services.is_empty() && booting.listening.is_none(),
            "{}: {booting:?}",
            s.name()
        );
        let mut out = vec![(summary(s, n), Some(booting))];
        // Past the guest's boot: every check of spec.vm reads, and passes.
        s.platform().sleep(Duration::from_secs(61));
        let booted = test_replica(s).expect("the test replica runs isolated");
        assert_eq!(booted.heartbeat.as_deref(), Some("OK"), "{}", s.name());
        let spec = &site.manifest.spec;
        assert_eq!(
            booted.listening.as_deref(),
            Some(&spec.vm.ports[..]),
            "{}",
            s.name()
        );
        for name in &spec.vm.services {
            assert!(
                booted
                    .services
                    .iter()
                    .any(|(n, st)| n == name && *st == ServiceStatus::Running),
                "{}: {name} running in the test replica: {booted:?}",
                s.name()
            );
        }
        out.push((summary(s, n), Some(booted)));
        // A guest that stops answering: no contact, nothing read, on both.
        s.world(|w| w.guest_silent(&job.target, true))
            .expect("guest silent");
        let silent = test_replica(s).expect("the test replica runs isolated");
        assert_eq!(
            silent.heartbeat.as_deref(),
            Some("No Contact"),
            "{}",
            s.name()
        );
        assert!(
            silent.services.is_empty() && silent.listening.is_none(),
            "{}: {silent:?}",
            s.name()
        );
        out.push((summary(s, n), Some(silent)));
        out
    });
}

#[test]
fn an_unreachable_host_should_be_an_observation_on_both_platforms() {
    conform(|site, s, dir| {
        let n = converge(site, s, dir);
        s.world(|w| w.link_down("controller", "GCSHOSTB"))
            .expect("link down");
        let observed = s.platform().observe().expect("observe");
        let b = observed.host("GCSHOSTB").expect("host B");
        assert!(!b.reachable && b.vms.is_empty(), "{}", s.name());
        assert!(observed.job.is_none(), "{}: the job lives on B", s.name());
        vec![summary(s, n)]
    });
}

/// The fake PowerShell with the job's `HighLevelState` replaced, as a real Carbonite reports
/// states the lab does not model (an outage's warnings, an asynchronous delete, a newer
/// release's state).
struct Tweaked {
    inner: SimRunner,
    state: std::sync::Mutex<Option<String>>,
}

impl galaxy_ha::platform::powershell::Runner for Tweaked {
    fn run(
        &self,
        host: &galaxy_ha::platform::powershell::HostTarget,
        script: &galaxy_ha::platform::powershell::Script,
        input: &serde_json::Value,
        timeout: Duration,
    ) -> Result<String, galaxy_ha::platform::powershell::RunError> {
        let out = self.inner.run(host, script, input, timeout)?;
        let state = self.state.lock().expect("lock").clone();
        match (script.kind, state) {
            (galaxy_ha::platform::powershell::ScriptKind::Observe, Some(state)) => {
                let mut doc: serde_json::Value = serde_json::from_str(&out).expect("json");
                if let Some(jobs) = doc["jobs"].as_array_mut() {
                    for j in jobs {
                        j["highLevelState"] = serde_json::json!(state);
                    }
                }
                Ok(doc.to_string())
            }
            _ => Ok(out),
        }
    }

    fn now(&self) -> jiff::Timestamp {
        self.inner.now()
    }

    fn sleep(&self, d: Duration) {
        self.inner.sleep(d);
    }
}

fn tweaked(site: &Site) -> PowershellPlatform<Tweaked> {
    PowershellPlatform::new(
        site,
        Tweaked {
            inner: SimRunner::new(World::new("hq", &site.manifest.spec, 7)),
            state: std::sync::Mutex::new(None),
        },
    )
}

fn set_state(p: &PowershellPlatform<Tweaked>, state: Option<&str>) {
    *p.runner().state.lock().expect("lock") = state.map(str::to_string);
}

#[test]
fn an_outage_reported_as_carbonite_warnings_should_still_fail_over_once() {
    for state in [
        "ServerCommunicationWarning",
        "EngineConnectionError",
        "FailoverPending",
    ] {
        let site = site();
        let dir = tempfile::tempdir().expect("dir");
        let mut p = tweaked(&site);
        let mut store = Records::new(dir.path(), "hq");
        let mut alerts = LogSink::default();
        reconcile::converge(
            &site,
            &mut p,
            &mut store,
            &mut alerts,
            Duration::from_secs(7200),
            |_, _| {},
        )
        .expect("converges");
        p.runner()
            .inner
            .world()
            .host_down("GCSHOSTA")
            .expect("down");
        set_state(&p, Some(state));
        let mut failovers = 0;
        for _ in 0..200 {
            let o = reconcile::pass(&site, &mut p, &mut store, &mut alerts)
                .expect("every pass observes");
            failovers += o
                .report
                .applied
                .iter()
                .filter(|a| a.kind() == galaxy_ha::plan::ActionKind::Failover)
                .count();
            if failovers > 0 {
                set_state(&p, None);
            }
            if o.observed.live_hosts() == ["GCSHOSTB"] {
                break;
            }
            p.sleep(o.requeue_after);
        }
        assert_eq!(failovers, 1, "{state}: exactly one failover");
    }
}

#[test]
fn a_state_not_in_the_model_should_block_automatic_failover_and_raise_a_condition() {
    let site = site();
    let dir = tempfile::tempdir().expect("dir");
    let mut p = tweaked(&site);
    let mut store = Records::new(dir.path(), "hq");
    let mut alerts = LogSink::default();
    reconcile::converge(
        &site,
        &mut p,
        &mut store,
        &mut alerts,
        Duration::from_secs(7200),
        |_, _| {},
    )
    .expect("converges");
    set_state(&p, Some("Quiescing"));
    p.runner()
        .inner
        .world()
        .host_down("GCSHOSTA")
        .expect("down");
    for _ in 0..60 {
        let o = reconcile::pass(&site, &mut p, &mut store, &mut alerts)
            .expect("an unknown state never fails the pass");
        let job = o.observed.job.as_ref().expect("the job is still seen");
        assert_eq!(job.activity, Activity::Unknown);
        assert_eq!(job.state_name.as_deref(), Some("Quiescing"));
        assert!(
            !o.report
                .applied
                .iter()
                .any(|a| a.kind() == galaxy_ha::plan::ActionKind::Failover),
            "no automatic failover through an unknown state"
        );
        let degraded = o
            .plan
            .condition(galaxy_ha::plan::ConditionType::Degraded)
            .expect("degraded");
        assert!(
            degraded.message.contains("Quiescing")
                || degraded.reason.contains("JobStateUnknown")
                || o.plan
                    .conditions
                    .iter()
                    .any(|c| c.message.contains("Quiescing")),
            "{degraded:?}"
        );
        p.sleep(Duration::from_secs(10));
    }
}

#[test]
fn a_job_being_deleted_should_be_left_alone() {
    let site = site();
    let dir = tempfile::tempdir().expect("dir");
    let mut p = tweaked(&site);
    let mut store = Records::new(dir.path(), "hq");
    let mut alerts = LogSink::default();
    reconcile::converge(
        &site,
        &mut p,
        &mut store,
        &mut alerts,
        Duration::from_secs(7200),
        |_, _| {},
    )
    .expect("converges");
    set_state(&p, Some("Deleting"));
    for _ in 0..5 {
        let o = reconcile::pass(&site, &mut p, &mut store, &mut alerts).expect("pass");
        assert_eq!(
            o.observed.job.as_ref().map(|j| j.activity),
            Some(Activity::Deleting)
        );
        let touched: Vec<_> = o
            .report
            .applied
            .iter()
            .filter(|a| !matches!(a.op, galaxy_ha::model::operation::Operation::Alert { .. }))
            .map(|a| a.description.clone())
            .collect();
        assert!(
            touched.is_empty(),
            "nothing is done to a job being deleted: {touched:?}"
        );
        p.sleep(Duration::from_secs(10));
    }
}

/// What the readiness check reads of one reachable host, as observed: free memory and disk,
/// whether Carbonite's licence is valid, and each VM's memory and disk sizes.
#[derive(Debug, PartialEq)]
struct Room {
    host: String,
    memory_free: u64,
    disk_free: u64,
    licence_valid: bool,
    vms: Vec<(String, Option<u64>, Option<u64>)>,
}

fn room(s: &mut Subject) -> Vec<Room> {
    let observed = s.platform().observe().expect("observe");
    observed
        .hosts
        .iter()
        .filter(|h| h.reachable)
        .map(|h| {
            let c = h
                .capacity
                .clone()
                .unwrap_or_else(|| panic!("{}: {} has no capacity", s.name(), h.name));
            assert!(!c.licence.is_empty(), "{}: the licence's words", s.name());
            Room {
                host: h.name.to_string(),
                memory_free: c.memory_free_bytes,
                disk_free: c.disk_free_bytes,
                licence_valid: c.licence_valid,
                vms: h
                    .vms
                    .iter()
                    .map(|v| (v.name.to_string(), v.memory_bytes, v.disk_bytes))
                    .collect(),
            }
        })
        .collect()
}

/// The licence's words on `host`, as observed.
fn licence_words(s: &mut Subject, host: &str) -> String {
    let observed = s.platform().observe().expect("observe");
    observed
        .host(host)
        .and_then(|h| h.capacity.as_ref())
        .map(|c| c.licence.clone())
        .unwrap_or_default()
}

/// The guide's site, its readiness checked every five minutes.
fn readiness_site() -> Site {
    let mut site = site();
    let spec = std::sync::Arc::make_mut(&mut site.manifest.spec);
    spec.readiness = Some(galaxy_ha::manifest::spec::ReadinessSpec {
        every: Duration::from_secs(300),
    });
    site
}

/// What the last readiness check found lacking.
fn lacking(site: &Site, s: &mut Subject, dir: &std::path::Path) -> Vec<String> {
    let mut store = Records::new(dir, "hq");
    let mut alerts = LogSink::default();
    let mut last = Vec::new();
    // Past the next check.
    for _ in 0..4 {
        s.platform().sleep(Duration::from_secs(120));
        let o = reconcile::pass(site, s.platform(), &mut store, &mut alerts)
            .unwrap_or_else(|e| panic!("{}: {e}", s.name()));
        last = o
            .plan
            .memory
            .readiness
            .map(|r| r.lacking)
            .unwrap_or_default();
    }
    last
}

#[test]
fn both_platforms_should_observe_the_same_room_for_a_failover() {
    use galaxy_ha::platform::sim::Fault;
    conform_on(readiness_site(), |site, s, dir| {
        let n = converge(site, s, dir);
        let healthy = room(s);
        let b = healthy
            .iter()
            .find(|r| r.host == "GCSHOSTB")
            .expect("GCSHOSTB");
        assert!(
            b.licence_valid && b.memory_free > 16 << 30 && b.disk_free > 40 << 30,
            "{}: {b:?}",
            s.name()
        );
        assert!(
            healthy
                .iter()
                .flat_map(|r| &r.vms)
                .all(|(_, m, d)| m.is_some() && d.is_some()),
            "{}: every VM's sizes: {healthy:?}",
            s.name()
        );
        assert_eq!(lacking(site, s, dir), Vec::<String>::new(), "{}", s.name());
        let mut out = vec![(summary(s, n), healthy, Vec::new())];
        // The standby loses its free memory, then its disk, then its licence.
        for fault in ["memory-low", "disk-low", "licence-invalid"] {
            let fault = Fault::parse(fault, &["GCSHOSTB".to_string()]).expect("a fault");
            s.world(|w| w.inject(&fault))
                .unwrap_or_else(|e| panic!("{}: {fault}: {e}", s.name()));
            let now = room(s);
            out.push((summary(s, n), now, lacking(site, s, dir)));
        }
        let (_, last, why) = out.last().expect("the last");
        let b = last
            .iter()
            .find(|r| r.host == "GCSHOSTB")
            .expect("GCSHOSTB");
        assert_eq!(
            (b.memory_free, b.disk_free, b.licence_valid),
            (2 << 30, 1 << 30, false),
            "{}",
            s.name()
        );
        assert_eq!(why.len(), 3, "{}: memory, disk, licence: {why:?}", s.name());
        // Each platform says why in its own words: the lab's, and Carbonite's activation
        // code as the PowerShell platform reads it; both say it expired.
        let words = licence_words(s, "GCSHOSTB");
        assert!(words.contains("expired"), "{}: {words}", s.name());
        // The licence's words are each platform's own; what is lacking otherwise agrees.
        out.into_iter()
            .map(|(sum, room, why)| {
                let why: Vec<String> = why
                    .into_iter()
                    .map(|w| {
                        w.split_once(" is not valid: ")
                            .map_or(w.clone(), |(head, _)| head.to_string())
                    })
                    .collect();
                (sum, room, why)
            })
            .collect::<Vec<_>>()
    });
}
