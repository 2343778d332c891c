//! The guide's own site as a manifest (hosts GCSHOSTA and GCSHOSTB, VM GCSServer): the demo,
//! the benchmarks and the tests all start from it.

use super::spec::{FailoverMode, Manifest};

/// The guide's site `hq` on the simulated lab, with the monitor's defaults (10 s, 5 min).
pub fn guide_site_yaml(mode: FailoverMode) -> String {
    let mode = match mode {
        FailoverMode::Manual => "manual",
        FailoverMode::Automatic => "automatic",
    };
    format!(
        r#"apiVersion: galaxy-ha/v1
kind: RedundantServer
metadata:
  name: hq
spec:
  platform:
    kind: simulated
  hosts:
    - name: GCSHOSTA
      address: 10.100.0.43
    - name: GCSHOSTB
      address: 10.100.0.44
  primary: GCSHOSTA
  vm:
    name: GCSServer
    address: 10.100.0.45
  failover:
    mode: {mode}
"#
    )
}

/// The guide's site on real hosts (`kind: powershell`) under another name, hosts and
/// addresses (live host, standby host, VM): what the one-pair-one-site checks are tested on.
pub fn real_site_yaml(name: &str, hosts: [&str; 2], addresses: [&str; 3]) -> String {
    guide_site_yaml(FailoverMode::Manual)
        .replace("name: hq", &format!("name: {name}"))
        .replace("kind: simulated", "kind: powershell")
        .replace("GCSHOSTA", hosts[0])
        .replace("GCSHOSTB", hosts[1])
        .replace("10.100.0.43", addresses[0])
        .replace("10.100.0.44", addresses[1])
        .replace("10.100.0.45", addresses[2])
}

/// [`guide_site_yaml`], parsed.
pub fn guide_site(mode: FailoverMode) -> Manifest {
    match serde_saphyr::from_str(&guide_site_yaml(mode)) {
        Ok(m) => m,
        Err(e) => unreachable!("the built-in sample manifest parses: {e}"),
    }
}

/// Documents the loader must refuse quickly and without expanding them, each under the size
/// cap: alias bombs (a billion laughs, as the whole document and where the manifest wants a
/// list of strings; a large string referenced thousands of times; one large anchor referenced
/// many times) and deep nesting (a million `[`, a thousand block levels, mixed flow maps and
/// lists). Named by what they are, for the tests and the benchmark report.
pub fn hostile() -> Vec<(&'static str, String)> {
    let guide = guide_site_yaml(FailoverMode::Manual);
    let laughs = |indent: &str| {
        let mut text =
            format!("{indent}- &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("{indent}- &a{i} [{refs}]\n"));
        }
        text
    };
    let email = |from: &str, to: &str| {
        format!(
            "{guide}  notifications:\n    email:\n      smtp: {{server: mail.example.test, port: 25, security: none}}\n      from: {from}\n      to:{to}\n"
        )
    };
    let mut block = String::new();
    for depth in 0..1000 {
        block.push_str(&format!("{}a{depth}:\n", " ".repeat(depth)));
    }
    vec![
        ("billion-laughs", format!("{}- *a9\n", laughs(""))),
        (
            "billion-laughs-in-recipients",
            email(
                "ha@example.test",
                &format!("\n{}        - *a9", laughs("        ")),
            ),
        ),
        (
            "string-referenced-2000-times",
            email(
                &format!("&r \"{}@example.test\"", "x".repeat(100_000)),
                &format!(" [{}]", vec!["*r"; 2000].join(", ")),
            ),
        ),
        (
            "large-anchor-referenced-9-times",
            format!(
                "{guide}x: &big \"{}\"\ny: [{}]\n",
                "x".repeat(100_000),
                ["*big"; 9].join(", ")
            ),
        ),
        (
            "million-brackets",
            format!("spec: {}\n", "[".repeat(1_000_000)),
        ),
        ("thousand-block-levels", block),
        (
            "mixed-flow-nesting",
            format!("spec: {}\n", "{a: [".repeat(150_000)),
        ),
    ]
}
