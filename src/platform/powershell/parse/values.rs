//! Windows PowerShell 5.1's ways of writing values, undone: lists and wrapped values
//! (`normalize`), dates (`date`) and durations (`seconds`).

use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;

/// Fields that hold lists, and whether `null` means "unknown" (kept) or "none".
const LISTS: &[(&str, bool)] = &[
    ("services", false),
    ("firewall", false),
    ("vms", false),
    ("jobs", false),
    ("checks", false),
    ("guestServices", true),
    ("listening", true),
    ("disks", false),
    ("snapshots", false),
    ("codes", false),
];

/// Undoes Windows PowerShell 5.1's ways of writing lists and wrapped values.
pub fn normalize(value: Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(normalize).collect()),
        Value::Object(map) => {
            if let Some(inner) = unwrap_wrapper(&map) {
                return normalize(inner);
            }
            let map = map
                .into_iter()
                .map(|(k, v)| {
                    let v = normalize(v);
                    let v = match LISTS.iter().find(|(name, _)| *name == k) {
                        Some((_, keep_null)) => as_list(v, *keep_null),
                        None => v,
                    };
                    (k, v)
                })
                .collect();
            Value::Object(map)
        }
        other => other,
    }
}

/// `{"value": X, "Count": n}` (an array with type data) and `{"value": X, "DisplayHint": ..,
/// "DateTime": ..}` (a wrapped date) stand for X.
fn unwrap_wrapper(map: &serde_json::Map<String, Value>) -> Option<Value> {
    let value = map.get("value")?;
    let wrapper = (map.contains_key("Count") && value.is_array())
        || map.contains_key("DateTime")
        || map.contains_key("DisplayHint");
    wrapper.then(|| value.clone())
}

fn as_list(v: Value, keep_null: bool) -> Value {
    match v {
        Value::Array(_) => v,
        Value::Null if keep_null => Value::Null,
        Value::Null => Value::Array(Vec::new()),
        one => Value::Array(vec![one]),
    }
}

/// A date as the script or Windows PowerShell 5.1 writes it: `/Date(ms)/`,
/// `/Date(ms+0100)/`, RFC 3339 (`.ToString('o')` of a `DateTimeOffset`), or a
/// `DateTimeOffset` object (`UtcDateTime`, `DateTime` or `UtcTicks`); `null` and
/// `DateTimeOffset.MinValue` (year 1: never connected) are none.
///
/// # Errors
/// Any other text, as a message.
pub fn date(v: &Value) -> Result<Option<Timestamp>, String> {
    let s = match v {
        Value::Null => return Ok(None),
        Value::String(s) if s.is_empty() => return Ok(None),
        Value::String(s) => s.as_str(),
        Value::Object(map) => {
            if let Some(inner) = ["UtcDateTime", "DateTime"]
                .iter()
                .find_map(|k| map.get(*k).filter(|v| v.is_string()))
            {
                return date(inner);
            }
            if let Some(ticks) = map.get("UtcTicks").and_then(Value::as_i64) {
                return from_ticks(ticks);
            }
            return Err(format!(
                "expected a date, found an object without UtcDateTime, DateTime or UtcTicks: {v}"
            ));
        }
        other => return Err(format!("expected a date, found {other}")),
    };
    if s.starts_with("0001-01-01") {
        return Ok(None);
    }
    if let Some(inner) = s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        // The offset after the milliseconds (if any) is only a display hint: ms are UTC.
        let digits_end = inner
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == '+' || *c == '-')
            .map_or(inner.len(), |(i, _)| i);
        let ms: i64 = inner[..digits_end]
            .parse()
            .map_err(|_| format!("{s:?} is not a /Date(ms)/ date"))?;
        if ms <= -62_135_596_800_000 {
            return Ok(None);
        }
        return Timestamp::from_millisecond(ms)
            .map(Some)
            .map_err(|e| format!("{s:?}: {e}"));
    }
    s.parse::<Timestamp>()
        .map(Some)
        .map_err(|_| format!("{s:?} is neither /Date(ms)/ nor an RFC 3339 date"))
}

/// .NET ticks (100 ns since 0001-01-01 UTC).
fn from_ticks(ticks: i64) -> Result<Option<Timestamp>, String> {
    const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;
    if ticks <= 0 {
        return Ok(None);
    }
    let ms = (ticks - UNIX_EPOCH_TICKS) / 10_000;
    Timestamp::from_millisecond(ms)
        .map(Some)
        .map_err(|e| format!("{ticks} ticks: {e}"))
}

/// A duration as the script writes a `TimeSpan` (`.TotalSeconds`), or as Windows PowerShell
/// 5.1 writes one unformatted (an object with `TotalSeconds` or `Ticks`), or `hh:mm:ss`.
///
/// # Errors
/// Anything else, or a negative duration, as a message.
pub fn seconds(v: &Value) -> Result<Option<Duration>, String> {
    let secs = match v {
        Value::Null => return Ok(None),
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::Object(map) => {
            if let Some(s) = map.get("TotalSeconds").and_then(Value::as_f64) {
                s
            } else if let Some(t) = map.get("Ticks").and_then(Value::as_i64) {
                t as f64 / 10_000_000.0
            } else {
                return Err(format!(
                    "expected a TimeSpan, found an object without TotalSeconds or Ticks: {v}"
                ));
            }
        }
        Value::String(s) => {
            let parts: Vec<&str> = s.split(':').collect();
            match parts.as_slice() {
                [h, m, sec] => {
                    let h: f64 = h.parse().map_err(|_| format!("{s:?} is not hh:mm:ss"))?;
                    let m: f64 = m.parse().map_err(|_| format!("{s:?} is not hh:mm:ss"))?;
                    let sec: f64 = sec.parse().map_err(|_| format!("{s:?} is not hh:mm:ss"))?;
                    h * 3600.0 + m * 60.0 + sec
                }
                _ => s
                    .trim()
                    .parse()
                    .map_err(|_| format!("{s:?} is not a number of seconds"))?,
            }
        }
        other => return Err(format!("expected seconds, found {other}")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("{v} is not a non-negative duration"));
    }
    Ok(Some(Duration::from_secs_f64(secs)))
}
