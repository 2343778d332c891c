//! What changed between two versions of a site's spec, field by field, in the manifest's
//! own paths (`spec.primary: GCSHOSTA → GCSHOSTB`), for the history.

use std::collections::BTreeMap;

use serde_json::Value;

use super::spec::SiteSpec;

/// One line per changed, added or removed field.
pub fn diff(old: &SiteSpec, new: &SiteSpec) -> Vec<String> {
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    flatten(
        "spec",
        &serde_json::to_value(old).unwrap_or(Value::Null),
        &mut a,
    );
    flatten(
        "spec",
        &serde_json::to_value(new).unwrap_or(Value::Null),
        &mut b,
    );
    let mut out = Vec::new();
    for (path, before) in &a {
        match b.get(path) {
            Some(after) if after == before => {}
            Some(after) => out.push(format!("{path}: {before} → {after}")),
            None => out.push(format!("{path}: {before} → (removed)")),
        }
    }
    for (path, after) in &b {
        if !a.contains_key(path) {
            out.push(format!("{path}: (added) {after}"));
        }
    }
    out
}

fn flatten(path: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&format!("{path}.{k}"), v, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{path}[{i}]"), v, out);
            }
        }
        Value::String(s) => {
            out.insert(path.to_string(), s.clone());
        }
        other => {
            out.insert(path.to_string(), other.to_string());
        }
    }
}
