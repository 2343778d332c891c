//! Rule 12: drills. A test failover proves nothing until the isolated replica is seen to
//! work: this rule checks inside it (Hyper-V's heartbeat, `spec.vm.services` running,
//! `spec.vm.ports` listening), ends the drill once every check passed or its time ran out,
//! and then checks that the test replica is off again. It also keeps `DrillOverdue` and the
//! manifest's drill schedule.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::ConditionType;
use super::builder::Builder;
use super::view::View;
use crate::manifest::spec::{DEFAULT_DRILL_MAX_DURATION, DEFAULT_DRILL_VERIFY_WITHIN, SiteSpec};
use crate::model::drill::{Drill, DrillCheck, DrillStart, Verdict, Verified};
use crate::model::operation::{AlertKind, FailoverKind, Operation, Severity};
use crate::model::terms::elapsed;
use crate::observed::{Activity, ServiceStatus, Vm};

/// How long the test replica may still run after its end was asked before the cleanup
/// fails: Carbonite's undo of a test failover turns the replica off in well under it.
pub const CLEANUP_WITHIN: Duration = Duration::from_secs(5 * 60);

/// A scheduled drill that failed is not tried again by the schedule for this long: a
/// person looks at why first (or runs one by hand).
const RETRY_FAILED_AFTER: Duration = Duration::from_secs(24 * 3600);

pub(crate) fn plan(b: &mut Builder, view: &View) {
    track(b, view);
    overdue(b, view);
    unverified(b);
}

/// The manifest's sections a drill proves, as JSON text: the hosts, the VM (with what the
/// drill checks in it), and the job (its names and the failover settings it carries).
pub fn sections(spec: &SiteSpec) -> BTreeMap<String, String> {
    let json = |v: serde_json::Value| v.to_string();
    BTreeMap::from([
        (
            "spec.hosts".to_string(),
            json(serde_json::json!(spec.hosts)),
        ),
        ("spec.vm".to_string(), json(serde_json::json!(spec.vm))),
        (
            "spec.replication".to_string(),
            json(serde_json::json!(spec.replication)),
        ),
        (
            "spec.failover".to_string(),
            json(serde_json::json!({
                "monitor": spec.failover.monitor,
                "applyQueuedData": spec.failover.apply_queued_data,
            })),
        ),
    ])
}

/// `Unverified`: no drill has passed, or the manifest changed what the last one proved.
fn unverified(b: &mut Builder) {
    let Some(v) = b.next.verified.clone() else {
        b.set(
            ConditionType::Unverified,
            true,
            "NeverVerified",
            format!(
                "no drill has passed yet: galaxy-ha failover {} --test",
                b.site
            ),
        );
        return;
    };
    let now = sections(b.spec);
    let changed: Vec<&str> = now
        .iter()
        .filter(|(k, text)| v.sections.get(*k) != Some(*text))
        .map(|(k, _)| k.as_str())
        .collect();
    if changed.is_empty() {
        b.set(
            ConditionType::Unverified,
            false,
            "Verified",
            format!("drill {} passed at {} with this manifest", v.run, v.at),
        );
    } else {
        b.set(
            ConditionType::Unverified,
            true,
            "ChangedSinceDrill",
            format!(
                "{} changed since drill {} passed at {}: galaxy-ha failover {} --test verifies the site again",
                changed.join(", "),
                v.run,
                v.at,
                b.site
            ),
        );
    }
}

fn verify_within(spec: &SiteSpec) -> Duration {
    spec.drills
        .as_ref()
        .map_or(DEFAULT_DRILL_VERIFY_WITHIN, |d| d.verify_within)
}

fn max_duration(spec: &SiteSpec) -> Duration {
    spec.drills
        .as_ref()
        .map_or(DEFAULT_DRILL_MAX_DURATION, |d| d.max_duration)
}

fn after(at: Timestamp, d: Duration) -> Timestamp {
    at.checked_add(SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX))
        .unwrap_or(Timestamp::MAX)
}

/// Follows the drill under way from its replica's boot to its cleanup.
fn track(b: &mut Builder, view: &View) {
    let drill = match b.next.drill.clone() {
        Some(d) => d,
        None => match adopt(b) {
            Some(d) => d,
            None => return,
        },
    };
    if !b.reachable(&drill.host) {
        b.wait(format!(
            "drill {} waits for {} to answer",
            drill.run, drill.host
        ));
        return;
    }
    let replica = b
        .observed
        .host(&drill.host)
        .and_then(|h| h.test_replica())
        .cloned();
    let mut drill = drill;
    match (&drill.verdict, replica) {
        (None, Some(vm)) => check(b, view, &mut drill, &vm),
        (None, None) => {
            // It ended without this rule deciding: a person, the platform's own limit, a host
            // restart. What was not verified by then did not pass.
            let why = "the test replica stopped before every check passed".to_string();
            drill.verdict = Some(Verdict {
                passed: false,
                at: b.now,
                why,
                quiet: false,
            });
            finish(b, drill);
        }
        (Some(_), None) => finish(b, drill),
        (Some(v), Some(_)) => {
            let hold_until = after(drill.started, max_duration(b.spec));
            if v.passed && drill.start.hold && drill.end_asked.is_none() && b.now < hold_until {
                b.wait(format!(
                    "drill {} passed; its test replica is held for a person to look at until {hold_until} (galaxy-ha failover {} --test --end ends it)",
                    drill.run, b.site
                ));
            } else {
                end(b, view, &mut drill);
            }
            b.next.drill = Some(drill);
        }
    }
}

/// A test replica running that no drill in memory accounts for (started by hand in the
/// Replication Console, or before this version): it is checked like any other.
fn adopt(b: &mut Builder) -> Option<Drill> {
    let host = b
        .observed
        .hosts
        .iter()
        .find(|h| h.reachable && h.test_replica().is_some())?;
    let drill = Drill::new(
        host.name.clone(),
        b.now,
        DrillStart {
            by: "unknown: a test failover not started through galaxy-ha".into(),
            notes: None,
            hold: false,
        },
    );
    b.next.drill = Some(drill.clone());
    Some(drill)
}

/// The checks inside the running test replica, and the verdict once all passed or time ran
/// out.
fn check(b: &mut Builder, view: &View, drill: &mut Drill, vm: &Vm) {
    let seen = checks(b.spec, vm);
    for (name, passed, detail) in seen {
        match drill.checks.iter_mut().find(|c| c.name == name) {
            Some(c) if c.passed == passed => {}
            Some(c) => {
                c.passed = passed;
                c.at = b.now;
                c.detail = detail;
            }
            None => drill.checks.push(DrillCheck {
                name,
                passed,
                at: b.now,
                detail,
            }),
        }
    }
    let deadline = after(drill.started, verify_within(b.spec));
    let failing: Vec<String> = drill
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect();
    if failing.is_empty() {
        drill.verdict = Some(Verdict {
            passed: true,
            at: b.now,
            why: format!(
                "every check passed inside {} on {}: {}",
                vm.name,
                drill.host,
                drill
                    .checks
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            quiet: false,
        });
        if !drill.start.hold {
            end(b, view, drill);
        }
    } else if b.now >= deadline {
        drill.verdict = Some(Verdict {
            passed: false,
            at: b.now,
            why: format!(
                "not every check passed within {} (spec.drills.verifyWithin): {}",
                humantime::format_duration(verify_within(b.spec)),
                failing.join("; ")
            ),
            quiet: false,
        });
        end(b, view, drill);
    } else {
        b.wait(format!(
            "drill {} checks the test replica {} until {deadline}: {}",
            drill.run,
            vm.name,
            failing.join("; ")
        ));
    }
    b.next.drill = Some(drill.clone());
}

/// What a drill checks in its test replica: name, passed, what was seen.
fn checks(spec: &SiteSpec, vm: &Vm) -> Vec<(String, bool, String)> {
    let unread = "the guest could not be read".to_string();
    let mut out = Vec::new();
    let heartbeat = match &vm.heartbeat {
        Some(h) if h.to_ascii_lowercase().starts_with("ok") => {
            (true, format!("Hyper-V heartbeat {h}"))
        }
        Some(h) => (false, format!("Hyper-V heartbeat {h}")),
        None => (false, "no Hyper-V heartbeat read".to_string()),
    };
    out.push(("heartbeat".to_string(), heartbeat.0, heartbeat.1));
    for name in &spec.vm.services {
        let found = vm
            .services
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name));
        let (passed, detail) = match found {
            Some(s) if s.status == ServiceStatus::Running => (true, "running".to_string()),
            Some(_) => (false, "stopped".to_string()),
            None if vm.services.is_empty() => (false, unread.clone()),
            None => (false, "not installed in the guest".to_string()),
        };
        out.push((format!("service {name}"), passed, detail));
    }
    for port in &spec.vm.ports {
        let (passed, detail) = match &vm.listening {
            Some(list) if list.contains(port) => (true, "listening".to_string()),
            Some(_) => (false, "not listening".to_string()),
            None => (false, unread.clone()),
        };
        out.push((format!("port {port}"), passed, detail));
    }
    out
}

/// Asks for the drill's end (once; the action's back-off retries it) and fails the cleanup
/// when the test replica outlives its end by [`CLEANUP_WITHIN`].
fn end(b: &mut Builder, view: &View, drill: &mut Drill) {
    let asked = *drill.end_asked.get_or_insert(b.now);
    if drill.cleanup.is_none() && elapsed(asked, b.now) >= CLEANUP_WITHIN {
        drill.cleanup = Some(DrillCheck {
            name: "cleanup".into(),
            passed: false,
            at: b.now,
            detail: format!(
                "the test replica still runs on {} {} after its end was asked",
                drill.host,
                humantime::format_duration(CLEANUP_WITHIN)
            ),
        });
        alert_failed(b, drill);
    }
    let Some(job) = view.job.as_ref().filter(|j| j.target == drill.host) else {
        b.wait(format!(
            "drill {} waits for its job to end the test failover on {}",
            drill.run, drill.host
        ));
        return;
    };
    let verdict = drill
        .verdict
        .as_ref()
        .map(|v| format!("{}: {}", if v.passed { "passed" } else { "failed" }, v.why))
        .unwrap_or_default();
    b.act(
        Operation::EndTestFailover {
            job: job.name.clone(),
            target: drill.host.clone(),
        },
        format!("drill {} {verdict}; it ends", drill.run),
    );
}

/// The test replica is off: the cleanup is checked and the drill is done.
fn finish(b: &mut Builder, mut drill: Drill) {
    if drill.cleanup.is_none() {
        drill.cleanup = Some(DrillCheck {
            name: "cleanup".into(),
            passed: true,
            at: b.now,
            detail: format!("no test replica runs on {}", drill.host),
        });
    }
    drill.finished = Some(b.now);
    let verdict = drill.verdict.clone();
    if drill.passed() {
        b.next.last_drill_passed = Some(drill.started);
        b.next.verified = Some(Verified {
            run: drill.run.clone(),
            at: b.now,
            sections: sections(b.spec),
        });
    } else if !verdict.as_ref().is_some_and(|v| v.quiet)
        && drill.cleanup.as_ref().is_some_and(|c| c.passed)
    {
        // A failed cleanup alerted when it failed.
        alert_failed(b, &drill);
    }
    b.next.drill = None;
    b.next.last_drill = Some(drill);
}

fn alert_failed(b: &mut Builder, drill: &Drill) {
    let failing = drill
        .failing()
        .iter()
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect::<Vec<_>>()
        .join("; ");
    let why = drill.verdict.as_ref().map_or("", |v| v.why.as_str());
    b.alert_to_act(
        AlertKind::DrillFailed,
        Severity::Warning,
        format!("drill-failed/{}", drill.run),
        format!(
            "drill {} on {} (started {} by {}) failed: {why}. Failing: {failing}",
            drill.run, drill.host, drill.started, drill.start.by
        ),
        Some("look inside the replica, then drill again".into()),
        "rule 12 (drills): a drill's checks or cleanup failed",
    );
}

/// `DrillOverdue`, and the drill the manifest's schedule performs when one is due.
fn overdue(b: &mut Builder, view: &View) {
    let Some(every) = b.spec.drills.as_ref().and_then(|d| d.test_failover_every) else {
        b.set(
            ConditionType::DrillOverdue,
            false,
            "NoSchedule",
            "no drill schedule (spec.drills)",
        );
        return;
    };
    // Whole days as an admin writes them (`90d`), not humantime's months of 30.44 days.
    let every_text = if every.as_secs() % 86_400 == 0 {
        format!("{}d", every.as_secs() / 86_400)
    } else {
        humantime::format_duration(every).to_string()
    };
    // A drill under way counts; a finished one only if it passed.
    let last = b
        .next
        .drill
        .as_ref()
        .map(|d| d.started)
        .into_iter()
        .chain(b.next.last_drill_passed)
        .max();
    let overdue = match last {
        None => Some("no drill passed yet".to_string()),
        Some(at) if b.now <= after(at, every) => None,
        Some(at) => Some(format!("the last drill that passed started at {at}")),
    };
    match overdue {
        Some(why) => {
            let message = format!(
                "{why}; drills are due every {every_text}: galaxy-ha failover {} --test",
                b.site
            );
            b.set(
                ConditionType::DrillOverdue,
                true,
                "DrillOverdue",
                message.clone(),
            );
            b.alert(
                AlertKind::DrillOverdue,
                Severity::Warning,
                "drill-overdue".into(),
                message,
                "spec.drills.testFailoverEvery",
            );
            scheduled(b, view);
        }
        None => b.set(
            ConditionType::DrillOverdue,
            false,
            "DrillRecent",
            format!("a drill passed or runs within {every_text}"),
        ),
    }
}

/// A drill the manifest asks the controller to perform: a test failover of a protecting job.
fn scheduled(b: &mut Builder, view: &View) {
    if !b.spec.drills.as_ref().is_some_and(|d| d.scheduled) {
        return;
    }
    let failed_lately = b.next.last_drill.as_ref().is_some_and(|d| {
        !d.passed()
            && d.finished
                .is_some_and(|f| elapsed(f, b.now) < RETRY_FAILED_AFTER)
    });
    if failed_lately {
        b.wait(format!(
            "the scheduled drill waits: the last one failed less than {} ago",
            humantime::format_duration(RETRY_FAILED_AFTER)
        ));
        return;
    }
    let (Some(job), Some(standby)) = (view.job_forward(), view.standby.clone()) else {
        return;
    };
    if job.activity != Activity::Protecting || !b.reachable(&standby) {
        b.wait("the scheduled test failover waits for the job to be protecting");
        return;
    }
    if let Some(a) = b.act(
        Operation::Failover {
            snapshot: None,
            job: job.name.clone(),
            target: standby.clone(),
            mode: FailoverKind::Test,
            apply_queued_data: true,
        },
        "spec.drills: a test failover is due and the manifest lets the controller run it",
    ) {
        a.drill = Some(Box::new(DrillStart::scheduled()));
    }
}
