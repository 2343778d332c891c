//! Runs (failovers, switchovers, rollbacks, resumes, drills): the moments each reaches that a
//! report needs (System Galaxy seen live again), and the record of each run that ends in
//! this pass, for the journal. Nothing here acts; it only reads what the rules did.

use super::builder::Builder;
use crate::memory::FailoverCause;
use crate::model::run::{HookPoint, Run, RunKind, run_id};
use crate::model::terms::elapsed;

pub(crate) fn plan(b: &mut Builder) {
    let went_live = seen_live(b);
    let mut ended = Vec::new();
    ended.extend(failover(b));
    ended.extend(rollback(b));
    ended.extend(resume(b));
    ended.extend(drill(b));
    b.hook_points = went_live
        .into_iter()
        .chain(
            ended
                .iter()
                .filter(|r| !matches!(r.kind, RunKind::Failover | RunKind::Switchover))
                .map(|r| HookPoint {
                    run: r.id.clone(),
                    kind: r.kind,
                    from: r.from.clone(),
                    to: r.to.clone(),
                    result: r.result.clone(),
                }),
        )
        .collect();
    b.finished_runs = ended;
}

/// When System Galaxy is first seen live on the host a failover or a rollback moved it to;
/// the failover's or switchover's hook point when that is now.
fn seen_live(b: &mut Builder) -> Option<HookPoint> {
    let mut point = None;
    if let Some(f) = b.next.last_failover.as_mut()
        && f.live_at.is_none()
        && b.observed.live_vm(&f.to).is_some()
    {
        f.live_at = Some(b.now);
        let kind = if f.cause == FailoverCause::Switchover {
            RunKind::Switchover
        } else {
            RunKind::Failover
        };
        point = Some(HookPoint {
            run: run_id(kind.as_str(), f.at),
            kind,
            from: Some(f.from.clone()),
            to: Some(f.to.clone()),
            result: "live".into(),
        });
    }
    if let Some(r) = b.next.rollback.as_mut()
        && r.live_at.is_none()
        && b.observed.live_vm(&r.to).is_some()
    {
        r.live_at = Some(b.now);
    }
    point
}

fn secs(from: jiff::Timestamp, to: jiff::Timestamp) -> u64 {
    elapsed(from, to).as_secs()
}

/// A failover or switchover ends when its latch is released: the job protects again.
fn failover(b: &Builder) -> Option<Run> {
    if !b.memory.failover_latched || b.next.failover_latched {
        return None;
    }
    let f = b.next.last_failover.as_ref()?;
    let switchover = f.cause == FailoverCause::Switchover;
    let kind = if switchover {
        RunKind::Switchover
    } else {
        RunKind::Failover
    };
    let downtime = if switchover {
        b.memory.last_switchover_downtime.map(|d| d.as_secs())
    } else {
        let live = f.live_at.unwrap_or(b.now);
        Some(secs(f.down_since.unwrap_or(f.at), live))
    };
    let live = b.observed.live_hosts().first().map(|h| h.to_string());
    Some(Run {
        id: run_id(kind.as_str(), f.at),
        kind,
        started: f.at,
        finished: b.now,
        from: Some(f.from.clone()),
        to: Some(f.to.clone()),
        result: "pass".into(),
        summary: format!(
            "System Galaxy runs on {} and the job protects it again",
            live.as_deref().unwrap_or(&f.to)
        ),
        cause: Some(
            match f.cause {
                FailoverCause::Automatic => "automatic",
                FailoverCause::Approved => "approved by a person",
                FailoverCause::Switchover => "planned switchover",
            }
            .into(),
        ),
        downtime_s: downtime,
        unprotected_s: Some(secs(f.at, b.now)),
        queue_bytes: f.queue_bytes,
        recovery_point: Some(match (&f.snapshot, f.latency) {
            (Some(id), _) => format!("snapshot {id}"),
            (None, Some(l)) => format!(
                "the newest data, {} behind the source when decided",
                humantime::format_duration(l)
            ),
            (None, None) => "the newest data".into(),
        }),
        drill: None,
    })
}

/// A rollback ends when memory lets it go: done (System Galaxy back where it was) or stopped.
fn rollback(b: &Builder) -> Option<Run> {
    let r = b
        .memory
        .rollback
        .as_ref()
        .filter(|_| b.next.rollback.is_none())?;
    let back = b.observed.live_vm(&r.to).is_some();
    Some(Run {
        id: run_id("rollback", r.started),
        kind: RunKind::Rollback,
        started: r.started,
        finished: b.now,
        from: Some(r.from.clone()),
        to: Some(r.to.clone()),
        result: if back { "pass" } else { "fail" }.into(),
        summary: if back {
            format!("System Galaxy runs on {} again", r.to)
        } else {
            format!(
                "the rollback stopped; System Galaxy did not return to {}",
                r.to
            )
        },
        cause: Some("a person (galaxy-ha failover --rollback)".into()),
        downtime_s: r
            .live_at
            .or(back.then_some(b.now))
            .map(|at| secs(r.started, at)),
        unprotected_s: None,
        queue_bytes: None,
        recovery_point: Some(format!(
            "the VM on {} as the failover at {} left it",
            r.to, r.failover_at
        )),
        drill: None,
    })
}

/// Replication resumed: the job created to protect System Galaxy again protects.
fn resume(b: &Builder) -> Option<Run> {
    let r = b
        .memory
        .resuming
        .as_ref()
        .filter(|_| b.next.resuming.is_none())?;
    let started = r.since.unwrap_or(b.now);
    Some(Run {
        id: run_id("resume", started),
        kind: RunKind::Resume,
        started,
        finished: b.now,
        from: None,
        to: None,
        result: "pass".into(),
        summary: format!("job {:?} protects: {}", r.job, r.why),
        cause: None,
        downtime_s: None,
        unprotected_s: Some(secs(started, b.now)),
        queue_bytes: None,
        recovery_point: None,
        drill: None,
    })
}

fn drill(b: &Builder) -> Option<Run> {
    let d = b.next.last_drill.as_ref()?;
    if b.memory.last_drill.as_ref() == Some(d) {
        return None;
    }
    let summary = d
        .verdict
        .as_ref()
        .map_or_else(|| d.line(), |v| v.why.clone());
    Some(Run::of_drill(
        d,
        d.finished.unwrap_or(b.now),
        d.result().into(),
        summary,
    ))
}
