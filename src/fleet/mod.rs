//! A fleet of controllers on etcd: controller high availability and sites spread over
//! several controllers, with etcd as the only arbiter (no consensus of our own: docs/fleet.md).
//!
//! Each controller holds one etcd lease, kept alive every third of its TTL, and registers
//! under `controllers/ID` with it. Every site has an owner key, `owners/SITE`, bound to its
//! owner's lease: when a controller dies or stops renewing, etcd deletes its keys at the
//! TTL and the others claim its sites. One lease per controller rather than one per site:
//! ten thousand sites would otherwise need thousands of keep-alives a second, and a site's
//! ownership still ends exactly when its owner's lease does.
//!
//! A controller acts on a site only while it provably owns it: the owner key must carry its
//! lease (checked by etcd in the same transaction as every memory and journal write), and
//! the lease's local deadline — the send time of the last confirmed renewal plus the TTL,
//! less a fifth of it — must not have passed (checked right before each action). A
//! controller cut off from etcd therefore stops before its lease can expire and another
//! can take over.

pub mod assign;
pub mod etcd;
mod handover;
pub mod options;
mod session;
mod sites;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use etcd::{Client, EtcdError, Get, Txn, op, when};
use tokio::sync::watch;

use crate::memory::Memory;
pub use options::{Coordination, CoordinationArgs, FleetOptions};

/// Every key galaxy-ha writes lives under this root.
pub const ROOT: &str = "/galaxy-ha/v1/";

fn controllers_prefix() -> String {
    format!("{ROOT}controllers/")
}

fn owners_prefix() -> String {
    format!("{ROOT}owners/")
}

fn wants_prefix() -> String {
    format!("{ROOT}wants/")
}

/// `owners/SITE`: the owning controller's id, bound to its lease.
pub fn owner_key(site: &str) -> String {
    format!("{ROOT}owners/{site}")
}

/// `sites/SITE/memory`: the site's memory as JSON.
pub fn memory_key(site: &str) -> String {
    format!("{ROOT}sites/{site}/memory")
}

/// `sites/SITE/journal/`: one key per entry, in order.
pub fn journal_prefix(site: &str) -> String {
    format!("{ROOT}sites/{site}/journal/")
}

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("etcd at {endpoints}: {message}")]
    Connect { endpoints: String, message: String },
}

/// What a site task should do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// This controller owns the site: pass.
    Act,
    /// It owns the site but another controller should: save what it keeps, then release.
    Release,
    /// Not this controller's site now; look again after this long (or at the next change).
    Wait(Option<Duration>),
}

/// This controller's lease, as far as it can prove it.
#[derive(Debug, Clone, Copy)]
struct Lease {
    id: i64,
    /// Past this instant nothing is issued until a renewal is confirmed again.
    deadline: Instant,
}

#[derive(Debug, Default)]
struct State {
    lease: Option<Lease>,
    /// Live controllers as etcd last listed them, sorted.
    members: Vec<String>,
    /// The sites the manifests name, sorted.
    sites: Vec<String>,
    /// Who should own each site.
    assignment: HashMap<String, String>,
    /// Sites this controller owns, with the lease it claimed them under.
    owned: HashMap<String, i64>,
    /// Every site's owner as last read from etcd, for status and the dashboard.
    owners: BTreeMap<String, String>,
    /// Since when each site of the manifests has had no owner, as the owner reads saw it.
    unowned_since: HashMap<String, Instant>,
    /// Sites another controller asked for (`wants/SITE`), and who asked.
    wants: HashMap<String, String>,
    /// Sites this controller asked for.
    asked: HashSet<String>,
    /// Memory of owned sites: only the owner writes it, so what it wrote last is current.
    /// Boxed: the table of ten thousand sites holds a pointer each, not a whole memory.
    memory: HashMap<String, Box<Memory>>,
    /// A value per site that changes whenever its journal grows or its owner changes.
    stamps: HashMap<String, u64>,
    /// The latest journal entries of sites just claimed, oldest first, as the claim's
    /// prefetch read them: held only until the dashboard first takes them, since the site's
    /// task keeps what it shows from them and etcd keeps the rest.
    recent: HashMap<String, Vec<crate::journal::Entry>>,
}

/// One controller's membership of the fleet; shared by the service's tasks.
pub struct Fleet {
    options: FleetOptions,
    /// Memory, journal, ownership and membership.
    client: Client,
    /// The lease alone, on a connection of its own: a burst of site traffic (ten thousand
    /// claims at start) must never delay a renewal.
    leases: Client,
    runtime: tokio::runtime::Handle,
    state: Mutex<State>,
    changed: watch::Sender<u64>,
    renewals: AtomicU64,
    sequence: AtomicU64,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("controller", &self.options.controller_id)
            .finish_non_exhaustive()
    }
}

impl Fleet {
    /// A client for the fleet's etcd; nothing is registered until [`Fleet::start`].
    ///
    /// # Errors
    /// The endpoints are malformed (etcd being down is not an error: the controller waits).
    pub async fn connect(options: FleetOptions) -> Result<Fleet, FleetError> {
        let open = || {
            Client::connect(&options.endpoints, options.call_timeout()).map_err(|e| {
                FleetError::Connect {
                    endpoints: options.endpoints.join(","),
                    message: e.to_string(),
                }
            })
        };
        // The lease has a connection of its own (see `leases`).
        let client = open()?;
        let leases = open()?;
        Ok(Fleet {
            options,
            client,
            leases,
            runtime: tokio::runtime::Handle::current(),
            state: Mutex::default(),
            changed: watch::channel(0).0,
            renewals: AtomicU64::new(0),
            sequence: AtomicU64::new(0),
        })
    }

    pub fn id(&self) -> &str {
        &self.options.controller_id
    }

    pub fn options(&self) -> &FleetOptions {
        &self.options
    }

    /// The runtime the fleet's calls run on, for blocking callers.
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }

    /// Ticks whenever membership, the assignment or the lease changes.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Lease renewals confirmed since start.
    pub fn renewals(&self) -> u64 {
        self.renewals.load(Ordering::Relaxed)
    }

    /// Sites this controller owns now.
    pub fn owned(&self) -> usize {
        self.lock().owned.len()
    }

    /// Every site's owner as last read from etcd.
    pub fn owners(&self) -> BTreeMap<String, String> {
        self.lock().owners.clone()
    }

    /// The site's owner as last read (this controller's id for a site it owns).
    pub fn owner_of(&self, site: &str) -> Option<String> {
        let st = self.lock();
        if st.owned.contains_key(site) {
            return Some(self.id().to_string());
        }
        st.owners.get(site).cloned()
    }

    /// The sites the manifests name now.
    pub fn set_sites(&self, names: impl IntoIterator<Item = String>) {
        let mut names: Vec<String> = names.into_iter().collect();
        names.sort();
        let mut st = self.lock();
        if st.sites != names {
            st.sites = names;
            st.assignment = assign::assign(&st.sites, &st.members);
            drop(st);
            self.bump();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bump(&self) {
        self.changed.send_modify(|n| *n += 1);
    }

    fn next_stamp(&self) -> u64 {
        self.sequence.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Runs an etcd call from blocking code (a pass on the blocking pool, a CLI command),
    /// bounded so that an unreachable etcd fails the call instead of hanging the pass.
    fn block<T>(&self, call: impl Future<Output = Result<T, EtcdError>>) -> Result<T, String> {
        let limit = self.options.call_timeout();
        self.runtime
            .block_on(async { tokio::time::timeout(limit, call).await })
            .map_err(|_| format!("no answer within {}", humantime::format_duration(limit)))?
            .map_err(|e| e.to_string())
    }

    /// What the site task should do now, from what this controller knows (no etcd call):
    /// claims are made for all sites at once by the membership loop ([`Fleet::settle`]).
    /// A site that should be another controller's is released only once that controller
    /// asks for it, so that a site is never left without an owner while two controllers
    /// briefly disagree (one pulled a manifest the other has not yet).
    pub fn turn(&self, site: &str) -> Turn {
        let st = self.lock();
        let Some(lease) = st.lease.filter(|l| Instant::now() < l.deadline) else {
            return Turn::Wait(Some(self.options.poll_every()));
        };
        if st.owned.get(site) != Some(&lease.id) {
            return Turn::Wait(None);
        }
        let mine = st.assignment.get(site).is_some_and(|o| o == self.id());
        let asked = st
            .wants
            .get(site)
            .is_some_and(|w| w.as_str() != self.id() && st.members.iter().any(|m| m == w.as_str()));
        if !mine && asked {
            Turn::Release
        } else {
            Turn::Act
        }
    }

    /// Claims the site if nobody owns it: the owner key is created only when absent.
    pub(super) async fn claim(&self, site: &str, lease: i64) -> Result<bool, EtcdError> {
        let key = owner_key(site);
        let txn = Txn::new()
            .when([when::absent(key.clone())])
            .then([op::put(key.clone(), self.id(), Some(lease))])
            .otherwise([op::get(Get::key(key))]);
        let response = tokio::time::timeout(self.options.call_timeout(), self.client.txn(txn))
            .await
            .map_err(|_| EtcdError::Timeout)??;
        let ours = response.succeeded
            || etcd::ranges(&response).any(|g| g.kvs.iter().any(|kv| kv.lease == lease));
        let asked = {
            let mut st = self.lock();
            if ours && st.lease.is_some_and(|l| l.id == lease) {
                st.owned.insert(site.to_string(), lease);
                st.memory.remove(site);
                st.recent.remove(site);
                let stamp = self.next_stamp();
                st.stamps.insert(site.to_string(), stamp);
                st.owners.insert(site.to_string(), self.id().to_string());
                st.unowned_since.remove(site);
                Some(())
            } else {
                for kv in etcd::ranges(&response).filter_map(|g| g.kvs.first()) {
                    st.owners
                        .insert(site.to_string(), String::from_utf8_lossy(&kv.value).into());
                }
                None
            }
        };
        if asked.is_none() {
            return Ok(false);
        }
        // A request this controller made for the site stays until its lease ends: harmless,
        // since only other controllers' requests make an owner hand a site over.
        tracing::info!(site, controller = %self.id(), "claimed the site");
        Ok(true)
    }

    /// Gives the site up: nothing more is issued on it from now on, then its owner key goes
    /// so that the controller it is assigned to can claim it.
    pub async fn release(&self, site: &str) {
        let lease = {
            let mut st = self.lock();
            st.memory.remove(site);
            st.recent.remove(site);
            st.owned.remove(site)
        };
        let Some(lease) = lease else { return };
        let key = owner_key(site);
        let txn = Txn::new()
            .when([when::leased_to(key.clone(), lease)])
            .then([op::delete(key)]);
        match tokio::time::timeout(self.options.call_timeout(), self.client.txn(txn)).await {
            Ok(Ok(_)) => {
                tracing::info!(site, controller = %self.id(), "released the site to the controller it is assigned to");
            }
            // The key then ends with the lease; nothing is issued on the site meanwhile.
            Ok(Err(e)) => tracing::warn!(site, "cannot release the site: {e}"),
            Err(_) => tracing::warn!(site, "cannot release the site: no answer from etcd"),
        }
        self.lock().owners.remove(site);
    }

    /// Reads every site's owner (for `status`).
    ///
    /// # Errors
    /// etcd cannot be reached.
    pub async fn fetch_owners(&self) -> Result<BTreeMap<String, String>, EtcdError> {
        let prefix = owners_prefix();
        let response = tokio::time::timeout(
            self.options.call_timeout(),
            self.client.get(Get::prefix(prefix.clone())),
        )
        .await
        .map_err(|_| EtcdError::Timeout)??;
        let owners: BTreeMap<String, String> = response
            .kvs
            .iter()
            .filter_map(|kv| {
                let site = etcd::key_after(kv, &prefix)?;
                Some((site.to_string(), String::from_utf8_lossy(&kv.value).into()))
            })
            .collect();
        let mut st = self.lock();
        let now = Instant::now();
        let State {
            sites,
            unowned_since,
            ..
        } = &mut *st;
        unowned_since.retain(|site, _| !owners.contains_key(site));
        for site in sites.iter().filter(|s| !owners.contains_key(*s)) {
            unowned_since.entry(site.clone()).or_insert(now);
        }
        st.owners = owners.clone();
        Ok(owners)
    }
}

impl FleetOptions {
    /// Renewals come three times per TTL: two may fail before the deadline passes.
    pub fn renew_every(&self) -> Duration {
        self.lease_ttl / 3
    }

    /// How often the live controllers are listed.
    pub fn poll_every(&self) -> Duration {
        (self.lease_ttl / 3).min(Duration::from_secs(1))
    }

    /// The lease is trusted for its TTL less this, counted from the renewal's send time.
    pub fn margin(&self) -> Duration {
        self.lease_ttl / 5
    }

    /// The longest one etcd call may take.
    pub fn call_timeout(&self) -> Duration {
        (self.lease_ttl / 3).min(Duration::from_secs(2))
    }
}
