//! Handing a site over: the controller a site should move to asks for it (`wants/SITE`,
//! bound to its lease, so a request dies with its asker), and the owner releases it only
//! then. A site thus never waits ownerless for a controller that does not mean to claim it.

use etcd_client::{Compare, CompareOp, GetOptions, PutOptions, Txn, TxnOp};

use super::{Fleet, wants_prefix};

fn want_key(site: &str) -> String {
    format!("{}{site}", wants_prefix())
}

impl Fleet {
    /// Asks the site's owner to hand the site over.
    pub(super) async fn ask(&self, site: &str, lease: i64) {
        let mut kv = self.client.kv_client();
        let put = kv.put(
            want_key(site),
            self.id(),
            Some(PutOptions::new().with_lease(lease)),
        );
        if let Ok(Ok(_)) = tokio::time::timeout(self.options.call_timeout(), put).await {
            self.lock().asked.insert(site.to_string());
            tracing::debug!(site, controller = %self.id(), "asked for the site");
        }
    }

    /// Takes back this controller's request for the site (claimed, or no longer wanted).
    pub(super) async fn withdraw(&self, site: &str) {
        let key = want_key(site);
        let txn = Txn::new()
            .when([Compare::value(key.clone(), CompareOp::Equal, self.id())])
            .and_then([TxnOp::delete(key, None)]);
        let mut kv = self.client.kv_client();
        if let Ok(Ok(_)) = tokio::time::timeout(self.options.call_timeout(), kv.txn(txn)).await {
            self.lock().asked.remove(site);
        }
    }

    /// Reads the requests for sites; returns whether they changed.
    pub(super) async fn fetch_wants(&self) -> bool {
        let prefix = wants_prefix();
        let mut kv = self.client.kv_client();
        let listed = tokio::time::timeout(
            self.options.call_timeout(),
            kv.get(prefix.clone(), Some(GetOptions::new().with_prefix())),
        )
        .await;
        let Ok(Ok(response)) = listed else {
            return false;
        };
        let wants = response
            .kvs()
            .iter()
            .filter_map(|kv| {
                let site = kv.key_str().ok()?.strip_prefix(&prefix)?;
                Some((site.to_string(), String::from_utf8_lossy(kv.value()).into()))
            })
            .collect();
        let mut st = self.lock();
        let changed = st.wants != wants;
        st.wants = wants;
        changed
    }
}
