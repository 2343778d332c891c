//! A command's exit status and peak memory through `tests/maxrss.py`, shared by the tests
//! and the benchmarks (`#[path]`-included there).

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

/// What a command did: exit code, peak resident memory in KiB, stdout and stderr.
pub struct Peak {
    pub code: i64,
    pub kib: u64,
    pub output: String,
}

/// Runs `program args…` under `tests/maxrss.py`, which measures the child's own peak.
pub fn run(program: &OsStr, args: &[&OsStr]) -> Peak {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/maxrss.py");
    // Debian's python3 packages live beside the system interpreter.
    let python = if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let out = Command::new(python)
        .arg(script)
        .arg(program)
        .args(args)
        .output()
        .expect("python3");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("maxrss.py: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    Peak {
        code: doc["code"].as_i64().unwrap_or(-1),
        kib: doc["max_rss_kib"].as_u64().unwrap_or(u64::MAX),
        output: format!(
            "{}{}",
            doc["stdout"].as_str().unwrap_or_default(),
            doc["stderr"].as_str().unwrap_or_default()
        ),
    }
}
