//! `galaxy-ha demo`: the guide's four stages on a fresh simulated lab, with a timeline in
//! virtual time and a check of each stage.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::alert::{Alert, AlertError, AlertSink};
use crate::commands::Exit;
use crate::execute::Records;
use crate::manifest::Site;
use crate::manifest::sample;
use crate::manifest::spec::FailoverMode;
use crate::observed::Activity;
use crate::plan::{ActionKind, ConditionType};
use crate::platform::Platform;
use crate::platform::sim::Lab;
use crate::reconcile::{self, Outcome as Pass};

const A: &str = "GCSHOSTA";
const B: &str = "GCSHOSTB";

pub fn run(state_dir: Option<PathBuf>) -> anyhow::Result<Exit> {
    let tmp = tempfile::tempdir().context("cannot make a temporary state dir")?;
    let dir = state_dir.unwrap_or_else(|| tmp.path().to_path_buf());
    // The guide's site in automatic mode, with the monitor's defaults (10 s, 5 min).
    let manifest = sample::guide_site(FailoverMode::Automatic);
    let mut site = Site {
        name: manifest.metadata.name.clone(),
        path: dir.join("hq.yaml"),
        manifest,
    };
    let mut lab = Lab::create(&dir, &site)?;
    // Busy panels on a link that just keeps up, so the replication queue is never empty and
    // the failure has something to lose.
    let params = lab.world_mut().params_mut();
    params.event_rate_per_sec = 20;
    params.link_bytes_per_sec = 20 * params.event_bytes;
    let mut demo = Demo {
        start: lab.now(),
        checks: Vec::new(),
        last_activity: None,
    };
    println!(
        "galaxy-ha demo: the guide's four stages on the simulated lab (state in {})",
        dir.display()
    );
    let mut store = Records::new(&dir, "hq");
    let mut alerts = Printer::default();

    demo.stage("1. Protect: services, firewall ports, then a Full Server to Hyper-V job");
    let out = demo.converge(&site, &mut lab, &mut store, &mut alerts)?;
    let job = out.observed.job.clone();
    demo.check(
        "the job protects GCSHOSTA's VM onto GCSHOSTB",
        job.as_ref()
            .is_some_and(|j| j.source == A && j.target == B && j.activity == Activity::Protecting),
    );

    demo.stage(
        "2. The live host fails hard: the failover monitor counts, then the controller fails over",
    );
    lab.sleep(Duration::from_secs(60));
    let in_source_queue = lab.world().job().map_or(0, |j| j.source_queue.len());
    let lost_before = lab.world().events().lost;
    let failed_at = lab.now();
    lab.world_mut().host_down(A)?;
    demo.say(
        &lab,
        &format!("{A} fails hard ({in_source_queue} event(s) in its replication queue)"),
    );
    let mut failover_at = None;
    let deadline = lab.now() + jiff::SignedDuration::from_hours(1);
    loop {
        let o = reconcile::pass(&site, &mut lab, &mut store, &mut alerts)?;
        demo.track(&o, &lab);
        if failover_at.is_none()
            && o.report
                .applied
                .iter()
                .any(|a| a.kind() == ActionKind::Failover)
        {
            failover_at = Some(lab.now());
            demo.say(
                &lab,
                "the controller fails over to GCSHOSTB (both views agree, automatic mode)",
            );
        }
        demo.flush(&mut alerts, &lab);
        let done = o
            .observed
            .job
            .as_ref()
            .is_some_and(|j| j.activity == Activity::FailedOver)
            && o.observed
                .host(B)
                .is_some_and(|h| h.vms.iter().any(|v| v.is_live()));
        if done || lab.now() > deadline {
            break;
        }
        // When the controller itself would pass again: every interval, or the moment the
        // failover monitor's condition comes due (not the lab's knowledge of its next event).
        lab.sleep(o.requeue_after);
    }
    let threshold = Duration::from_secs(300);
    let waited = failover_at.map(|t| crate::model::terms::elapsed(failed_at, t));
    demo.check(
        &format!(
            "failover when the condition for failure is met, not before ({} after the failure; threshold 5m, interval 10s)",
            waited.map_or("never".into(), |w| humantime::format_duration(w).to_string())
        ),
        waited.is_some_and(|w| w >= threshold && w <= threshold + Duration::from_secs(10)),
    );
    let lost = lab.world().events().lost - lost_before;
    demo.check(
        &format!("events lost ({lost}) equal what was in the source queue at the failure ({in_source_queue})"),
        lost == in_source_queue,
    );
    let memory = crate::store::files::load_memory(&dir, "hq")?;
    demo.check(
        "one failover, recorded in memory",
        memory
            .last_failover
            .as_ref()
            .is_some_and(|f| f.from == A && f.to == B),
    );

    demo.stage("3. Resume replication when GCSHOSTA returns and the failover is committed (its 60-minute commit window ends): delete the old job and the stale VM, new job B → A");
    lab.sleep(Duration::from_secs(1800));
    lab.world_mut().host_up(A)?;
    demo.say(
        &lab,
        &format!("{A} is repaired and boots (its old VM stays off)"),
    );
    let out = demo.converge(&site, &mut lab, &mut store, &mut alerts)?;
    let job = out.observed.job.clone();
    demo.check(
        "a new job \"GCSServer to GCSHOSTA\" protects GCSHOSTB's VM onto GCSHOSTA",
        job.as_ref().is_some_and(|j| {
            j.name == "GCSServer to GCSHOSTA"
                && j.source == B
                && j.target == A
                && j.activity == Activity::Protecting
        }),
    );
    demo.check(
        "replication waited for the commit window (spec.failover.commitWindow 60m), in which the failover could be rolled back",
        out.plan.memory.committed.as_ref().is_some_and(|c| {
            c.by == crate::memory::CommitBy::Window
                && c.at.duration_since(c.failover_at).as_secs() >= 3600
        }),
    );
    demo.check(
        "the stale VM on GCSHOSTA is gone; only the new replica is there",
        lab.world()
            .host(A)
            .is_some_and(|h| h.vms.iter().all(|v| v.name == "GCSServer_Replica_GCSHOSTA")),
    );
    demo.check(
        "the manifest is reported stale, and the controller does not fail back",
        out.plan
            .condition(ConditionType::ManifestStale)
            .is_some_and(|c| c.status),
    );

    demo.stage("4. Planned switchover back: the admin sets spec.primary, no event is lost");
    site.manifest.spec_mut().primary = B.into();
    demo.say(
        &lab,
        "admin acknowledges the failover in git: spec.primary: GCSHOSTB",
    );
    let o = reconcile::pass(&site, &mut lab, &mut store, &mut alerts)?;
    demo.track(&o, &lab);
    demo.flush(&mut alerts, &lab);
    lab.sleep(Duration::from_secs(3600));
    site.manifest.spec_mut().primary = A.into();
    demo.say(
        &lab,
        "admin plans the move back in git: spec.primary: GCSHOSTA",
    );
    let lost_before = lab.world().events().lost;
    let out = demo.converge(&site, &mut lab, &mut store, &mut alerts)?;
    lab.sleep(Duration::from_secs(60));
    let events = lab.world().events();
    demo.check(
        "System Galaxy runs on GCSHOSTA again, protected onto GCSHOSTB",
        out.observed
            .job
            .as_ref()
            .is_some_and(|j| j.source == A && j.target == B && j.activity == Activity::Protecting),
    );
    demo.check(
        &format!(
            "no event lost in the switchover ({} lost before, {} after)",
            lost_before, events.lost
        ),
        events.lost == lost_before,
    );
    demo.check(
        &format!(
            "every event accounted for: produced {} = stored {} + buffered {} + lost {} + in flight {}",
            events.produced, events.stored, events.buffered, events.lost, events.in_flight
        ),
        events.produced == events.stored + events.buffered + events.lost + events.in_flight,
    );
    Ok(demo.finish())
}

struct Demo {
    start: jiff::Timestamp,
    checks: Vec<(String, bool)>,
    last_activity: Option<(String, Activity, Option<u8>)>,
}

impl Demo {
    /// Reconciles until the site converges, printing the timeline as it goes.
    fn converge(
        &mut self,
        site: &Site,
        lab: &mut Lab,
        store: &mut Records,
        alerts: &mut Printer,
    ) -> anyhow::Result<Pass> {
        let out = reconcile::converge(
            site,
            lab,
            store,
            alerts,
            Duration::from_secs(7200),
            |o, p| self.track(o, p),
        )?;
        self.flush(alerts, lab);
        Ok(out)
    }

    fn stage(&self, title: &str) {
        println!("\n== {title}");
    }

    fn at(&self, platform: &dyn Platform) -> String {
        let d = crate::model::terms::elapsed(self.start, platform.now());
        let s = d.as_secs();
        format!("+{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    }

    fn say(&self, platform: &dyn Platform, what: &str) {
        println!("  [{}] {what}", self.at(platform));
    }

    /// Prints activity changes (and synchronizing progress by tenths) and applied actions.
    fn track(&mut self, o: &Pass, platform: &dyn Platform) {
        for a in &o.report.applied {
            if a.kind() != ActionKind::Alert {
                self.say(platform, &format!("applied: {}", a.description));
            }
        }
        for (a, e) in &o.report.failed {
            self.say(platform, &format!("failed: {}: {e}", a.description));
        }
        if let Some(j) = &o.observed.job {
            let tenth = j.percent.map(|p| p / 10 * 10);
            let now = (j.name.clone(), j.activity, tenth);
            if self.last_activity.as_ref() != Some(&now) {
                let pct = tenth.map(|p| format!(" {p}%")).unwrap_or_default();
                self.say(platform, &format!("job {:?}: {}{pct}", j.name, j.activity));
                self.last_activity = Some(now);
            }
        }
    }

    fn flush(&self, alerts: &mut Printer, platform: &dyn Platform) {
        for a in alerts.raised.drain(..) {
            self.say(
                platform,
                &format!(
                    "alert ({:?}) {}: {}",
                    a.severity,
                    a.kind.as_str(),
                    a.message
                ),
            );
        }
    }

    fn check(&mut self, what: &str, ok: bool) {
        println!("  {} {what}", if ok { "PASS" } else { "FAIL" });
        self.checks.push((what.to_string(), ok));
    }

    fn finish(self) -> Exit {
        let failed = self.checks.iter().filter(|(_, ok)| !ok).count();
        println!("\n{} passed, {} failed", self.checks.len() - failed, failed);
        if failed == 0 {
            Exit::Success
        } else {
            Exit::Failed
        }
    }
}

/// Collects alerts for the timeline.
#[derive(Default)]
struct Printer {
    raised: Vec<Alert>,
}

impl AlertSink for Printer {
    fn raise(&mut self, alert: &Alert) -> Result<(), AlertError> {
        self.raised.push(alert.clone());
        Ok(())
    }
}
