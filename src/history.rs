//! The journal as a readable timeline: failovers, switchovers, resumes, fences, drills,
//! alerts and manifest changes, in order.

use std::borrow::Cow;
use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;

use crate::journal::{Entry, Event};
use crate::model::ask::Ask;
use crate::plan::ActionKind;

/// The JSON format; grows compatibly, never renames.
pub const FORMAT_VERSION: u32 = 1;

/// One thing that happened to a site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub at: Timestamp,
    /// One copy for all of a site's items: a controller keeps ten for each of its sites.
    pub site: Arc<str>,
    /// failover, switchover, resume, fence, drill, alert, manifest, job or baseline.
    pub category: &'static str,
    pub what: String,
    /// done, failed: …, or what became of an intent whose outcome was never written (most
    /// are fixed words, held without a copy).
    pub outcome: Cow<'static, str>,
    pub reason: String,
    /// Manifest changes, one per line; the git commit.
    pub details: Vec<String>,
}

/// The outcome of a run's end in the timeline: its what says which run and how it ended.
pub const RUN_ENDED: &str = "run ended";

/// Every kind of event `history --kind` filters on.
pub const CATEGORIES: [&str; 10] = [
    "failover",
    "rollback",
    "switchover",
    "resume",
    "fence",
    "drill",
    "alert",
    "manifest",
    "job",
    "baseline",
];

/// What a person's ask is about.
pub fn ask_category(ask: &Ask) -> &'static str {
    match ask {
        Ask::Failover | Ask::ForcedFailover | Ask::Commit | Ask::SnapshotFailover(_) => "failover",
        Ask::Rollback => "rollback",
        Ask::Test | Ask::Drill(_) | Ask::EndTest => "drill",
        Ask::Resume => "resume",
        Ask::Apply => "manifest",
    }
}

/// What a journal entry is about, in an admin's words.
fn category(entry: &Entry) -> &'static str {
    if let Event::Asked { ask, .. } = &entry.event {
        return ask_category(ask);
    }
    if let Event::RunFinished { run } = &entry.event {
        return run.kind.as_str();
    }
    let rule = |n: &str| entry.reason.starts_with(&format!("rule {n} "));
    if rule("8b") {
        return "rollback";
    }
    match entry.kind {
        // A hook belongs to the run it follows: `rule 13 (hooks): spec.hooks.KIND[i] ...`.
        Some(ActionKind::RunHook) => CATEGORIES
            .iter()
            .find(|c| entry.reason.contains(&format!("spec.hooks.{c}[")))
            .copied()
            .unwrap_or("job"),
        None => "manifest",
        Some(ActionKind::Failover) if rule("9") => "switchover",
        Some(ActionKind::Failover) => "failover",
        Some(ActionKind::TestFailover | ActionKind::EndTestFailover) => "drill",
        Some(ActionKind::StopVm) if rule("1") => "fence",
        Some(ActionKind::StopVm) => "switchover",
        Some(ActionKind::Alert) => "alert",
        Some(ActionKind::CreateJob | ActionKind::DeleteJob | ActionKind::RemoveReplica)
            if rule("8") =>
        {
            "resume"
        }
        Some(
            ActionKind::CreateJob
            | ActionKind::DeleteJob
            | ActionKind::RemoveReplica
            | ActionKind::UpdateJob,
        ) => "job",
        Some(_) => "baseline",
    }
}

/// Pairs each intent with its outcome; an intent left without one says so.
pub fn timeline(site: &str, entries: &[Entry]) -> Vec<Item> {
    let site: Arc<str> = Arc::from(site);
    let mut items: Vec<Item> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    for entry in entries {
        let item = |outcome: Cow<'static, str>, details: Vec<String>| Item {
            at: entry.at,
            site: Arc::clone(&site),
            category: category(entry),
            what: entry.description.clone(),
            outcome,
            reason: entry.reason.clone(),
            details,
        };
        match &entry.event {
            Event::Intent { .. } => {
                open.push(items.len());
                // An automatic decision shows its evidence under the action it led to.
                items.push(item(
                    "intent written; no outcome recorded (the controller stopped before it)".into(),
                    entry
                        .decision
                        .as_ref()
                        .map(|d| d.words())
                        .unwrap_or_default(),
                ));
            }
            Event::Done | Event::Failed { .. } | Event::Recovered { .. } => {
                let outcome: Cow<'static, str> = match &entry.event {
                    Event::Failed { error } => format!("failed: {error}").into(),
                    Event::Recovered { note } => format!("recovered: {note}").into(),
                    _ => "done".into(),
                };
                let pending = open.iter().position(|&i| {
                    items[i].what == entry.description && items[i].category == category(entry)
                });
                match pending {
                    Some(p) => {
                        let i = open.remove(p);
                        items[i].outcome = outcome;
                    }
                    None => items.push(item(outcome, vec![])),
                }
            }
            Event::Asked {
                user, host, right, ..
            } => {
                let with = right
                    .as_ref()
                    .map(|r| format!(" with the {r} right"))
                    .unwrap_or_default();
                items.push(item(
                    format!("asked by {user} on {host}{with}").into(),
                    vec![],
                ));
            }
            Event::ManifestChanged {
                commit,
                author,
                changes,
            } => {
                let mut details = changes.clone();
                match (commit, author) {
                    (Some(c), Some(a)) => details.push(format!("git commit {c} by {a}")),
                    (Some(c), None) => details.push(format!("git commit {c}")),
                    _ => {}
                }
                items.push(item("changed".into(), details));
            }
            Event::RunFinished { run } => {
                items.push(item(RUN_ENDED.into(), vec![run.summary.clone()]));
            }
        }
    }
    items
}

/// Keeps what happened at or after `since`.
pub fn since(items: Vec<Item>, since: Option<Timestamp>) -> Vec<Item> {
    match since {
        Some(t) => items.into_iter().filter(|i| i.at >= t).collect(),
        None => items,
    }
}

/// What an empty timeline means: the filters left nothing, or nothing was journaled here.
pub fn nothing(filtered: bool) -> &'static str {
    if filtered {
        "nothing matches --since/--kind"
    } else {
        "the journal has nothing for these sites in this state dir (a fleet keeps its journal in etcd: add --coordination etcd)"
    }
}

/// The baseline actions of one pass of one site (services, firewall, e-mail settings) as one
/// item: they matter together, and one by one they bury the failovers.
pub fn fold_baseline(items: Vec<Item>) -> Vec<Item> {
    let mut out: Vec<Item> = Vec::new();
    let mut run = 0usize;
    for item in items {
        let joins = item.category == "baseline"
            && out.last().is_some_and(|last: &Item| {
                // One pass: its actions follow each other within moments.
                last.category == "baseline"
                    && last.site == item.site
                    && item.at.duration_since(last.at) <= jiff::SignedDuration::from_secs(60)
            });
        if !joins {
            run = 1;
            out.push(item);
            continue;
        }
        run += 1;
        let Some(last) = out.last_mut() else { continue };
        if run == 2 {
            last.details.push(last.what.clone());
            last.reason.clear();
        }
        last.details.push(item.what.clone());
        last.what = format!("{run} baseline actions");
        if item.outcome != "done" {
            last.outcome = item.outcome;
        }
    }
    out
}

pub fn text(items: &[Item]) -> String {
    if items.is_empty() {
        return format!("{}\n", nothing(true));
    }
    let mut out = String::new();
    for i in items {
        out.push_str(&format!(
            "{}  {:<8} {:<10} {} [{}]\n",
            i.at, i.site, i.category, i.what, i.outcome
        ));
        if !i.reason.is_empty() {
            out.push_str(&format!("{:>32}   {}\n", "", i.reason));
        }
        for d in &i.details {
            out.push_str(&format!("{:>32}   {d}\n", ""));
        }
    }
    out
}

#[derive(Serialize)]
struct Doc<'a> {
    format_version: u32,
    events: &'a [Item],
}

pub fn json(items: &[Item]) -> String {
    serde_json::to_string_pretty(&Doc {
        format_version: FORMAT_VERSION,
        events: items,
    })
    .unwrap_or_default()
}
