//! Handing a site over: the controller a site should move to asks for it (`wants/SITE`,
//! bound to its lease, so a request dies with its asker), and the owner releases it only
//! then. A site thus never waits ownerless for a controller that does not mean to claim it.

use std::time::Instant;

use super::etcd::{self, Get, Txn, op, when};

use super::{Fleet, wants_prefix};

/// Claims, requests and withdrawals sent to etcd at once: a fleet of ten thousand sites
/// starts without flooding etcd (or its own connection).
const AT_ONCE: usize = 64;

fn want_key(site: &str) -> String {
    format!("{}{site}", wants_prefix())
}

impl Fleet {
    /// One round of ownership, from the owners, requests and members last read: claims the
    /// free sites this controller should own (and any site nobody has owned for a TTL),
    /// asks for those another controller holds, and withdraws requests it no longer means.
    /// Returns whether sites this controller should own are still held by others.
    pub(super) async fn settle(&self) -> bool {
        let (lease, claim, ask, withdraw, pending) = {
            let st = self.lock();
            let Some(lease) = st.lease.filter(|l| Instant::now() < l.deadline) else {
                return false;
            };
            let (mut claim, mut ask, mut withdraw) = (Vec::new(), Vec::new(), Vec::new());
            let mut pending = false;
            for site in &st.sites {
                if st.owned.get(site) == Some(&lease.id) {
                    continue;
                }
                let mine = st.assignment.get(site).is_some_and(|o| o == self.id());
                let orphaned = st
                    .unowned_since
                    .get(site)
                    .is_some_and(|t| t.elapsed() > self.options.lease_ttl);
                match st.owners.get(site) {
                    None if mine || orphaned => claim.push(site.clone()),
                    Some(_) if mine => {
                        pending = true;
                        if !st.asked.contains(site) {
                            ask.push(site.clone());
                        }
                    }
                    _ => {}
                }
                if !mine && st.asked.contains(site) {
                    withdraw.push(site.clone());
                }
            }
            (lease.id, claim, ask, withdraw, pending)
        };
        let mut claimed = false;
        for chunk in claim.chunks(AT_ONCE) {
            let tries = chunk.iter().map(|site| self.claim(site, lease));
            let mut won = Vec::new();
            for (site, result) in chunk
                .iter()
                .zip(futures_util::future::join_all(tries).await)
            {
                match result {
                    Ok(true) => won.push(site.clone()),
                    Ok(false) => {}
                    Err(e) => tracing::debug!(site, "cannot claim the site: {e}"),
                }
            }
            // Two reads a site: etcd takes at most 128 operations in a transaction.
            for part in won.chunks(AT_ONCE / 2) {
                self.prefetch(part, lease).await;
                claimed = true;
            }
        }
        for chunk in ask.chunks(AT_ONCE) {
            futures_util::future::join_all(chunk.iter().map(|site| self.ask(site, lease))).await;
        }
        for chunk in withdraw.chunks(AT_ONCE) {
            futures_util::future::join_all(chunk.iter().map(|site| self.withdraw(site))).await;
        }
        if claimed {
            self.bump();
        }
        pending || claimed
    }

    /// Asks the site's owner to hand the site over.
    pub(super) async fn ask(&self, site: &str, lease: i64) {
        let put = self.client.put(want_key(site), self.id(), Some(lease));
        if let Ok(Ok(_)) = tokio::time::timeout(self.options.call_timeout(), put).await {
            self.lock().asked.insert(site.to_string());
            tracing::debug!(site, controller = %self.id(), "asked for the site");
        }
    }

    /// Takes back this controller's request for the site (claimed, or no longer wanted).
    pub(super) async fn withdraw(&self, site: &str) {
        let key = want_key(site);
        let txn = Txn::new()
            .when([when::holds(key.clone(), self.id())])
            .then([op::delete(key)]);
        if let Ok(Ok(_)) =
            tokio::time::timeout(self.options.call_timeout(), self.client.txn(txn)).await
        {
            self.lock().asked.remove(site);
        }
    }

    /// Reads the requests for sites; returns whether they changed.
    pub(super) async fn fetch_wants(&self) -> bool {
        let prefix = wants_prefix();
        let listed = tokio::time::timeout(
            self.options.call_timeout(),
            self.client.get(Get::prefix(prefix.clone())),
        )
        .await;
        let Ok(Ok(response)) = listed else {
            return false;
        };
        let wants = response
            .kvs
            .iter()
            .filter_map(|kv| {
                let site = etcd::key_after(kv, &prefix)?;
                Some((site.to_string(), String::from_utf8_lossy(&kv.value).into()))
            })
            .collect();
        let mut st = self.lock();
        let changed = st.wants != wants;
        st.wants = wants;
        changed
    }
}
