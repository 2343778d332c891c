//! `galaxy-ha status --check`: the verdict as a monitoring plugin gives it (Nagios, Icinga,
//! Zabbix, a scheduled task): one line, performance data after `|`, and the plugin exit
//! codes 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

use serde::Serialize;

use super::Status;

/// A site's state as monitoring plugins state it. Ordered from best to worst: the worst
/// site's state is the check's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CheckState {
    /// System Galaxy runs and is protected.
    Ok,
    /// Running and protected but degraded, or in maintenance.
    Warning,
    /// The site could not be observed.
    #[default]
    Unknown,
    /// System Galaxy runs nowhere, on both hosts, or unprotected.
    Critical,
}

impl CheckState {
    /// The plugin exit code.
    pub fn exit_code(self) -> u8 {
        match self {
            CheckState::Ok => 0,
            CheckState::Warning => 1,
            CheckState::Critical => 2,
            CheckState::Unknown => 3,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CheckState::Ok => "OK",
            CheckState::Warning => "WARNING",
            CheckState::Critical => "CRITICAL",
            CheckState::Unknown => "UNKNOWN",
        }
    }
}

/// The check's state and its one line: `GALAXY-HA STATE - site: verdict; … | perfdata`.
/// `unobserved` are the sites that could not be looked at, with why.
pub fn line(status: &Status, unobserved: &[(String, String)]) -> (CheckState, String) {
    let mut state = if status.sites.is_empty() && unobserved.is_empty() {
        CheckState::Unknown
    } else {
        CheckState::Ok
    };
    let mut parts = Vec::new();
    let mut perf = Vec::new();
    for s in &status.sites {
        state = state.max(s.check);
        parts.push(format!("{}: {}", s.name, s.verdict));
        if let Some(j) = &s.job {
            perf.push(format!(
                "{}_replication_queue={}B;;;0",
                label(&s.name),
                j.replication_queue_bytes
            ));
            perf.push(format!(
                "{}_recovery_point_latency={}s;;;0",
                label(&s.name),
                seconds(j.recovery_point_latency_ms)
            ));
        }
    }
    for (site, why) in unobserved {
        state = state.max(CheckState::Unknown);
        parts.push(format!("{site}: UNKNOWN — cannot observe: {why}"));
    }
    let mut out = format!("GALAXY-HA {} - {}", state.label(), parts.join("; "));
    if !perf.is_empty() {
        out.push_str(" | ");
        out.push_str(&perf.join(" "));
    }
    // A plugin's output is one line: no message may break it.
    (state, out.replace(['\n', '\r'], " "))
}

/// A perfdata label: letters, digits, `_` and `-` only, so it never needs quoting.
fn label(site: &str) -> String {
    site.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{JobStatus, SiteStatus};

    fn site(name: &str, check: CheckState, verdict: &str) -> SiteStatus {
        SiteStatus {
            name: name.into(),
            check,
            verdict: verdict.into(),
            ..SiteStatus::default()
        }
    }

    #[test]
    fn the_worst_site_decides_and_each_site_says_its_verdict() {
        let mut ok = site("hq", CheckState::Ok, "running on GCSHOSTA, protected");
        ok.job = Some(JobStatus {
            name: "j".into(),
            source: "A".into(),
            target: "B".into(),
            source_server: "vm".into(),
            target_data_state: "OK".into(),
            mirror_remaining_bytes: 0,
            replication_queue_bytes: 2048,
            disk_queue_bytes: 0,
            recovery_point_latency_ms: 1500,
            bytes_sent: 0,
            connected_since: None,
        });
        let status = Status {
            format_version: 1,
            sites: vec![
                ok,
                site("plant 2", CheckState::Warning, "in maintenance\nsoon"),
            ],
        };
        let (state, text) = line(&status, &[]);
        assert_eq!(state, CheckState::Warning);
        assert_eq!(
            text,
            "GALAXY-HA WARNING - hq: running on GCSHOSTA, protected; plant 2: in maintenance soon | hq_replication_queue=2048B;;;0 hq_recovery_point_latency=1.500s;;;0"
        );
        let (state, text) = line(&status, &[("far".into(), "no route".into())]);
        assert_eq!((state, state.exit_code()), (CheckState::Unknown, 3));
        assert!(
            text.contains("far: UNKNOWN — cannot observe: no route"),
            "{text}"
        );
    }

    #[test]
    fn critical_outranks_unknown_and_nothing_to_check_is_unknown() {
        let status = Status {
            format_version: 1,
            sites: vec![site("hq", CheckState::Critical, "DOWN")],
        };
        let (state, _) = line(&status, &[("far".into(), "x".into())]);
        assert_eq!(state.exit_code(), 2);
        let empty = Status {
            format_version: 1,
            sites: vec![],
        };
        assert_eq!(line(&empty, &[]).0, CheckState::Unknown);
    }
}
