//! `galaxy-ha sim` on the real binary, in a temp dir with a manifest written by the test.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

use crate::sim_support::manifest_text;

struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("hq.yaml"), manifest_text()).expect("manifest");
        Self { dir }
    }

    fn sim(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("galaxy-ha").expect("binary");
        cmd.current_dir(self.dir.path())
            .env_remove("GALAXY_HA_STATE_DIR")
            .env("GALAXY_HA_SIM_SEED", "7")
            .arg("sim")
            .args(args)
            .args(["-m", "hq.yaml"]);
        cmd
    }

    fn show(&self) -> Value {
        let out = self
            .sim(&["show", "--format", "json"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        serde_json::from_slice(&out).expect("show json")
    }
}

#[test]
fn sim_show_json_has_the_documented_keys_on_a_fresh_world() {
    let lab = Lab::new();
    let v = lab.show();
    assert_eq!(v["clock"], "2026-01-05T08:00:00Z");
    assert_eq!(v["seed"], 7);
    assert_eq!(v["hosts"][0]["name"], "GCSHOSTA");
    assert_eq!(v["hosts"][0]["up"], true);
    assert_eq!(v["hosts"][0]["vm_state"], "running");
    assert_eq!(v["hosts"][1]["vm_state"], "none");
    assert!(v["job"].is_null());
    for key in ["produced", "stored", "lost", "buffered", "in_flight"] {
        assert_eq!(v["events"][key], 0, "{key}");
    }
    assert!(lab.dir.path().join(".galaxy-ha/sim/hq.json").exists());
}

#[test]
fn sim_advance_fault_and_reset_continue_one_world_across_runs() {
    let lab = Lab::new();
    lab.sim(&["advance", "6m"])
        .assert()
        .success()
        .stdout(predicate::str::contains("2026-01-05T08:06:00Z"));
    lab.sim(&["fault", "host-down", "GCSHOSTA"])
        .assert()
        .success();
    lab.sim(&["fault", "link-down", "controller", "GCSHOSTB"])
        .assert()
        .success();
    lab.sim(&["advance", "1m"]).assert().success();
    let v = lab.show();
    assert_eq!(v["clock"], "2026-01-05T08:07:00Z");
    assert_eq!(v["hosts"][0]["up"], false);
    assert_eq!(v["hosts"][0]["vm_state"], "off");
    assert_eq!(v["hosts"][1]["reachable"], false);
    assert_eq!(v["links_down"][0][1], "GCSHOSTB");
    assert!(v["events"]["buffered"].as_u64().expect("buffered") > 40);
    lab.sim(&["show"])
        .assert()
        .success()
        .stdout(predicate::str::contains("DOWN").and(predicate::str::contains("job: none")));
    lab.sim(&["reset"]).assert().success();
    let v = lab.show();
    assert_eq!(v["clock"], "2026-01-05T08:00:00Z");
    assert_eq!(v["hosts"][0]["up"], true);
}

#[test]
fn sim_fault_errors_are_clear() {
    let lab = Lab::new();
    lab.sim(&["fault", "meteor"]).assert().code(1).stderr(
        predicate::str::contains("unknown fault").and(predicate::str::contains("host-down")),
    );
    lab.sim(&["fault", "host-down", "GCSHOSTZ"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no host named \"GCSHOSTZ\""));
    lab.sim(&["fault", "link-down", "GCSHOSTA"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("usage"));
}

#[test]
fn a_corrupt_world_file_says_how_to_fix_it() {
    let lab = Lab::new();
    let path = lab.dir.path().join(".galaxy-ha/sim/hq.json");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, "garbage").expect("write");
    lab.sim(&["show"]).assert().code(1).stderr(
        predicate::str::contains("hq.json").and(predicate::str::contains("galaxy-ha sim reset")),
    );
    lab.sim(&["reset"]).assert().success();
    lab.sim(&["show"]).assert().success();
}

#[test]
fn several_sites_need_site() {
    let lab = Lab::new();
    std::fs::write(
        lab.dir.path().join("b.yaml"),
        manifest_text().replace("name: hq", "name: branch"),
    )
    .expect("manifest");
    Command::cargo_bin("galaxy-ha")
        .expect("binary")
        .current_dir(lab.dir.path())
        .args(["sim", "show", "-m", "."])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--site"));
    Command::cargo_bin("galaxy-ha")
        .expect("binary")
        .current_dir(lab.dir.path())
        .args(["sim", "advance", "1m", "-m", ".", "--site", "branch"])
        .assert()
        .success();
    assert!(lab.dir.path().join(".galaxy-ha/sim/branch.json").exists());
}

#[test]
fn sim_help_gives_an_example_for_each_verb() {
    for verb in ["show", "advance", "reset", "fault"] {
        Command::cargo_bin("galaxy-ha")
            .expect("binary")
            .args(["sim", verb, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains("Example: galaxy-ha sim"));
    }
}
