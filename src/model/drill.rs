//! A drill: a test failover the controller verifies from inside the isolated replica (its
//! heartbeat, System Galaxy's services, its ports), ends, and then checks was cleaned up. A
//! green replication job is not a recovery; a drill that passed is the proof that one works.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::names::HostName;

/// Who started a drill and how it should run, carried by the test failover's action and kept
/// in memory once the test replica boots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrillStart {
    /// A person (`user on host`), or the controller's schedule.
    pub by: String,
    /// What the person who ran it wrote (`--notes`), for the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Keep the test replica running once verified (`--hold`), for a person to look at it,
    /// until `--test --end` or `spec.drills.maxDuration`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hold: bool,
}

impl DrillStart {
    /// A drill the manifest's schedule started (`spec.drills.scheduled`).
    pub fn scheduled() -> DrillStart {
        DrillStart {
            by: "the controller (spec.drills.scheduled)".into(),
            notes: None,
            hold: false,
        }
    }
}

/// A drill under way or finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drill {
    /// The run's id, unique on the site: `drill-` and its start time.
    pub run: String,
    /// The host whose isolated test replica is checked (the job's target).
    pub host: HostName,
    pub started: Timestamp,
    #[serde(flatten)]
    pub start: DrillStart,
    /// Each check's latest outcome, in the order they are made.
    #[serde(default)]
    pub checks: Vec<DrillCheck>,
    /// Set when the controller decided the drill's result and asked for its end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// When the drill's end was first asked for (by this rule, a person or a real failover):
    /// the cleanup is measured from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_asked: Option<Timestamp>,
    /// The cleanup's check, once the test replica was seen off (or not, in time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<DrillCheck>,
    /// When the drill finished: verdict given and cleanup checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<Timestamp>,
}

/// One check of a drill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrillCheck {
    /// `heartbeat`, `service NAME`, `port N`, `cleanup`.
    pub name: String,
    pub passed: bool,
    /// When the check's outcome was last seen change (first made, or passed).
    pub at: Timestamp,
    /// What was seen, in words.
    pub detail: String,
}

/// How a drill ended, decided before its end was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub passed: bool,
    pub at: Timestamp,
    pub why: String,
    /// A failed drill is alerted, unless a person or a real failover ended it on purpose.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub quiet: bool,
}

impl Drill {
    pub fn new(host: HostName, started: Timestamp, start: DrillStart) -> Drill {
        Drill {
            run: crate::model::terms::run_id("drill", started),
            host,
            started,
            start,
            checks: Vec::new(),
            verdict: None,
            end_asked: None,
            cleanup: None,
            finished: None,
        }
    }

    /// Its end was asked on purpose (a person's `--test --end`, a real failover): before a
    /// verdict, that is a failure without an alert; after one, only the end is noted.
    pub fn end_on_purpose(&mut self, now: Timestamp, why: &str) {
        if self.verdict.is_none() {
            self.verdict = Some(Verdict {
                passed: false,
                at: now,
                why: why.to_string(),
                quiet: true,
            });
        }
        self.end_asked.get_or_insert(now);
    }

    /// Passed: every check and the cleanup passed.
    pub fn passed(&self) -> bool {
        self.verdict.as_ref().is_some_and(|v| v.passed)
            && self.cleanup.as_ref().is_some_and(|c| c.passed)
    }

    /// `pass`, `fail`, or `running`.
    pub fn result(&self) -> &'static str {
        match (&self.finished, self.passed()) {
            (None, _) => "running",
            (Some(_), true) => "pass",
            (Some(_), false) => "fail",
        }
    }

    /// The checks that have not passed, by name.
    pub fn failing(&self) -> Vec<&DrillCheck> {
        self.checks
            .iter()
            .chain(self.cleanup.as_ref())
            .filter(|c| !c.passed)
            .collect()
    }

    /// One line for status and the dashboard.
    pub fn line(&self) -> String {
        let all: Vec<DrillCheck> = self
            .checks
            .iter()
            .chain(self.cleanup.as_ref())
            .cloned()
            .collect();
        let checks = checks_line(&all);
        match self.finished {
            None => format!(
                "drill {} on {} running since {} ({checks})",
                self.run, self.host, self.started
            ),
            Some(at) => format!(
                "drill {} on {}: {} at {at} ({checks})",
                self.run,
                self.host,
                self.result().to_uppercase()
            ),
        }
    }
}

/// Checks in one line: `heartbeat ok, port 6320 FAILED (not listening)`.
pub fn checks_line(checks: &[DrillCheck]) -> String {
    if checks.is_empty() {
        return "no check made yet".to_string();
    }
    checks
        .iter()
        .map(|c| {
            if c.passed {
                format!("{} ok", c.name)
            } else {
                format!("{} FAILED ({})", c.name, c.detail)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the last drill that passed proved: the run, and the manifest's sections a drill
/// depends on as they were then (hosts, VM, job), each as its JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verified {
    pub run: String,
    pub at: Timestamp,
    pub sections: std::collections::BTreeMap<String, String>,
}
