//! The durable outbox: `STATE/outbox/ID.json`, one alert a file, written atomically before a
//! pass remembers the alert as raised, deleted right after the mail server accepts it. A
//! delivery task retries what is pending with capped back-off; a restart re-sends it.
//!
//! Across a crash, an alert is delivered once by two means together. Before its first send
//! the letter is marked as being sent (`sending: true`, written atomically); and every send
//! of a letter carries the same Message-ID (`<ID@galaxy-ha>`), on which a mail system can drop a duplicate. A letter
//! found marked after a restart is one whose server may have accepted it just before the
//! crash: it is sent again with that same Message-ID (never silently dropped, since it may
//! be the failover alert), and the log says it may be a repeat.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::{Alert, AlertError, AlertSink, email};
use crate::manifest::spec::EmailSpec;

/// No retry of a letter waits longer than this.
pub const MAX_RETRY: Duration = Duration::from_secs(600);

/// One queued alert and the e-mail settings it was raised under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Letter {
    /// Unique; the file name and the Message-ID.
    pub id: String,
    pub alert: Alert,
    pub email: EmailSpec,
    /// The idempotency mark: a send was begun. Found set after a restart, the server may
    /// have accepted the letter just before the controller stopped.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sending: bool,
}

/// Letters pending per site, and the directory's modified time they were counted at.
type Counts = (std::time::SystemTime, HashMap<String, usize>);

/// `STATE/outbox/`.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
    /// Letters pending per site, as of the directory's modified time: every pass of every
    /// site asks, and re-reading every letter each time would make an SMTP outage cost
    /// (letters × sites) reads per interval.
    counts: Arc<std::sync::Mutex<Option<Counts>>>,
}

/// The e-mail settings of each managed site now, so that a corrected SMTP server in the
/// manifest applies to letters already queued.
pub type CurrentEmail = Arc<RwLock<HashMap<String, EmailSpec>>>;

/// Told of each delivery attempt: the letter's site and whether the server accepted it
/// (the metrics count them).
pub type OnDelivery = Arc<dyn Fn(&str, bool) + Send + Sync>;

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// A new letter ID: wall-clock nanoseconds (so files sort in raising order), the process and
/// a counter (so two alerts of one instant differ).
pub fn new_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    format!("{nanos:020}-{}-{n}", std::process::id())
}

impl Outbox {
    pub fn new(state_dir: &Path) -> Self {
        Outbox {
            dir: state_dir.join("outbox"),
            counts: Arc::default(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Queues an alert durably; returns its ID.
    ///
    /// # Errors
    /// The file could not be written (nothing was queued).
    pub fn push(&self, alert: &Alert, email: &EmailSpec) -> std::io::Result<String> {
        let letter = Letter {
            id: new_id(),
            alert: alert.clone(),
            email: email.clone(),
            sending: false,
        };
        self.write(&letter)?;
        Ok(letter.id)
    }

    /// Letters waiting, oldest first. An unreadable file is logged and left for a person.
    pub fn pending(&self) -> Vec<Letter> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        paths
            .into_iter()
            .filter_map(|path| {
                let read = std::fs::read(&path).map_err(|e| e.to_string());
                match read.and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string())) {
                    Ok(letter) => Some(letter),
                    Err(e) => {
                        tracing::warn!(file = %path.display(), "outbox letter unreadable, left in place: {e}");
                        None
                    }
                }
            })
            .collect()
    }

    /// How many letters of `site` wait. Read again only when the directory changed (a letter
    /// is written by rename and removed by unlink, both of which touch it).
    pub fn pending_for(&self, site: &str) -> usize {
        let Ok(modified) = std::fs::metadata(&self.dir).and_then(|m| m.modified()) else {
            return 0;
        };
        let Ok(mut cache) = self.counts.lock() else {
            return 0;
        };
        if cache.as_ref().is_none_or(|(at, _)| *at != modified) {
            let mut counts = HashMap::new();
            for letter in self.pending() {
                *counts.entry(letter.alert.site).or_insert(0) += 1;
            }
            *cache = Some((modified, counts));
        }
        cache
            .as_ref()
            .and_then(|(_, c)| c.get(site).copied())
            .unwrap_or(0)
    }

    fn write(&self, letter: &Letter) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(letter).map_err(std::io::Error::other)?;
        crate::state::write_atomic(&self.dir.join(format!("{}.json", letter.id)), &bytes)
    }

    /// Forgets a delivered letter.
    ///
    /// # Errors
    /// The file could not be removed (it would be sent again after a restart).
    pub fn remove(&self, id: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.dir.join(format!("{id}.json"))) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Makes durable that a send of `letter` is begun (once; later attempts find it set).
    ///
    /// # Errors
    /// The letter could not be rewritten; it is then not sent this time.
    pub fn mark(&self, letter: &Letter) -> std::io::Result<()> {
        if letter.sending {
            return Ok(());
        }
        self.write(&Letter {
            sending: true,
            ..letter.clone()
        })
    }
}

/// Logs every alert and queues those the site's e-mail settings ask for.
pub struct OutboxSink {
    pub outbox: Outbox,
    pub email: Option<EmailSpec>,
    pub wake: Arc<Notify>,
}

impl OutboxSink {
    /// The sink of one site: its alerts are e-mailed as its manifest's
    /// `notifications.email` asks.
    pub fn for_site(outbox: Outbox, site: &crate::manifest::Site, wake: Arc<Notify>) -> Self {
        OutboxSink {
            outbox,
            email: site
                .manifest
                .spec
                .notifications
                .as_ref()
                .and_then(|n| n.email.clone()),
            wake,
        }
    }
}

/// What one delivery round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub sent: usize,
    /// Not accepted; left in the outbox for the service (or the next command) to send.
    pub kept: usize,
}

/// Tries every pending letter once, as a command ends: alerts raised by `apply` or
/// `failover` go through the same durable outbox as the service's, and what the server does
/// not accept now stays there. A server that failed is not tried again in this round.
pub async fn deliver_once(outbox: &Outbox) -> Delivered {
    let mut done = Delivered::default();
    let mut down: HashSet<(String, u32)> = HashSet::new();
    for letter in outbox.pending() {
        let server = (letter.email.smtp.server.clone(), letter.email.smtp.port);
        if down.contains(&server) {
            done.kept += 1;
            continue;
        }
        match email::send(&letter.email, &letter.alert, &letter.id).await {
            Ok(()) => match outbox.remove(&letter.id) {
                Ok(()) => done.sent += 1,
                Err(e) => {
                    tracing::error!(id = %letter.id, "alert delivered but not removed from the outbox (it will be sent again): {e}");
                    done.sent += 1;
                }
            },
            Err(e) => {
                tracing::warn!(site = %letter.alert.site, id = %letter.id, "alert e-mail not delivered, kept in the outbox: {e}");
                down.insert(server);
                done.kept += 1;
            }
        }
    }
    done
}

impl AlertSink for OutboxSink {
    fn raise(&mut self, alert: &Alert) -> Result<(), AlertError> {
        super::log(alert);
        if let Some(email) = &self.email
            && email::wants(email, alert)
        {
            self.outbox
                .push(alert, email)
                .map_err(|e| AlertError::Queue(format!("{}: {e}", self.outbox.dir.display())))?;
            self.wake.notify_one();
        }
        Ok(())
    }
}

/// Marks `letter` as being sent, saying so when a send before a restart may have delivered
/// it already.
fn begin(outbox: &Outbox, letter: &Letter, begun: &mut HashSet<String>) -> Result<(), String> {
    if begun.insert(letter.id.clone()) && letter.sending {
        tracing::warn!(
            site = %letter.alert.site,
            id = %letter.id,
            "the controller stopped while this alert was being sent, so the mail server may have it already: sending it again with the same Message-ID <{}@galaxy-ha>, on which a mail system can drop the duplicate",
            letter.id
        );
    }
    outbox
        .mark(letter)
        .map_err(|e| format!("cannot mark the letter as being sent (not sent): {e}"))
}

/// The wait before the `attempt`-th retry: `first`, doubling, at most [`MAX_RETRY`].
pub fn backoff(first: Duration, attempt: u32) -> Duration {
    let shift = attempt.saturating_sub(1).min(16);
    first.saturating_mul(1u32 << shift).min(MAX_RETRY)
}

/// Delivers the outbox until `shutdown` turns true: at once when woken, each failed letter
/// again after its back-off (letters to a server that just failed wait with it rather than
/// each waiting for a timeout).
pub async fn deliver(
    outbox: Outbox,
    current: CurrentEmail,
    wake: Arc<Notify>,
    first_retry: Duration,
    on_delivery: OnDelivery,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut retry: HashMap<String, (u32, Instant)> = HashMap::new();
    // Letters this process began to send: a mark on any other is from before a restart.
    let mut begun: HashSet<String> = HashSet::new();
    loop {
        let letters = outbox.pending();
        retry.retain(|id, _| letters.iter().any(|l| &l.id == id));
        let mut next: Option<Instant> = None;
        let mut down: HashSet<(String, u32)> = HashSet::new();
        for letter in letters {
            if *shutdown.borrow() {
                return;
            }
            let now = Instant::now();
            if let Some(&(_, at)) = retry.get(&letter.id)
                && at > now
            {
                next = Some(next.map_or(at, |n| n.min(at)));
                continue;
            }
            let spec = current
                .read()
                .ok()
                .and_then(|c| c.get(&letter.alert.site).cloned())
                .unwrap_or(letter.email.clone());
            let server = (spec.smtp.server.clone(), spec.smtp.port);
            let result = if down.contains(&server) {
                Err(None)
            } else if let Err(e) = begin(&outbox, &letter, &mut begun) {
                Err(Some(e))
            } else {
                email::send(&spec, &letter.alert, &letter.id)
                    .await
                    .map_err(|e| Some(e.to_string()))
            };
            match result {
                Ok(()) => {
                    on_delivery(&letter.alert.site, true);
                    retry.remove(&letter.id);
                    if let Err(e) = outbox.remove(&letter.id) {
                        tracing::error!(id = %letter.id, "alert delivered but not removed from the outbox (it will be sent again): {e}");
                    }
                    tracing::info!(site = %letter.alert.site, id = %letter.id, alert = letter.alert.kind.as_str(), "alert e-mailed");
                }
                Err(error) => {
                    let attempts = retry.get(&letter.id).map_or(0, |r| r.0) + 1;
                    let at = now + backoff(first_retry, attempts);
                    retry.insert(letter.id.clone(), (attempts, at));
                    next = Some(next.map_or(at, |n| n.min(at)));
                    if let Some(error) = error {
                        on_delivery(&letter.alert.site, false);
                        down.insert(server);
                        tracing::warn!(site = %letter.alert.site, id = %letter.id, attempts, "alert e-mail not delivered, kept in the outbox: {error}");
                    }
                }
            }
        }
        let sleep = tokio::time::sleep_until(next.unwrap_or_else(|| Instant::now() + MAX_RETRY));
        tokio::select! {
            () = wake.notified() => {}
            () = sleep => {}
            _ = shutdown.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_first_wait_up_to_ten_minutes() {
        let s = Duration::from_secs;
        assert_eq!(backoff(s(10), 1), s(10));
        assert_eq!(backoff(s(10), 2), s(20));
        assert_eq!(backoff(s(10), 7), s(600));
        assert_eq!(backoff(s(10), 99), s(600));
    }

    #[test]
    fn ids_are_unique_and_sort_in_raising_order() {
        let a = new_id();
        let b = new_id();
        assert_ne!(a, b);
        assert!(a < b || a[..20] == b[..20]);
    }

    #[test]
    fn a_mark_outlives_a_crash_in_the_letter_itself() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(dir.path());
        let alert = Alert {
            site: "hq".into(),
            kind: crate::model::operation::AlertKind::Test,
            severity: crate::model::operation::Severity::Information,
            key: "test".into(),
            message: "test".into(),
            action: None,
            at: jiff::Timestamp::UNIX_EPOCH,
        };
        let email: EmailSpec = serde_json::from_value(serde_json::json!({
            "smtp": {"server": "127.0.0.1", "port": 25, "security": "none"},
            "from": "a@example.test",
            "to": ["b@example.test"],
        }))
        .unwrap();
        let id = outbox.push(&alert, &email).unwrap();
        let letter = outbox.pending().remove(0);
        assert!(!letter.sending);
        let mut begun = HashSet::new();
        begin(&outbox, &letter, &mut begun).unwrap();
        // A new process (a restart) reads the mark: the send may have been accepted.
        let after = Outbox::new(dir.path()).pending().remove(0);
        assert!(after.sending);
        assert_eq!(after.id, id);
        assert_eq!(
            std::fs::read_dir(outbox.dir()).unwrap().count(),
            1,
            "no other file"
        );
        outbox.remove(&id).unwrap();
        assert!(outbox.pending().is_empty());
    }
}
