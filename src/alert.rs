//! Alerts: what the controller tells people. Every alert goes to the log; sinks deliver it
//! further: [`outbox::OutboxSink`] queues them durably, [`email`] delivers them.

pub mod email;
pub mod outbox;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::operation::{AlertKind, Severity};

/// One alert raised by a site's pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub site: String,
    pub kind: AlertKind,
    pub severity: Severity,
    /// The condition it is about; one alert per condition change.
    pub key: String,
    pub message: String,
    pub at: Timestamp,
    /// What to do, in a few words (a command when there is one): the e-mail's subject says
    /// it, so the alert can be acted on from a phone's lock screen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

/// Where alerts go besides the log.
pub trait AlertSink {
    /// Accepts an alert for delivery.
    ///
    /// # Errors
    /// The alert could not even be queued; the pass then does not remember it as raised and
    /// raises it again next pass.
    fn raise(&mut self, alert: &Alert) -> Result<(), AlertError>;
}

#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("alert could not be queued: {0}")]
    Queue(String),
}

/// Logs each alert at its severity; keeps them for the caller (the demo's timeline, tests).
#[derive(Debug, Default)]
pub struct LogSink {
    pub raised: Vec<Alert>,
}

impl AlertSink for LogSink {
    fn raise(&mut self, alert: &Alert) -> Result<(), AlertError> {
        log(alert);
        self.raised.push(alert.clone());
        Ok(())
    }
}

/// Writes an alert to the log at its severity.
///
/// `id` is the alert's stable event ID: the Windows event log reports it as the Event ID.
pub fn log(alert: &Alert) {
    let kind = alert.kind.as_str();
    let id = alert.kind.event_id();
    match alert.severity {
        Severity::Error => {
            tracing::error!(site = %alert.site, alert = kind, id, runbook = %alert.kind.runbook(), "{}", alert.message)
        }
        Severity::Warning => {
            tracing::warn!(site = %alert.site, alert = kind, id, runbook = %alert.kind.runbook(), "{}", alert.message)
        }
        Severity::Information => {
            tracing::info!(site = %alert.site, alert = kind, id, runbook = %alert.kind.runbook(), "{}", alert.message)
        }
    }
}
