//! The first line of a site's status: what is wrong and what to do, in words an admin reads
//! on a phone, and the monitoring state it amounts to.

use jiff::Timestamp;

use super::{CheckState, SiteStatus, moment};
use crate::plan::ConditionType;

/// The verdict on one site at `now`.
pub(super) fn verdict(s: &SiteStatus, now: Timestamp) -> (CheckState, String) {
    match s.running_on.as_slice() {
        [] => down(s, now),
        [host] => running(s, host),
        hosts => (
            CheckState::Critical,
            format!(
                "System Galaxy runs on BOTH hosts ({}): split brain — the controller turns it off on the host that is not the live host",
                hosts
                    .iter()
                    .map(|h| h.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    }
}

fn running(s: &SiteStatus, host: &str) -> (CheckState, String) {
    let mut line = format!("System Galaxy running on {host}");
    let protected = s.is(ConditionType::Protected);
    let mut state = if protected {
        line.push_str(&format!(
            ", protected (replicating to {})",
            s.standby_host.as_deref().unwrap_or("the standby host")
        ));
        CheckState::Ok
    } else {
        let why = s
            .condition(ConditionType::Protected)
            .map(|c| c.message.clone())
            .unwrap_or_default();
        line.push_str(&format!(" — NOT protected: {why}"));
        CheckState::Critical
    };
    let mut notes = Vec::new();
    if let Some(why) = &s.maintenance {
        notes.push(format!(
            "in maintenance ({why}): the controller acts on nothing"
        ));
        // Maintenance is a person's choice: it warns, it does not page.
        state = CheckState::Warning;
    }
    if let Some(to) = &s.switchover_to {
        notes.push(format!("planned switchover to {to} in progress"));
    }
    if let Some(to) = &s.rollback_to {
        notes.push(format!("rolling the failover back to {to}"));
    } else if let Some(until) = s.commit_until {
        notes.push(format!(
            "the failover is not committed: replication waits until {until}; galaxy-ha failover {site} --commit, or --rollback to undo it",
            site = s.name
        ));
    }
    if let Some(on) = &s.test_failover_on {
        notes.push(format!("a test failover (drill) runs isolated on {on}"));
    }
    for kind in [ConditionType::Degraded, ConditionType::ManifestStale] {
        if let Some(c) = s.condition(kind).filter(|c| c.status == "True") {
            notes.push(format!("{}: {}", kind.as_str(), c.message));
            state = state.max(CheckState::Warning);
        }
    }
    if let Some(c) = s
        .condition(ConditionType::FailoverReady)
        .filter(|c| c.status == "False" && c.reason == "NotReady")
    {
        notes.push(format!("not ready: {}", c.message));
        state = state.max(CheckState::Warning);
    }
    // A site that never drilled is not warned about here (DrillOverdue, with a schedule,
    // is); one whose manifest changed what its last drill proved is.
    if let Some(c) = s
        .condition(ConditionType::Unverified)
        .filter(|c| c.status == "True" && c.reason == "ChangedSinceDrill")
    {
        notes.push(format!("Unverified: {}", c.message));
        state = state.max(CheckState::Warning);
    }
    if let Some(c) = s
        .condition(ConditionType::RpoMet)
        .filter(|c| c.status == "False")
    {
        notes.push(format!("RPO missed: {}", c.message));
        state = state.max(CheckState::Warning);
    }
    for note in notes {
        line.push_str(" — ");
        line.push_str(&note);
    }
    (state, line)
}

fn down(s: &SiteStatus, now: Timestamp) -> (CheckState, String) {
    let mut line = "System Galaxy DOWN — running on no host".to_string();
    if let Some(since) = s.down_since {
        line.push_str(&format!(" since {}", moment(since, now)));
    }
    let standby = s.standby_host.as_deref().unwrap_or("the standby host");
    let next = if s.activity.as_deref() == Some("Failing Over") {
        format!("failing over to {standby}")
    } else if let Some(to) = &s.switchover_to {
        format!("planned switchover to {to} in progress")
    } else if let Some(to) = &s.rollback_to {
        format!("rolling the failover back to {to}")
    } else if let Some(command) = &s.approval {
        format!("waiting for your approval: {command}")
    } else if let Some(why) = &s.maintenance {
        format!("in maintenance ({why}): the controller will not fail over")
    } else if let Some(met) = s.condition_met_at {
        let why = s
            .waiting
            .iter()
            .find(|w| w.starts_with("failover to"))
            .cloned()
            .unwrap_or_else(|| "the controller plans the failover".to_string());
        format!("condition for failure met at {}; {why}", moment(met, now))
    } else if let Some(left) = s.failover_monitor_remaining_s {
        let then = match s.failover_mode.as_deref() {
            Some("automatic") => format!("then it fails over to {standby} automatically"),
            _ => "then it waits for your approval (failover mode manual)".to_string(),
        };
        format!(
            "condition for failure in {}; {then}",
            humantime::format_duration(std::time::Duration::from_secs(left))
        )
    } else if s.live_host_answers == Some(false) {
        format!(
            "{} (the live host) does not answer",
            s.live_host.as_deref().unwrap_or("the live host")
        )
    } else {
        s.waiting
            .first()
            .cloned()
            .unwrap_or_else(|| "the controller cannot see it running".to_string())
    };
    (CheckState::Critical, format!("{line} — {next}"))
}
