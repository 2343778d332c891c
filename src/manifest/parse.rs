//! Text → `Manifest`: YAML read by serde-saphyr within tight budgets, the first syntax or
//! type error located by line, column and YAML path, and reworded to say how to fix it.

use super::diagnostic::Position;
use super::positions::Positions;
use super::spec::Manifest;

/// The first syntax or type error of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// YAML path of the offending node (`document` for the top level).
    pub path: String,
    pub position: Position,
    pub message: String,
}

/// Label for the top level of a document, where a path would be empty.
pub const DOCUMENT: &str = "document";

/// Budgets far above any real manifest (a few dozen nodes, depth 6) and far below what could
/// hang or exhaust the controller: alias bombs and deep nesting are refused, not expanded.
fn options() -> serde_saphyr::Options {
    let mut aliases = serde_saphyr::options::AliasLimits::default();
    aliases.max_total_replayed_events = 10_000;
    aliases.max_replay_stack_depth = 8;
    aliases.max_alias_expansions_per_anchor = 100;
    serde_saphyr::options! {
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_depth: 32,
            max_events: 100_000,
            max_nodes: 50_000,
            max_aliases: 100,
            max_anchors: 100,
            max_documents: 2,
            max_total_scalar_bytes: 1024 * 1024,
            max_merge_keys: 100,
        },
        alias_limits: aliases,
    }
}

/// Deserializes one manifest document.
///
/// # Errors
/// The first syntax or type error, with its path and position; `positions` places errors the
/// parser reports at an unhelpful spot (a missing field is reported where its parent is named).
pub fn parse(text: &str, positions: &Positions) -> Result<Manifest, ParseError> {
    let mut path: Option<String> = None;
    let result = serde_saphyr::with_deserializer_from_str_with_options(text, options(), |de| {
        serde_path_to_error::deserialize::<_, Manifest>(de).map_err(|e| {
            path = Some(e.path().to_string());
            e.into_inner()
        })
    });
    let err = match result {
        Ok(manifest) => return Ok(manifest),
        Err(err) => err,
    };
    let path = clean_path(path.as_deref().unwrap_or("."));
    let location = err.location();
    let raw = err.to_string();
    let raw = match location {
        Some(l) => raw
            .strip_suffix(&format!(" at line {}, column {}", l.line(), l.column()))
            .unwrap_or(&raw)
            .to_string(),
        None => raw,
    };
    let mut position = location
        .filter(|l| l.line() > 0)
        .map(|l| Position {
            line: to_usize(l.line()),
            column: to_usize(l.column()).max(1),
        })
        .unwrap_or_else(|| positions.locate(&path));
    if raw.starts_with("missing field") {
        position = positions.locate_key(&path);
    }
    let (path, message) = reword(path, &raw, text);
    Err(ParseError {
        path,
        position,
        message,
    })
}

/// How many type errors one file reports at most: enough for any first draft.
const MAX_ERRORS: usize = 50;

/// Deserializes one manifest document, reporting every type error, not only the first: each
/// offending node is taken out of a plain copy of the document and the rest is read again,
/// so a first draft with five mistakes needs one `validate`, not six.
///
/// # Errors
/// Every syntax or type error found, in file order (a syntax error stops the search).
pub fn parse_all(text: &str, positions: &Positions) -> Result<Manifest, Vec<ParseError>> {
    let first = match parse(text, positions) {
        Ok(manifest) => return Ok(manifest),
        Err(e) => e,
    };
    // A document that is not even plain YAML has no tree to look further in.
    let Ok(mut tree) = serde_saphyr::from_str_with_options::<serde_json::Value>(text, options())
    else {
        return Err(vec![first]);
    };
    let mut errors = vec![first];
    while errors.len() < MAX_ERRORS {
        let last = &errors[errors.len() - 1];
        if last.message.starts_with("missing field") || !remove(&mut tree, &last.path) {
            break;
        }
        let (path, raw) = match serde_path_to_error::deserialize::<_, Manifest>(&tree) {
            Ok(_) => break,
            Err(e) => (e.path().to_string(), e.into_inner().to_string()),
        };
        let path = clean_path(&path);
        if let Some(field) = raw.strip_prefix("missing field ").and_then(quoted)
            && errors.iter().any(|e| {
                e.path == join(&path, field)
                    || within(&e.path, &join(&path, field))
                    || e.message.contains(&format!("`{field}`"))
            })
        {
            // Missing only because its bad value was taken out, or misspelt: said already.
            break;
        }
        let position = if raw.starts_with("missing field") {
            positions.locate_key(&path)
        } else {
            positions.locate(&path)
        };
        let (path, message) = reword(path, &raw, text);
        if errors.iter().any(|e| e.path == path) {
            break;
        }
        errors.push(ParseError {
            path,
            position,
            message,
        });
    }
    errors.sort_by_key(|e| e.position);
    Err(errors)
}

/// `path` lies under `parent` (`spec.x.y` or `spec.x[2]` under `spec.x`).
fn within(path: &str, parent: &str) -> bool {
    path.strip_prefix(parent)
        .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

fn join(path: &str, field: &str) -> String {
    if path == DOCUMENT {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

/// Takes the node at `path` (`spec.hosts[1].name`) out of `tree`; false when there is none.
fn remove(tree: &mut serde_json::Value, path: &str) -> bool {
    if path == DOCUMENT {
        return false;
    }
    let mut steps: Vec<Step> = Vec::new();
    for part in path.split('.') {
        let (key, indexes) = match part.split_once('[') {
            Some((k, rest)) => (k, Some(rest)),
            None => (part, None),
        };
        if !key.is_empty() {
            steps.push(Step::Key(key.to_string()));
        }
        for index in indexes.into_iter().flat_map(|r| r.split('[')) {
            match index.trim_end_matches(']').parse() {
                Ok(i) => steps.push(Step::Index(i)),
                Err(_) => return false,
            }
        }
    }
    // A bad item goes with its whole list: taking it alone out would shift the indexes, and
    // so the places, of the items after it.
    while matches!(steps.last(), Some(Step::Index(_))) {
        steps.pop();
    }
    let Some((last, parents)) = steps.split_last() else {
        return false;
    };
    let mut node = tree;
    for step in parents {
        let next = match (step, node) {
            (Step::Key(k), serde_json::Value::Object(map)) => map.get_mut(k),
            (Step::Index(i), serde_json::Value::Array(items)) => items.get_mut(*i),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return false,
        }
    }
    match (last, node) {
        (Step::Key(k), serde_json::Value::Object(map)) => map.remove(k).is_some(),
        _ => false,
    }
}

enum Step {
    Key(String),
    Index(usize),
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// `spec.?` (an unknown key) → `spec`; `.` (the root) → `document`.
fn clean_path(path: &str) -> String {
    let p = path.trim_end_matches(".?").trim_start_matches('.');
    if p.is_empty() || p == "?" {
        DOCUMENT.to_string()
    } else {
        p.to_string()
    }
}

/// Field names the admin meant, by edit distance, for "did you mean".
fn did_you_mean(unknown: &str, expected: &str) -> Option<String> {
    expected
        .split(", ")
        .map(|c| c.trim().trim_matches('`'))
        .filter(|c| !c.is_empty())
        .map(|c| (distance(&unknown.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

/// Levenshtein distance, small inputs only.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Where a field that is unique to one mapping belongs, to tell a misplaced field (wrong
/// indentation) from a misspelt one.
const HOMES: &[(&str, &str)] = &[
    ("apiVersion", ""),
    ("metadata", ""),
    ("spec", ""),
    ("platform", "spec"),
    ("hosts", "spec"),
    ("primary", "spec"),
    ("vm", "spec"),
    ("network", "spec"),
    ("replication", "spec"),
    ("failover", "spec"),
    ("drills", "spec"),
    ("services", "spec"),
    ("firewall", "spec"),
    ("notifications", "spec"),
    ("maintenance", "spec"),
    ("prefix", "spec.network"),
    ("jobName", "spec.replication"),
    ("replicaName", "spec.replication"),
    ("replicaPath", "spec.replication"),
    ("mode", "spec.failover"),
    ("monitor", "spec.failover"),
    ("applyQueuedData", "spec.failover"),
    ("maxDataLoss", "spec.failover"),
    ("interval", "spec.failover.monitor"),
    ("totalTimeToFailure", "spec.failover.monitor"),
    ("consecutiveFailures", "spec.failover.monitor"),
    ("testFailoverEvery", "spec.drills"),
    ("startup", "spec.services[]"),
    ("ports", "spec.firewall"),
    ("email", "spec.notifications"),
    ("smtp", "spec.notifications.email"),
    ("from", "spec.notifications.email"),
    ("to", "spec.notifications.email"),
    ("subjectPrefix", "spec.notifications.email"),
    ("addEventDescription", "spec.notifications.email"),
    ("include", "spec.notifications.email"),
    ("excludeEventIds", "spec.notifications.email"),
    ("server", "spec.notifications.email.smtp"),
    ("security", "spec.notifications.email.smtp"),
    ("username", "spec.notifications.email.smtp"),
    ("passwordFrom", "spec.notifications.email.smtp"),
    ("caFile", "spec.notifications.email.smtp"),
    ("powershell", "spec.platform"),
    ("runner", "spec.platform.powershell"),
    ("credentialFrom", "spec.platform.powershell"),
    ("installPath", "spec.platform.powershell"),
    ("scriptTimeout", "spec.platform.powershell"),
    ("reason", "spec.maintenance"),
    ("until", "spec.maintenance"),
];

fn home_of(field: &str) -> Option<&'static str> {
    HOMES
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, h)| match *h {
            "" => "the top level",
            h => h,
        })
}

/// `spec.services[1]` → `spec.services[]`; the top level → `the top level`.
fn generic(path: &str) -> String {
    if path.is_empty() || path == DOCUMENT {
        return "the top level".to_string();
    }
    let mut out = String::new();
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

/// Text between the first pair of backquotes.
fn quoted(s: &str) -> Option<&str> {
    let start = s.find('`')? + 1;
    let len = s[start..].find('`')?;
    Some(&s[start..start + len])
}

const DURATION_HINT: &str =
    "write a duration with its unit, e.g. 10s, 5m, 1h30m or 90d, or as HH:MM:SS, e.g. 00:05:00";

/// Turns the parser's wording into what is wrong and how to fix it. Never echoes a value
/// under `passwordFrom`: an admin may have pasted the password there.
fn reword(path: String, raw: &str, text: &str) -> (String, String) {
    let last = path.rsplit('.').next().unwrap_or("").to_string();
    if path.contains("passwordFrom") {
        let msg = "expected `{ env: NAME }` (an environment variable holding the password) or \
                   `{ file: PATH }` (a file holding it); the password itself never goes in the manifest";
        return (path, msg.to_string());
    }
    if let Some(rest) = raw.strip_prefix("unknown field ") {
        let field = quoted(rest).unwrap_or("").to_string();
        // serde_path_to_error's path already ends with the unknown field.
        let full = path.clone();
        if field == "password" && path.ends_with("smtp.password") {
            return (
                full,
                "an inline password is not allowed (manifests are kept in git); remove it and use \
                 `passwordFrom: { env: NAME }` or `passwordFrom: { file: PATH }`"
                    .to_string(),
            );
        }
        let expected = rest
            .split_once("expected one of ")
            .map(|(_, e)| e)
            .unwrap_or("");
        let expected = expected
            .split_once("expected ")
            .map(|(_, e)| e)
            .unwrap_or(expected);
        let mut msg = format!("unknown field `{field}`");
        let here = full.rsplit_once('.').map(|(p, _)| p).unwrap_or("");
        if let Some(home) = home_of(&field).filter(|h| *h != generic(here)) {
            msg.push_str(&format!("; it belongs under {home}, check the indentation"));
            return (full, msg);
        }
        match did_you_mean(&field, expected) {
            Some(s) => msg.push_str(&format!("; did you mean `{s}`?")),
            None if !expected.is_empty() => {
                msg.push_str(&format!("; the fields here are: {expected}"))
            }
            None => msg.push_str("; remove it"),
        }
        return (full, msg);
    }
    if let Some(rest) = raw.strip_prefix("duplicate mapping key: ") {
        let key = rest
            .split(", set DuplicateKeyPolicy")
            .next()
            .unwrap_or(rest);
        let full = if path == DOCUMENT {
            key.to_string()
        } else {
            format!("{path}.{key}")
        };
        return (
            full,
            format!("`{key}` is given twice in this mapping; keep one"),
        );
    }
    if let Some(rest) = raw.strip_prefix("missing field ") {
        let field = quoted(rest).unwrap_or(rest);
        return (
            path,
            format!(
                "missing field `{field}`; add `{field}:` here (check the indentation if it is there)"
            ),
        );
    }
    if raw.starts_with("unknown variant ") {
        let expected = raw
            .split_once("expected one of ")
            .map(|(_, e)| e.to_string());
        let expected = expected.or_else(|| raw.split_once("expected ").map(|(_, e)| e.to_string()));
        let got = quoted(raw).unwrap_or("");
        return match expected {
            Some(e) => (
                path,
                format!("`{got}` is not allowed here; write one of: {e}"),
            ),
            None => (path, format!("`{got}` is not allowed here")),
        };
    }
    if raw.contains("expected a duration") {
        return (path, format!("not a duration; {DURATION_HINT}"));
    }
    if last == "until" {
        return (
            path,
            format!("not an RFC 3339 time ({raw}); write a UTC time such as 2026-12-01T06:00:00Z"),
        );
    }
    if path == DOCUMENT && raw.contains("end of input") {
        let msg = if text.trim().is_empty() || only_comments(text) {
            "the file holds no manifest; start it with `apiVersion: galaxy-ha/v1` and `kind: RedundantServer`"
        } else {
            "the document ended early; a manifest has apiVersion, kind, metadata and spec"
        };
        return (path, msg.to_string());
    }
    if path == DOCUMENT && raw.contains("expected mapping") {
        return (
            path,
            "a manifest is a mapping with apiVersion, kind, metadata and spec, not a list or a \
             single value (JSON is fine if it is one object)"
                .to_string(),
        );
    }
    if raw.starts_with("multiple YAML documents") || raw.contains("multiple documents") {
        return (
            path,
            "this file holds more than one YAML document; put each site in a file of its own"
                .to_string(),
        );
    }
    if raw.contains("tabs disallowed") {
        return (
            path,
            format!("{raw}; YAML indents with spaces only, replace the tab with spaces"),
        );
    }
    if raw.contains("unknown anchor") {
        return (
            path,
            "an alias (*name) refers to an anchor (&name) not defined before it in this file; \
             define the anchor first or write the value out"
                .to_string(),
        );
    }
    if let Some(what) = raw.strip_prefix("budget breached: ") {
        // The crate names the budget in CamelCase (`ScalarBytes`): words for people.
        let name = what.split([' ', '{']).next().unwrap_or(what);
        let what = name.chars().fold(String::new(), |mut words, c| {
            if c.is_uppercase() && !words.is_empty() {
                words.push(' ');
            }
            words.push(c.to_ascii_lowercase());
            words
        });
        return (
            path,
            format!(
                "too many {what} for a manifest (a site needs a few dozen nodes and few aliases); write it out plainly"
            ),
        );
    }
    if raw.contains("alias") && raw.contains("limit") {
        return (
            path,
            format!("{raw}; a manifest needs few aliases, write it out plainly"),
        );
    }
    if raw.starts_with("invalid u") || raw.starts_with("invalid i") {
        let msg = if last.starts_with("port") {
            "not a port number; ports run from 1 to 65535"
        } else {
            "not a whole number in range here; write a number such as 20"
        };
        return (path, msg.to_string());
    }
    if raw == "expected sequence start" {
        return (
            path,
            "expected a list here: [a, b] on one line, or one `- item` per line".to_string(),
        );
    }
    if raw == "expected mapping start" {
        return (
            path,
            "expected a mapping (`key: value` lines) here; see the schema (galaxy-ha schema)"
                .to_string(),
        );
    }
    if raw.starts_with("invalid type") {
        return (
            path,
            format!("{raw}; see the schema (galaxy-ha schema) for the expected type"),
        );
    }
    (path, raw.to_string())
}

fn only_comments(text: &str) -> bool {
    text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---" || l == "..."
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("primry", "primary"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn a_near_miss_gets_a_suggestion_and_a_stranger_does_not() {
        assert_eq!(
            did_you_mean("primry", "platform, hosts, primary").as_deref(),
            Some("primary")
        );
        assert_eq!(did_you_mean("zzzzzzzzzz", "platform, hosts, primary"), None);
    }

    #[test]
    fn a_misplaced_field_is_told_from_a_misspelt_one() {
        let (_, msg) = reword(
            "spec.monitor".into(),
            "unknown field `monitor`, expected one of platform",
            "",
        );
        assert_eq!(
            msg,
            "unknown field `monitor`; it belongs under spec.failover, check the indentation"
        );
        let (_, msg) = reword(
            "spec.primry".into(),
            "unknown field `primry`, expected one of hosts, primary",
            "",
        );
        assert_eq!(msg, "unknown field `primry`; did you mean `primary`?");
        assert_eq!(generic("spec.services[12]"), "spec.services[]");
    }

    #[test]
    fn the_root_and_unknown_keys_have_readable_paths() {
        assert_eq!(clean_path("."), DOCUMENT);
        assert_eq!(clean_path("spec.?"), "spec");
        assert_eq!(clean_path("spec.hosts[1].name"), "spec.hosts[1].name");
    }
}
