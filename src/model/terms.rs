//! The words of Windows and Carbonite that the manifest, the observation and the operations
//! share: a service's startup type, an event level, how mail is secured, and the failover
//! monitor's threshold. Defined here, below the manifest, so that every layer can speak them.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The time from `from` to `to`; none when `to` is the earlier (a clock that moved back).
pub fn elapsed(from: jiff::Timestamp, to: jiff::Timestamp) -> Duration {
    Duration::try_from(to.duration_since(from)).unwrap_or_default()
}

/// A duration as the alerts and history write it, to the whole second (`5m 10s`).
pub fn whole_seconds(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

/// A Windows service's startup type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Startup {
    Automatic,
    /// The guide: "Automatic Delayed Start".
    AutomaticDelayed,
    Manual,
    Disabled,
}

/// The level of a Double-Take event that e-mail notification sends.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum EventLevel {
    Information,
    Warning,
    Error,
}

/// How the connection to the mail server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    None,
    #[default]
    Starttls,
    Tls,
}

/// The failover monitor's threshold, resolved from the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Threshold {
    TotalTime(#[serde(with = "humantime_serde")] Duration),
    ConsecutiveFailures(u32),
}

impl Threshold {
    /// How long the source must be missed before the condition for failure is met.
    pub fn time_to_failure(&self, interval: Duration) -> Duration {
        match *self {
            Threshold::TotalTime(d) => d,
            Threshold::ConsecutiveFailures(n) => interval * n,
        }
    }
}

/// How often Carbonite takes a snapshot of the replica's data on the target, and how many
/// it keeps (the job's `SnapshotSchedule`: `Interval`, `MaxNumberOfSnapshots`): points in
/// time a failover can go back to when the newest data is not good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotSchedule {
    #[serde(with = "humantime_serde")]
    pub every: Duration,
    pub keep: u32,
}

/// A run's id: its kind and its start time to the second, e.g. `drill-20261203T134500Z`.
pub fn run_id(kind: &str, at: jiff::Timestamp) -> String {
    format!("{kind}-{}", at.strftime("%Y%m%dT%H%M%SZ"))
}
