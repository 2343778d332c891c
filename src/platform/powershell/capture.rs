//! `doctor --capture`: what the read-only scripts return on each host (and, through it, the
//! System Galaxy guest), with every secret and address taken out, as one JSON file. Captures
//! from sites are replayed by the test suite through observe and parse, and compared with the
//! model so that a name that differs on a real install is named with its fix.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{self, Finding};
use super::runner::RunError;
use crate::manifest::spec::SiteSpec;

/// The capture file's format.
pub const FORMAT: &str = "galaxy-ha-capture/1";

/// One host's part of a capture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostCapture {
    pub host: String,
    /// The observe script's document, as printed.
    pub observe: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observe_error: Option<String>,
    /// The capture script's document: the cmdlets' objects as Windows PowerShell 5.1 writes
    /// them, unformatted.
    pub raw: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_error: Option<String>,
}

impl HostCapture {
    /// From the two scripts' outputs (or why they failed).
    pub fn from_outputs(
        host: &str,
        observe: Result<String, RunError>,
        raw: Result<String, RunError>,
    ) -> Self {
        let read = |r: Result<String, RunError>| match r {
            Ok(text) => {
                match serde_json::from_str::<Value>(text.trim_start_matches('\u{feff}').trim()) {
                    Ok(v) => (v, None),
                    Err(e) => (Value::Null, Some(format!("not JSON: {e}"))),
                }
            }
            Err(e) => (Value::Null, Some(e.to_string())),
        };
        let (observe, observe_error) = read(observe);
        let (raw, raw_error) = read(raw);
        Self {
            host: host.to_string(),
            observe,
            observe_error,
            raw,
            raw_error,
        }
    }
}

/// A capture file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Capture {
    pub format: String,
    pub site: String,
    /// The Carbonite build of the model it was compared with.
    pub model: String,
    pub hosts: Vec<HostCapture>,
    /// Where what the hosts returned differs from the model.
    pub findings: Vec<HostFinding>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostFinding {
    pub host: String,
    pub path: String,
    pub problem: String,
    pub fix: String,
}

impl Capture {
    /// Redacts the hosts' outputs for `spec` and compares them with the model.
    pub fn new(site: &str, spec: &SiteSpec, hosts: Vec<HostCapture>) -> Self {
        let redactor = Redactor::new(spec);
        let hosts: Vec<HostCapture> = hosts
            .into_iter()
            .map(|mut h| {
                h.observe = redactor.value(None, h.observe);
                h.raw = redactor.value(None, h.raw);
                h.observe_error = h.observe_error.map(|e| redactor.text(&e));
                h.raw_error = h.raw_error.map(|e| redactor.text(&e));
                h
            })
            .collect();
        let findings = hosts.iter().flat_map(compare_host).collect();
        Self {
            format: FORMAT.to_string(),
            site: site.to_string(),
            model: model::model().map_or("?", |m| m.version()).to_string(),
            hosts,
            findings,
        }
    }
}

/// The objects of a host's raw capture, each against its model type.
pub fn compare_host(h: &HostCapture) -> Vec<HostFinding> {
    let Some(m) = model::model() else {
        return Vec::new();
    };
    let mut found: Vec<Finding> = Vec::new();
    let list = |v: Option<&Value>| -> Vec<Value> {
        match v {
            Some(Value::Array(items)) => items.clone(),
            Some(Value::Null) | None => Vec::new(),
            Some(one) => vec![one.clone()],
        }
    };
    let dt = h.raw.get("carbonite");
    for (i, job) in list(dt.and_then(|c| c.get("Jobs"))).iter().enumerate() {
        found.extend(model::compare(
            m,
            "DoubleTake.Jobs.Contract.JobInfo",
            job,
            &format!("carbonite.Jobs[{i}]"),
        ));
    }
    for (i, f) in list(dt.and_then(|c| c.get("RecommendedFailoverOptions")))
        .iter()
        .enumerate()
    {
        if let Some(options) = f.get("Options") {
            found.extend(model::compare(
                m,
                "RecommendedFailoverOptions",
                options,
                &format!("carbonite.RecommendedFailoverOptions[{i}].Options"),
            ));
        }
    }
    for (i, s) in list(dt.and_then(|c| c.get("Snapshots"))).iter().enumerate() {
        if let Some(entries) = s.get("Entries") {
            found.extend(model::compare(
                m,
                "SnapshotEntry[]",
                entries,
                &format!("carbonite.Snapshots[{i}].Entries"),
            ));
        }
    }
    if let Some(mail) = dt.and_then(|c| c.get("EmailNotificationOptions")) {
        found.extend(model::compare(
            m,
            "EmailNotificationOptions",
            mail,
            "carbonite.EmailNotificationOptions",
        ));
    }
    for (i, job) in list(h.raw.get("guestJobs")).iter().enumerate() {
        found.extend(model::compare(
            m,
            "DoubleTake.Jobs.Contract.JobInfo",
            job,
            &format!("guestJobs[{i}]"),
        ));
    }
    found
        .into_iter()
        .map(|f| HostFinding {
            host: h.host.clone(),
            path: f.path,
            problem: f.problem,
            fix: f.fix,
        })
        .collect()
}

/// What is taken out of a capture: every password and account, and every address. The
/// site's own addresses become the names they stand for (the guest's address its VM name, a
/// host's address its host name), so that a capture replays against any manifest with the
/// same names.
struct Redactor {
    known: Vec<(String, String)>,
    /// The passwords and account names the manifest points at, wherever they appear.
    secrets: Vec<String>,
}

/// Keys whose values are secrets or accounts, whatever they hold.
const SECRET_KEYS: &[&str] = &[
    "password",
    "username",
    "domain",
    "credentials",
    "smtpcredentials",
    "creatorusername",
    "requesterusername",
];

/// Keys whose values are addresses (SMTP server, mail addresses).
const ADDRESS_KEYS: &[&str] = &["smtpserver", "server", "from", "to"];

impl Redactor {
    fn new(spec: &SiteSpec) -> Self {
        let mut known = vec![(spec.vm.address.clone(), spec.vm.name.to_string())];
        for h in &spec.hosts {
            known.push((h.address.clone(), h.name.to_string()));
        }
        let mut secrets = Vec::new();
        if let Some(ps) = &spec.platform.powershell {
            secrets.extend(ps.username.clone());
            secrets.extend(ps.guest_username.clone());
            for source in [&ps.credential_from, &ps.guest_credential_from]
                .into_iter()
                .flatten()
            {
                if let Ok(s) = super::secret::read_secret(source) {
                    secrets.push(s.expose().to_string());
                }
            }
        }
        if let Some(smtp) = spec
            .notifications
            .as_ref()
            .and_then(|n| n.email.as_ref())
            .map(|e| &e.smtp)
        {
            secrets.extend(smtp.username.clone());
            if let Some(Ok(s)) = smtp.password_from.as_ref().map(super::secret::read_secret) {
                secrets.push(s.expose().to_string());
            }
        }
        secrets.retain(|s| !s.is_empty());
        Self { known, secrets }
    }

    fn value(&self, key: Option<&str>, v: Value) -> Value {
        let lower = key.map(str::to_ascii_lowercase);
        let lower = lower.as_deref();
        match v {
            Value::Null | Value::Bool(_) | Value::Number(_) => v,
            _ if lower.is_some_and(|k| SECRET_KEYS.contains(&k)) => {
                Value::String("(redacted)".into())
            }
            Value::String(s) if lower.is_some_and(|k| ADDRESS_KEYS.contains(&k)) => {
                if s.is_empty() {
                    Value::String(s)
                } else {
                    Value::String("(redacted address)".into())
                }
            }
            Value::String(s) => Value::String(self.text(&s)),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|i| self.value(key, i)).collect())
            }
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| {
                        let v = self.value(Some(&k), v);
                        (k, v)
                    })
                    .collect(),
            ),
        }
    }

    /// The site's addresses become their names; any other IP or e-mail address goes.
    fn text(&self, s: &str) -> String {
        let mut out = s.to_string();
        for secret in &self.secrets {
            out = out.replace(secret.as_str(), "(redacted)");
        }
        for (address, name) in &self.known {
            if !address.is_empty() {
                out = out.replace(address.as_str(), name);
            }
        }
        out.split_inclusive(|c: char| {
            c.is_whitespace()
                || matches!(
                    c,
                    '/' | ',' | ';' | '"' | '(' | ')' | '<' | '>' | '[' | ']' | '\''
                )
        })
        .map(|piece| {
            let end = piece
                .find(|c: char| {
                    c.is_whitespace()
                        || matches!(
                            c,
                            '/' | ',' | ';' | '"' | '(' | ')' | '<' | '>' | '[' | ']' | '\''
                        )
                })
                .unwrap_or(piece.len());
            let (word, sep) = piece.split_at(end);
            let bare = word.trim_end_matches(['.', ':']);
            let is_ip = bare.parse::<std::net::IpAddr>().is_ok()
                || bare.rsplit_once(':').is_some_and(|(ip, port)| {
                    ip.parse::<std::net::IpAddr>().is_ok() && port.parse::<u16>().is_ok()
                });
            let is_mail = bare.contains('@') && bare.contains('.');
            if is_ip {
                format!("(address){sep}")
            } else if is_mail {
                format!("(mail address){sep}")
            } else {
                piece.to_string()
            }
        })
        .collect()
    }
}
