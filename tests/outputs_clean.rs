//! Clean outputs: `plan` says its errors before any summary, `history` filters by kind and
//! folds the baseline actions of one pass into one line.

use crate::support::cli::Site;

#[test]
fn plan_prints_no_summary_for_a_site_it_could_not_observe() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/manifests/branch-office.yaml"
    ))
    .unwrap();
    // Real hosts through PowerShell: on this controller the script cannot even start.
    let site = Site::with_yaml(&text);
    let out = site.run(&["plan"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("error: site branch-office"), "{stderr}");
    assert!(
        !stdout.contains("Plan:"),
        "an empty summary reads as \"nothing to do\": {stdout}"
    );
}

#[test]
fn history_filters_by_kind_and_folds_a_pass_of_baseline_actions() {
    let site = Site::new("manual");
    site.converge();
    let all = site.ok(&["history"]);
    let folded: Vec<&str> = all
        .lines()
        .filter(|l| l.contains(" baseline ") && l.contains("baseline actions"))
        .collect();
    assert_eq!(
        folded.len(),
        1,
        "the first pass's baseline actions fold into one line:\n{all}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&site.ok(&["history", "--format", "json"])).unwrap();
    let baseline = json["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["category"] == "baseline")
        .count();
    assert!(baseline > 1, "JSON keeps every action: {baseline}");
    assert!(
        folded[0].contains(&format!("{baseline} baseline actions")),
        "{}",
        folded[0]
    );

    let jobs = site.ok(&["history", "--kind", "job,resume"]);
    assert!(jobs.contains("create job"), "{jobs}");
    assert!(
        jobs.lines()
            .filter(|l| l.starts_with("20"))
            .all(|l| l.contains(" job ") || l.contains(" resume ")),
        "{jobs}"
    );
    let none = site.ok(&["history", "--kind", "fence"]);
    assert_eq!(none.trim(), "nothing matches --since/--kind");
    assert_eq!(site.code(&["history", "--kind", "nonsense"]), 2);
}
