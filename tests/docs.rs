//! The runbook has a section for every alert kind and condition type, and what people read
//! (e-mails, status) links to it.

use galaxy_ha::plan::{AlertKind, ConditionType};

fn runbook() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/runbook.md"))
        .expect("docs/runbook.md")
}

fn anchor(link: &str) -> String {
    let (file, anchor) = link.split_once('#').expect("a link with an anchor");
    assert_eq!(file, "docs/runbook.md");
    format!("<a id=\"{anchor}\"></a>")
}

#[test]
fn every_alert_kind_has_a_runbook_section() {
    let text = runbook();
    for kind in AlertKind::ALL {
        let a = anchor(&kind.runbook());
        assert!(
            text.contains(&a),
            "docs/runbook.md lacks {a} for alert {}",
            kind.as_str()
        );
    }
    assert!(
        text.contains("<a id=\"alerts-failing\"></a>"),
        "alerts failing to send"
    );
}

#[test]
fn every_condition_type_has_a_runbook_section() {
    let text = runbook();
    for kind in ConditionType::ALL {
        let a = anchor(&kind.runbook());
        assert!(
            text.contains(&a),
            "docs/runbook.md lacks {a} for condition {}",
            kind.as_str()
        );
    }
}

#[test]
fn alert_emails_and_status_link_to_the_runbook() {
    let alert = galaxy_ha::alert::Alert {
        site: "hq".into(),
        kind: AlertKind::ConditionMet,
        severity: galaxy_ha::plan::action::Severity::Warning,
        key: "condition-met/GCSHOSTA".into(),
        message: "the condition for failure is met".into(),
        at: "2026-01-05T08:00:00Z".parse().unwrap(),
    };
    let body = galaxy_ha::alert::email::body(&alert, "id-1");
    assert!(
        body.contains("Runbook:   docs/runbook.md#alert-condition-met"),
        "{body}"
    );

    let site = crate::support::cli::Site::new("manual");
    let json = site.status();
    for c in json["sites"][0]["conditions"].as_array().unwrap() {
        let link = c["runbook"].as_str().unwrap();
        assert!(runbook().contains(&anchor(link)), "{link}");
    }
    let text = site.ok(&["status"]);
    assert!(
        text.contains("→ docs/runbook.md#condition-protected"),
        "{text}"
    );
}

#[test]
fn the_windows_guide_lists_the_event_id_of_every_alert_and_of_other_errors() {
    let guide = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/windows.md"))
        .expect("docs/windows.md");
    let ids = AlertKind::ALL
        .iter()
        .map(|k| u32::from(k.event_id()))
        .chain([galaxy_ha::logging::ERROR_EVENT_ID]);
    for id in ids {
        assert!(
            guide.contains(&format!("\n| {id} | ")),
            "docs/windows.md's event ID table lacks {id}"
        );
    }
}
