//! The read-only HTTP side of `galaxy-ha run`: the dashboard, the status API, health checks
//! and metrics. Site tasks publish a [`SiteView`] after each pass; requests only read those,
//! so a scrape or a dashboard left open never makes the controller observe a host.

pub mod api;
pub mod dashboard;
pub mod listen;
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
    /// Off loopback, anyone on the network could read the site's state.
    #[error(
        "{addr} is not a loopback address: serving it needs TLS and a token (--tls-cert, --tls-key and --auth-token-file), or --insecure-listen to serve it unprotected; or keep a loopback address behind a reverse proxy (docs/http.md)"
    )]
    Unprotected { addr: SocketAddr },
    /// The certificate or key cannot be used.
    #[error("TLS: {path}: {message}")]
    Tls { path: PathBuf, message: String },
    /// The bearer token file cannot be used.
    #[error("--auth-token-file: {source}")]
    Token {
        path: PathBuf,
        #[source]
        source: crate::secret_file::SecretFileError,
    },
}

/// What the last pass of a site found, ready to serve.
#[derive(Debug, Clone)]
pub struct SiteView {
    pub status: SiteStatus,
    /// The site's plan as `plan --format json` prints it.
    pub plan_json: String,
    /// The last [`RECENT`] journal items, oldest first: shared with the site's task, which
    /// reads the journal again only when it grew.
    pub recent: std::sync::Arc<[Item]>,
    /// The site's last [`crate::report::RECENT_RUNS`] run reports, oldest first: the
    /// dashboard links them.
    pub reports: std::sync::Arc<[crate::report::Report]>,
    /// When the pass published it (the controller's wall clock): the dashboard shows its
    /// age, so a hung controller does not look fresh.
    pub published: std::time::SystemTime,
    /// The site's time between passes (wall clock).
    pub interval: std::time::Duration,
}

impl SiteView {
    /// A site listed before any pass of it published a view (its passes fail, or it has no
    /// usable manifest): its age counts from now, at the guide's monitor interval, so the
    /// card turns stale while no pass succeeds.
    fn placeholder(status: SiteStatus) -> SiteView {
        SiteView {
            status,
            plan_json: String::new(),
            recent: std::sync::Arc::from([]),
            reports: std::sync::Arc::from([]),
            published: std::time::SystemTime::now(),
            interval: std::time::Duration::from_secs(10),
        }
    }
}

/// The snapshot the service writes and the HTTP layer reads.
#[derive(Debug, Clone)]
pub struct Shared {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Each a box of its own: a `SiteView` is a kilobyte inline, and 10,000 of them
    /// inline in the map's nodes left a third of the nodes empty.
    views: RwLock<BTreeMap<String, Arc<SiteView>>>,
    /// The sites the manifests name now.
    managed: RwLock<BTreeSet<String>>,
    /// The manifests were loaded at least once.
    loaded: AtomicBool,
    state_dir: PathBuf,
    metrics: Metrics,
    /// In a fleet: who owns the sites this controller does not report itself.
    fleet: RwLock<Option<Arc<crate::fleet::Fleet>>>,
    /// Each site's last pass: `Ok`, or why it failed. A site not here has finished none.
    passes: RwLock<BTreeMap<String, Result<(), String>>>,
    /// Sites whose manifest on disk does not validate, with the errors: kept on their last
    /// good manifest, or (none kept) listed without one.
    invalid: RwLock<BTreeMap<String, String>>,
    /// The manifests in use, for checking their secrets on each readiness probe.
    sites: RwLock<BTreeMap<String, Arc<crate::manifest::Site>>>,
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
                passes: RwLock::default(),
                invalid: RwLock::default(),
                sites: RwLock::default(),
            }),
        }
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Replaces a site's view after a pass.
    pub fn publish(&self, mut view: SiteView) {
        let invalid = self.invalid_message(&view.status.name);
        view.status.mark_manifest_invalid(invalid.as_deref());
        let Ok(mut views) = self.inner.views.write() else {
            return;
        };
        let previous = views.get(&view.status.name).map(|v| &v.status);
        self.inner.metrics.publish(&view.status, previous);
        views.insert(view.status.name.clone(), Arc::new(view));
    }

    /// Records how a site's pass ended, for readiness and for the site's API answers.
    pub fn pass_finished(&self, site: &str, result: Result<(), String>) {
        if let Ok(mut passes) = self.inner.passes.write() {
            passes.insert(site.to_string(), result);
        }
    }

    /// Lists a managed site whose passes fail before any has published a view, so that it
    /// is not missing from the status and the dashboard; its first good pass replaces it.
    pub fn list_failing(&self, site: &str, why: &str) {
        let Ok(mut views) = self.inner.views.write() else {
            return;
        };
        if views.contains_key(site) {
            return;
        }
        let mut status = SiteStatus::elsewhere(site, None);
        status.waiting = vec![format!("its passes fail: {why}")];
        status.mark_manifest_invalid(self.invalid_message(site).as_deref());
        self.inner.metrics.publish(&status, None);
        views.insert(site.to_string(), Arc::new(SiteView::placeholder(status)));
    }

    /// The manifest a site runs on now (for its secrets).
    pub fn site_manifest(&self, site: Arc<crate::manifest::Site>) {
        if let Ok(mut sites) = self.inner.sites.write() {
            sites.insert(site.name.clone(), site);
        }
    }

    /// Marks a site's manifest on disk invalid (`Some(errors)`) or valid again (`None`): the
    /// site shows a `ManifestInvalid` condition in the status, the API and the metrics, and
    /// the controller is not ready. A site without a view yet (no usable manifest) is
    /// listed with that condition alone.
    pub fn manifest_invalid(&self, site: &str, errors: Option<String>) {
        if let Ok(mut invalid) = self.inner.invalid.write() {
            match &errors {
                Some(e) => invalid.insert(site.to_string(), e.clone()),
                None => invalid.remove(site),
            };
        }
        let Ok(mut views) = self.inner.views.write() else {
            return;
        };
        let mut view = views
            .get(site)
            .map(|v| SiteView::clone(v))
            .unwrap_or_else(|| SiteView::placeholder(SiteStatus::unmanaged(site)));
        if errors.is_none() && !views.contains_key(site) {
            return;
        }
        let previous = views.get(site).map(|v| v.status.clone());
        view.status.mark_manifest_invalid(errors.as_deref());
        self.inner.metrics.publish(&view.status, previous.as_ref());
        if errors.is_none() {
            // The condition's series goes with the condition.
            if let Some(p) = &previous {
                self.inner
                    .metrics
                    .forget_condition(p, status::MANIFEST_INVALID);
            }
        }
        views.insert(site.to_string(), Arc::new(view));
    }

    fn invalid_message(&self, site: &str) -> Option<String> {
        self.inner.invalid.read().ok()?.get(site).cloned()
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
        if let Ok(mut passes) = self.inner.passes.write() {
            passes.remove(site);
        }
        if let Ok(mut views) = self.inner.views.write()
            && let Some(view) = views.remove(site)
        {
            self.inner.metrics.forget(&view.status);
        }
    }

    /// The sites the manifests hold after a reload; views of the others go, except those of
    /// sites listed as invalid.
    pub fn manage(&self, names: impl IntoIterator<Item = String>) {
        let names: BTreeSet<String> = names.into_iter().collect();
        let invalid: BTreeSet<String> = self
            .inner
            .invalid
            .read()
            .map(|i| i.keys().cloned().collect())
            .unwrap_or_default();
        if let Ok(mut passes) = self.inner.passes.write() {
            passes.retain(|name, _| names.contains(name));
        }
        if let Ok(mut sites) = self.inner.sites.write() {
            sites.retain(|name, _| names.contains(name));
        }
        if let Ok(mut views) = self.inner.views.write() {
            views.retain(|name, view| {
                let keep = names.contains(name) || invalid.contains(name);
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

    pub fn view(&self, site: &str) -> Option<Arc<SiteView>> {
        self.inner.views.read().ok()?.get(site).cloned()
    }

    /// The site's view when a pass made it (not a listing of a site without one).
    pub fn planned_view(&self, site: &str) -> Option<Arc<SiteView>> {
        self.view(site).filter(|v| !v.plan_json.is_empty())
    }

    /// `Ok` when a valid manifest is loaded, the state dir takes a file, no manifest is
    /// invalid, every site has finished a pass that could write its state, and every secret
    /// the manifests point to is usable; otherwise every reason why not, one a line. A site
    /// whose hosts cannot be reached does not make the controller unready: it is the
    /// controller's job to report that site, and it can.
    pub fn ready(&self) -> Result<(), String> {
        if !self.inner.loaded.load(Ordering::SeqCst) {
            return Err("the manifests are not loaded yet".into());
        }
        let managed = self.managed();
        if managed.is_empty() {
            return Err("no valid site manifest is loaded".into());
        }
        let mut why = Vec::new();
        if let Err(e) = tempfile::tempfile_in(&self.inner.state_dir) {
            why.push(format!(
                "the state dir {} is not writable: {e}",
                self.inner.state_dir.display()
            ));
        }
        if let Ok(invalid) = self.inner.invalid.read() {
            for (site, errors) in invalid.iter() {
                why.push(format!("site {site}: its manifest is invalid: {errors}"));
            }
        }
        let passes = self
            .inner
            .passes
            .read()
            .map(|p| p.clone())
            .unwrap_or_default();
        // In a fleet, the sites other controllers own pass there, not here.
        let fleet = self.inner.fleet.read().is_ok_and(|f| f.is_some());
        for site in &managed {
            match passes.get(site) {
                None if fleet => {}
                None => why.push(format!("site {site}: its first pass has not finished")),
                Some(Err(e)) => why.push(format!("site {site}: its last pass failed: {e}")),
                Some(Ok(())) => {}
            }
        }
        let sites: Vec<Arc<crate::manifest::Site>> = self
            .inner
            .sites
            .read()
            .map(|s| s.values().cloned().collect())
            .unwrap_or_default();
        for site in sites {
            for problem in crate::manifest::secrets::check(&site) {
                why.push(format!("site {}: {problem}", site.name));
            }
        }
        if why.is_empty() {
            Ok(())
        } else {
            Err(why.join("\n"))
        }
    }

    /// Why a listed site has no plan: its manifest is unusable, its passes fail, or none
    /// has finished yet; `None` for a site not listed at all.
    pub fn no_view_yet(&self, site: &str) -> Option<String> {
        if !self.managed().contains(site) {
            return self.invalid_message(site).map(|errors| {
                format!("site {site:?} is not managed: its manifest is invalid: {errors}")
            });
        }
        Some(match self.inner.passes.read().ok()?.get(site) {
            Some(Err(e)) => format!("site {site:?} is managed, but its passes fail: {e}"),
            _ => format!("site {site:?} is managed; its first pass has not finished yet"),
        })
    }
}

pub fn router(shared: Shared) -> Router {
    Router::new()
        .route("/", get(dashboard::page))
        .route("/api/v1/status", get(api::status))
        .route("/api/v1/sites/{site}/plan", get(api::plan))
        .route("/api/v1/sites/{site}/history", get(api::history))
        .route("/reports/{site}/{run}", get(api::report))
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .route("/metrics", get(api::metrics))
        .with_state(shared)
}

/// Serves until `stop` turns true, within the limits of [`listen`].
pub async fn serve(
    listener: listen::Listener,
    shared: Shared,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    listen::serve(listener, router(shared), stop).await;
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
            recent: std::sync::Arc::from([]),
            reports: std::sync::Arc::from([]),
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
        assert!(
            shared
                .ready()
                .unwrap_err()
                .contains("first pass has not finished")
        );
        shared.pass_finished("hq", Err("memory.json: Operation not permitted".into()));
        assert!(shared.ready().unwrap_err().contains("last pass failed"));
        shared.pass_finished("hq", Ok(()));
        assert_eq!(shared.ready(), Ok(()));
    }

    #[test]
    fn a_site_whose_passes_fail_is_listed_and_its_plan_says_why() {
        let tmp = tempfile::tempdir().unwrap();
        let shared = Shared::new(tmp.path().to_path_buf());
        shared.manage(vec!["branch".to_string()]);
        let why = "cannot open the platform: cannot start powershell.exe";
        shared.pass_finished("branch", Err(why.into()));
        shared.list_failing("branch", why);
        let site = &shared.status().sites[0];
        assert_eq!(site.name, "branch");
        assert!(site.waiting[0].contains("powershell.exe"), "{site:?}");
        assert!(shared.planned_view("branch").is_none());
        assert!(
            shared
                .no_view_yet("branch")
                .unwrap()
                .contains("its passes fail")
        );
        assert!(shared.no_view_yet("other").is_none(), "not managed: 404");
        // The first good pass replaces the listing.
        shared.publish(view("branch", "Protecting", "GCSHOSTA"));
        assert!(shared.planned_view("branch").is_some());
    }

    #[test]
    fn an_invalid_manifest_shows_in_status_metrics_and_readiness_until_fixed() {
        let tmp = tempfile::tempdir().unwrap();
        let shared = Shared::new(tmp.path().to_path_buf());
        shared.manage(vec!["hq".to_string()]);
        shared.pass_finished("hq", Ok(()));
        shared.publish(view("hq", "Protecting", "GCSHOSTA"));
        shared.manifest_invalid("hq", Some("hq.yaml:1:1: spec.primary: nope".into()));
        let site = &shared.status().sites[0];
        assert!(
            site.conditions
                .iter()
                .any(|c| c.kind == status::MANIFEST_INVALID),
            "{site:?}"
        );
        let metrics = shared.metrics().encode();
        assert!(
            metrics.contains(r#"galaxy_ha_site_condition{site="hq",type="ManifestInvalid"} 1"#)
        );
        assert!(
            shared
                .ready()
                .unwrap_err()
                .contains("its manifest is invalid")
        );
        // A later pass keeps the condition until the file is fixed.
        shared.publish(view("hq", "Protecting", "GCSHOSTA"));
        assert!(
            shared.status().sites[0]
                .conditions
                .iter()
                .any(|c| c.kind == status::MANIFEST_INVALID)
        );
        shared.manifest_invalid("hq", None);
        assert!(shared.status().sites[0].conditions.is_empty());
        assert!(!shared.metrics().encode().contains("ManifestInvalid"));
        assert_eq!(shared.ready(), Ok(()));
        // A site without a usable manifest is listed all the same.
        shared.manifest_invalid("gone", Some("gone.yaml: bad".into()));
        shared.manage(vec!["hq".to_string()]);
        let names: Vec<String> = shared.status().sites.into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["gone", "hq"]);
        assert!(shared.ready().unwrap_err().contains("site gone"));
    }
}
