//! `/metrics` in OpenMetrics: what Prometheus needs to alert on a site without reading the
//! dashboard. Gauges are set when a pass publishes its site; counters only ever grow.

use std::collections::HashSet;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{EncodeLabel, EncodeLabelSet, LabelSetEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::execute::ApplyReport;
use crate::status::SiteStatus;

/// A series of one site: `site="…"`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct Site {
    site: Arc<str>,
}

/// A series of one site with one more label (`type`, `host`, `activity`).
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct SiteWith {
    site: Arc<str>,
    key: &'static str,
    value: Arc<str>,
}

impl EncodeLabelSet for SiteWith {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        ("site", &*self.site).encode(encoder.encode_label())?;
        (self.key, &*self.value).encode(encoder.encode_label())
    }
}

/// An action's series: its site, kind and outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct Action {
    site: Arc<str>,
    kind: &'static str,
    outcome: &'static str,
}

/// A fleet member's series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct Controller {
    controller: String,
}

/// Label values, each held once: a controller of 10,000 sites has some twenty series per
/// site, and finding a series (every pass) then allocates nothing, nor does each series
/// own a copy of its site's name. Names of sites no longer managed stay (a few bytes each).
#[derive(Debug, Default)]
struct Names(Mutex<HashSet<Arc<str>>>);

impl Names {
    fn get(&self, name: &str) -> Arc<str> {
        let Ok(mut names) = self.0.lock() else {
            return Arc::from(name);
        };
        if let Some(held) = names.get(name) {
            return Arc::clone(held);
        }
        let held: Arc<str> = Arc::from(name);
        names.insert(Arc::clone(&held));
        held
    }
}

/// Pass durations from 5 ms to about 40 s: a lab pass is milliseconds, a PowerShell one
/// seconds.
fn pass_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

/// Every metric the controller exports, registered once.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    names: Names,
    activity: Family<SiteWith, Gauge>,
    live_host: Family<SiteWith, Gauge>,
    condition: Family<SiteWith, Gauge>,
    replication_queue: Family<Site, Gauge>,
    latency: Family<Site, Gauge<f64, AtomicU64>>,
    monitor_remaining: Family<Site, Gauge>,
    condition_met: Family<Site, Gauge>,
    alerts_pending: Family<Site, Gauge>,
    drill: Family<Site, Gauge>,
    rpo_missed: Family<Site, Gauge>,
    alerts_delivered: Family<Site, Counter>,
    alerts_failed: Family<Site, Counter>,
    pass_duration: Family<Site, Histogram, fn() -> Histogram>,
    actions: Family<Action, Counter>,
    fleet_renewals: Family<Controller, Counter>,
    fleet_owned: Family<Controller, Gauge>,
    reloads: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut m = Metrics {
            registry: Registry::with_prefix("galaxy_ha"),
            names: Names::default(),
            activity: Family::default(),
            live_host: Family::default(),
            condition: Family::default(),
            replication_queue: Family::default(),
            latency: Family::default(),
            monitor_remaining: Family::default(),
            condition_met: Family::default(),
            alerts_pending: Family::default(),
            drill: Family::default(),
            rpo_missed: Family::default(),
            alerts_delivered: Family::default(),
            alerts_failed: Family::default(),
            pass_duration: Family::new_with_constructor(pass_histogram),
            actions: Family::default(),
            fleet_renewals: Family::default(),
            fleet_owned: Family::default(),
            reloads: Counter::default(),
        };
        let r = &mut m.registry;
        r.register(
            "site_activity",
            "The job's activity as the console shows it: 1 for the current one",
            m.activity.clone(),
        );
        r.register(
            "site_live_host",
            "The host the System Galaxy VM runs on: 1 for the live host",
            m.live_host.clone(),
        );
        r.register(
            "site_condition",
            "Each condition of the site: 1 True, 0 False",
            m.condition.clone(),
        );
        r.register(
            "site_replication_queue_bytes",
            "The job's replication queue",
            m.replication_queue.clone(),
        );
        r.register(
            "site_recovery_point_latency_seconds",
            "The job's recovery point latency",
            m.latency.clone(),
        );
        r.register(
            "site_failover_monitor_remaining_seconds",
            "While the source is missed: seconds before the condition for failure is met",
            m.monitor_remaining.clone(),
        );
        r.register(
            "site_failover_condition_met",
            "The failover monitor's condition for failure is met: 1 (the source is missed and its time is up)",
            m.condition_met.clone(),
        );
        r.register(
            "site_drill_running",
            "A test failover's isolated replica runs now: 1 (a drill)",
            m.drill.clone(),
        );
        r.register(
            "site_rpo_missed_seconds",
            "Time, in all, the site's recovery point latency has spent above spec.rpoTarget (only for sites with one)",
            m.rpo_missed.clone(),
        );
        r.register(
            "alerts_pending",
            "Alert e-mails waiting in the outbox",
            m.alerts_pending.clone(),
        );
        r.register(
            "alerts_delivered",
            "Alert e-mails the mail server accepted",
            m.alerts_delivered.clone(),
        );
        r.register(
            "alerts_failed",
            "Attempts to e-mail an alert that failed (the alert stays in the outbox)",
            m.alerts_failed.clone(),
        );
        r.register(
            "pass_duration_seconds",
            "How long one reconcile pass of a site took",
            m.pass_duration.clone(),
        );
        r.register(
            "actions",
            "Actions the controller carried out, by kind and outcome",
            m.actions.clone(),
        );
        r.register(
            "fleet_lease_renewals",
            "In a fleet: renewals of this controller's etcd lease that etcd confirmed",
            m.fleet_renewals.clone(),
        );
        r.register(
            "manifest_reloads",
            "Times the controller read its manifests: at its start, on a change to them and on SIGHUP",
            m.reloads.clone(),
        );
        r.register(
            "fleet_sites_owned",
            "In a fleet: the sites this controller owns now",
            m.fleet_owned.clone(),
        );
        m
    }

    fn site(&self, name: &str) -> Site {
        Site {
            site: self.names.get(name),
        }
    }

    /// `site`'s series with one more label: its name is not looked up again.
    fn with(&self, site: &Site, key: &'static str, value: &str) -> SiteWith {
        SiteWith {
            site: Arc::clone(&site.site),
            key,
            value: self.names.get(value),
        }
    }

    /// Sets a site's gauges from its status; `previous` is the status published before, whose
    /// activity and live host no longer hold. A series whose labels stay is set, not
    /// dropped and made again: most passes change no label.
    pub fn publish(&self, now: &SiteStatus, previous: Option<&SiteStatus>) {
        let site = self.site(&now.name);
        if let Some(p) = previous {
            self.forget_changed(&site, p, now);
        }
        if let Some(a) = &now.activity {
            self.activity
                .get_or_create(&self.with(&site, "activity", a))
                .set(1);
        }
        if let Some(h) = &now.live_host {
            self.live_host
                .get_or_create(&self.with(&site, "host", h))
                .set(1);
        }
        for c in &now.conditions {
            self.condition
                .get_or_create(&self.with(&site, "type", c.kind))
                .set(i64::from(c.status == "True"));
        }
        match &now.job {
            Some(j) => {
                self.replication_queue
                    .get_or_create(&site)
                    .set(i64::try_from(j.replication_queue_bytes).unwrap_or(i64::MAX));
                #[allow(clippy::cast_precision_loss)]
                let seconds = j.recovery_point_latency_ms as f64 / 1000.0;
                self.latency.get_or_create(&site).set(seconds);
            }
            None => {
                self.replication_queue.remove(&site);
                self.latency.remove(&site);
            }
        }
        if let Some(left) = now.failover_monitor_remaining_s {
            self.monitor_remaining
                .get_or_create(&site)
                .set(i64::try_from(left).unwrap_or(i64::MAX));
        }
        self.condition_met
            .get_or_create(&site)
            .set(i64::from(now.failover_monitor_remaining_s == Some(0)));
        self.drill
            .get_or_create(&site)
            .set(i64::from(now.drill.running));
        if let Some(secs) = now.rpo_missed_s {
            self.rpo_missed
                .get_or_create(&site)
                .set(i64::try_from(secs).unwrap_or(i64::MAX));
        }
        // The delivery counters exist from the first pass, so that rules over them see 0.
        drop(self.alerts_delivered.get_or_create(&site));
        drop(self.alerts_failed.get_or_create(&site));
        self.alerts_pending
            .get_or_create(&site)
            .set(i64::try_from(now.alerts_pending).unwrap_or(i64::MAX));
    }

    /// Drops the series of `before` that change with the site's state (activity, live host,
    /// monitor) and that `now` no longer has.
    fn forget_changed(&self, site: &Site, before: &SiteStatus, now: &SiteStatus) {
        if let Some(a) = before
            .activity
            .as_ref()
            .filter(|&a| now.activity.as_ref() != Some(a))
        {
            self.activity.remove(&self.with(site, "activity", a));
        }
        if let Some(h) = before
            .live_host
            .as_ref()
            .filter(|&h| now.live_host.as_ref() != Some(h))
        {
            self.live_host.remove(&self.with(site, "host", h));
        }
        if now.failover_monitor_remaining_s.is_none() {
            self.monitor_remaining.remove(site);
        }
    }

    /// One condition's series of a site goes (the condition no longer applies).
    pub fn forget_condition(&self, s: &SiteStatus, kind: &str) {
        self.condition
            .remove(&self.with(&self.site(&s.name), "type", kind));
    }

    /// A site no longer managed: its gauges go (its counters stay, as counters do).
    pub fn forget(&self, s: &SiteStatus) {
        let site = self.site(&s.name);
        self.forget_changed(&site, s, &SiteStatus::default());
        for c in &s.conditions {
            self.condition.remove(&self.with(&site, "type", c.kind));
        }
        self.replication_queue.remove(&site);
        self.latency.remove(&site);
        self.alerts_pending.remove(&site);
        self.condition_met.remove(&site);
        self.drill.remove(&site);
        self.rpo_missed.remove(&site);
    }

    /// The manifests were read again.
    pub fn reloaded(&self) {
        self.reloads.inc();
    }

    pub fn pass_finished(&self, name: &str, seconds: f64) {
        self.pass_duration
            .get_or_create(&self.site(name))
            .observe(seconds);
    }

    pub fn actions(&self, name: &str, report: &ApplyReport) {
        let site = self.names.get(name);
        let count = |kind: &'static str, outcome: &'static str| {
            self.actions
                .get_or_create(&Action {
                    site: Arc::clone(&site),
                    kind,
                    outcome,
                })
                .inc();
        };
        for a in &report.applied {
            count(a.kind().as_str(), "done");
        }
        for (a, _) in &report.failed {
            count(a.kind().as_str(), "failed");
        }
        for a in &report.skipped {
            count(a.kind().as_str(), "skipped");
        }
    }

    /// An alert e-mail of `name` was accepted (`true`) or failed (`false`).
    pub fn delivery(&self, name: &str, delivered: bool) {
        let family = if delivered {
            &self.alerts_delivered
        } else {
            &self.alerts_failed
        };
        family.get_or_create(&self.site(name)).inc();
    }

    /// A fleet member's lease renewals so far and the sites it owns now.
    pub fn fleet(&self, controller: &str, renewals: u64, owned: usize) {
        let labels = Controller {
            controller: controller.to_string(),
        };
        let counter = self.fleet_renewals.get_or_create(&labels);
        counter.inc_by(renewals.saturating_sub(counter.get()));
        self.fleet_owned
            .get_or_create(&labels)
            .set(i64::try_from(owned).unwrap_or(i64::MAX));
    }

    /// The OpenMetrics text, `# EOF` included.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.registry) {
            tracing::error!("cannot encode the metrics: {e}");
        }
        out
    }
}
