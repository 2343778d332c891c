//! Run reports for auditors: each failover, switchover, rollback, resume and drill with who
//! or what started it, its steps with their times, System Galaxy's downtime, what could be
//! lost, the recovery point used, how long the site was unprotected, the result and the
//! notes. Built from the journal alone (its `RunFinished` records and the steps around them)
//! plus memory for a run still under way, so a report can be made again at any time.

mod html;
mod markdown;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::history::{self, Item};
use crate::journal::{Entry, Event};
use crate::memory::Memory;
use crate::model::run::{Run, RunKind, run_id};

pub use html::{escape, html};
pub use markdown::markdown;

/// The JSON format; grows compatibly, never renames.
pub const FORMAT_VERSION: u32 = 1;

/// One run's report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub site: String,
    /// `ended` or `running`.
    pub status: &'static str,
    #[serde(flatten)]
    pub run: Run,
    /// Who or what started it.
    pub started_by: StartedBy,
    /// What was done, in order, with each outcome.
    pub steps: Vec<Step>,
}

/// Who or what started a run.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct StartedBy {
    /// `user on host`, when a person asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    /// The command the person ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The automatic decision's evidence: each view's vote, the threshold, the data state.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub decision: Vec<String>,
    /// In a sentence.
    pub words: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub at: Timestamp,
    pub what: String,
    pub outcome: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// The reports of one site: each run that ended (once, though the journal may hold its
/// record twice after a restart), and those under way, oldest first.
pub fn runs(site: &str, entries: &[Entry], memory: &Memory, now: Timestamp) -> Vec<Report> {
    let items = history::timeline(site, entries);
    let mut out: Vec<Report> = Vec::new();
    for entry in entries {
        let Event::RunFinished { run } = &entry.event else {
            continue;
        };
        if out.iter().any(|r| r.run.id == run.id) {
            continue;
        }
        out.push(report(site, entries, &items, (**run).clone(), "ended"));
    }
    for run in under_way(memory, now) {
        if !out.iter().any(|r| r.run.id == run.id) {
            out.push(report(site, entries, &items, run, "running"));
        }
    }
    out.sort_by_key(|r| r.run.started);
    out
}

/// Keeps the reports of runs that started at or after `since`.
pub fn since(reports: Vec<Report>, since: Option<Timestamp>) -> Vec<Report> {
    reports
        .into_iter()
        .filter(|r| since.is_none_or(|s| r.run.started >= s))
        .collect()
}

/// The runs memory shows under way: a drill, a failover not protected again yet.
fn under_way(memory: &Memory, now: Timestamp) -> Vec<Run> {
    let mut out = Vec::new();
    if let Some(d) = &memory.drill {
        out.push(Run::of_drill(d, now, "running".into(), d.line()));
    }
    if let Some(f) = memory
        .last_failover
        .as_ref()
        .filter(|_| memory.failover_latched)
    {
        let kind = if f.cause == crate::memory::FailoverCause::Switchover {
            RunKind::Switchover
        } else {
            RunKind::Failover
        };
        out.push(Run {
            id: run_id(kind.as_str(), f.at),
            kind,
            started: f.at,
            finished: now,
            from: Some(f.from.clone()),
            to: Some(f.to.clone()),
            result: "running".into(),
            summary: format!(
                "failing over from {} to {}; the job does not protect System Galaxy again yet",
                f.from, f.to
            ),
            cause: None,
            downtime_s: f
                .live_at
                .map(|at| crate::model::terms::elapsed(f.down_since.unwrap_or(f.at), at).as_secs()),
            unprotected_s: Some(crate::model::terms::elapsed(f.at, now).as_secs()),
            queue_bytes: f.queue_bytes,
            recovery_point: f.snapshot.as_ref().map(|id| format!("snapshot {id}")),
            drill: None,
        });
    }
    out
}

/// A person's ask this close to a run's start started it: the confirmation prompt may hold
/// the journal's `asked` entry back a while after the plan that started the run was made.
const ASKED_WITHIN: SignedDuration = SignedDuration::from_mins(15);

fn report(site: &str, entries: &[Entry], items: &[Item], run: Run, status: &'static str) -> Report {
    let categories = run.kind.categories();
    let in_run = |at: Timestamp| at >= run.started && at <= run.finished;
    let steps = items
        .iter()
        .filter(|i| {
            in_run(i.at) && categories.contains(&i.category) && i.outcome != history::RUN_ENDED
        })
        .map(|i| Step {
            at: i.at,
            what: i.what.clone(),
            outcome: i.outcome.to_string(),
            reason: i.reason.clone(),
        })
        .collect();
    Report {
        site: site.to_string(),
        status,
        started_by: started_by(site, entries, &run),
        steps,
        run,
    }
}

fn started_by(site: &str, entries: &[Entry], run: &Run) -> StartedBy {
    let near =
        |at: Timestamp| at.duration_since(run.started).abs() <= ASKED_WITHIN && at <= run.finished;
    let categories = run.kind.categories();
    let asked = entries.iter().find(|e| {
        near(e.at)
            && matches!(&e.event, Event::Asked { ask, .. } if categories.contains(&history::ask_category(ask)))
    });
    if let Some(Entry {
        event:
            Event::Asked {
                ask,
                user,
                host,
                right,
            },
        ..
    }) = asked
    {
        let person = format!("{user} on {host}");
        let with = right
            .as_ref()
            .map(|r| format!(" with the {r} right"))
            .unwrap_or_default();
        return StartedBy {
            words: format!("{person} ran {}{with}", ask.command(site)),
            person: Some(person),
            command: Some(ask.command(site)),
            decision: Vec::new(),
        };
    }
    let decision = entries
        .iter()
        .filter(|e| e.at >= run.started && e.at <= run.finished)
        .find_map(|e| e.decision.as_ref())
        .map(|d| d.words())
        .unwrap_or_default();
    let words = match (&run.cause, decision.is_empty()) {
        (_, false) => "the controller's automatic decision".to_string(),
        (Some(c), true) => c.clone(),
        (None, true) => "the controller".to_string(),
    };
    StartedBy {
        person: None,
        command: None,
        decision,
        words,
    }
}

/// How many of a site's last runs the dashboard links.
pub const RECENT_RUNS: usize = 3;

/// The reports as JSON, for scripts.
pub fn json(reports: &[Report]) -> String {
    #[derive(Serialize)]
    struct Doc<'a> {
        format_version: u32,
        runs: &'a [Report],
    }
    serde_json::to_string_pretty(&Doc {
        format_version: FORMAT_VERSION,
        runs: reports,
    })
    .expect("a report serializes")
}

/// Seconds as an admin reads them: `2m 30s`.
pub(crate) fn span(secs: u64) -> String {
    humantime::format_duration(std::time::Duration::from_secs(secs)).to_string()
}

/// Bytes as an admin reads them.
pub(crate) fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / f64::from(1u32 << 30)),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20)),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} bytes"),
    }
}

/// The facts of a run as label and value, in the order every format shows them.
pub(crate) fn facts(r: &Report) -> Vec<(&'static str, String)> {
    let run = &r.run;
    let mut out = vec![
        ("Site", r.site.clone()),
        ("Run", run.id.clone()),
        ("Kind", run.kind.as_str().to_string()),
        ("Result", run.result.to_uppercase()),
        ("Started", run.started.to_string()),
    ];
    if r.status == "ended" {
        out.push(("Ended", run.finished.to_string()));
    }
    out.push(("Started by", r.started_by.words.clone()));
    if let (Some(from), Some(to)) = (&run.from, &run.to) {
        out.push(("From → to", format!("{from} → {to}")));
    } else if let Some(to) = &run.to {
        out.push(("Host", to.to_string()));
    }
    if let Some(s) = run.downtime_s {
        out.push(("System Galaxy down", span(s)));
    }
    if let Some(q) = run.queue_bytes {
        out.push((
            "Data at risk",
            format!(
                "{} in the replication queue when decided (lost if the source failed hard)",
                bytes(q)
            ),
        ));
    }
    if let Some(rp) = &run.recovery_point {
        out.push(("Recovery point", rp.clone()));
    }
    if let Some(s) = run.unprotected_s {
        out.push(("Unprotected", span(s)));
    }
    out.push(("Summary", run.summary.clone()));
    if let Some(notes) = run.drill.as_ref().and_then(|d| d.start.notes.clone()) {
        out.push(("Notes", notes));
    }
    out
}

/// A drill's checks, the cleanup last: name, result, time, what was seen.
pub(crate) fn checks(r: &Report) -> Vec<[String; 4]> {
    let Some(d) = &r.run.drill else {
        return Vec::new();
    };
    d.checks
        .iter()
        .chain(d.cleanup.as_ref())
        .map(|c| {
            [
                c.name.clone(),
                if c.passed { "pass" } else { "FAIL" }.to_string(),
                c.at.to_string(),
                c.detail.clone(),
            ]
        })
        .collect()
}
