//! Logging with tracing: readable text by default, JSON for log shippers; `RUST_LOG` filters.
//! Standard error always; a daily rolling file where `--log-dir` says (on Windows by default,
//! where a service has no console); and, for the controller on Windows, errors and alerts in
//! the Application event log, where administrators and their monitoring look first.

use std::path::PathBuf;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// How many daily log files are kept.
pub const LOG_FILES_KEPT: usize = 14;

/// The event log source, also the service's name (`service install` registers it).
pub const EVENT_SOURCE: &str = "galaxy-ha";

/// The event ID of an error that is not an alert; alerts carry their own stable IDs
/// 4100–4112 (`AlertKind::event_id`).
pub const ERROR_EVENT_ID: u32 = 4199;

/// How each log line is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where and how to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub format: LogFormat,
    /// The filter when `RUST_LOG` is unset.
    pub default_filter: &'static str,
    /// Also write the log to a daily file in this directory.
    pub file_dir: Option<PathBuf>,
    /// Also report errors and alerts to the Windows event log.
    pub event_log: bool,
}

type Boxed = Box<dyn Layer<Registry> + Send + Sync>;

/// Installs the global subscriber. A destination that cannot be opened (a log dir without
/// write access, an event source that cannot be registered) is reported on standard error
/// and left out: logging never stops a command.
pub fn init(options: &Options) {
    let filter = || {
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(options.default_filter))
    };
    // Colours only on a terminal that shows them: on a Windows console, `console` turns its
    // escape handling on, and says no where it cannot.
    let colours = console::Term::stderr().features().colors_supported();
    let mut layers: Vec<Boxed> = vec![
        formatted(std::io::stderr, colours, options.format)
            .with_filter(filter())
            .boxed(),
    ];
    let mut problems = Vec::new();
    if let Some(dir) = &options.file_dir {
        match rolling_file(dir) {
            Ok(file) => {
                layers.push(
                    formatted(file, false, options.format)
                        .with_filter(filter())
                        .boxed(),
                );
            }
            Err(e) => problems.push(format!(
                "cannot write the log file in {}: {e}; logging to standard error only",
                dir.display()
            )),
        }
    }
    #[cfg(windows)]
    if options.event_log {
        match event_log() {
            Ok(layer) => layers.push(layer.with_filter(filter()).boxed()),
            Err(e) => problems.push(format!(
                "cannot report to the Windows event log (source {EVENT_SOURCE}): {e}"
            )),
        }
    }
    // A second init (tests calling `run` twice) is harmless: keep the first subscriber.
    if tracing_subscriber::registry()
        .with(layers)
        .try_init()
        .is_ok()
    {
        for problem in problems {
            tracing::warn!("{problem}");
        }
    }
}

/// A formatting layer on `writer`, as text or JSON.
fn formatted<W>(writer: W, ansi: bool, format: LogFormat) -> Boxed
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(ansi)
        .with_writer(writer);
    match format {
        LogFormat::Text => layer.boxed(),
        LogFormat::Json => layer.json().boxed(),
    }
}

/// `DIR/galaxy-ha.YYYY-MM-DD.log`, a new file each day, the last [`LOG_FILES_KEPT`] kept.
/// Writes are not buffered: a crash loses no line.
fn rolling_file(
    dir: &std::path::Path,
) -> Result<tracing_appender::rolling::RollingFileAppender, Box<dyn std::error::Error>> {
    // Made first: the appender looks for old files to remove before it creates the directory.
    std::fs::create_dir_all(dir)?;
    tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("galaxy-ha")
        .filename_suffix("log")
        .max_log_files(LOG_FILES_KEPT)
        .build(dir)
        .map_err(Into::into)
}

/// Whether an event is for the event log: every error, and every alert (the `alert`
/// module logs each one, at its severity, with its stable event ID in the `id` field).
pub fn for_event_log(metadata: &tracing::Metadata<'_>) -> bool {
    *metadata.level() == tracing::Level::ERROR || metadata.target() == "galaxy_ha::alert"
}

/// The Application event log, for [`for_event_log`]'s events; the event ID is the `id`
/// field, else [`ERROR_EVENT_ID`].
#[cfg(windows)]
fn event_log() -> Result<Boxed, String> {
    let layer = tracing_layer_win_eventlog::EventLogLayer::new_with_default_id(
        EVENT_SOURCE,
        Some(ERROR_EVENT_ID),
    )
    .map_err(|e| e.message())?;
    Ok(layer
        .with_filter(tracing_subscriber::filter::filter_fn(for_event_log))
        .boxed())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::filter::filter_fn;

    use super::*;
    use crate::alert::Alert;
    use crate::model::operation::{AlertKind, Severity};

    /// Records the messages of the events a layer filtered by [`for_event_log`] receives.
    struct Recorder(Arc<Mutex<Vec<String>>>);

    impl<S: tracing::Subscriber> Layer<S> for Recorder {
        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            let mut message = String::new();
            event.record(
                &mut |field: &tracing::field::Field, value: &dyn std::fmt::Debug| {
                    if field.name() == "message" {
                        message = format!("{value:?}");
                    }
                },
            );
            self.0.lock().unwrap().push(message);
        }
    }

    #[test]
    fn the_event_log_gets_errors_and_alerts_only() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry()
            .with(Recorder(seen.clone()).with_filter(filter_fn(for_event_log)));
        tracing::subscriber::with_default(subscriber, || {
            crate::alert::log(&Alert {
                site: "hq".into(),
                kind: AlertKind::FailoverFinished,
                severity: Severity::Information,
                key: "failover".into(),
                message: "failover finished".into(),
                at: jiff::Timestamp::UNIX_EPOCH,
                action: None,
            });
            tracing::error!("the HTTP server stopped");
            tracing::warn!(
                id = "letter-1",
                "alert e-mail not delivered, kept in the outbox"
            );
            tracing::info!("pass finished");
        });
        assert_eq!(
            *seen.lock().unwrap(),
            ["failover finished", "the HTTP server stopped"]
        );
    }
}
