//! Durations in a manifest: humantime (`10s`, `5m`, `1h30m`) as the examples write them, or
//! `HH:MM:SS` (`00:05:00`) as the guide and the Replication Console show them. Both are
//! accepted; the schema's pattern says both, so an editor accepts what `validate` accepts.

use std::time::Duration;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serializer};

/// The pattern of either form, for the JSON Schema (ECMA 262).
pub const PATTERN: &str = r"^\s*([0-9]+:[0-5][0-9]:[0-5][0-9]|([0-9]+\s*(nsec|ns|usec|us|msec|ms|seconds|second|secs|sec|s|minutes|minute|mins|min|m|hours|hour|hrs|hr|h|days|day|d|weeks|week|w|months|month|M|years|year|y)\s*)+)\s*$";

/// What the forms look like, for messages and the reference.
pub const FORMS: &str = "humantime like 10s, 5m or 1h30m, or the guide's HH:MM:SS like 00:05:00";

/// Parses either form.
///
/// # Errors
/// Neither form, in words that show both.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Some(d) = clock(text) {
        return d;
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("{text:?} is not a duration ({e}); write {FORMS}"))
}

/// `[H]H:MM:SS`, or `None` when `text` is not of that shape at all.
fn clock(text: &str) -> Option<Result<Duration, String>> {
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let n = |p: &str| p.parse::<u64>().ok();
    let (Some(h), Some(m), Some(s)) = (n(parts[0]), n(parts[1]), n(parts[2])) else {
        return Some(Err(format!("{text:?} is out of range; write {FORMS}")));
    };
    if m > 59 || s > 59 || parts[1].len() != 2 || parts[2].len() != 2 {
        return Some(Err(format!(
            "{text:?}: minutes and seconds are two digits from 00 to 59 in HH:MM:SS; write {FORMS}"
        )));
    }
    Some(
        h.checked_mul(3600)
            .and_then(|h| h.checked_add(m * 60 + s))
            .map(Duration::from_secs)
            .ok_or_else(|| format!("{text:?} is out of range")),
    )
}

/// Written back in humantime, as the examples write durations.
pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&humantime::format_duration(*d))
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse(&text).map_err(serde::de::Error::custom)
}

/// The same for an optional field.
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => parse(&text).map(Some).map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

/// The schema of a duration: a string of either form.
pub struct DurationText;

impl JsonSchema for DurationText {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "title": "Duration",
            "type": "string",
            "pattern": PATTERN,
            "description": format!("A duration: {FORMS}."),
        })
    }
}

/// A duration that must be above zero (the monitor interval, the data loss accepted, the
/// drill period): the same forms, and the schema refuses a zero as `validate` does.
pub struct PositiveDurationText;

/// A duration of nothing but zeros in either form, e.g. `0s`, `0 min 0s`, `00:00:00`.
const ZERO_PATTERN: &str = r"^\s*(0+:00:00|(0+\s*[A-Za-z]+\s*)+)\s*$";

impl JsonSchema for PositiveDurationText {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PositiveDuration".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = DurationText::json_schema(generator);
        schema.insert("title".into(), "PositiveDuration".into());
        schema.insert("not".into(), serde_json::json!({ "pattern": ZERO_PATTERN }));
        schema.insert(
            "description".into(),
            format!("A duration above zero: {FORMS}.").into(),
        );
        schema
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_are_read() {
        let s = Duration::from_secs;
        assert_eq!(parse("00:05:00"), Ok(s(300)));
        assert_eq!(parse("1:30:05"), Ok(s(5405)));
        assert_eq!(parse("5m"), Ok(s(300)));
        assert_eq!(parse("1h 30m"), Ok(s(5400)));
        assert_eq!(parse(" 10s "), Ok(s(10)));
    }

    #[test]
    fn a_wrong_duration_names_both_forms() {
        for bad in ["00:61:00", "5 minutes please", "00:5:00", "ten"] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains("HH:MM:SS") && e.contains("10s"), "{bad}: {e}");
        }
    }
}
