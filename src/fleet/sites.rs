//! A site's memory and journal in etcd. Every write is a transaction that compares the
//! site's owner key with this controller's lease: a controller that lost the site (its lease
//! expired while it was stopped, cut off or slow) cannot write, so it cannot journal an
//! intent, so it issues nothing.

use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use super::etcd::{self, Get, KeyValue, Txn, op, when};

use super::{Fleet, journal_prefix, memory_key, owner_key};

/// Journal entries an owned site's dashboard reads (at a takeover, then from etcd after the
/// site journals): it shows the last ten items, and an action's item is two entries (its
/// intent and its outcome).
const RECENT_KEPT: usize = 20;

fn parse(kvs: &[KeyValue]) -> (Vec<Entry>, usize) {
    let mut entries = Vec::with_capacity(kvs.len());
    let mut skipped = 0;
    for kv in kvs {
        match serde_json::from_slice::<Entry>(&kv.value) {
            Ok(e) => entries.push(e),
            Err(_) => skipped += 1,
        }
    }
    (entries, skipped)
}
use crate::journal::Entry;
use crate::memory::{FORMAT_VERSION, Memory};
use crate::store::{SiteStore, StoreError};

impl Fleet {
    /// The lease this controller owns the site under, or why it does not.
    fn owning_lease(&self, site: &str) -> Result<i64, StoreError> {
        let st = self.lock();
        let not_owner = |why: String| StoreError::NotOwner {
            site: site.to_string(),
            why,
        };
        match (st.lease, st.owned.get(site)) {
            (Some(lease), Some(&claimed)) if lease.id == claimed => {
                if Instant::now() < lease.deadline {
                    Ok(claimed)
                } else {
                    Err(not_owner(format!(
                        "controller {} has not had its lease renewed in time and cannot prove it still owns the site",
                        self.id()
                    )))
                }
            }
            _ => Err(not_owner(format!(
                "controller {} does not own the site (owner: {})",
                self.id(),
                st.owners.get(site).map_or("unknown", String::as_str)
            ))),
        }
    }

    /// Puts `value` at `key` if and only if the site's owner key carries this controller's
    /// lease.
    fn put_owned(&self, site: &str, key: String, value: Vec<u8>) -> Result<(), StoreError> {
        let lease = self.owning_lease(site)?;
        let txn = Txn::new()
            .when([when::leased_to(owner_key(site), lease)])
            .then([op::put(key, value, None)]);
        let response = self
            .block(self.client.txn(txn))
            .map_err(|message| coordination(site, message))?;
        if response.succeeded {
            Ok(())
        } else {
            self.lock().owned.remove(site);
            Err(StoreError::NotOwner {
                site: site.to_string(),
                why: format!("etcd says controller {} no longer owns the site", self.id()),
            })
        }
    }
}

impl Fleet {
    /// Reads the memory and the latest journal entries of sites just claimed in one
    /// transaction, so that their first passes need not ask etcd one by one (ten thousand at
    /// a controller's start). Memory that cannot be parsed is left for the pass to read and
    /// report.
    pub(super) async fn prefetch(&self, sites: &[String], lease: i64) {
        let gets = sites.iter().flat_map(|site| {
            [
                op::get(Get::key(memory_key(site))),
                op::get(
                    Get::prefix(journal_prefix(site))
                        .sorted_by_key(true)
                        .limit(RECENT_KEPT as i64),
                ),
            ]
        });
        // The site is ours from its claim on, and a pass may run before this read lands.
        let stamps: Vec<Option<u64>> = {
            let st = self.lock();
            sites.iter().map(|s| st.stamps.get(s).copied()).collect()
        };
        let txn = self.client.txn(Txn::new().then(gets));
        let Ok(Ok(response)) = tokio::time::timeout(self.options.call_timeout(), txn).await else {
            return;
        };
        let answers: Vec<_> = etcd::ranges(&response).collect();
        let mut st = self.lock();
        for ((site, pair), stamp) in sites.iter().zip(answers.chunks(2)).zip(stamps) {
            let [got, journal] = pair else {
                continue;
            };
            let memory = match got.kvs.first() {
                Some(kv) => serde_json::from_slice::<Memory>(&kv.value).ok(),
                None => Some(Memory {
                    format_version: FORMAT_VERSION,
                    ..Memory::default()
                }),
            };
            let (mut recent, _) = parse(&journal.kvs);
            recent.reverse();
            st.prefetched(site, lease, memory, recent, stamp);
        }
    }
}

impl super::State {
    /// What a prefetch read for `site`, kept unless something newer is here already. A pass
    /// may have loaded and saved the site's memory between its claim and this answer: the
    /// memory it cached then is as new as this read or newer (only this controller writes
    /// it now), so it stays; had the older read replaced it, the next pass would plan on
    /// memory without the last pass's work (a failover it issued, the live host it set).
    /// Recent entries are kept only when nothing was journaled since the read began;
    /// otherwise the journal is read from etcd. Memory that cannot be parsed is left for the
    /// pass to read and report.
    pub(super) fn prefetched(
        &mut self,
        site: &str,
        lease: i64,
        memory: Option<Memory>,
        recent: Vec<Entry>,
        stamp_before: Option<u64>,
    ) {
        if self.owned.get(site) != Some(&lease) {
            return;
        }
        if self.stamps.get(site).copied() == stamp_before {
            self.recent.insert(site.to_string(), recent);
        }
        if let Some(memory) = memory {
            self.memory
                .entry(site.to_string())
                .or_insert_with(|| Box::new(memory));
        }
    }
}

fn coordination(site: &str, message: String) -> StoreError {
    StoreError::Coordination {
        site: site.to_string(),
        message,
    }
}

impl SiteStore for Fleet {
    fn load(&self, site: &str) -> Result<Memory, StoreError> {
        let owned = self.lock().owned.get(site).copied();
        if owned.is_some()
            && let Some(memory) = self.lock().memory.get(site)
        {
            return Ok(Memory::clone(memory));
        }
        let key = memory_key(site);
        let response = self
            .block(self.client.get(Get::key(key.clone())))
            .map_err(|message| coordination(site, message))?;
        let memory = match response.kvs.first() {
            Some(kv) => Memory::decode(&kv.value, &PathBuf::from(format!("etcd:{key}")))?,
            None => Memory {
                format_version: FORMAT_VERSION,
                ..Memory::default()
            },
        };
        let mut st = self.lock();
        if owned.is_some() && st.owned.get(site).copied() == owned {
            st.memory.insert(site.to_string(), Box::new(memory.clone()));
        }
        Ok(memory)
    }

    fn save(&self, site: &str, memory: &Memory) -> Result<(), StoreError> {
        let mut doc = memory.clone();
        doc.format_version = FORMAT_VERSION;
        let bytes = serde_json::to_vec(&doc).expect("memory serializes");
        self.put_owned(site, memory_key(site), bytes)?;
        self.lock().memory.insert(site.to_string(), Box::new(doc));
        Ok(())
    }

    fn share(&self, site: &str, memory: &Memory) {
        if let Some(held) = self.lock().memory.get_mut(site)
            && **held == *memory
        {
            **held = memory.clone();
        }
    }

    fn append(&self, site: &str, entry: &Entry) -> Result<(), StoreError> {
        // Keys sort in the order entries were written: wall-clock nanoseconds, then a
        // counter for two entries of one instant.
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let n = self.next_stamp();
        let key = format!("{}{nanos:020}-{n:08}", journal_prefix(site));
        let line = serde_json::to_vec(entry).map_err(|e| StoreError::Journal {
            site: site.to_string(),
            source: std::io::Error::other(e),
        })?;
        self.put_owned(site, key, line)?;
        let mut st = self.lock();
        st.stamps.insert(site.to_string(), n);
        if let Some(recent) = st.recent.get_mut(site) {
            recent.push(entry.clone());
            let extra = recent.len().saturating_sub(RECENT_KEPT);
            recent.drain(..extra);
        }
        Ok(())
    }

    /// For a site this controller owns, its latest [`RECENT_KEPT`] entries (the dashboard's
    /// use): those the claim's prefetch read, taken once, then from etcd; otherwise the
    /// whole journal from etcd.
    fn journal(&self, site: &str) -> Result<(Vec<Entry>, usize), StoreError> {
        let owned = {
            let mut st = self.lock();
            let owned = st.owned.contains_key(site);
            if owned && let Some(recent) = st.recent.remove(site) {
                return Ok((recent, 0));
            }
            owned
        };
        let read = Get::prefix(journal_prefix(site));
        let read = if owned {
            read.sorted_by_key(true).limit(RECENT_KEPT as i64)
        } else {
            read.sorted_by_key(false)
        };
        let response = self
            .block(self.client.get(read))
            .map_err(|message| coordination(site, message))?;
        let (mut entries, skipped) = parse(&response.kvs);
        if owned {
            entries.reverse();
        }
        Ok((entries, skipped))
    }

    fn journal_stamp(&self, site: &str) -> Option<u64> {
        self.lock().stamps.get(site).copied()
    }

    /// Only while this controller owns the site and its lease's deadline has not passed.
    fn may_act(&self, site: &str) -> Result<(), StoreError> {
        self.owning_lease(site).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::super::State;
    use super::*;

    #[test]
    fn a_prefetch_answered_after_a_pass_saved_keeps_what_the_pass_saved() {
        let mut st = State::default();
        st.owned.insert("hq".into(), 7);
        // The pass after the claim saved memory and journaled; the prefetch's read was older.
        let saved = Memory {
            live_host: Some("GCSHOSTB".into()),
            failover_latched: true,
            ..Memory::default()
        };
        st.memory.insert("hq".into(), Box::new(saved.clone()));
        st.stamps.insert("hq".into(), 1);
        let older = Memory {
            live_host: Some("GCSHOSTA".into()),
            ..Memory::default()
        };
        st.prefetched("hq", 7, Some(older.clone()), Vec::new(), None);
        assert_eq!(*st.memory["hq"], saved);
        assert!(
            !st.recent.contains_key("hq"),
            "the journal is read from etcd"
        );
        // Nothing happened since the claim: the prefetch fills both.
        let mut st = State::default();
        st.owned.insert("hq".into(), 7);
        st.prefetched("hq", 7, Some(older.clone()), Vec::new(), None);
        assert_eq!(*st.memory["hq"], older);
        assert!(st.recent.contains_key("hq"));
        // A site lost meanwhile is not filled.
        let mut st = State::default();
        st.prefetched("hq", 7, Some(older), Vec::new(), None);
        assert!(st.memory.is_empty());
    }
}
