//! Golden files of the outputs admins' scripts and eyes read — `plan`, `status` (text and
//! JSON), `history` and `sim show` — on fixed lab scenarios. A change to any of them shows as
//! a snapshot diff to review (`cargo insta review`), never as a silent change of a contract.

use crate::support::A;
use crate::support::cli::Site;

/// The outputs of one scenario, the temp dir's and the checkout's paths replaced (runbook
/// links name the checkout) so that the files are the same on every machine.
fn outputs(site: &Site, scenario: &str) {
    let dir = site.dir.path().display().to_string();
    for (what, args) in [
        ("plan", &["plan"][..]),
        ("plan-json", &["plan", "--format", "json"]),
        ("status", &["status"]),
        ("status-json", &["status", "--format", "json"]),
        ("history", &["history"]),
        ("sim-show", &["sim", "show"]),
    ] {
        let out = site.run(args);
        // `status` exits 0 only when the site is protecting; the text is the contract here.
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .replace(&dir, "[DIR]")
        .replace(env!("CARGO_MANIFEST_DIR"), "[REPO]");
        insta::with_settings!({ prepend_module_to_snapshot => false, description => format!("galaxy-ha {} (exit {:?})", args.join(" "), out.status.code()) }, {
            insta::assert_snapshot!(format!("golden-{scenario}-{what}"), text);
        });
    }
}

#[test]
fn healthy() {
    let site = Site::new("automatic");
    site.converge();
    outputs(&site, "healthy");
}

#[test]
fn live_host_down_with_the_countdown() {
    let site = Site::new("automatic");
    site.converge();
    site.ok(&["sim", "fault", "host-down", A]);
    site.passes("10s", 3);
    outputs(&site, "countdown");
}

#[test]
fn failed_over_and_the_manifest_stale() {
    let site = Site::new("automatic");
    site.converge();
    site.ok(&["sim", "fault", "host-down", A]);
    site.passes("10s", 33);
    site.ok(&["sim", "fault", "host-up", A]);
    site.converge();
    outputs(&site, "failed-over");
}

#[test]
fn switchover_in_progress() {
    let site = Site::new("manual");
    site.converge();
    site.edit("primary: GCSHOSTA", "primary: GCSHOSTB");
    site.ok(&["apply", "--yes"]);
    outputs(&site, "switchover");
}

#[test]
fn maintenance() {
    let site = Site::new("automatic");
    site.converge();
    site.edit(
        "  primary: GCSHOSTA\n",
        "  primary: GCSHOSTA\n  maintenance:\n    reason: SQL Server patching (change CHG-20431)\n",
    );
    site.ok(&["sim", "fault", "host-down", A]);
    // Past the monitor's five minutes: the controller says it would fail over.
    site.passes("10s", 33);
    outputs(&site, "maintenance");
    // Maintenance ends: a fresh countdown, no failover at once.
    site.edit(
        "  maintenance:\n    reason: SQL Server patching (change CHG-20431)\n",
        "",
    );
    site.ok(&["apply", "--yes"]);
    outputs(&site, "maintenance-ended");
}

#[test]
fn split_brain() {
    let site = Site::new("automatic");
    site.converge();
    site.ok(&["sim", "fault", "vm-start", crate::support::B]);
    outputs(&site, "split-brain");
}
