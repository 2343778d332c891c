//! The read-only HTTP side of `galaxy-ha run`: the dashboard, the status API, health checks
//! and metrics. Site tasks publish a [`SiteView`] after each pass; requests only read those,
//! so a scrape or a dashboard left open never makes the controller observe a host.

pub mod api;
pub mod dashboard;
pub mod metrics;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::routing::get;

use crate::history::Item;
use crate::status::{self, SiteStatus, Status};
use metrics::Metrics;

/// The loopback address `run` listens on unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9440";

/// How many journal items a site's view keeps for the dashboard.
pub const RECENT: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// What the last pass of a site found, ready to serve.
#[derive(Debug, Clone)]
pub struct SiteView {
    pub status: SiteStatus,
    /// The site's plan as `plan --format json` prints it.
    pub plan_json: String,
    /// The last [`RECENT`] journal items, oldest first.
    pub recent: Vec<Item>,
    /// When the pass published it (the controller's wall clock): the dashboard shows its
    /// age, so a hung controller does not look fresh.
    pub published: std::time::SystemTime,
    /// The site's time between passes (wall clock).
    pub interval: std::time::Duration,
}

/// The snapshot the service writes and the HTTP layer reads.
#[derive(Debug, Clone)]
pub struct Shared {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    views: RwLock<BTreeMap<String, SiteView>>,
    /// The sites the manifests name now.
    managed: RwLock<BTreeSet<String>>,
    /// The manifests were loaded at least once.
    loaded: AtomicBool,
    state_dir: PathBuf,
    metrics: Metrics,
    /// In a fleet: who owns the sites this controller does not report itself.
    fleet: RwLock<Option<Arc<crate::fleet::Fleet>>>,
}

impl Shared {
    pub fn new(state_dir: PathBuf) -> Self {
        Shared {
            inner: Arc::new(Inner {
                views: RwLock::default(),
                managed: RwLock::default(),
                loaded: AtomicBool::new(false),
                state_dir,
                metrics: Metrics::new(),
                fleet: RwLock::default(),
            }),
        }
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Replaces a site's view after a pass.
    pub fn publish(&self, view: SiteView) {
        let Ok(mut views) = self.inner.views.write() else {
            return;
        };
        let previous = views.get(&view.status.name).map(|v| &v.status);
        self.inner.metrics.publish(&view.status, previous);
        views.insert(view.status.name.clone(), view);
    }

    /// Makes this controller a fleet member in what it serves: each site with its owner.
    pub fn set_fleet(&self, fleet: Option<Arc<crate::fleet::Fleet>>) {
        if let Ok(mut f) = self.inner.fleet.write() {
            *f = fleet;
        }
    }

    /// The metrics, with the fleet's lease renewals and owned sites brought up to date.
    pub fn encode_metrics(&self) -> String {
        let fleet = self.inner.fleet.read().ok().and_then(|f| f.clone());
        if let Some(f) = fleet {
            self.inner.metrics.fleet(f.id(), f.renewals(), f.owned());
        }
        self.inner.metrics.encode()
    }

    /// Drops a site's view: another controller owns it now and reports it.
    pub fn forget(&self, site: &str) {
        if let Ok(mut views) = self.inner.views.write()
            && let Some(view) = views.remove(site)
        {
            self.inner.metrics.forget(&view.status);
        }
    }

    /// The sites the manifests hold after a reload; views of the others go.
    pub fn manage(&self, names: impl IntoIterator<Item = String>) {
        let names: BTreeSet<String> = names.into_iter().collect();
        if let Ok(mut views) = self.inner.views.write() {
            views.retain(|name, view| {
                let keep = names.contains(name);
                if !keep {
                    self.inner.metrics.forget(&view.status);
                }
                keep
            });
        }
        if let Ok(mut managed) = self.inner.managed.write() {
            *managed = names;
        }
        self.inner.loaded.store(true, Ordering::SeqCst);
    }

    /// Every site's status, as `status --format json` has it; in a fleet, the sites other
    /// controllers own appear with their owner alone.
    pub fn status(&self) -> Status {
        let mut sites: Vec<SiteStatus> = self
            .inner
            .views
            .read()
            .map(|v| v.values().map(|v| v.status.clone()).collect())
            .unwrap_or_default();
        let fleet = self.inner.fleet.read().ok().and_then(|f| f.clone());
        if let Some(fleet) = fleet {
            for name in self.managed() {
                if !sites.iter().any(|s| s.name == name) {
                    sites.push(SiteStatus::elsewhere(&name, fleet.owner_of(&name)));
                }
            }
            sites.sort_by(|a, b| a.name.cmp(&b.name));
        }
        Status {
            format_version: status::FORMAT_VERSION,
            sites,
        }
    }

    /// The sites with a valid manifest, as the last reload left them.
    fn managed(&self) -> BTreeSet<String> {
        self.inner
            .managed
            .read()
            .map(|m| m.clone())
            .unwrap_or_default()
    }

    pub fn view(&self, site: &str) -> Option<SiteView> {
        self.inner.views.read().ok()?.get(site).cloned()
    }

    /// `Ok` when a valid manifest is loaded and the state dir takes a file; otherwise why
    /// not. A site whose hosts cannot be reached does not make the controller unready: it
    /// is the controller's job to report that site, and it can.
    pub fn ready(&self) -> Result<(), String> {
        if !self.inner.loaded.load(Ordering::SeqCst) {
            return Err("the manifests are not loaded yet".into());
        }
        let managed = self.managed();
        if managed.is_empty() {
            return Err("no valid site manifest is loaded".into());
        }
        tempfile::tempfile_in(&self.inner.state_dir).map_err(|e| {
            format!(
                "the state dir {} is not writable: {e}",
                self.inner.state_dir.display()
            )
        })?;
        Ok(())
    }
}

pub fn router(shared: Shared) -> Router {
    Router::new()
        .route("/", get(dashboard::page))
        .route("/api/v1/status", get(api::status))
        .route("/api/v1/sites/{site}/plan", get(api::plan))
        .route("/api/v1/sites/{site}/history", get(api::history))
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .route("/metrics", get(api::metrics))
        .with_state(shared)
}

/// Binds `addr`; a non-loopback address is allowed, with a warning, since the pages are
/// read-only but anyone who reaches them reads the site's state.
///
/// # Errors
/// The address cannot be bound.
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, HttpError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| HttpError::Bind { addr, source })?;
    let local = listener.local_addr().unwrap_or(addr);
    if !addr.ip().is_loopback() {
        tracing::warn!(
            %local,
            "listening on a non-loopback address: anyone who can reach it reads the dashboard, status and metrics (read-only, no authentication)"
        );
    }
    tracing::info!("dashboard on http://{local}/");
    Ok(listener)
}

/// Serves until `stop` turns true.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shared: Shared,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let shutdown = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    if let Err(e) = axum::serve(listener, router(shared))
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!("the HTTP server stopped: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(name: &str, activity: &str, live: &str) -> SiteView {
        SiteView {
            status: SiteStatus {
                name: name.into(),
                live_host: Some(live.into()),
                activity: Some(activity.into()),
                ..SiteStatus::default()
            },
            plan_json: "{}".into(),
            recent: vec![],
            published: std::time::SystemTime::now(),
            interval: std::time::Duration::from_secs(10),
        }
    }

    #[test]
    fn a_new_activity_and_live_host_replace_the_old_series() {
        let tmp = tempfile::tempdir().unwrap();
        let shared = Shared::new(tmp.path().to_path_buf());
        shared.publish(view("hq", "Protecting", "GCSHOSTA"));
        shared.publish(view("hq", "Failed Over", "GCSHOSTB"));
        let text = shared.metrics().encode();
        assert!(text.contains(r#"galaxy_ha_site_activity{site="hq",activity="Failed Over"} 1"#));
        assert!(!text.contains("Protecting"), "{text}");
        assert!(!text.contains("GCSHOSTA"), "{text}");
        shared.manage(Vec::new());
        assert!(!shared.metrics().encode().contains("GCSHOSTB"));
        assert!(shared.status().sites.is_empty());
    }

    #[test]
    fn ready_needs_loaded_manifests_and_a_writable_state_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let shared = Shared::new(tmp.path().join("missing"));
        assert!(shared.ready().unwrap_err().contains("not loaded"));
        shared.manage(Vec::new());
        assert!(
            shared
                .ready()
                .unwrap_err()
                .contains("no valid site manifest")
        );
        shared.manage(vec!["hq".to_string()]);
        assert!(shared.ready().unwrap_err().contains("not writable"));
        let shared = Shared::new(tmp.path().to_path_buf());
        shared.manage(vec!["hq".to_string()]);
        assert_eq!(shared.ready(), Ok(()));
    }
}
