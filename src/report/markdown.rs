//! Reports as Markdown: what an admin pastes into a ticket or a change record.

use std::fmt::Write as _;

use super::{Report, checks, facts};

/// Table cells keep to one line and never end the cell early.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

pub fn markdown(reports: &[Report]) -> String {
    let mut out = String::new();
    for r in reports {
        let _ = writeln!(
            out,
            "## {} — {} {} ({})\n",
            r.run.id,
            r.run.kind.as_str(),
            r.run.result.to_uppercase(),
            r.site
        );
        out.push_str("| | |\n|---|---|\n");
        for (label, value) in facts(r) {
            let _ = writeln!(out, "| {label} | {} |", cell(&value));
        }
        if !r.started_by.decision.is_empty() {
            out.push_str("\n**The automatic decision**\n\n");
            for line in &r.started_by.decision {
                let _ = writeln!(out, "- {line}");
            }
        }
        let checks = checks(r);
        if !checks.is_empty() {
            out.push_str("\n**Checks**\n\n| Check | Result | At | Seen |\n|---|---|---|---|\n");
            for [name, result, at, seen] in checks {
                let _ = writeln!(
                    out,
                    "| {} | {result} | {at} | {} |",
                    cell(&name),
                    cell(&seen)
                );
            }
        }
        out.push_str("\n**Steps**\n\n");
        if r.steps.is_empty() {
            out.push_str("No step was journaled in this run's time.\n");
        } else {
            out.push_str("| At | Step | Outcome |\n|---|---|---|\n");
            for s in &r.steps {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    s.at,
                    cell(&s.what),
                    cell(&s.outcome)
                );
            }
        }
        out.push('\n');
    }
    out
}
