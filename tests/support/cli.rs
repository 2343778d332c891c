//! A site manifest in a temp dir and the real binary run against it.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

use super::manifest_yaml;

/// A site manifest in a temp dir, and the binary run against it.
pub struct Site {
    pub dir: tempfile::TempDir,
}

impl Site {
    pub fn new(mode: &str) -> Self {
        Self::with_yaml(&manifest_yaml(mode))
    }

    pub fn with_yaml(yaml: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hq.yaml"), yaml).unwrap();
        Site { dir }
    }

    /// The site's journal entries, oldest first, as the state dir holds them.
    pub fn journal(&self) -> Vec<Value> {
        let path = self.dir.path().join(".galaxy-ha/sites/hq/journal.jsonl");
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    pub fn manifest(&self) -> PathBuf {
        self.dir.path().join("hq.yaml")
    }

    pub fn edit(&self, from: &str, to: &str) {
        let text = std::fs::read_to_string(self.manifest()).unwrap();
        assert!(text.contains(from), "manifest has no {from:?}");
        std::fs::write(self.manifest(), text.replacen(from, to, 1)).unwrap();
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
            .args(args)
            .arg("-m")
            .arg(self.manifest())
            .env("RUST_LOG", "warn,galaxy_ha=info")
            .env_remove("GALAXY_HA_STATE_DIR")
            .output()
            .unwrap()
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "galaxy-ha {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    pub fn code(&self, args: &[&str]) -> i32 {
        self.run(args).status.code().unwrap()
    }

    pub fn show(&self) -> Value {
        let out = self.run(&["sim", "show", "--format", "json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    pub fn status(&self) -> Value {
        let out = self.run(&["status", "--format", "json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    pub fn condition(&self, kind: &str) -> String {
        self.condition_of(kind)["status"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The condition of `kind` as `status --format json` gives it.
    pub fn condition_of(&self, kind: &str) -> Value {
        self.status()["sites"][0]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == kind)
            .cloned()
            .unwrap_or_else(|| panic!("no condition {kind}"))
    }

    /// Converges from wherever the lab is.
    pub fn converge(&self) {
        self.ok(&["apply", "--yes", "--wait", "--timeout", "2h"]);
    }

    /// One pass every `step` for `total`, as a controller would; returns all output.
    pub fn passes(&self, step: &str, count: usize) -> String {
        let mut log = String::new();
        for _ in 0..count {
            log.push_str(&self.ok(&["apply", "--yes"]));
            self.ok(&["sim", "advance", step]);
        }
        log
    }

    /// A pass every `step` until `done` holds after one (at most `tries` passes); returns all
    /// output.
    pub fn apply_until(&self, step: &str, tries: usize, done: impl Fn(&Site) -> bool) -> String {
        let mut log = String::new();
        for _ in 0..tries {
            log.push_str(&self.ok(&["apply", "--yes"]));
            if done(self) {
                break;
            }
            self.ok(&["sim", "advance", step]);
        }
        log
    }

    pub fn failovers(&self) -> u64 {
        self.show()["failovers"].as_u64().unwrap()
    }

    pub fn elapsed_s(&self) -> u64 {
        self.show()["elapsed_ms"].as_u64().unwrap() / 1000
    }
}
