//! The runbook has a section for every alert kind and condition type, and what people read
//! (e-mails, status) links to it.

use galaxy_ha::plan::{AlertKind, ConditionType};

fn runbook() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/runbook.md"))
        .expect("docs/runbook.md")
}

/// The anchor of an absolute runbook link (`file:///…/docs/runbook.md#x` by default).
fn anchor(link: &str) -> String {
    let (file, anchor) = link.split_once('#').expect("a link with an anchor");
    assert!(
        file.contains("://") && file.ends_with("/docs/runbook.md"),
        "an absolute link to the runbook: {file}"
    );
    format!("<a id=\"{anchor}\"></a>")
}

#[test]
fn every_alert_kind_has_a_runbook_section() {
    let text = runbook();
    for kind in AlertKind::ALL {
        let a = anchor(kind.runbook());
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
        let a = anchor(kind.runbook());
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
        severity: galaxy_ha::model::operation::Severity::Warning,
        key: "condition-met/GCSHOSTA".into(),
        message: "the condition for failure is met".into(),
        at: "2026-01-05T08:00:00Z".parse().unwrap(),
        action: None,
    };
    let body = galaxy_ha::alert::email::body(&alert, "id-1");
    assert!(
        body.contains("Runbook:   file:///")
            && body.contains("/docs/runbook.md#alert-condition-met"),
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
        text.contains("→ file:///") && text.contains("/docs/runbook.md#condition-protected"),
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

/// Every Markdown file people read: README, docs/, the examples' READMEs.
fn documents() -> Vec<(String, String)> {
    let mut paths = vec![repository().join("README.md")];
    paths.extend(files_under(&["docs", "examples"], &["md"]));
    read_all(paths)
}

fn repository() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The files under the given directories of the repository whose extension is listed
/// (`""`: files without one, such as scripts).
fn files_under(dirs: &[&str], extensions: &[&str]) -> Vec<std::path::PathBuf> {
    let mut paths = Vec::new();
    for dir in dirs {
        let mut stack = vec![repository().join(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().filter_map(Result::ok) {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if extensions
                    .contains(&p.extension().map_or("", |x| x.to_str().unwrap_or("?")))
                {
                    paths.push(p);
                }
            }
        }
    }
    paths
}

/// Each file's path from the repository's root, and its text, in path order.
fn read_all(mut paths: Vec<std::path::PathBuf>) -> Vec<(String, String)> {
    let root = repository();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p.strip_prefix(root).unwrap().display().to_string(), text)
        })
        .collect()
}

#[test]
fn the_docs_cite_no_document_outside_the_repository() {
    for (name, text) in documents() {
        assert!(
            !text.contains("DESIGN"),
            "{name} cites a design document that does not ship"
        );
    }
}

#[test]
fn the_code_cites_no_document_outside_the_repository() {
    let this_file = file!().replace('\\', "/");
    let code = read_all(files_under(
        &["src", "tests", "benches", "scripts", ".ci"],
        &["rs", "sh", ""],
    ));
    assert!(code.len() > 50, "only {} source files found", code.len());
    for (name, text) in code {
        if this_file.ends_with(&name) {
            continue;
        }
        assert!(
            !text.contains("DESIGN"),
            "{name} cites a design document that does not ship"
        );
    }
}

#[test]
fn there_is_one_credential_recipe_and_every_credential_file_follows_it() {
    let docs = documents();
    let recipes: Vec<&str> = docs
        .iter()
        .filter(|(_, t)| t.contains("function Save-Secret"))
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(recipes, ["docs/preparing-hosts.md"], "one recipe");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut texts = docs;
    for m in std::fs::read_dir(root.join("manifests")).unwrap() {
        let path = m.unwrap().path();
        let name = path.strip_prefix(root).unwrap().display().to_string();
        texts.push((name, std::fs::read_to_string(&path).unwrap()));
    }
    for (name, text) in &texts {
        assert!(
            !text.contains("-Value 'the password'"),
            "{name}: a password on a command line lands in the shell's history"
        );
        for line in text.lines().filter(|l| l.contains(".cred'")) {
            assert!(
                line.contains(r"C:\ProgramData\galaxy-ha\secrets\"),
                "{name}: a credential file outside the recipe's folder: {line}"
            );
        }
    }
}

/// The `galaxy-ha …` command lines in the documents' code blocks, with placeholders filled.
fn documented_commands() -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for (name, text) in documents() {
        let mut in_code = false;
        let mut pending = String::new();
        for line in text.lines() {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
                continue;
            }
            if !in_code {
                continue;
            }
            let line = line.trim().trim_start_matches("$ ");
            if pending.is_empty() && !line.starts_with("galaxy-ha ") {
                continue;
            }
            pending.push_str(line.trim_end_matches('\\'));
            pending.push(' ');
            if line.ends_with('\\') {
                continue;
            }
            let command = std::mem::take(&mut pending);
            let command = command
                .split(" #")
                .next()
                .unwrap()
                .split(['|', '>'])
                .next()
                .unwrap()
                .replace("SITE", "hq")
                .replace("MANIFESTS", "manifests/");
            let args: Vec<String> = command.split_whitespace().map(str::to_string).collect();
            out.push((format!("{name}: {}", command.trim()), args));
        }
    }
    out
}

#[test]
fn every_documented_command_is_one_galaxy_ha_accepts() {
    use clap::Parser;
    let commands = documented_commands();
    assert!(commands.len() > 20, "{} commands found", commands.len());
    for (where_, args) in commands {
        if let Err(e) = galaxy_ha::cli::Cli::try_parse_from(&args) {
            panic!("{where_}: {e}");
        }
    }
}

#[test]
fn the_readme_quick_start_runs_as_written() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let start = readme.find("alias galaxy-ha=").expect("the quick start");
    let block = &readme[start..readme[start..].find("```").unwrap() + start];
    let tmp = tempfile::tempdir().unwrap();
    lab_copy(
        tmp.path(),
        &["hq.yaml", "warehouse.yaml", "branch-office.yaml"],
    );
    let mut ran = 0;
    for line in block.lines().filter(|l| l.starts_with("galaxy-ha ")) {
        let command = line.split(" #").next().unwrap();
        let args: Vec<&str> = command.split_whitespace().skip(1).collect();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
            .args(&args)
            .current_dir(tmp.path())
            .env_remove("GALAXY_HA_STATE_DIR")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        // `plan` says "exit 2: changes pending" on a fresh site; every other command succeeds.
        let expected = if args[0] == "plan" { 2 } else { 0 };
        assert_eq!(
            out.status.code(),
            Some(expected),
            "README: {command}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert_eq!(ran, 5, "the quick start's five commands ran");
}

#[test]
fn the_readme_validate_sample_is_what_validate_prints() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let prompt = "$ galaxy-ha validate tests/bad/several-problems.yaml\n";
    let start = readme.find(prompt).expect("the sample") + prompt.len();
    let sample = &readme[start..start + readme[start..].find("```").unwrap()];
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
        .args(["validate", "tests/bad/several-problems.yaml"])
        .current_dir(root)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr), sample);
}

/// Why a documented command is not run here, by its subcommand: each is run elsewhere.
const RUN_ELSEWHERE: &[(&str, &str)] = &[
    (
        "run",
        "the controller runs until stopped and listens on the documents' addresses: run by the run_service, http_api, hostile_run and fleet tests on loopback",
    ),
    (
        "service",
        "Windows only: installed, started, stopped and removed by CI's Wine smoke test (.ci/windows-smoke)",
    ),
];

/// The shipped manifests named, copied to `dir/manifests/` beside the schema, with every
/// mail server made 127.0.0.1 (a command that e-mails an alert must never reach a server
/// named in an example) and the password files in `dir`. `GALAXY_HA_SMTP_PASSWORD` is the
/// other secret the examples name.
fn lab_copy(dir: &std::path::Path, names: &[&str]) -> std::path::PathBuf {
    let root = repository();
    let manifests = dir.join("manifests");
    std::fs::create_dir(&manifests).unwrap();
    std::fs::create_dir(dir.join("schemas")).unwrap();
    let password = dir.join("smtp-password");
    std::fs::write(&password, "not-a-real-password\n").unwrap();
    for name in names {
        let text = std::fs::read_to_string(root.join("manifests").join(name))
            .unwrap()
            .replace(
                "/etc/galaxy-ha/smtp-password",
                &password.display().to_string(),
            );
        let text: Vec<String> = text
            .lines()
            .map(|l| match l.split_once("server: ") {
                Some((indent, _)) if indent.trim().is_empty() => {
                    format!("{indent}server: 127.0.0.1")
                }
                _ => l.to_string(),
            })
            .collect();
        std::fs::write(manifests.join(name), text.join("\n") + "\n").unwrap();
    }
    manifests
}

/// A document's path for the manifests (`/srv/…`, `C:\…`) as the test's copy of them, and
/// the repository's own files (`tests/bad/…`) as absolute paths.
fn local_paths(args: &[String], manifests: &std::path::Path) -> Vec<String> {
    args.iter()
        .map(|a| {
            if a.starts_with("/srv/galaxy-ha/manifests")
                || a.starts_with("C:\\galaxy-ha\\manifests")
            {
                manifests.display().to_string()
            } else if a.starts_with("tests/") {
                repository().join(a).display().to_string()
            } else {
                a.clone()
            }
        })
        .collect()
}

#[test]
fn every_documented_command_runs_on_the_lab_as_written() {
    let mut ran = 0;
    for (where_, args) in documented_commands() {
        let sub = args[1].as_str();
        if let Some((_, why)) = RUN_ELSEWHERE.iter().find(|(s, _)| *s == sub) {
            assert!(!why.is_empty());
            continue;
        }
        // Each command on a converged copy of the lab's manifests, as an admin would meet it.
        let tmp = tempfile::tempdir().unwrap();
        let manifests = lab_copy(tmp.path(), &["hq.yaml", "warehouse.yaml"]);
        let galaxy = |args: &[String]| {
            std::process::Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
                .args(args)
                .current_dir(tmp.path())
                .env("GALAXY_HA_STATE_DIR", tmp.path().join("state"))
                .env("GALAXY_HA_SMTP_PASSWORD", "not-a-real-password")
                .env_remove("RUST_LOG")
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap()
        };
        let apply = ["apply", "-m", "manifests", "--yes", "--wait"].map(String::from);
        let out = galaxy(&apply);
        assert!(
            out.status.success(),
            "{where_}: the lab did not converge: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        let args = local_paths(&args[1..], &manifests);
        let out = galaxy(&args);
        let text = format!(
            "{where_}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // A bad manifest is refused; a failover without --yes asks first and, with no one to
        // answer, does nothing; the lab has no PowerShell to capture (ps_doctor captures
        // from the fake PowerShell); and no mail server listens for `alert test` here (the
        // run_alerts tests send it to a real one).
        let capture = args.iter().any(|a| a == "--capture");
        if capture {
            assert!(
                text.contains("no site on the PowerShell platform"),
                "{text}"
            );
        }
        let mail = args[0] == "alert";
        if mail {
            assert!(text.contains("SMTP server 127.0.0.1:"), "{text}");
        }
        let expected = if args.iter().any(|a| a.contains("tests/bad/"))
            || (args[0] == "failover" && !args.iter().any(|a| a == "--yes"))
            || capture
            || mail
        {
            1
        } else {
            0
        };
        assert_eq!(out.status.code(), Some(expected), "{text}");
        assert!(!text.contains("panicked"), "{text}");
        ran += 1;
    }
    assert!(ran >= 20, "only {ran} documented commands ran");
}
