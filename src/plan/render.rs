//! Renders plans: text like a terraform plan, and the stable JSON the README documents.

use serde::Serialize;

use super::{Action, Plan};
use crate::model::operation::ActionKind;

/// The JSON format; grows compatibly, never renames.
pub const FORMAT_VERSION: u32 = 1;

/// The sign of an action in the text plan. Every disruptive action — a failover, a VM
/// stopped, and also a job deleted or a VM removed, which cannot be undone — shows `!`.
pub fn sign(action: &Action) -> char {
    if action.disruptive {
        return '!';
    }
    match action.kind() {
        ActionKind::CreateJob | ActionKind::OpenFirewallPort => '+',
        ActionKind::DeleteJob | ActionKind::RemoveReplica => '-',
        ActionKind::Alert => '*',
        _ => '~',
    }
}

/// Whether the action deletes something (counted as a deletion whatever its sign).
fn deletes(action: &Action) -> bool {
    matches!(
        action.kind(),
        ActionKind::DeleteJob | ActionKind::RemoveReplica
    )
}

pub const LEGEND: &str = "Signs: + create  ~ change  - delete  ! disruptive  * alert";

/// The text plan of several sites.
pub fn text(plans: &[Plan]) -> String {
    let mut out = String::new();
    let mut counts = [0usize; 5];
    for plan in plans {
        out.push_str(&format!(
            "Site {} (live host {}, standby host {})\n",
            plan.site,
            plan.live_host.as_deref().unwrap_or("unknown"),
            plan.standby_host.as_deref().unwrap_or("unknown")
        ));
        if let Some(why) = &plan.maintenance {
            out.push_str(&format!(
                "  maintenance: nothing below is applied ({why})\n"
            ));
        }
        if plan.actions.is_empty() {
            out.push_str("  no changes\n");
        }
        for action in &plan.actions {
            let s = sign(action);
            // A deletion counts as one and, being disruptive, as the other.
            if deletes(action) {
                counts[2] += 1;
            }
            match s {
                '+' => counts[0] += 1,
                '~' => counts[1] += 1,
                '!' => counts[3] += 1,
                '*' => counts[4] += 1,
                _ => {}
            }
            out.push_str(&format!(
                "  {s} {}\n      # {}\n",
                action.description, action.reason
            ));
        }
        for why in &plan.waiting {
            out.push_str(&format!("  … {why}\n"));
        }
        out.push('\n');
    }
    out.push_str(LEGEND);
    out.push('\n');
    out.push_str(&format!(
        "Plan: {} to create, {} to change, {} to delete, {} disruptive, {} alert(s).\n",
        counts[0], counts[1], counts[2], counts[3], counts[4]
    ));
    out
}

#[derive(Serialize)]
struct JsonPlan<'a> {
    format_version: u32,
    sites: Vec<JsonSite<'a>>,
}

#[derive(Serialize)]
struct JsonSite<'a> {
    name: &'a str,
    actions: Vec<JsonAction<'a>>,
    live_host: Option<&'a str>,
    standby_host: Option<&'a str>,
    maintenance: Option<&'a str>,
    waiting: &'a [String],
}

#[derive(Serialize)]
struct JsonAction<'a> {
    id: &'a str,
    kind: ActionKind,
    description: &'a str,
    reason: &'a str,
    disruptive: bool,
}

/// `{format_version, sites: [{name, actions: [{id, kind, description, reason, disruptive}]}]}`.
pub fn json(plans: &[Plan]) -> String {
    let doc = JsonPlan {
        format_version: FORMAT_VERSION,
        sites: plans
            .iter()
            .map(|p| JsonSite {
                name: &p.site,
                actions: p
                    .actions
                    .iter()
                    .map(|a| JsonAction {
                        id: &a.id,
                        kind: a.kind(),
                        description: &a.description,
                        reason: &a.reason,
                        disruptive: a.disruptive,
                    })
                    .collect(),
                live_host: p.live_host.as_deref(),
                standby_host: p.standby_host.as_deref(),
                maintenance: p.maintenance.as_deref(),
                waiting: &p.waiting,
            })
            .collect(),
    };
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::operation::Operation;

    fn action(op: Operation) -> Action {
        Action {
            id: format!("hq/{}", op.kind().as_str()),
            description: op.kind().as_str().to_string(),
            reason: "rule 8 (resume)".into(),
            disruptive: op.disruptive(),
            op,
            failover: None,
            decision: None,
            drill: None,
        }
    }

    #[test]
    fn deleting_a_job_or_removing_a_vm_is_shown_disruptive_and_counted_as_both() {
        let plan = Plan {
            resume_awaits_person: false,
            commit_until: None,
            finished_runs: Vec::new(),
            maintenance_host: None,
            site: "hq".into(),
            actions: vec![
                action(Operation::DeleteJob {
                    job: "GCSServer to GCSHOSTB".into(),
                    target: "GCSHOSTB".into(),
                    delete_replica: false,
                }),
                action(Operation::RemoveReplica {
                    host: "GCSHOSTA".into(),
                    vm: "GCSServer".into(),
                }),
                action(Operation::OpenFirewallPort {
                    host: "GCSHOSTA".into(),
                    port: 6320,
                    protocol: crate::observed::Protocol::Tcp,
                }),
            ],
            conditions: Vec::new(),
            memory: Default::default(),
            live_host: Some("GCSHOSTB".into()),
            standby_host: Some("GCSHOSTA".into()),
            maintenance: None,
            waiting: Vec::new(),
            recovered: None,
        };
        let text = text(std::slice::from_ref(&plan));
        assert!(text.contains("  ! delete-job\n"), "{text}");
        assert!(text.contains("  ! remove-replica\n"), "{text}");
        assert!(text.contains("  + open-firewall-port\n"), "{text}");
        assert!(
            text.contains("Plan: 1 to create, 0 to change, 2 to delete, 2 disruptive, 0 alert(s)."),
            "{text}"
        );
    }
}
