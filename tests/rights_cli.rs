//! Rights to ask the running controller (`galaxy-ha run`): the drill right starts and ends
//! test failovers and nothing else, the operate right asks anything, a request without a
//! valid token is refused with nothing done; the journal says which right asked, and the
//! tokens appear in no journal, log, output or other file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use crate::run_support::{Controller, eventually};

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn state(c: &Controller) -> PathBuf {
    c.tmp.path().join("s")
}

/// `galaxy-ha ARGS -m M --state-dir S` with `GALAXY_HA_RIGHT=right` (unset for `None`).
fn cli_with(c: &Controller, right: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_galaxy-ha"));
    command
        .args(args)
        .arg("-m")
        .arg(c.tmp.path().join("m"))
        .arg("--state-dir")
        .arg(state(c));
    match right {
        Some(r) => command.env("GALAXY_HA_RIGHT", r),
        None => command.env_remove("GALAXY_HA_RIGHT"),
    };
    command.output().unwrap()
}

/// The token of a right, as the controller wrote it.
fn token(c: &Controller, right: &str) -> String {
    let path = state(c).join("rights").join(format!("{right}.token"));
    let token = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .to_string();
    assert!(token.len() >= 32, "{}", path.display());
    token
}

/// The site's journal, one JSON value an entry.
fn journal(c: &Controller) -> Vec<serde_json::Value> {
    std::fs::read_to_string(state(c).join("sites/hq/journal.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The journal's `asked` entries: what was asked, and with which right.
fn asked(c: &Controller) -> Vec<(String, Option<String>)> {
    journal(c)
        .iter()
        .filter(|e| e["event"] == "asked")
        .map(|e| {
            (
                e["description"].as_str().unwrap_or_default().to_string(),
                e["right"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// Live failovers in the lab, and failover intents in the journal: both 0 when nothing was
/// done.
fn failovers(c: &Controller) -> (u64, usize) {
    let show = c.cli(&["sim", "show", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    let lab = doc["failovers"].as_u64().expect("sim show's failovers");
    let intents = journal(c)
        .iter()
        .filter(|e| e["event"] == "intent" && e["kind"] == "failover")
        .count();
    (lab, intents)
}

/// Every file under `dir` but the token files, as text.
fn files_under(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else if path.extension().is_none_or(|e| e != "token") {
            let bytes = std::fs::read(&path).unwrap_or_default();
            out.push((path, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
}

#[test]
fn the_drill_right_starts_a_drill_but_not_a_failover_which_the_operate_right_may() {
    let c = Controller::start("manual", 60);
    c.wait_site("protecting", Duration::from_secs(60), |s| {
        s["activity"] == "Protecting"
    });
    let (drill, operate) = (token(&c, "drill"), token(&c, "operate"));
    assert_ne!(drill, operate);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for right in ["drill", "operate"] {
            let path = state(&c).join("rights").join(format!("{right}.token"));
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", path.display());
        }
        // An administrator opens the drill right's requests directory to its group: the
        // command and the controller leave its mode alone.
        let drills = state(&c).join("drill-requests");
        std::fs::set_permissions(&drills, std::fs::Permissions::from_mode(0o2770)).unwrap();
    }
    let mut said = Vec::new();

    // The drill right starts a drill and ends it (held: once verified it would end by
    // itself).
    let out = cli_with(
        &c,
        Some("drill"),
        &["failover", "hq", "--test", "--hold", "--yes"],
    );
    said.push(text(&out));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("Test failover started"),
        "{}",
        text(&out)
    );
    c.wait_site("drill running", Duration::from_secs(30), |s| {
        s["drill"]["running"] == true
    });
    let out = cli_with(
        &c,
        Some("drill"),
        &["failover", "hq", "--test", "--end", "--yes"],
    );
    said.push(text(&out));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Test failover ended"), "{}", text(&out));
    c.wait_site("drill ended", Duration::from_secs(30), |s| {
        s["drill"]["running"] == false
    });
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let drills = state(&c).join("drill-requests");
        let mode = std::fs::metadata(&drills).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o2770, "the directory's mode was reset");
    }

    // The live host fails: a real failover waits for a person. The same account with the
    // drill right is refused, naming the right it takes, and nothing is done.
    c.host_down("GCSHOSTA");
    c.wait_site("waiting for approval", Duration::from_secs(60), |s| {
        s["approval"].is_string()
    });
    let out = cli_with(&c, Some("drill"), &["failover", "hq", "--yes"]);
    said.push(text(&out));
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("the drill right does not allow a real failover"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("operate right"), "{}", text(&out));
    // Nor anything else but a drill: a resume, a pass.
    let out = cli_with(&c, Some("drill"), &["apply", "--yes"]);
    said.push(text(&out));
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("the drill right does not allow"),
        "{}",
        text(&out)
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(failovers(&c), (0, 0), "a refused request did something");
    let site = c.wait_site("still waiting", Duration::from_secs(5), |_| true);
    assert_eq!(site["live_host"], "GCSHOSTA", "{site}");

    // The operate right fails over.
    let out = cli_with(&c, Some("operate"), &["failover", "hq", "--yes"]);
    said.push(text(&out));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Failover started"), "{}", text(&out));
    c.wait_site("failed over to GCSHOSTB", Duration::from_secs(60), |s| {
        s["live_host"] == "GCSHOSTB"
    });
    assert_eq!(failovers(&c).0, 1);

    let history = c.cli(&["history", "--kind", "drill"]);
    let history = String::from_utf8_lossy(&history.stdout).into_owned();
    assert!(history.contains("with the drill right"), "{history}");

    // The journal says which right asked what; the refused requests are not in it.
    let some = |s: &str| Some(s.to_string());
    assert_eq!(
        asked(&c),
        [
            (
                "galaxy-ha failover hq --test --hold".to_string(),
                some("drill")
            ),
            (
                "galaxy-ha failover hq --test --end".to_string(),
                some("drill")
            ),
            ("galaxy-ha failover hq".to_string(), some("operate")),
        ]
    );
    // The log says who was refused and with which right, and who was answered.
    let log = std::fs::read_to_string(c.log()).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains("request refused") && l.contains("right=drill")),
        "{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("request answered") && l.contains("right=operate")),
        "{log}"
    );

    // The tokens are nowhere but in their files.
    said.push(text(&c.cli(&["history", "--format", "json"])));
    said.push(text(&c.cli(&["status", "--format", "json"])));
    let mut files = vec![(c.log(), log)];
    files_under(&state(&c), &mut files);
    files.extend(said.into_iter().map(|s| (PathBuf::from("output"), s)));
    for (path, content) in &files {
        for secret in [&drill, &operate] {
            assert!(
                !content.contains(secret.as_str()),
                "a token in {}",
                path.display()
            );
        }
    }
}

/// Leaves a request as a file, as any account that may write a requests directory could,
/// and waits for its answer.
fn request_as_file(
    c: &Controller,
    dir: &str,
    id: &str,
    right: Option<&str>,
    token: Option<&str>,
) -> serde_json::Value {
    let mut request = serde_json::json!({
        "id": id,
        "site": "hq",
        "ask": "failover",
        "by": { "user": "mallory", "host": "NOWHERE" },
        "at": jiff::Timestamp::now().to_string(),
    });
    if let Some(r) = right {
        request["right"] = r.into();
    }
    if let Some(t) = token {
        request["token"] = t.into();
    }
    let dir = state(c).join(dir);
    std::fs::write(
        dir.join(format!("{id}.request.json")),
        serde_json::to_vec(&request).unwrap(),
    )
    .unwrap();
    let answer = dir.join(format!("{id}.answer.json"));
    eventually(
        Duration::from_secs(30),
        &format!("an answer to {id}"),
        || answer.exists(),
    );
    let doc = serde_json::from_slice(&std::fs::read(&answer).unwrap()).unwrap();
    // The controller writes the answer, then removes the request.
    let request = dir.join(format!("{id}.request.json"));
    eventually(
        Duration::from_secs(30),
        &format!("{id} answered and removed"),
        || !request.exists(),
    );
    doc
}

#[test]
fn a_request_without_a_valid_token_is_refused_and_nothing_is_done() {
    let c = Controller::start("manual", 60);
    c.wait_site("protecting", Duration::from_secs(60), |s| {
        s["activity"] == "Protecting"
    });
    // A real failover is what the site waits for: any request that got through would do it.
    c.host_down("GCSHOSTA");
    c.wait_site("waiting for approval", Duration::from_secs(60), |s| {
        s["approval"].is_string()
    });
    let refused = |doc: &serde_json::Value, words: &str| {
        assert_eq!(doc["outcome"], "refused", "{doc}");
        assert!(doc["why"].as_str().unwrap().contains(words), "{doc}");
    };

    // As a galaxy-ha older than the controller writes it: no token.
    let doc = request_as_file(&c, "requests", "1000-1", None, None);
    refused(&doc, "no right: the request carries no token");
    // A token that is no right's.
    let forged = "0123456789abcdef".repeat(4);
    let doc = request_as_file(&c, "requests", "1000-2", Some("operate"), Some(&forged));
    refused(&doc, "no right: the request's token matches neither");
    // The drill right's token, claiming the operate right.
    let drill = token(&c, "drill");
    let doc = request_as_file(&c, "requests", "1000-3", Some("operate"), Some(&drill));
    refused(&doc, "the drill right does not allow a real failover");
    // The operate token left in the drill right's directory gets the drill right only.
    let operate = token(&c, "operate");
    let doc = request_as_file(
        &c,
        "drill-requests",
        "1000-4",
        Some("operate"),
        Some(&operate),
    );
    refused(&doc, "the drill right does not allow a real failover");
    assert!(
        !doc.to_string().contains(&operate) && !doc.to_string().contains(&drill),
        "{doc}"
    );

    // A request whose id is not its file's name is removed unanswered: its answer would go
    // elsewhere.
    let path = state(&c).join("requests").join("1000-5.request.json");
    let stray = serde_json::json!({
        "id": "../stray",
        "site": "hq",
        "ask": "failover",
        "by": { "user": "mallory", "host": "NOWHERE" },
        "at": jiff::Timestamp::now().to_string(),
        "right": "operate",
        "token": operate,
    });
    std::fs::write(&path, serde_json::to_vec(&stray).unwrap()).unwrap();
    eventually(Duration::from_secs(30), "the stray request removed", || {
        !path.exists()
    });
    assert!(!state(&c).join("stray.answer.json").exists());

    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(failovers(&c), (0, 0), "a refused request did something");
    assert!(asked(&c).is_empty(), "{:?}", asked(&c));
    let log = std::fs::read_to_string(c.log()).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains("request refused") && l.contains("mallory on NOWHERE")),
        "{log}"
    );
    assert!(
        !log.contains(&operate) && !log.contains(&drill),
        "a token in the log"
    );
}
