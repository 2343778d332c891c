//! Why the controller acted on its own: every view that voted, the threshold, the data the
//! failover went with and the rule that fired, as the pass saw them. Journaled with the
//! intent of an automatic failover or a fence, so that an admin reading `history` the next
//! morning — or an auditor months later — sees the evidence, not only the verdict.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::terms::whole_seconds;

/// One view of the pair and what it saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    /// Who looked: "the failover monitor on GCSHOSTB", "the controller".
    pub view: String,
    /// What it saw, in words.
    pub saw: String,
    /// Whether what this view saw calls for the action (System Galaxy failed, running
    /// twice). A view that is a precondition (the standby host reachable) votes nothing.
    pub votes_to_act: bool,
    /// Since when it has seen what it saw, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
}

/// The evidence behind an automatic decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The planner rule that fired, e.g. "rule 7 (live host failed)".
    pub rule: String,
    pub views: Vec<Vote>,
    /// The failover monitor's condition for failure, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<String>,
    /// When the condition for failure was met (the first miss plus the threshold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition_met_at: Option<Timestamp>,
    /// The target's data state: whether Carbonite reports the replica's data good.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_data_good: Option<bool>,
    /// The job's last recovery point latency: about how much the failover may lose.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "humantime_serde"
    )]
    pub recovery_point_latency: Option<Duration>,
    /// `spec.failover.maxDataLoss`, when the manifest sets one.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "humantime_serde"
    )]
    pub max_data_loss: Option<Duration>,
}

impl Decision {
    /// The decision in words, one line per fact, for `history` and the alert.
    pub fn words(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.views.len() + 4);
        for vote in &self.views {
            let since = vote
                .since
                .map(|t| format!(" since {}", t.strftime("%Y-%m-%d %H:%M:%S UTC")))
                .unwrap_or_default();
            let vote_for = if vote.votes_to_act {
                " (votes to act)"
            } else {
                ""
            };
            out.push(format!(
                "{}: {}{since}{vote_for}",
                capitalised(&vote.view),
                vote.saw
            ));
        }
        if let Some(threshold) = &self.threshold {
            let met = self
                .condition_met_at
                .map(|t| format!(", met at {}", t.strftime("%Y-%m-%d %H:%M:%S UTC")))
                .unwrap_or_default();
            out.push(format!("Condition for failure: {threshold}{met}"));
        }
        if let Some(good) = self.target_data_good {
            out.push(format!(
                "Target data state: {}",
                if good { "good" } else { "not good" }
            ));
        }
        if let Some(latency) = self.recovery_point_latency {
            let against = match self.max_data_loss {
                Some(max) if latency <= max => {
                    format!(", within maxDataLoss {}", whole_seconds(max))
                }
                Some(max) => format!(", beyond maxDataLoss {}", whole_seconds(max)),
                None => ", no maxDataLoss set".to_string(),
            };
            out.push(format!(
                "Recovery point latency: {}{against}",
                whole_seconds(latency)
            ));
        }
        out.push(format!("Rule: {}", self.rule));
        out
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_decision_reads_as_every_view_then_the_threshold_the_data_and_the_rule() {
        let d = Decision {
            rule: "rule 7 (live host failed)".into(),
            views: vec![
                Vote {
                    view: "the failover monitor on GCSHOSTB".into(),
                    saw: "misses System Galaxy on GCSHOSTA (31 failed queries)".into(),
                    votes_to_act: true,
                    since: Some(at("2026-12-03T08:00:00Z")),
                },
                Vote {
                    view: "the controller".into(),
                    saw: "reaches GCSHOSTB, the standby host".into(),
                    votes_to_act: false,
                    since: None,
                },
            ],
            threshold: Some("total time to failure 5m".into()),
            condition_met_at: Some(at("2026-12-03T08:05:00Z")),
            target_data_good: Some(true),
            recovery_point_latency: Some(Duration::from_secs(12)),
            max_data_loss: Some(Duration::from_secs(60)),
        };
        assert_eq!(
            d.words(),
            [
                "The failover monitor on GCSHOSTB: misses System Galaxy on GCSHOSTA (31 failed queries) since 2026-12-03 08:00:00 UTC (votes to act)",
                "The controller: reaches GCSHOSTB, the standby host",
                "Condition for failure: total time to failure 5m, met at 2026-12-03 08:05:00 UTC",
                "Target data state: good",
                "Recovery point latency: 12s, within maxDataLoss 1m",
                "Rule: rule 7 (live host failed)",
            ]
        );
        let back: Decision = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn a_latency_beyond_max_data_loss_says_so() {
        let d = Decision {
            rule: "r".into(),
            views: vec![],
            threshold: None,
            condition_met_at: None,
            target_data_good: Some(false),
            recovery_point_latency: Some(Duration::from_secs(600)),
            max_data_loss: Some(Duration::from_secs(60)),
        };
        assert_eq!(
            d.words(),
            [
                "Target data state: not good",
                "Recovery point latency: 10m, beyond maxDataLoss 1m",
                "Rule: r"
            ]
        );
    }
}
