//! The text view: the verdict, the facts an admin needs to act, then the console's job
//! highlights and the conditions.

use std::time::Duration;

use indicatif::HumanBytes;

use super::{ConditionStatus, SiteStatus, Status, ago, clock, moment};

/// Every site: verdict first, then what an admin needs to decide, then the details.
pub fn text(status: &Status) -> String {
    let mut out = String::new();
    for s in &status.sites {
        out.push_str(&format!("{}: {}\n", s.name, s.verdict));
        if let Some(owner) = &s.owner {
            out.push_str(&format!("  Owner: controller {owner}\n"));
        }
        // A site another controller reports: nothing more is known here.
        if s.owner.is_some() && s.conditions.is_empty() {
            for w in &s.waiting {
                out.push_str(&format!("  … {w}\n"));
            }
            out.push('\n');
            continue;
        }
        facts(&mut out, s);
        job(&mut out, s);
        out.push_str("  Conditions:\n");
        for c in &s.conditions {
            out.push_str(&format!(
                "    {:<14}{:<6}{:<22}{}\n",
                c.kind, c.status, c.reason, c.message
            ));
            if needs_attention(c) {
                out.push_str(&format!("    {:<42}→ {}\n", "", c.runbook));
            }
        }
        if let Some(f) = &s.last_failover {
            out.push_str(&format!(
                "  Last failover: {} from {} to {} ({:?})\n",
                f.at, f.from, f.to, f.cause
            ));
        }
        if let Some(t) = &s.last_test_failover {
            out.push_str(&format!("  Last test failover: {t}\n"));
        }
        if s.alerts_pending > 0 {
            out.push_str(&format!(
                "  Alerts pending delivery: {}\n",
                s.alerts_pending
            ));
        }
        for w in &s.waiting {
            out.push_str(&format!("  … {w}\n"));
        }
        out.push('\n');
    }
    out
}

fn row(out: &mut String, key: &str, value: &str) {
    out.push_str(&format!("  {key:<24}{value}\n"));
}

/// Mode, live host, the failure's times and each host's VMs.
fn facts(out: &mut String, s: &SiteStatus) {
    let Some(now) = s.observed_at else { return };
    if let Some(mode) = &s.failover_mode {
        let words = if mode == "manual" {
            "manual (wait for user to initiate failover)"
        } else {
            "automatic"
        };
        row(out, "Failover mode", words);
    }
    if let Some(why) = &s.maintenance {
        row(
            out,
            "Maintenance",
            &format!("{why}: the controller acts on nothing"),
        );
    }
    let live = match (&s.live_host, s.live_host_answers) {
        (Some(h), Some(true)) => format!("{h} (as last established), answers"),
        (Some(h), _) => {
            let silent = s
                .hosts
                .iter()
                .find(|x| &x.name == h)
                .and_then(|x| x.silent_since)
                .map(|t| format!(" since {} ({})", moment(t, now), ago(t, now)))
                .unwrap_or_default();
            format!("{h} (as last established), NOT ANSWERING{silent}")
        }
        (None, _) => "not established yet".to_string(),
    };
    row(out, "Live host", &live);
    let running = match s.running_on.as_slice() {
        [] => "no host".to_string(),
        hosts => hosts
            .iter()
            .map(|h| h.as_str())
            .collect::<Vec<_>>()
            .join(" and "),
    };
    row(out, "System Galaxy runs on", &running);
    if let Some(t) = s.down_since {
        row(
            out,
            "Missed since",
            &format!("{} ({})", moment(t, now), ago(t, now)),
        );
    }
    if let Some(t) = s.condition_met_at {
        row(
            out,
            "Condition for failure",
            &format!("met at {} ({})", moment(t, now), ago(t, now)),
        );
    } else if let Some(left) = s.failover_monitor_remaining_s {
        row(
            out,
            "Condition for failure",
            &format!("source missed; met in {}", clock(Duration::from_secs(left))),
        );
    }
    if let (Some(command), Some(what)) = (&s.approval, s.approves) {
        row(out, &format!("To {what}"), command);
    }
    if let Some(line) = s.snapshots_line() {
        row(out, "Snapshots", &line);
    }
    if let Some(line) = s.commit_line() {
        row(out, "Failover commit", &line);
    }
    if s.drill.running {
        let d = &s.drill;
        row(
            out,
            "Test failover",
            &format!(
                "running isolated on {}: {}{}",
                d.host.as_deref().unwrap_or("?"),
                d.replica.as_deref().unwrap_or("?"),
                d.started
                    .map(|t| format!(", started {t}"))
                    .unwrap_or_default()
            ),
        );
        if let Some(result) = &d.result {
            row(out, "Drill so far", result);
        }
        if !d.checks.is_empty() {
            row(
                out,
                "Drill checks",
                &crate::model::drill::checks_line(&d.checks),
            );
        }
    }
    if let Some(last) = &s.last_drill {
        row(out, "Last drill", &last.drill.line());
    }
    row(out, "Observed", &moment(now, now));
    out.push_str("  Hosts (Hyper-V):\n");
    for h in &s.hosts {
        let role = h.role.unwrap_or("");
        let answers = if h.answers {
            format!("answers, observed {}", moment(now, now))
        } else {
            match h.silent_since {
                Some(t) => format!("NOT ANSWERING since {} ({})", moment(t, now), ago(t, now)),
                None => "NOT ANSWERING".to_string(),
            }
        };
        out.push_str(&format!("    {:<12}{:<9}{answers}\n", h.name, role));
        if h.answers && h.vms.is_empty() {
            out.push_str("      no System Galaxy VM or replica\n");
        }
        for vm in &h.vms {
            let what = match (vm.role, vm.isolated) {
                (_, true) => "test failover, isolated",
                ("system-galaxy", false) => "System Galaxy",
                _ => "replica",
            };
            out.push_str(&format!("      {:<32}{:<10}{what}\n", vm.name, vm.state));
        }
    }
}

/// The console's job highlights.
fn job(out: &mut String, s: &SiteStatus) {
    let Some(j) = &s.job else {
        out.push_str("  no replication job\n");
        return;
    };
    let activity = match (s.activity.as_deref(), s.percent) {
        (Some(a), Some(p)) => format!("{a} ({p}%)"),
        (Some(a), None) => a.to_string(),
        _ => String::new(),
    };
    let rows = [
        (
            "Job",
            format!(
                "{} ({} → {}, source server {})",
                j.name, j.source, j.target, j.source_server
            ),
        ),
        ("Activity", activity),
        ("Target data state", j.target_data_state.clone()),
        (
            "Mirror remaining",
            HumanBytes(j.mirror_remaining_bytes).to_string(),
        ),
        (
            "Replication queue",
            HumanBytes(j.replication_queue_bytes).to_string(),
        ),
        ("Disk queue", HumanBytes(j.disk_queue_bytes).to_string()),
        (
            "Recovery point latency",
            clock(Duration::from_millis(j.recovery_point_latency_ms)),
        ),
        ("Bytes sent", HumanBytes(j.bytes_sent).to_string()),
        (
            "Connected since",
            j.connected_since
                .map(|t| t.to_string())
                .unwrap_or_else(|| "not connected".to_string()),
        ),
    ];
    for (k, v) in rows {
        row(out, k, &v);
    }
}

/// A condition in the state an admin must look at: the text view points at its runbook.
fn needs_attention(c: &ConditionStatus) -> bool {
    let bad = match c.kind {
        "Ready" | "Protected" | "FailoverReady" => "False",
        _ => "True",
    };
    c.status == bad
}
