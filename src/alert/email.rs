//! E-mail delivery of alerts through lettre: the transport built from the manifest's
//! `notifications.email`, the message, and the guide's filter (levels, excluded event IDs).

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Alert;
use crate::manifest::spec::{EmailSpec, EventLevel, SecretSource, SmtpSecurity};
use crate::manifest::validate::event_ids;

/// How long one SMTP conversation may take: a black-holed server must not hold the outbox.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// Why an e-mail was not delivered. No variant ever carries the password.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// An address of the manifest is not a mailbox lettre accepts.
    #[error("address {address:?}: {message}")]
    Address { address: String, message: String },
    /// The SMTP password could not be read from where `passwordFrom` points.
    #[error("SMTP password: {0}")]
    Secret(String),
    /// The message could not be put together.
    #[error("the message could not be built: {0}")]
    Build(String),
    /// The mail server could not be reached or refused the message.
    #[error("SMTP server {server}:{port}: {message}")]
    Smtp {
        server: String,
        port: u32,
        message: String,
    },
}

/// Whether the site's e-mail settings ask for this alert: its level is included and its
/// event ID is not excluded (`excludeEventIds`, the guide's grammar).
pub fn wants(spec: &EmailSpec, alert: &Alert) -> bool {
    if !spec.include.contains(&alert.severity) {
        return false;
    }
    let id = alert.kind.event_id();
    // Validation rejected a bad list already; an unparsable one excludes nothing.
    let ranges = event_ids(&spec.exclude_event_ids).unwrap_or_default();
    !ranges.iter().any(|&(low, high)| (low..=high).contains(&id))
}

fn level(severity: EventLevel) -> &'static str {
    match severity {
        EventLevel::Information => "Information",
        EventLevel::Warning => "Warning",
        EventLevel::Error => "Error",
    }
}

/// `PREFIX Level site: kind (event N)`, what to do when the alert asks for an action, and the
/// message's first line with `addEventDescription`.
pub fn subject(spec: &EmailSpec, alert: &Alert) -> String {
    let mut subject = format!(
        "{} {} {}: {} (event {})",
        spec.subject_prefix,
        level(alert.severity),
        alert.site,
        alert.kind.as_str(),
        alert.kind.event_id()
    );
    if let Some(action) = &alert.action {
        subject.push_str(" - ");
        subject.push_str(action.trim());
    }
    if spec.add_event_description
        && let Some(line) = alert
            .message
            .lines()
            .next()
            .filter(|l| !l.trim().is_empty())
    {
        subject.push_str(" - ");
        subject.push_str(line.trim());
    }
    subject.trim().to_string()
}

/// The message text: what happened, then the facts an operator greps for.
pub fn body(alert: &Alert, id: &str) -> String {
    let todo = alert
        .action
        .as_ref()
        .map(|a| format!("To do:     {a}\n"))
        .unwrap_or_default();
    format!(
        "{message}\n\n{todo}Site:      {site}\nAlert:     {kind} (event {event})\nSeverity:  {level}\nCondition: {key}\nRaised at: {at}\nAlert ID:  {id}\nRunbook:   {runbook}\n\n-- \ngalaxy-ha {version}\n",
        message = alert.message,
        site = alert.site,
        kind = alert.kind.as_str(),
        event = alert.kind.event_id(),
        level = level(alert.severity),
        key = alert.key,
        at = alert.at,
        runbook = alert.kind.runbook(),
        version = env!("CARGO_PKG_VERSION"),
    )
}

fn mailbox(address: &str) -> Result<Mailbox, EmailError> {
    address
        .parse()
        .map_err(|e: lettre::address::AddressError| EmailError::Address {
            address: address.to_string(),
            message: e.to_string(),
        })
}

/// Reads the SMTP password at send time; it is never stored, logged or put in an error.
fn read_secret(source: &SecretSource) -> Result<String, EmailError> {
    crate::secret_file::resolve(source).map_err(|e| EmailError::Secret(e.to_string()))
}

/// Builds the message with `id` as its Message-ID, so a duplicate is recognisable.
///
/// # Errors
/// An address is not a mailbox.
pub fn message(spec: &EmailSpec, alert: &Alert, id: &str) -> Result<Message, EmailError> {
    let mut builder = Message::builder()
        .from(mailbox(&spec.from)?)
        .subject(subject(spec, alert))
        .message_id(Some(format!("<{id}@galaxy-ha>")))
        .header(ContentType::TEXT_PLAIN);
    for to in &spec.to {
        builder = builder.to(mailbox(to)?);
    }
    builder
        .body(body(alert, id))
        .map_err(|e| EmailError::Build(e.to_string()))
}

/// TLS that trusts the certificate authority in the PEM file `ca` besides the system's.
fn trusting(server: &str, ca: &std::path::Path) -> Result<TlsParameters, String> {
    let pem = std::fs::read(ca).map_err(|e| format!("cannot read caFile {}: {e}", ca.display()))?;
    let cert = Certificate::from_pem(&pem)
        .map_err(|e| format!("caFile {} is not a PEM certificate: {e}", ca.display()))?;
    TlsParameters::builder(server.to_string())
        .add_root_certificate(cert)
        .build_rustls()
        .map_err(|e| e.to_string())
}

/// Sends one alert to the site's recipients; `Ok` means the server accepted it.
///
/// # Errors
/// The password cannot be read, an address is invalid, or the server refused or could not be
/// reached (in lettre's words, which never include the password).
pub async fn send(spec: &EmailSpec, alert: &Alert, id: &str) -> Result<(), EmailError> {
    let smtp = &spec.smtp;
    let failed = |e: lettre::transport::smtp::Error| EmailError::Smtp {
        server: smtp.server.clone(),
        port: smtp.port,
        message: e.to_string(),
    };
    let message = message(spec, alert, id)?;
    let port = u16::try_from(smtp.port).map_err(|_| EmailError::Smtp {
        server: smtp.server.clone(),
        port: smtp.port,
        message: "not a TCP port".into(),
    })?;
    let mut builder = match smtp.security {
        SmtpSecurity::None => {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.server.as_str())
        }
        SmtpSecurity::Starttls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.server).map_err(failed)?
        }
        SmtpSecurity::Tls => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.server).map_err(failed)?
        }
    };
    if let Some(ca) = &smtp.ca_file {
        let params = trusting(&smtp.server, ca).map_err(|message| EmailError::Smtp {
            server: smtp.server.clone(),
            port: smtp.port,
            message,
        })?;
        builder = match smtp.security {
            SmtpSecurity::None => builder,
            SmtpSecurity::Starttls => builder.tls(Tls::Required(params)),
            SmtpSecurity::Tls => builder.tls(Tls::Wrapper(params)),
        };
    }
    builder = builder.port(port).timeout(Some(SMTP_TIMEOUT));
    if let Some(user) = &smtp.username {
        let password = match &smtp.password_from {
            Some(source) => read_secret(source)?,
            None => String::new(),
        };
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    builder.build().send(message).await.map_err(failed)?;
    Ok(())
}
