//! Reports as one self-contained HTML page (no script, no external file), laid out to print:
//! what an auditor is handed.

use std::fmt::Write as _;

use super::{Report, checks, facts};

/// Text for HTML: `<`, `>`, `&` and quotes escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:Segoe UI,Helvetica,Arial,sans-serif;margin:2em;color:#111}\
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #999}\
table{border-collapse:collapse;margin:.5em 0;width:100%}th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top;font-size:.9em}\
th{background:#eee}.pass{color:#064}.fail{color:#a00;font-weight:bold}.running{color:#840}\
section{page-break-inside:avoid}@media print{body{margin:0}h2{page-break-after:avoid}}";

/// `title` heads the page: the site or period the reports cover.
pub fn html(title: &str, generated: jiff::Timestamp, reports: &[Report]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body>\n<h1>{t}</h1>\n<p>Generated {generated} by galaxy-ha {v}: {n} run(s).</p>\n",
        t = escape(title),
        v = env!("CARGO_PKG_VERSION"),
        n = reports.len()
    );
    for r in reports {
        let class = match r.run.result.as_str() {
            "pass" => "pass",
            "running" => "running",
            _ => "fail",
        };
        let _ = write!(
            out,
            "<section id=\"{id}\"><h2>{id} — {kind} <span class=\"{class}\">{result}</span></h2>\n<table>",
            id = escape(&r.run.id),
            kind = r.run.kind.as_str(),
            result = escape(&r.run.result.to_uppercase())
        );
        for (label, value) in facts(r) {
            let _ = write!(
                out,
                "<tr><th>{}</th><td>{}</td></tr>",
                escape(label),
                escape(&value)
            );
        }
        out.push_str("</table>\n");
        if !r.started_by.decision.is_empty() {
            out.push_str("<h3>The automatic decision</h3><ul>");
            for line in &r.started_by.decision {
                let _ = write!(out, "<li>{}</li>", escape(line));
            }
            out.push_str("</ul>\n");
        }
        let checks = checks(r);
        if !checks.is_empty() {
            out.push_str("<h3>Checks</h3><table><tr><th>Check</th><th>Result</th><th>At</th><th>Seen</th></tr>");
            for [name, result, at, seen] in checks {
                let class = if result == "pass" { "pass" } else { "fail" };
                let _ = write!(
                    out,
                    "<tr><td>{}</td><td class=\"{class}\">{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&name),
                    escape(&result),
                    escape(&at),
                    escape(&seen)
                );
            }
            out.push_str("</table>\n");
        }
        out.push_str("<h3>Steps</h3>");
        if r.steps.is_empty() {
            out.push_str("<p>No step was journaled in this run's time.</p>");
        } else {
            out.push_str("<table><tr><th>At</th><th>Step</th><th>Outcome</th></tr>");
            for s in &r.steps {
                let _ = write!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    s.at,
                    escape(&s.what),
                    escape(&s.outcome)
                );
            }
            out.push_str("</table>");
        }
        out.push_str("</section>\n");
    }
    out.push_str("</body></html>\n");
    out
}
