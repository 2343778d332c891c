//! `galaxy-ha run`: the controller as a service. A supervisor owns the set of sites (one
//! tokio task each), reloads the manifest directory on every debounced change, and stops
//! everything cleanly on a signal. A site's platform calls block, so each pass runs on the
//! blocking pool: a slow or failing site never delays another.

mod answer;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::alert::outbox::{self, CurrentEmail, Outbox, OutboxSink};
use crate::alert::{self, Alert, AlertSink};
use crate::execute::Records;
use crate::fleet::{Fleet, FleetError, FleetOptions, Turn};
use crate::history::{self, Item};
use crate::http::{self, HttpError, Shared, SiteView};
use crate::last_good;
use crate::manifest::{self, Site};
use crate::model::operation::{AlertKind, Severity};
use crate::plan::{error_policy, render};
use crate::platform::{self, Platform, PlatformError};
use crate::reconcile::{self, ReconcileError};
use crate::requests;
use crate::store::{FileStore, SiteStore};
use crate::watch::{self as watching, WatchError};

/// How long shutdown waits for passes in progress before it gives up on them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(4);

/// In a fleet, the passes that may run at once (see `Ctx::passes`).
pub const FLEET_PASSES: usize = 128;

/// The runtime's blocking threads, where passes run: a fleet's passes and room for the rest
/// (saving a lab world, reading the manifests, looking for requests). Without a bound the
/// pool grows towards tokio's 512: a pass that ends hands its permit to the next before its
/// thread is idle again, so the next starts a thread, and threads seldom idle long enough
/// (10 s) to end. Each thread keeps its own allocator cache and stack; measured on 10,000
/// sites, 409-512 threads where 160 do the same work.
pub const BLOCKING_THREADS: usize = FLEET_PASSES + 32;

/// What `run` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// A manifest file or a directory of manifests.
    pub manifests: PathBuf,
    /// Only this site.
    pub site: Option<String>,
    pub state_dir: PathBuf,
    /// Plan and log each pass; act on nothing, remember nothing.
    pub dry_run: bool,
    /// On the simulated lab, the virtual clock runs this many times faster than the wall
    /// clock (0 stops it).
    pub sim_speed: u32,
    /// The outbox's first retry wait (doubling to 10 min).
    pub alert_retry: Duration,
    /// Where and how the dashboard, status API and metrics are served; `None` serves nothing.
    pub listen: Option<http::listen::Listen>,
    /// One of a fleet of controllers on etcd; `None`: this controller alone.
    pub fleet: Option<FleetOptions>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The manifest directory cannot be watched.
    #[error(transparent)]
    Watch(#[from] WatchError),
    /// The dashboard's address cannot be bound.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The fleet's etcd endpoints are unusable.
    #[error(transparent)]
    Fleet(#[from] FleetError),
}

/// Why one pass of one site failed; the site retries with capped back-off.
#[derive(Debug, thiserror::Error)]
pub enum PassError {
    /// The site's platform could not be opened.
    #[error("cannot open the platform: {0}")]
    Open(#[source] PlatformError),
    #[error(transparent)]
    Reconcile(#[from] ReconcileError),
    /// A defect, not the site: the pass stopped part-way; memory holds every step it made.
    #[error("the pass panicked: {0}")]
    Panicked(String),
}

impl PassError {
    /// Only the fleet stood in the way (no lease, etcd away): the site is retried as soon as
    /// the lease is back, not backed off.
    fn is_coordination(&self) -> bool {
        matches!(self, PassError::Reconcile(e) if e.is_coordination())
    }
}

/// What every site task shares.
struct Ctx {
    state_dir: PathBuf,
    /// Memory and journal: the state dir's files, or etcd in a fleet.
    store: Arc<dyn SiteStore>,
    /// This controller's membership of a fleet.
    fleet: Option<Arc<Fleet>>,
    /// In a fleet, passes in progress at once: every write is an etcd transaction, and a
    /// thousand passes waiting on etcd together would time out rather than go faster.
    passes: Option<Arc<tokio::sync::Semaphore>>,
    dry_run: bool,
    sim_speed: u32,
    outbox: Outbox,
    wake: Arc<Notify>,
    /// Woken when a person left a request (`galaxy-ha failover`) in the state dir: every
    /// site passes at once and performs its own.
    asked: Arc<Notify>,
    /// Requests are waiting, as the look of the last second found: a pass reads the
    /// requests directory only then, not on every pass of every site.
    requests_waiting: Arc<AtomicBool>,
    /// What the HTTP side serves, published after each pass.
    shared: Shared,
}

impl Ctx {
    fn sink(&self, site: &Site) -> OutboxSink {
        OutboxSink::for_site(self.outbox.clone(), site, self.wake.clone())
    }
}

/// Runs the controller until `shutdown` completes, then lets passes in progress finish (at
/// most [`SHUTDOWN_GRACE`]); memory is on disk after every step, so nothing is lost.
///
/// # Errors
/// The manifest directory cannot be watched.
pub async fn run(options: Options, shutdown: impl Future<Output = ()>) -> Result<(), ServiceError> {
    // First, so that a SIGHUP during start-up does not end the process.
    let mut hangups = crate::stop::Hangups::new();
    let dir = watching::directory_of(&options.manifests);
    let (_watch, mut reloads) = watching::watch(&dir)?;
    let listener = match &options.listen {
        Some(listen) => Some(http::listen::bind(listen).await?),
        None => None,
    };
    let (stop, stopped) = watch::channel(false);
    let shared = Shared::new(options.state_dir.clone());
    let fleet = match &options.fleet {
        Some(f) => Some(Arc::new(Fleet::connect(f.clone()).await?)),
        None => None,
    };
    let fleet_tasks = fleet
        .as_ref()
        .map(|f| f.start(stopped.clone()))
        .unwrap_or_default();
    let store: Arc<dyn SiteStore> = match &fleet {
        Some(f) => f.clone(),
        None => Arc::new(FileStore::new(&options.state_dir)),
    };
    // In a fleet each controller delivers only the alerts it raised, from an outbox of its own.
    let outbox_dir = match &options.fleet {
        Some(f) => f.controller_dir(&options.state_dir),
        None => options.state_dir.clone(),
    };
    shared.set_fleet(fleet.clone());
    // Requests (`galaxy-ha failover` and others while this controller runs) go to a lone
    // controller that acts; it holds the serving lock for its life.
    let serving = if options.dry_run || options.fleet.is_some() {
        None
    } else {
        match requests::serve(&options.state_dir) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!("requests from the command line cannot reach this controller: {e}");
                None
            }
        }
    };
    let ctx = Arc::new(Ctx {
        state_dir: options.state_dir.clone(),
        store,
        passes: fleet
            .as_ref()
            .map(|_| Arc::new(tokio::sync::Semaphore::new(FLEET_PASSES))),
        fleet: fleet.clone(),
        dry_run: options.dry_run,
        sim_speed: options.sim_speed,
        outbox: Outbox::new(&outbox_dir),
        wake: Arc::new(Notify::new()),
        asked: Arc::new(Notify::new()),
        requests_waiting: Arc::new(AtomicBool::new(false)),
        shared: shared.clone(),
    });
    let giving_back = tokio::spawn(crate::allocator::give_back_regularly(stopped.clone()));
    // Only a controller that serves looks for requests, so only its passes read them.
    let requests_seen = serving.is_some().then(|| {
        tokio::spawn(answer::look_for_requests(
            ctx.state_dir.clone(),
            ctx.asked.clone(),
            ctx.requests_waiting.clone(),
            stopped.clone(),
        ))
    });
    let server = listener.map(|l| tokio::spawn(http::serve(l, shared.clone(), stopped.clone())));
    let counted = shared.clone();
    let on_delivery: outbox::OnDelivery =
        Arc::new(move |site, delivered| counted.metrics().delivery(site, delivered));
    let current = CurrentEmail::default();
    let delivery = (!options.dry_run).then(|| {
        tokio::spawn(outbox::deliver(
            ctx.outbox.clone(),
            current.clone(),
            ctx.wake.clone(),
            options.alert_retry,
            on_delivery,
            stopped.clone(),
        ))
    });
    tracing::info!(
        manifests = %options.manifests.display(),
        state_dir = %options.state_dir.display(),
        dry_run = options.dry_run,
        "controller started"
    );
    let mut supervisor = Supervisor {
        ctx,
        options,
        sites: HashMap::new(),
        owners: HashMap::new(),
        invalid: HashMap::new(),
        marked: HashMap::new(),
        secrets: HashMap::new(),
        current,
        stopped,
        cache: HashMap::new(),
        pairs: HashMap::new(),
    };
    supervisor.reload().await;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            Some(()) = reloads.recv() => supervisor.reload().await,
            () = hangups.recv() => {
                tracing::info!("SIGHUP received: reading the manifests again");
                supervisor.reload().await;
            }
            () = &mut shutdown => break,
        }
    }
    tracing::info!("stopping: letting passes in progress finish");
    let _ = stop.send(true);
    let mut tasks: Vec<JoinHandle<()>> = supervisor.sites.into_values().map(|h| h.task).collect();
    tasks.extend(delivery);
    tasks.extend(requests_seen);
    tasks.push(giving_back);
    tasks.extend(server);
    let all = async {
        for task in tasks {
            let _ = task.await;
        }
    };
    if tokio::time::timeout(SHUTDOWN_GRACE, all).await.is_err() {
        tracing::warn!("a pass did not finish in time; its site resumes from its journal");
    }
    if let Some(fleet) = &fleet {
        // A renewal or a claim in progress is of no use now: hand the sites over at once.
        for task in fleet_tasks {
            task.abort();
        }
        fleet.resign().await;
    }
    tracing::info!("controller stopped");
    Ok(())
}

/// A managed site: its spec channel (dropping it stops the task) and its task.
struct Handle {
    spec: watch::Sender<Arc<Site>>,
    task: JoinHandle<()>,
}

/// Owns the set of sites and diffs it against the manifests on every reload.
struct Supervisor {
    ctx: Arc<Ctx>,
    options: Options,
    sites: HashMap<String, Handle>,
    /// Which site each manifest file last held, so an invalid edit keeps that site's spec.
    owners: HashMap<PathBuf, String>,
    /// The errors each invalid file last had: one alert per distinct error set.
    invalid: HashMap<PathBuf, String>,
    /// The sites shown as `ManifestInvalid`, with their errors.
    marked: HashMap<String, String>,
    /// Each site's unusable secrets, as last logged.
    secrets: HashMap<String, String>,
    current: CurrentEmail,
    stopped: watch::Receiver<bool>,
    /// Each file's last parse, by its (modified time, length): a reload re-parses only the
    /// files that changed, so an edit in a fleet of a thousand sites starts its pass at once.
    cache: manifest::each::Parsed,
    /// Each managed site's pair on real hosts, locked machine-wide (its keys, the lock), or
    /// why another controller of this machine holds it (logged once per change).
    pairs: HashMap<String, Result<(Vec<String>, crate::lock::PairLock), String>>,
}

/// What a reload found on disk and in the state dir, read on the blocking pool.
struct Reloaded {
    loaded: manifest::each::Loaded,
    /// For invalid files no site of this process came from: what the state dir keeps.
    kept: HashMap<PathBuf, last_good::Found>,
    /// Each valid site's unusable secrets, located.
    secrets: HashMap<String, String>,
}

/// Loads the manifests; keeps each new or changed valid one as its site's last good manifest
/// (not in a dry run, which writes nothing), and looks up the state dir for invalid files of
/// unknown sites.
fn reread(
    manifests: &Path,
    only: Option<&str>,
    cache: &mut manifest::each::Parsed,
    managed: &[Arc<Site>],
    state_dir: &Path,
    dry_run: bool,
) -> Reloaded {
    let loaded = manifest::each::load(manifests, only, cache, managed);
    let known: HashSet<&PathBuf> = managed.iter().map(|s| &s.path).collect();
    let fresh: HashSet<&PathBuf> = loaded.fresh.iter().collect();
    let mut secrets = HashMap::new();
    for site in &loaded.sites {
        if !dry_run
            && fresh.contains(&site.path)
            && let Err(e) = last_good::save(state_dir, site)
        {
            tracing::warn!(site = %site.name, "cannot keep the last good manifest in the state dir: {e}");
        }
        let problems = manifest::secrets::check(site);
        if !problems.is_empty() {
            let text = problems.iter().map(ToString::to_string).collect::<Vec<_>>();
            secrets.insert(site.name.clone(), text.join("\n"));
        }
    }
    // A last good manifest is used only while it claims nothing a loaded site claims: never
    // two sites on one pair.
    let mut claims = manifest::claims::Claims::default();
    for site in &loaded.sites {
        claims.claim(&site.path, &site.manifest, None);
    }
    let kept = loaded
        .invalid
        .iter()
        .filter(|(file, _)| !known.contains(&file))
        .map(|(file, _)| {
            let found = match last_good::find(state_dir, file) {
                last_good::Found::Site(site) => {
                    match claims.claim(&site.path, &site.manifest, None).first() {
                        None => last_good::Found::Site(site),
                        Some(clash) => last_good::Found::Unusable {
                            site: site.name.clone(),
                            why: format!(
                                "its last good manifest is not used: {} ({})",
                                clash.message, clash.path
                            ),
                        },
                    }
                }
                other => other,
            };
            (file.clone(), found)
        })
        .collect();
    Reloaded {
        loaded,
        kept,
        secrets,
    }
}

impl Supervisor {
    async fn reload(&mut self) {
        self.ctx.shared.metrics().reloaded();
        let manifests = self.options.manifests.clone();
        let only = self.options.site.clone();
        let mut cache = std::mem::take(&mut self.cache);
        // Shared, not copied: a reload of a thousand sites must not clone their manifests.
        let managed: Vec<Arc<Site>> = self
            .sites
            .values()
            .map(|h| h.spec.borrow().clone())
            .collect();
        let (state_dir, dry_run) = (self.options.state_dir.clone(), self.options.dry_run);
        let Ok((reloaded, cache)) = tokio::task::spawn_blocking(move || {
            let reloaded = reread(
                &manifests,
                only.as_deref(),
                &mut cache,
                &managed,
                &state_dir,
                dry_run,
            );
            (reloaded, cache)
        })
        .await
        else {
            tracing::error!("loading the manifests panicked; keeping the sites as they were");
            return;
        };
        self.cache = cache;
        let Reloaded {
            loaded,
            mut kept,
            secrets,
        } = reloaded;
        let mut seen: HashSet<String> = HashSet::new();
        for site in loaded.sites {
            if self.invalid.remove(&site.path).is_some() {
                self.clear_invalid(&site);
            }
            seen.insert(site.name.clone());
            self.keep(site);
        }
        for (name, problems) in &secrets {
            if self.secrets.get(name) != Some(problems) {
                tracing::error!(site = %name, "a secret the manifest points to cannot be used; alerts or host access will fail until it is fixed:\n{problems}");
            }
        }
        self.secrets = secrets;
        let mut still_invalid = Vec::new();
        let mut marked: HashMap<String, String> = HashMap::new();
        for (file, invalid) in loaded.invalid {
            let text = invalid.to_string();
            let mut owner = self.owners.get(&file).cloned();
            let mut unusable = None;
            match kept.remove(&file) {
                Some(last_good::Found::Site(site)) if !seen.contains(&site.name) => {
                    tracing::warn!(site = %site.name, file = %file.display(), "the manifest is invalid: managing the site on its last good manifest, kept in the state dir");
                    owner = Some(site.name.clone());
                    self.keep(Arc::new(*site));
                }
                Some(last_good::Found::Unusable { site, why }) => unusable = Some((site, why)),
                _ => {}
            }
            if let Some(name) = &owner {
                seen.insert(name.clone());
                marked.insert(name.clone(), text.clone());
            }
            if let Some((site, why)) = &unusable {
                marked.insert(site.clone(), format!("{text}\n{why}"));
            }
            still_invalid.push(file.clone());
            if self.invalid.get(&file) == Some(&text) {
                continue;
            }
            self.invalid.insert(file.clone(), text.clone());
            self.raise_invalid(&file, owner.as_deref(), unusable.as_ref(), &text);
        }
        self.invalid.retain(|f, _| still_invalid.contains(f));
        let gone: Vec<String> = self
            .sites
            .keys()
            .filter(|n| !seen.contains(*n))
            .cloned()
            .collect();
        for name in gone {
            // Dropping the sender ends the task after its pass in progress; nothing is done
            // to the hosts: a deleted manifest is not an instruction to tear a site down.
            self.sites.remove(&name);
            self.pairs.remove(&name);
            if let Ok(mut current) = self.current.write() {
                current.remove(&name);
            }
            tracing::warn!(site = %name, "the site's manifest is gone: no longer managing it (nothing was changed on its hosts)");
        }
        self.owners.retain(|_, n| seen.contains(n));
        self.pairs.retain(|n, _| seen.contains(n));
        for name in self.marked.keys() {
            if !marked.contains_key(name) {
                self.ctx.shared.manifest_invalid(name, None);
            }
        }
        for (name, errors) in &marked {
            if self.marked.get(name) != Some(errors) {
                self.ctx.shared.manifest_invalid(name, Some(errors.clone()));
            }
        }
        self.marked = marked;
        self.ctx.shared.manage(self.sites.keys().cloned());
        if let Some(fleet) = &self.ctx.fleet {
            fleet.set_sites(self.sites.keys().cloned());
        }
    }

    /// Locks `site`'s pair for this controller (kept while its hosts stay the same); `false`
    /// when another controller of this machine drives it, which is logged once per change.
    fn hold_pair(&mut self, site: &Site) -> bool {
        if self.ctx.dry_run {
            // A dry run acts on nothing, so it drives no pair.
            return true;
        }
        let keys = manifest::claims::pair_of(&site.manifest);
        if let Some(Ok((held, _))) = self.pairs.get(&site.name)
            && *held == keys
        {
            return true;
        }
        // Hosts changed (or none held yet): release the old pair before taking the new one.
        let before = self.pairs.remove(&site.name);
        match crate::lock::PairLock::acquire(site, &self.options.state_dir) {
            Ok(Some(lock)) => {
                self.pairs.insert(site.name.clone(), Ok((keys, lock)));
                true
            }
            Ok(None) => true,
            Err(e) => {
                let why = e.to_string();
                if !matches!(&before, Some(Err(w)) if *w == why) {
                    tracing::error!(site = %site.name, "not managing the site: {why}");
                }
                self.pairs.insert(site.name.clone(), Err(why));
                false
            }
        }
    }

    /// Manages `site` on this manifest: its task is started, or told of the change.
    fn keep(&mut self, site: Arc<Site>) {
        if !self.hold_pair(&site) {
            // Its task, if any, ends after its pass in progress.
            self.sites.remove(&site.name);
            return;
        }
        self.owners.insert(site.path.clone(), site.name.clone());
        if let Ok(mut current) = self.current.write() {
            match site
                .manifest
                .spec
                .notifications
                .as_ref()
                .and_then(|n| n.email.clone())
            {
                Some(email) => current.insert(site.name.clone(), email),
                None => current.remove(&site.name),
            };
        }
        // One copy of the site, shared by the manifest cache, the dashboard and its task.
        self.ctx.shared.site_manifest(Arc::clone(&site));
        match self.sites.get(&site.name) {
            Some(handle) if !handle.task.is_finished() => {
                if *handle.spec.borrow() != site {
                    tracing::info!(site = %site.name, file = %site.path.display(), "manifest changed");
                    let _ = handle.spec.send(site);
                }
            }
            _ => {
                tracing::info!(site = %site.name, file = %site.path.display(), "managing site");
                let name = site.name.clone();
                let (spec, rx) = watch::channel(site);
                let task = tokio::spawn(site_task(self.ctx.clone(), rx, self.stopped.clone()));
                self.sites.insert(name, Handle { spec, task });
            }
        }
    }

    /// The all-clear of "manifest invalid": the file that was alerted on validates again, and
    /// its site is managed on it.
    fn clear_invalid(&self, site: &Site) {
        let file = &site.path;
        let alert = Alert {
            site: site.name.clone(),
            kind: AlertKind::AllClear,
            severity: Severity::Information,
            key: format!("all-clear/manifest-invalid:{}", file.display()),
            message: format!(
                "all clear: manifest {} is valid again, and the site is managed on it",
                file.display()
            ),
            at: jiff::Timestamp::now(),
            action: None,
        };
        if self.ctx.dry_run {
            alert::log(&alert);
        } else if let Err(e) = self.ctx.sink(site).raise(&alert) {
            tracing::error!(site = %site.name, "{e}");
        }
    }

    /// Logs the located errors and raises "manifest invalid" for the site the file held.
    fn raise_invalid(
        &self,
        file: &Path,
        owner: Option<&str>,
        unusable: Option<&(String, String)>,
        errors: &str,
    ) {
        let site_name = owner
            .or(unusable.map(|(site, _)| site.as_str()))
            .map(str::to_string)
            .unwrap_or_else(|| {
                file.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
        let kept = match (owner, unusable) {
            (Some(_), _) => {
                "the site keeps running on its last good manifest until this is fixed".to_string()
            }
            (None, Some((site, why))) => {
                format!("site {site} is NOT managed until this is fixed ({why})")
            }
            (None, None) => "the file is not managed until this is fixed".to_string(),
        };
        let alert = Alert {
            site: site_name.clone(),
            kind: AlertKind::ManifestInvalid,
            severity: Severity::Error,
            key: format!("manifest-invalid:{}", file.display()),
            message: format!("manifest {} is invalid; {kept}:\n{errors}", file.display()),
            at: jiff::Timestamp::now(),
            action: None,
        };
        let site = owner
            .and_then(|n| self.sites.get(n))
            .map(|h| h.spec.borrow().clone());
        match site {
            Some(site) if !self.ctx.dry_run => {
                if let Err(e) = self.ctx.sink(&site).raise(&alert) {
                    tracing::error!(site = %site_name, "{e}");
                }
            }
            _ => alert::log(&alert),
        }
    }
}

/// The site's monitor interval: the time between two passes.
fn interval(site: &Site) -> Duration {
    site.manifest
        .spec
        .failover
        .monitor
        .interval
        .max(Duration::from_secs(1))
}

/// The wait after a pass, in wall time: when the pass said to come back (at the latest one
/// monitor interval, sooner when the failover monitor's condition falls due), or the error
/// policy's back-off. A pass that only the fleet stopped (no lease, etcd away) is not backed
/// off: it waits one interval or until the fleet changes (the lease renewed again),
/// whichever comes first. These are the platform's times, so on a lab `pace` times faster
/// than the wall clock the wait is `pace` times shorter.
fn requeue(
    site: &Site,
    result: &Result<Duration, PassError>,
    failures: u32,
    pace: u32,
) -> Duration {
    let on_platform = match result {
        Ok(after) => *after,
        Err(e) if !e.is_coordination() => error_policy(failures),
        Err(_) => interval(site),
    };
    on_wall_clock(on_platform, pace)
}

/// A platform time as wall time, on a platform `pace` times faster than the wall clock.
fn on_wall_clock(d: Duration, pace: u32) -> Duration {
    d / pace.max(1)
}

/// Completes at the fleet's next change (membership, assignment, lease); never without one.
async fn fleet_change(changes: &mut Option<watch::Receiver<u64>>) {
    let Some(rx) = changes else {
        return std::future::pending().await;
    };
    if rx.changed().await.is_err() {
        // The fleet is gone (shutdown): no further change will come.
        *changes = None;
        std::future::pending::<()>().await;
    }
}

/// In a fleet: whether to pass now, or how long to wait first. A site another controller
/// should own is handed over (its lab world saved first, while this controller still owns
/// it); a site it does not own has its platform dropped unsaved, since its world may be
/// another controller's now.
async fn fleet_turn(ctx: &Ctx, site: &Site, carry: &mut Carry) -> Option<Duration> {
    let fleet = ctx.fleet.as_ref()?;
    match fleet.turn(&site.name) {
        Turn::Act => None,
        Turn::Release => {
            Box::pin(flush(ctx, &site.name, &mut carry.platform)).await;
            *carry = Carry::default();
            Box::pin(fleet.release(&site.name)).await;
            Some(Duration::ZERO)
        }
        Turn::Wait(after) => {
            if carry.platform.is_some() {
                tracing::info!(site = %site.name, "not this controller's site now: it acts on it no more");
            }
            *carry = Carry::default();
            ctx.shared.forget(&site.name);
            Some(after.unwrap_or_else(|| interval(site)))
        }
    }
}

/// What a site task carries from one pass to the next.
#[derive(Default)]
struct Carry {
    platform: Option<Box<dyn Platform>>,
    /// The journal's length when `recent` was read: it is read again only when it grew.
    journal_len: Option<u64>,
    recent: Arc<[Item]>,
    reports: Arc<[crate::report::Report]>,
}

/// One site: a pass every monitor interval and at once after its manifest changes, until
/// the manifest is gone or the controller stops. A pass in progress always finishes.
async fn site_task(
    ctx: Arc<Ctx>,
    mut spec: watch::Receiver<Arc<Site>>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut carry = Carry::default();
    let mut failures = 0u32;
    let mut changes = ctx.fleet.as_ref().map(|f| f.subscribe());
    loop {
        let site = spec.borrow_and_update().clone();
        if let Some(wait) = fleet_turn(&ctx, &site, &mut carry).await {
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = fleet_change(&mut changes) => {}
                changed = spec.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                _ = stopped.changed() => return,
            }
            continue;
        }
        let started = std::time::Instant::now();
        let span = tracing::info_span!("pass", site = %site.name);
        let (ctx2, site2, taken) = (ctx.clone(), site.clone(), std::mem::take(&mut carry));
        let permit = match &ctx.passes {
            Some(passes) => passes.clone().acquire_owned().await.ok(),
            None => None,
        };
        let joined = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let _entered = span.enter();
            one_pass(&ctx2, &site2, taken)
        })
        .await;
        let result = match joined {
            Ok((c, result)) => {
                carry = c;
                result
            }
            Err(e) => {
                tracing::error!(site = %site.name, "pass panicked: {e}");
                Err(PassError::Panicked(e.to_string()))
            }
        };
        ctx.shared
            .metrics()
            .pass_finished(&site.name, started.elapsed().as_secs_f64());
        ctx.shared.pass_finished(
            &site.name,
            result.as_ref().map(|_| ()).map_err(ToString::to_string),
        );
        let pace = carry.platform.as_ref().map_or(1, |p| p.pace());
        failures = match &result {
            Ok(_) => 0,
            Err(e) if e.is_coordination() => failures,
            Err(_) => failures + 1,
        };
        let wait = requeue(&site, &result, failures, pace);
        if let Err(e) = &result
            && !e.is_coordination()
        {
            ctx.shared.list_failing(&site.name, &e.to_string());
        }
        if let Err(e) = &result {
            tracing::warn!(site = %site.name, failures, "pass failed, next in {}: {e}", humantime::format_duration(wait));
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = fleet_change(&mut changes) => {}
            () = ctx.asked.notified() => {}
            changed = spec.changed() => {
                Box::pin(flush(&ctx, &site.name, &mut carry.platform)).await;
                if changed.is_err() {
                    // The manifest is gone: in a fleet, no controller keeps the site.
                    if let Some(fleet) = &ctx.fleet {
                        Box::pin(fleet.release(&site.name)).await;
                    }
                    return;
                }
                // A new manifest may name other hosts: open the platform afresh.
                carry.platform = None;
            }
            _ = stopped.changed() => {
                Box::pin(flush(&ctx, &site.name, &mut carry.platform)).await;
                return;
            }
        }
    }
}

/// One pass on the blocking pool; hands the platform and journal cache back for the next.
fn one_pass(ctx: &Ctx, site: &Site, mut carry: Carry) -> (Carry, Result<Duration, PassError>) {
    // Checked before the lab's clock moves: a move may save its world.
    if let Err(e) = ctx.store.may_act(&site.name) {
        return (Carry::default(), Err(ReconcileError::from(e).into()));
    }
    // The platform is kept between passes; the lab reads its world again when another
    // process (`galaxy-ha sim fault`, a drill, a test) changed the file, and its clock
    // follows the wall clock, `--sim-speed` times faster.
    let mut platform = match carry.platform.take() {
        Some(p) => p,
        None => match platform::open_for_service(site, &ctx.state_dir, ctx.sim_speed) {
            Ok(p) => p,
            Err(e) => return (carry, Err(PassError::Open(e))),
        },
    };
    tracing::debug!("pass started");
    let result = pass(ctx, site, platform.as_mut(), &mut carry);
    carry.platform = Some(platform);
    (carry, result)
}

/// Writes what the platform keeps of its own (the lab's world), on the blocking pool; only
/// while this controller may act on the site (in a fleet, it may have lost the site to
/// another controller, whose world must not be overwritten).
async fn flush(ctx: &Ctx, site: &str, platform: &mut Option<Box<dyn Platform>>) {
    // A dry run holds no lock: the lab's world may be another controller's to write.
    if ctx.dry_run || ctx.store.may_act(site).is_err() {
        *platform = None;
        return;
    }
    let Some(mut p) = platform.take() else { return };
    let name = site.to_string();
    match tokio::task::spawn_blocking(move || {
        if let Err(e) = p.flush() {
            tracing::warn!(site = %name, "cannot save the platform's state: {e}");
        }
        p
    })
    .await
    {
        Ok(p) => *platform = Some(p),
        Err(e) => tracing::error!(site = %site, "saving the platform's state panicked: {e}"),
    }
}

/// One reconcile of the site (a dry run under `--dry-run`), its plan published for the
/// HTTP side before anything is done.
fn pass(
    ctx: &Ctx,
    site: &Site,
    platform: &mut dyn Platform,
    carry: &mut Carry,
) -> Result<Duration, PassError> {
    let mut store = Records::new(&ctx.state_dir, &site.name)
        .on(ctx.store.clone())
        .writing_only_changes();
    let mut sink = ctx.sink(site);
    if ctx.requests_waiting.load(Ordering::Relaxed) {
        for request in requests::pending(&ctx.state_dir, &site.name) {
            answer::asked(ctx, site, platform, &mut store, &mut sink, request);
        }
    }
    let mut publish = |look: &reconcile::Look, now| publish(ctx, site, look, now, carry);
    let mut rctx = reconcile::Context::new(&mut store, &mut sink);
    rctx.seen = Some(&mut publish);
    let mode = if ctx.dry_run {
        reconcile::Mode::DryRun
    } else {
        reconcile::Mode::Apply
    };
    let outcome = reconcile::reconcile(site, platform, &mut rctx, mode)?;
    if ctx.dry_run {
        tracing::info!(
            "dry run, nothing done:\n{}",
            render::text(std::slice::from_ref(&outcome.plan))
        );
        return Ok(outcome.requeue_after);
    }
    let report = outcome.report;
    ctx.shared.metrics().actions(&site.name, &report);
    if report.applied.is_empty() && report.failed.is_empty() {
        tracing::debug!("pass finished: nothing to do");
    } else {
        tracing::info!(
            applied = report.applied.len(),
            failed = report.failed.len(),
            skipped = report.skipped.len(),
            "pass finished"
        );
    }
    Ok(outcome.requeue_after)
}

/// Publishes what this pass saw for the HTTP side: the status, the plan and the recent
/// journal (read again only when it grew).
fn publish(
    ctx: &Ctx,
    site: &Site,
    look: &reconcile::Look,
    now: jiff::Timestamp,
    carry: &mut Carry,
) {
    let len = ctx.store.journal_stamp(&site.name);
    if len != carry.journal_len {
        match ctx.store.journal(&site.name) {
            Ok((entries, _)) => {
                let items = history::timeline(&site.name, &entries);
                let skip = items.len().saturating_sub(http::RECENT);
                carry.recent = items.into_iter().skip(skip).collect::<Vec<_>>().into();
                let runs = crate::report::runs(&site.name, &entries, &look.plan.memory, now);
                let skip = runs.len().saturating_sub(crate::report::RECENT_RUNS);
                carry.reports = runs.into_iter().skip(skip).collect::<Vec<_>>().into();
                carry.journal_len = len;
            }
            Err(e) => tracing::warn!("cannot read the journal for the dashboard: {e}"),
        }
    }
    let pending = ctx.outbox.pending_for(&site.name);
    let mut status = crate::status::site(site, look, now, pending);
    status.owner = ctx.fleet.as_ref().map(|f| f.id().to_string());
    ctx.shared.publish(SiteView {
        status,
        plan_json: render::json(std::slice::from_ref(&look.plan)),
        recent: Arc::clone(&carry.recent),
        reports: Arc::clone(&carry.reports),
        published: std::time::SystemTime::now(),
        interval: interval(site),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::sample::real_site_yaml;

    #[test]
    fn a_last_good_manifest_that_names_a_pair_another_site_has_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let (manifests, state) = (dir.path().join("m"), dir.path().join("s"));
        std::fs::create_dir(&manifests).unwrap();
        let zeta = real_site_yaml(
            "zeta",
            ["GCSHOSTA", "GCSHOSTB"],
            ["10.1.0.1", "10.1.0.2", "10.1.0.3"],
        );
        std::fs::write(manifests.join("zeta.yaml"), &zeta).unwrap();
        // A start: nothing managed yet.
        let start = || {
            reread(
                &manifests,
                None,
                &mut Default::default(),
                &[],
                &state,
                false,
            )
        };
        let first = start();
        assert_eq!(
            first.loaded.sites.len(),
            1,
            "zeta is valid and kept as the last good"
        );

        // Then a new manifest for zeta's pair, and an invalid edit of zeta, before a restart.
        let alpha = real_site_yaml(
            "alpha",
            ["GCSHOSTA", "GCSHOSTC"],
            ["10.2.0.1", "10.2.0.2", "10.2.0.3"],
        );
        std::fs::write(manifests.join("alpha.yaml"), alpha).unwrap();
        std::fs::write(
            manifests.join("zeta.yaml"),
            zeta.replace("primary: GCSHOSTA", "primary: nowhere"),
        )
        .unwrap();
        let next = start();
        let names: Vec<&str> = next.loaded.sites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["alpha"]);
        match next.kept.get(&manifests.join("zeta.yaml")) {
            Some(last_good::Found::Unusable { site, why }) => {
                assert_eq!(site, "zeta");
                assert!(
                    why.contains("GCSHOSTA") && why.contains("alpha.yaml"),
                    "{why}"
                );
            }
            other => panic!("zeta's last good manifest was offered: {other:?}"),
        }
    }
}
