//! How Windows PowerShell 5.1's `ConvertTo-Json` writes the model's objects, and what the
//! observe script makes of them. The fake PowerShell ([`super::SimRunner`]) builds its
//! answers here, so that the `parse` module is tested against the shapes a real host prints: enums as
//! numbers, `DateTimeOffset` and `TimeSpan` as objects, `$null` for unset nullables, and the
//! script's `[string]`, `.ToString('o')` and `.TotalSeconds` on top.
//!
//! Where the model is silent (it holds types, not serializations), the shapes follow the
//! documented behaviour of 5.1's serializer: a `DateTime` as `/Date(ms)/`, any other struct as
//! an object of its public properties. `doctor --capture` records the real ones.

use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::model::Model;

const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;

/// A `TimeSpan` written unformatted.
pub fn time_span(d: Duration) -> Value {
    let ticks = i64::try_from(d.as_nanos() / 100).unwrap_or(i64::MAX);
    let secs = d.as_secs_f64();
    let whole = d.as_secs();
    json!({
        "Ticks": ticks,
        "Days": whole / 86_400,
        "Hours": (whole / 3600) % 24,
        "Milliseconds": d.subsec_millis(),
        "Minutes": (whole / 60) % 60,
        "Seconds": whole % 60,
        "TotalDays": secs / 86_400.0,
        "TotalHours": secs / 3600.0,
        "TotalMilliseconds": secs * 1000.0,
        "TotalMinutes": secs / 60.0,
        "TotalSeconds": secs,
    })
}

/// A `DateTimeOffset` (UTC) written unformatted; `None` is `DateTimeOffset.MinValue`, what an
/// unset one holds.
pub fn date_time_offset(t: Option<Timestamp>) -> Value {
    let ms = t.map_or(-62_135_596_800_000, Timestamp::as_millisecond);
    let ticks = ms * 10_000 + UNIX_EPOCH_TICKS;
    let dt = format!("/Date({ms})/");
    json!({
        "DateTime": dt,
        "UtcDateTime": dt,
        "LocalDateTime": dt,
        "Date": dt,
        "Offset": time_span(Duration::ZERO),
        "Ticks": ticks,
        "UtcTicks": ticks,
    })
}

/// The script's `.ToString('o')` of a `DateTimeOffset` written as above.
pub fn round_trip(v: &Value) -> Value {
    match super::parse::date(v) {
        Ok(Some(t)) => Value::String(format!(
            "{}.{:07}+00:00",
            t.strftime("%Y-%m-%dT%H:%M:%S"),
            t.subsec_nanosecond() / 100
        )),
        _ => Value::String("0001-01-01T00:00:00.0000000+00:00".into()),
    }
}

/// The script's `[string]` of an enum written as a number.
pub fn enum_name(model: &Model, name: &str, v: &Value) -> Value {
    v.as_i64()
        .and_then(|n| model.enum_name(name, n))
        .map_or_else(
            || Value::String(String::new()),
            |s| Value::String(s.to_string()),
        )
}

fn at<'v>(v: &'v Value, path: &str) -> &'v Value {
    path.split('.')
        .try_fold(v, |v, k| v.get(k))
        .unwrap_or(&Value::Null)
}

fn first(v: &Value) -> &Value {
    match v {
        Value::Array(items) => items.first().unwrap_or(&Value::Null),
        other => other,
    }
}

fn total_seconds(v: &Value) -> Value {
    v.get("TotalSeconds").cloned().unwrap_or(Value::Null)
}

fn text(v: &Value) -> Value {
    match v {
        Value::Null => Value::String(String::new()),
        Value::String(_) => v.clone(),
        other => Value::String(other.to_string()),
    }
}

/// The host part of a `Uri` as 5.1 writes one (a string, or an object with `Host`).
fn uri_host(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(
            s.split("://")
                .nth(1)
                .unwrap_or(s)
                .split(['/', ':'])
                .next()
                .unwrap_or("")
                .to_string(),
        ),
        Value::Object(m) => text(m.get("Host").unwrap_or(&Value::Null)),
        _ => Value::String(String::new()),
    }
}

/// What the observe script prints for one `JobInfo` and its `Get-DtSnapshot` entries (each
/// written as 5.1 writes it).
pub fn observe_job(model: &Model, j: &Value, snapshots: &[Value]) -> Value {
    let conn = at(j, "Statistics.CoreConnectionDetails");
    let core = at(j, "Options.CoreMonitorOptions");
    let address = first(at(core, "MonitorConfiguration.Addresses"));
    let status = first(at(
        j,
        "Statistics.CoreMonitorDetails.MonitoredAddressStatuses",
    ));
    let monitor_status = if status.is_null() {
        Value::Null
    } else {
        json!({
            "alive": status["Alive"].as_bool().unwrap_or(false),
            "failoverConditionMet": status["FailoverConditionMet"].as_bool().unwrap_or(false),
            "warningConditionMet": status["WarningConditionMet"].as_bool().unwrap_or(false),
            "remainingSeconds": total_seconds(&status["RemainingTime"]),
        })
    };
    let monitor = if core.is_null() {
        Value::Null
    } else {
        json!({
            "enabled": at(j, "Options.FailoverMonitoringEnabled"),
            "intervalSeconds": total_seconds(&address["PingInterval"]),
            "maxPingAttempts": address.get("MaxPingAttempts").cloned().unwrap_or(Value::Null),
            "useTotalTime": core["UseTotalTimeAllowed"].as_bool().unwrap_or(false),
            "totalTimeSeconds": total_seconds(&core["TotalTimeAllowed"]),
            "processingOptions": enum_name(model, "FailoverProcessingOptions", at(core, "MonitorConfiguration.ProcessingOptions")),
        })
    };
    let mut out = Map::new();
    let mut put = |k: &str, v: Value| {
        out.insert(k.to_string(), v);
    };
    put("id", text(&j["Id"]));
    put("name", text(at(j, "Options.Name")));
    put("jobType", text(&j["JobType"]));
    put("sourceHost", uri_host(&j["SourceHostUri"]));
    put("targetHost", uri_host(&j["TargetHostUri"]));
    put("sourceMachine", text(&conn["SourceMachineName"]));
    put("targetMachine", text(&conn["TargetMachineName"]));
    put(
        "replicaName",
        text(at(j, "Options.VRAOptions.ReplicaVMInfo.DisplayName")),
    );
    put(
        "highLevelState",
        enum_name(model, "HighLevelState", at(j, "Status.HighLevelState")),
    );
    put("health", enum_name(model, "Health", at(j, "Status.Health")));
    put(
        "canFailover",
        Value::Bool(at(j, "Status.CanFailover").as_bool().unwrap_or(false)),
    );
    put(
        "canUndoFailover",
        Value::Bool(at(j, "Status.CanUndoFailover").as_bool().unwrap_or(false)),
    );
    put(
        "permillageComplete",
        at(j, "Status.PermillageComplete").clone(),
    );
    put("targetState", text(at(j, "Status.TargetState")));
    for (k, p) in [
        ("mirrorBytesRemaining", "MirrorBytesRemaining"),
        ("replicationBytesQueued", "ReplicationBytesQueued"),
        ("diskQueueBytes", "DiskQueueBytes"),
        ("targetQueueBytes", "TargetQueueBytes"),
        ("recoveryPointLatencyMs", "SourceRecoveryPointLatency"),
        ("totalBytesSent", "TotalBytesSent"),
        ("mirrorBytesSent", "MirrorBytesSent"),
    ] {
        put(k, conn.get(p).cloned().unwrap_or(Value::Null));
    }
    for (k, p) in [
        ("startTime", "StartTime"),
        ("mirrorStartTime", "MirrorStartTime"),
        ("mirrorEndTime", "MirrorEndTime"),
    ] {
        put(
            k,
            if conn.is_null() {
                Value::Null
            } else {
                round_trip(&conn[p])
            },
        );
    }
    put("monitor", monitor);
    put("monitorStatus", monitor_status);
    let schedule = at(
        j,
        "Options.CoreConnectionOptions.ConnectionStartParameters.SnapshotSchedule",
    );
    put(
        "snapshotSchedule",
        if schedule.is_null() {
            Value::Null
        } else {
            json!({
                "enabled": schedule["IsEnabled"].as_bool().unwrap_or(false),
                "intervalSeconds": total_seconds(&schedule["Interval"]),
                "maxSnapshots": schedule.get("MaxNumberOfSnapshots").cloned().unwrap_or(Value::Null),
            })
        },
    );
    put(
        "snapshots",
        snapshots
            .iter()
            .map(|s| {
                json!({
                    "id": text(&s["Id"]),
                    "at": round_trip(&s["Timestamp"]),
                    "states": enum_name(model, "TargetStates", &s["States"]),
                    "reason": enum_name(model, "SnapshotCreationReason", &s["Reason"]),
                })
            })
            .collect(),
    );
    put("snapshotError", Value::Null);
    Value::Object(out)
}

/// How deep the fake writes an object before, as `ConvertTo-Json -Depth` does, it writes a
/// nested object as its type's name.
pub const DEPTH: usize = 6;

/// An object of model type `ty` as 5.1 writes it: every property the model gives the type,
/// from `given` where it has one, else as an unset one is written (`$null` for nullables,
/// strings and objects, `0`/`false` for numbers and booleans, the first value of an enum,
/// `DateTimeOffset.MinValue`, a zero `TimeSpan`, an empty collection).
pub fn instance(model: &Model, ty: &str, given: Option<&Value>, depth: usize) -> Value {
    let given = given.filter(|v| !v.is_null());
    if let Some(base) = ty.strip_suffix('?') {
        return match given {
            Some(_) => instance(model, base, given, depth),
            None => Value::Null,
        };
    }
    if let Some(element) = ty.strip_suffix("[]") {
        return match given {
            Some(Value::Array(items)) => Value::Array(
                items
                    .iter()
                    .map(|i| instance(model, element, Some(i), depth))
                    .collect(),
            ),
            Some(other) => other.clone(),
            None => Value::Array(Vec::new()),
        };
    }
    if let Some(members) = model.enums.get(ty) {
        return given
            .cloned()
            .unwrap_or_else(|| json!(members.values().min().copied().unwrap_or(0)));
    }
    if let Some(props) = model.types.get(ty) {
        if depth == 0 {
            return given.cloned().unwrap_or(Value::Null);
        }
        let mut out = Map::new();
        for (name, prop_ty) in props {
            let v = given.and_then(|g| g.get(name));
            out.insert(name.clone(), instance(model, prop_ty, v, depth - 1));
        }
        return Value::Object(out);
    }
    if let Some(v) = given {
        return v.clone();
    }
    match ty {
        "Boolean" => json!(false),
        "Int16" | "Int32" | "Int64" | "Byte" | "Double" | "UInt32" | "UInt64" => json!(0),
        "Guid" => json!("00000000-0000-0000-0000-000000000000"),
        "DateTimeOffset" => date_time_offset(None),
        "TimeSpan" => time_span(Duration::ZERO),
        _ => Value::Null,
    }
}
