//! The controller's side of the fleet that runs by itself: the lease (granted, registered,
//! kept alive, given up at shutdown) and the list of live controllers.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::etcd::{self, Get, KeepAlive, Txn, op, when};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{Fleet, Lease, assign, controllers_prefix};

impl Fleet {
    /// Starts the lease and membership loops; they end when `stopped` turns true, after
    /// which [`Fleet::resign`] hands the sites over at once.
    pub fn start(self: &Arc<Self>, stopped: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
        vec![
            tokio::spawn(self.clone().keep_lease(stopped.clone())),
            tokio::spawn(self.clone().watch_members(stopped)),
        ]
    }

    /// Revokes the lease: etcd deletes this controller's owner keys now, so its sites are
    /// taken over without waiting for the TTL. Call once no pass is in progress.
    pub async fn resign(&self) {
        let lease = {
            let mut st = self.lock();
            st.owned.clear();
            st.memory.clear();
            st.recent.clear();
            st.asked.clear();
            st.lease.take()
        };
        if let Some(lease) = lease {
            match tokio::time::timeout(self.options.call_timeout(), self.leases.revoke(lease.id))
                .await
            {
                Ok(Ok(_)) => {
                    tracing::info!(controller = %self.id(), "lease revoked: the sites are free for the other controllers")
                }
                _ => {
                    tracing::warn!(controller = %self.id(), "cannot revoke the lease; the sites move when it expires")
                }
            }
        }
    }

    /// Keeps a lease: grants and registers one when there is none, renews it every third of
    /// the TTL, and moves the local deadline only on a confirmed renewal.
    async fn keep_lease(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        let mut stream: Option<KeepAlive> = None;
        let mut failing = false;
        while !*stopped.borrow() {
            // Renewals keep their rate however long one takes (a loaded machine).
            let began = tokio::time::Instant::now();
            let held = self.lock().lease;
            let wait = match held {
                None => match self.grant().await {
                    Ok(()) => {
                        failing = false;
                        self.options.renew_every()
                    }
                    Err(e) => {
                        if !failing {
                            tracing::warn!(controller = %self.id(), "cannot take a lease: {e}; owning no site until it can");
                        }
                        failing = true;
                        self.options.poll_every()
                    }
                },
                Some(lease) => {
                    match self.renew(lease, &mut stream).await {
                        Ok(()) if failing => {
                            failing = false;
                            tracing::info!(controller = %self.id(), "lease renewed again");
                            // Site tasks that stopped for want of the lease pass again now.
                            self.bump();
                        }
                        Ok(()) => {}
                        Err(e) => {
                            stream = None;
                            if !failing {
                                tracing::warn!(controller = %self.id(), "cannot renew the lease: {e}; acting on no site once it can no longer prove the lease");
                            }
                            failing = true;
                        }
                    }
                    self.options.renew_every()
                }
            };
            tokio::select! {
                () = tokio::time::sleep_until(began + wait) => {}
                _ = stopped.changed() => {}
            }
        }
    }

    /// Grants a lease and registers this controller under it, unless a controller of the
    /// same id is still registered (a previous life of this one, until its lease ends).
    async fn grant(&self) -> Result<(), String> {
        let key = format!("{}{}", controllers_prefix(), self.id());
        let limit = self.options.call_timeout();
        let existing = tokio::time::timeout(limit, self.client.get(Get::key(key.clone())))
            .await
            .map_err(|_| "no answer from etcd".to_string())?
            .map_err(|e| e.to_string())?;
        if !existing.kvs.is_empty() {
            return Err(format!(
                "controller id {} is still registered (a previous run, until its lease ends, or another controller of the same --controller-id)",
                self.id()
            ));
        }
        let ttl = i64::try_from(self.options.lease_ttl.as_secs()).unwrap_or(i64::MAX);
        let sent = Instant::now();
        let (granted, granted_ttl) = tokio::time::timeout(limit, self.leases.grant(ttl))
            .await
            .map_err(|_| "no answer from etcd".to_string())?
            .map_err(|e| e.to_string())?;
        let info = serde_json::json!({
            "id": self.id(),
            "pid": std::process::id(),
            "started": jiff::Timestamp::now(),
        })
        .to_string();
        let txn =
            Txn::new()
                .when([when::absent(key.clone())])
                .then([op::put(key, info, Some(granted))]);
        let registered = tokio::time::timeout(limit, self.client.txn(txn))
            .await
            .map_err(|_| "no answer from etcd".to_string())?
            .map_err(|e| e.to_string())?;
        if !registered.succeeded {
            let _ = self.leases.revoke(granted).await;
            return Err(format!("controller id {} registered meanwhile", self.id()));
        }
        let deadline = self.deadline(sent, granted_ttl);
        let mut st = self.lock();
        st.lease = Some(Lease {
            id: granted,
            deadline,
        });
        // Registered: a member from now on, without waiting for the next listing.
        if !st.members.iter().any(|m| m == self.id()) {
            st.members.push(self.id().to_string());
            st.members.sort();
            st.assignment = assign::assign(&st.sites, &st.members);
        }
        drop(st);
        tracing::info!(controller = %self.id(), lease = granted, ttl = granted_ttl, "joined the fleet");
        self.bump();
        Ok(())
    }

    /// The local deadline of a renewal sent at `sent` that etcd answered with `ttl` seconds.
    fn deadline(&self, sent: Instant, ttl: i64) -> Instant {
        let answered = Duration::from_secs(u64::try_from(ttl).unwrap_or(0));
        let ttl = self.options.lease_ttl.min(answered);
        sent + ttl.saturating_sub(self.options.margin())
    }

    /// One keep-alive. A TTL of 0 in the answer means etcd let the lease expire: every site
    /// this controller owned is gone (etcd deleted the owner keys), and a new lease starts
    /// with no site.
    async fn renew(&self, lease: Lease, stream: &mut Option<KeepAlive>) -> Result<(), String> {
        let sent = Instant::now();
        let ttl = tokio::time::timeout(self.options.renew_every(), async {
            let open = match stream.take() {
                Some(open) => open,
                None => self.leases.keep_alive(lease.id).await?,
            };
            let open = stream.insert(open);
            open.renew().await
        })
        .await
        .map_err(|_| "no answer from etcd".to_string())?
        .map_err(|e| e.to_string())?;
        if ttl <= 0 {
            self.lose();
            *stream = None;
            return Ok(());
        }
        let deadline = self.deadline(sent, ttl);
        let mut st = self.lock();
        if let Some(l) = st.lease.as_mut().filter(|l| l.id == lease.id) {
            l.deadline = l.deadline.max(deadline);
        }
        drop(st);
        self.renewals.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// The lease expired: forget every site; the keep-alive loop takes a new lease.
    fn lose(&self) {
        let mut st = self.lock();
        let lost = st.owned.len();
        st.lease = None;
        st.owned.clear();
        st.memory.clear();
        st.recent.clear();
        // Requests end with the lease that bound them.
        st.asked.clear();
        drop(st);
        tracing::warn!(controller = %self.id(), sites = lost, "the lease expired: this controller no longer owns any site and acts on none of them; taking a new lease");
        self.bump();
    }

    /// Lists the live controllers every poll and recomputes the assignment when they change;
    /// every fifth poll also reads every site's owner for status and the dashboard.
    async fn watch_members(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        let prefix = controllers_prefix();
        let mut polls = 0u64;
        // The owners are read again soon after the fleet changed: sites move then.
        let mut owners_due = 0u64;
        // Sites this controller should own but does not: the owners are read every poll then.
        let mut pending = false;
        while !*stopped.borrow() {
            let listed = tokio::time::timeout(
                self.options.call_timeout(),
                self.client.get(Get::prefix(prefix.clone()).keys_only()),
            )
            .await;
            if let Ok(Ok(response)) = listed {
                let mut members: Vec<String> = response
                    .kvs
                    .iter()
                    .filter_map(|kv| etcd::key_after(kv, &prefix).map(str::to_string))
                    .collect();
                members.sort();
                let mut st = self.lock();
                if st.members != members {
                    tracing::info!(controller = %self.id(), controllers = ?members, "the fleet changed");
                    st.assignment = assign::assign(&st.sites, &members);
                    st.members = members;
                    drop(st);
                    self.bump();
                    owners_due = polls + 2;
                }
            }
            if self.fetch_wants().await {
                self.bump();
            }
            if polls.is_multiple_of(5) || polls == owners_due || pending {
                let _ = self.fetch_owners().await;
            }
            pending = self.settle().await;
            polls += 1;
            tokio::select! {
                () = tokio::time::sleep(self.options.poll_every()) => {}
                _ = stopped.changed() => {}
            }
        }
    }
}
