//! The DoubleTake PowerShell surface of Carbonite 8.1.0.677 (the guide's build) as data:
//! cmdlets, types, enums. The same file the test suite checks every script against
//! (`tests/fixtures/carbonite-api.json`, with where it came from beside it); here `doctor`
//! compares what a real host returns with it.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::Value;

/// The model's text, as kept in the repository.
pub const MODEL_JSON: &str = include_str!("../../../tests/fixtures/carbonite-api.json");

/// The parts of the model galaxy-ha reads at run time.
#[derive(Debug, Deserialize)]
pub struct Model {
    /// Type key → property → type (`T?` nullable, `T[]` collection).
    pub types: BTreeMap<String, BTreeMap<String, String>>,
    /// Enum key → member → value.
    pub enums: BTreeMap<String, BTreeMap<String, i64>>,
    /// Enums whose values combine as flags.
    pub flags_enums: Vec<String>,
    /// Version strings: `model` is the Carbonite build read.
    pub versions: BTreeMap<String, String>,
}

static MODEL: LazyLock<Option<Model>> = LazyLock::new(|| serde_json::from_str(MODEL_JSON).ok());

/// The model, or `None` if the embedded file does not read (a test catches that).
pub fn model() -> Option<&'static Model> {
    MODEL.as_ref()
}

impl Model {
    /// The Carbonite build the model was read from.
    pub fn version(&self) -> &str {
        self.versions.get("model").map_or("?", String::as_str)
    }

    /// The name of `value` in enum `name`.
    pub fn enum_name(&self, name: &str, value: i64) -> Option<&str> {
        self.enums
            .get(name)?
            .iter()
            .find(|(_, v)| **v == value)
            .map(|(k, _)| k.as_str())
    }
}

/// A difference between what a host returned and the model.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// Where in what the host returned, e.g. `carbonite.Jobs[0].Status.HighLevelState`.
    pub path: String,
    pub problem: String,
    pub fix: String,
}

/// Compares `value` (a `ConvertTo-Json` of an object of model type `ty`, as Windows
/// PowerShell 5.1 writes it) with the model: every property missing, of another type, or an
/// enum value the model does not have.
pub fn compare(model: &Model, ty: &str, value: &Value, path: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    walk(model, ty, value, path, 0, &mut out);
    out
}

const MAX_DEPTH: usize = 10;

fn walk(model: &Model, ty: &str, value: &Value, path: &str, depth: usize, out: &mut Vec<Finding>) {
    if depth > MAX_DEPTH {
        return;
    }
    let (base, nullable) = match ty.strip_suffix('?') {
        Some(b) => (b, true),
        None => (ty, false),
    };
    if let Some(element) = base.strip_suffix("[]") {
        match value {
            Value::Null => {}
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(
                        model,
                        element,
                        item,
                        &format!("{path}[{i}]"),
                        depth + 1,
                        out,
                    );
                }
            }
            // 5.1 writes a one-element collection inside an object as the element itself.
            other => walk(model, element, other, path, depth + 1, out),
        }
        return;
    }
    let problem = |what: String| Finding {
        path: path.to_string(),
        problem: what,
        fix: format!(
            "the model (Carbonite {}) types this as {ty}. If the host runs another Carbonite build, read its DoubleTake.PowerShell DLLs as tests/fixtures/README.md says, then correct src/platform/powershell/names.rs and the scripts that use it",
            model.version()
        ),
    };
    if value.is_null() {
        let may_be_null = nullable
            || !matches!(
                base,
                "Boolean" | "Int16" | "Int32" | "Int64" | "Byte" | "Double" | "Guid"
            ) && !model.enums.contains_key(base);
        if !may_be_null {
            out.push(problem(format!(
                "is null; the model has a {base}, never null"
            )));
        }
        return;
    }
    if let Some(members) = model.enums.get(base) {
        match value {
            Value::Number(n) => {
                let flags = model.flags_enums.iter().any(|f| f == base);
                if let Some(v) = n.as_i64()
                    && !flags
                    && !members.values().any(|m| *m == v)
                {
                    out.push(problem(format!(
                        "holds {v}, which is no value of {base} in the model (a newer Carbonite?)"
                    )));
                }
            }
            Value::String(s) => {
                if !s.split(',').all(|p| members.contains_key(p.trim())) {
                    out.push(problem(format!(
                        "holds {s:?}, which is no member of {base}"
                    )));
                }
            }
            other => out.push(problem(format!("is {}, not an enum value", kind(other)))),
        }
        return;
    }
    let ok = match base {
        "Boolean" => value.is_boolean(),
        "Int16" | "Int32" | "Int64" | "Byte" | "Double" | "UInt32" | "UInt64" => value.is_number(),
        "String" | "Guid" => value.is_string(),
        "DateTimeOffset" | "DateTime" => {
            value.is_string()
                || value.get("UtcDateTime").is_some()
                || value.get("DateTime").is_some()
                || value.get("UtcTicks").is_some()
        }
        "TimeSpan" => {
            value.is_number()
                || value.is_string()
                || value.get("Ticks").is_some()
                || value.get("TotalSeconds").is_some()
        }
        _ => true,
    };
    if !ok {
        out.push(problem(format!("is {}", kind(value))));
        return;
    }
    let Some(props) = model.types.get(base) else {
        return;
    };
    match value {
        Value::Object(map) => {
            for (name, prop_ty) in props {
                let key = map.keys().find(|k| k.eq_ignore_ascii_case(name));
                match key {
                    None => out.push(Finding {
                        path: format!("{path}.{name}"),
                        problem: format!("is missing; the model's {base} has it ({prop_ty})"),
                        fix: format!(
                            "the host's Carbonite does not have {base}.{name}: if galaxy-ha uses it (src/platform/powershell/names.rs), that script fails there; read this build's DLLs into tests/fixtures/carbonite-api.json and correct names.rs"
                        ),
                    }),
                    Some(k) => walk(model, prop_ty, &map[k], &format!("{path}.{name}"), depth + 1, out),
                }
            }
        }
        // Deeper than ConvertTo-Json's -Depth: written as the type's name.
        Value::String(_) => {}
        other => out.push(problem(format!("is {}, not an object", kind(other)))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
