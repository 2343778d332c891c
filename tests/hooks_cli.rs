//! Steps after a run (`spec.hooks`) through the real binary on the lab: a failover's
//! commands see the run's facts, its message goes to on-call, a failing step alerts and
//! undoes nothing; a drill's steps run once it ended, told it was a drill.

use crate::support::cli::Site;
use crate::support::{A, B};

fn with_hooks(dir: &std::path::Path) -> String {
    let facts = dir.join("failover-env.txt");
    let drill = dir.join("drill.txt");
    crate::support::manifest_yaml("automatic").replace(
        "spec:\n",
        &format!(
            r#"spec:
  hooks:
    failover:
      - run: [sh, -c, "env | grep ^GALAXY_HA_ | sort >> {facts}"]
        timeout: 30s
      - message: call the panel integrator to re-point the loops
      - run: [sh, -c, "echo cannot reach the panel server >&2; exit 3"]
    drill:
      - run: [sh, -c, "echo $GALAXY_HA_KIND $GALAXY_HA_REAL $GALAXY_HA_RESULT $GALAXY_HA_RUN >> {drill}"]
"#,
            facts = facts.display(),
            drill = drill.display()
        ),
    )
}

/// Passes until `done`, whatever each pass's exit code (a failing hook fails its pass).
fn apply_until(site: &Site, step: &str, tries: usize, done: impl Fn(&Site) -> bool) {
    for _ in 0..tries {
        site.run(&["apply", "--yes"]);
        if done(site) {
            return;
        }
        site.ok(&["sim", "advance", step]);
    }
}

#[test]
fn a_failovers_steps_should_run_once_with_its_facts_and_a_failing_one_should_alert_only() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::with_yaml(&with_hooks(dir.path()));
    site.converge();
    site.ok(&["sim", "fault", "host-down", A]);
    let facts = dir.path().join("failover-env.txt");
    apply_until(&site, "30s", 40, |_| facts.exists());
    // A few passes more: a hook point is one pass, so the steps do not run again.
    for _ in 0..3 {
        site.run(&["apply", "--yes"]);
        site.ok(&["sim", "advance", "30s"]);
    }
    let env = std::fs::read_to_string(&facts).expect("the first step ran");
    assert_eq!(env.matches("GALAXY_HA_RUN=").count(), 1, "once: {env}");
    for line in [
        "GALAXY_HA_SITE=hq",
        "GALAXY_HA_KIND=failover",
        "GALAXY_HA_REAL=true",
        &format!("GALAXY_HA_FROM={A}"),
        &format!("GALAXY_HA_TO={B}"),
        "GALAXY_HA_RESULT=live",
    ] {
        assert!(env.lines().any(|l| l == line), "{line} in {env}");
    }
    let run = env
        .lines()
        .find_map(|l| l.strip_prefix("GALAXY_HA_RUN="))
        .unwrap()
        .to_string();
    assert!(run.starts_with("failover-"), "{run}");

    let alerts = site.ok(&["history", "--kind", "alert"]);
    assert!(
        alerts.contains(&format!(
            "message: failover {run} (from {A} to {B}, live): call the panel integrator to re-point the loops"
        )),
        "{alerts}"
    );
    assert_eq!(
        alerts
            .matches("hook-failed: the step spec.hooks.failover[2]")
            .count(),
        1,
        "{alerts}"
    );
    assert!(
        alerts.contains("exited with code 3; output: cannot reach the panel server"),
        "{alerts}"
    );
    // Nothing undone: System Galaxy stays on B, one failover.
    assert_eq!(site.failovers(), 1);
    assert_eq!(site.status()["sites"][0]["live_host"], B);
    // The hooks' outcomes are steps of the failover's report.
    let failover = site.ok(&["history", "--kind", "failover"]);
    assert!(
        failover.contains("run hook spec.hooks.failover[0]"),
        "{failover}"
    );
}

#[test]
fn a_drills_steps_should_run_once_it_ended_and_know_it_was_a_drill() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::with_yaml(&with_hooks(dir.path()));
    site.converge();
    site.ok(&["failover", "hq", "--test", "--yes"]);
    let drill = dir.path().join("drill.txt");
    apply_until(&site, "30s", 12, |_| drill.exists());
    let text = std::fs::read_to_string(&drill).expect("the drill's step ran");
    let words: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(words[..3], ["drill", "false", "pass"], "{text}");
    assert!(words[3].starts_with("drill-"), "{text}");
    assert!(
        !dir.path().join("failover-env.txt").exists(),
        "a drill runs its own steps only"
    );
}
