//! `/`: the dashboard, drawn by the server from what each site's last pass saw, so the page
//! reads whole without JavaScript (a screenshot, a text browser, a locked-down kiosk). One
//! self-contained page: inline CSS, no external network; a few lines of script fetch it again
//! every few seconds and swap the cards in, and without script it refreshes itself.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

use super::{Shared, SiteView};
use crate::status::{SiteStatus, ago, moment};

/// The page around the cards.
const TEMPLATE: &str = include_str!("dashboard.html");

/// A card whose last pass is older than this many monitor intervals is marked stale: the
/// controller may be hung, or cannot observe the site.
pub const STALE_INTERVALS: u32 = 3;

pub async fn page(State(shared): State<Shared>) -> Response {
    let html = render(&shared, SystemTime::now());
    ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

/// The whole page as of `now` (the controller's wall clock).
pub fn render(shared: &Shared, now: SystemTime) -> String {
    let status = shared.status();
    let mut cards = String::new();
    for site in &status.sites {
        let view = shared.view(&site.name);
        card(&mut cards, site, view.as_deref(), now);
    }
    if status.sites.is_empty() {
        cards.push_str("<p class=\"muted\">no site has finished a pass yet</p>");
    }
    let now_ts = jiff::Timestamp::try_from(now).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let updated = format!(
        "drawn by the controller at {}",
        escape(&moment(now_ts, now_ts))
    );
    TEMPLATE
        .replace("{{UPDATED}}", &updated)
        .replace("{{SITES}}", &cards)
}

pub use crate::report::escape;

fn field(out: &mut String, name: &str, label: &str, value: &str) {
    let _ = write!(
        out,
        "<dt>{}</dt><dd data-field=\"{name}\">{}</dd>",
        escape(label),
        escape(value)
    );
}

fn card(out: &mut String, s: &SiteStatus, view: Option<&SiteView>, now: SystemTime) {
    let name = escape(&s.name);
    let _ = write!(
        out,
        "<section class=\"card\" data-site=\"{name}\"><h2>Site {name}</h2>"
    );
    // In a fleet: a site another controller owns and reports.
    if s.owner.is_some() && s.conditions.is_empty() && s.live_host.is_none() {
        let _ = write!(
            out,
            "<p class=\"muted\">Owned by controller <strong data-field=\"owner\">{}</strong>, whose dashboard reports it.</p></section>",
            escape(s.owner.as_deref().unwrap_or("none"))
        );
        return;
    }
    let _ = write!(
        out,
        "<p class=\"verdict {}\" data-field=\"verdict\">{}</p>",
        s.check.label().to_lowercase(),
        escape(&s.verdict)
    );
    if let Some(v) = view {
        age(out, v, now);
    }
    let activity = match (&s.activity, s.percent) {
        (Some(a), Some(p)) => format!("{a} ({p}%)"),
        (Some(a), None) => a.clone(),
        (None, _) => "no job".to_string(),
    };
    let _ = write!(
        out,
        "<div class=\"hosts\"><span>Live host <strong data-field=\"live_host\">{}</strong></span><span>Standby host <strong data-field=\"standby_host\">{}</strong></span><span class=\"activity{}\" data-field=\"activity\">{}</span>",
        escape(s.live_host.as_deref().unwrap_or("unknown")),
        escape(s.standby_host.as_deref().unwrap_or("unknown")),
        if s.activity.as_deref() == Some("Protecting") {
            ""
        } else {
            " other"
        },
        escape(&activity)
    );
    if let Some(owner) = &s.owner {
        let _ = write!(
            out,
            "<span>Owner <strong data-field=\"owner\">{}</strong></span>",
            escape(owner)
        );
    }
    out.push_str("</div>");

    out.push_str("<h3>Now</h3><dl>");
    if let Some(mode) = &s.failover_mode {
        field(out, "failover_mode", "Failover mode", mode);
    }
    if let Some(why) = &s.maintenance {
        field(out, "maintenance", "Maintenance", why);
    }
    let running = if s.running_on.is_empty() {
        "no host".to_string()
    } else {
        s.running_on
            .iter()
            .map(|h| h.as_str())
            .collect::<Vec<_>>()
            .join(" and ")
    };
    field(out, "running_on", "System Galaxy runs on", &running);
    if let Some(at) = s.observed_at {
        if let Some(t) = s.down_since {
            field(out, "down_since", "Missed since", &moment(t, at));
        }
        if let Some(t) = s.condition_met_at {
            field(
                out,
                "condition_met_at",
                "Condition for failure",
                &format!("met at {}", moment(t, at)),
            );
        }
    }
    if s.condition_met_at.is_none()
        && let Some(left) = s.failover_monitor_remaining_s
    {
        field(
            out,
            "failover_monitor",
            "Failover monitor",
            &format!(
                "source missed; condition for failure in {}",
                crate::status::clock(Duration::from_secs(left))
            ),
        );
    }
    if let Some(command) = &s.approval {
        let _ = write!(
            out,
            "<dt>Waiting for your approval</dt><dd data-field=\"approval\"><span class=\"command\">{}</span></dd>",
            escape(command)
        );
    }
    if let Some(on) = &s.test_failover_on {
        field(
            out,
            "drill",
            "Test failover (drill)",
            &format!("running isolated on {on}"),
        );
    }
    if let Some(last) = &s.last_drill {
        field(out, "last_drill", "Last drill", &last.drill.line());
    }
    if let Some(to) = &s.switchover_to {
        field(
            out,
            "switchover",
            "Planned switchover",
            &format!("to {to}, in progress"),
        );
    }
    if let Some(line) = s.snapshots_line() {
        field(out, "snapshots", "Snapshots", &line);
    }
    if let Some(line) = s.commit_line() {
        field(out, "commit", "Failover commit", &line);
    }
    out.push_str("</dl>");

    hosts(out, s);
    job(out, s);

    out.push_str("<h3>Conditions</h3><table>");
    for c in &s.conditions {
        let positive = matches!(c.kind, "Ready" | "Protected" | "FailoverReady");
        let good = positive == (c.status == "True");
        let _ = write!(
            out,
            "<tr data-condition=\"{}\"><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(c.kind),
            escape(c.kind),
            if good { "good" } else { "bad" },
            escape(c.status),
            escape(&c.reason),
            escape(&c.message)
        );
    }
    out.push_str("</table>");

    out.push_str("<h3>History</h3><dl>");
    let last = s.last_failover.as_ref().map_or("never".to_string(), |f| {
        format!("{} from {} to {}", f.at, f.from, f.to)
    });
    field(out, "last_failover", "Last failover", &last);
    field(
        out,
        "last_test_failover",
        "Last test failover",
        &s.last_test_failover
            .map_or("never".to_string(), |t| t.to_string()),
    );
    field(
        out,
        "alerts_pending",
        "Alerts pending delivery",
        &s.alerts_pending.to_string(),
    );
    out.push_str("</dl>");

    if let Some(v) = view {
        pending(out, v);
        runs(out, v, &s.name);
        recent(out, v);
    }
    out.push_str("</section>");
}

/// How old the card is; past [`STALE_INTERVALS`] intervals, a warning.
fn age(out: &mut String, view: &SiteView, now: SystemTime) {
    let old = now.duration_since(view.published).unwrap_or_default();
    let old = Duration::from_secs(old.as_secs());
    let limit = view.interval.saturating_mul(STALE_INTERVALS);
    let words = if old.is_zero() {
        "just now".to_string()
    } else {
        format!("{} ago", humantime::format_duration(old))
    };
    if old > limit {
        let _ = write!(
            out,
            "<p class=\"age stale\" data-field=\"pass_age\">last pass {} — older than {STALE_INTERVALS} monitor intervals ({}): the controller may be hung or cannot observe the site; this card may be out of date</p>",
            escape(&words),
            humantime::format_duration(limit)
        );
    } else {
        let _ = write!(
            out,
            "<p class=\"age\" data-field=\"pass_age\">last pass {}</p>",
            escape(&words)
        );
    }
}

fn hosts(out: &mut String, s: &SiteStatus) {
    out.push_str("<h3>Hosts (Hyper-V)</h3><ul data-field=\"hosts\">");
    for h in &s.hosts {
        let answers = if h.answers {
            "answers".to_string()
        } else {
            match (h.silent_since, s.observed_at) {
                (Some(t), Some(now)) => {
                    format!("NOT ANSWERING since {} ({})", moment(t, now), ago(t, now))
                }
                _ => "NOT ANSWERING".to_string(),
            }
        };
        let role = h.role.map(|r| format!(" ({r})")).unwrap_or_default();
        let _ = write!(
            out,
            "<li data-host=\"{}\"><strong>{}</strong>{} — <span class=\"{}\">{}</span>",
            escape(&h.name),
            escape(&h.name),
            escape(&role),
            if h.answers { "good" } else { "bad" },
            escape(&answers)
        );
        if !h.vms.is_empty() {
            out.push_str("<ul class=\"vms\">");
            for vm in &h.vms {
                let what = match (vm.role, vm.isolated) {
                    (_, true) => "test failover, isolated",
                    ("system-galaxy", false) => "System Galaxy",
                    _ => "replica",
                };
                let _ = write!(
                    out,
                    "<li>{} — {} ({})</li>",
                    escape(&vm.name),
                    escape(vm.state),
                    what
                );
            }
            out.push_str("</ul>");
        }
        out.push_str("</li>");
    }
    out.push_str("</ul>");
}

fn job(out: &mut String, s: &SiteStatus) {
    out.push_str("<h3>Job</h3>");
    let Some(j) = &s.job else {
        out.push_str("<p class=\"muted\">no replication job</p>");
        return;
    };
    let bytes = |n: u64| indicatif::HumanBytes(n).to_string();
    out.push_str("<dl>");
    field(
        out,
        "job",
        "Job",
        &format!("{} ({} → {})", j.name, j.source, j.target),
    );
    field(
        out,
        "target_data_state",
        "Target data state",
        &j.target_data_state,
    );
    field(
        out,
        "mirror_remaining",
        "Mirror remaining",
        &bytes(j.mirror_remaining_bytes),
    );
    field(
        out,
        "replication_queue",
        "Replication queue",
        &bytes(j.replication_queue_bytes),
    );
    field(out, "disk_queue", "Disk queue", &bytes(j.disk_queue_bytes));
    field(
        out,
        "recovery_point_latency",
        "Recovery point latency",
        &crate::status::clock(Duration::from_millis(j.recovery_point_latency_ms)),
    );
    field(out, "bytes_sent", "Bytes sent", &bytes(j.bytes_sent));
    field(
        out,
        "connected_since",
        "Connected since",
        &j.connected_since
            .map_or("not connected".to_string(), |t| t.to_string()),
    );
    out.push_str("</dl>");
}

/// The plan of the last pass: what the controller does next and what it waits for.
fn pending(out: &mut String, view: &SiteView) {
    out.push_str("<h3>Pending actions</h3>");
    let plan: Value = serde_json::from_str(&view.plan_json).unwrap_or(Value::Null);
    let site = &plan["sites"][0];
    let list = |key: &str| site[key].as_array().cloned().unwrap_or_default();
    let (actions, waiting) = (list("actions"), list("waiting"));
    if actions.is_empty() && waiting.is_empty() {
        out.push_str("<p class=\"muted\" data-field=\"plan\">no changes</p>");
        return;
    }
    out.push_str("<ul data-field=\"plan\">");
    for a in &actions {
        let _ = write!(
            out,
            "<li>{}{}<span class=\"muted\"> — {}</span></li>",
            if a["disruptive"].as_bool() == Some(true) {
                "! "
            } else {
                ""
            },
            escape(a["description"].as_str().unwrap_or_default()),
            escape(a["reason"].as_str().unwrap_or_default())
        );
    }
    for w in &waiting {
        let _ = write!(
            out,
            "<li class=\"muted\">… {}</li>",
            escape(w.as_str().unwrap_or_default())
        );
    }
    out.push_str("</ul>");
}

/// The site's last runs, each linked to its printable report.
fn runs(out: &mut String, view: &SiteView, site: &str) {
    if view.reports.is_empty() {
        return;
    }
    out.push_str("<h3>Last runs</h3><ul data-field=\"runs\">");
    for r in view.reports.iter().rev() {
        let _ = write!(
            out,
            "<li><a href=\"/reports/{site}/{id}\">{id}</a> {kind} {result}</li>",
            site = escape(site),
            id = escape(&r.run.id),
            kind = r.run.kind.as_str(),
            result = escape(&r.run.result.to_uppercase())
        );
    }
    out.push_str("</ul>");
}

fn recent(out: &mut String, view: &SiteView) {
    out.push_str("<h3>Recent alerts and journal</h3>");
    if view.recent.is_empty() {
        out.push_str("<p class=\"muted\" data-field=\"recent\">nothing yet</p>");
        return;
    }
    out.push_str("<ul data-field=\"recent\">");
    for e in view.recent.iter().rev() {
        let _ = write!(
            out,
            "<li class=\"{}\"><span class=\"muted\">{} </span>{}: {} [{}]</li>",
            if e.category == "alert" { "alert" } else { "" },
            e.at,
            e.category,
            escape(&e.what),
            escape(&e.outcome)
        );
    }
    out.push_str("</ul>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<b>\"a\" & 'b'</b>"),
            "&lt;b&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/b&gt;"
        );
    }
}
