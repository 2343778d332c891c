//! Where a site's memory and journal live. One controller keeps them as files in its state
//! dir ([`FileStore`]); a fleet of controllers keeps them in etcd (`fleet::EtcdStore`), so
//! that whichever controller owns a site next knows the live host and any intent in flight.

pub mod files;
pub mod served;

pub use files::FileStore;

use crate::journal::Entry;
use crate::memory::{Memory, MemoryError};

/// Why a site's memory or journal could not be read or written, or why this controller may
/// not act on the site now.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Memory(#[from] MemoryError),
    #[error("journal of site {site}: {source}")]
    Journal {
        site: String,
        #[source]
        source: std::io::Error,
    },
    /// Another controller owns the site, or this controller cannot prove it still does.
    #[error("site {site}: {why}; nothing was issued")]
    NotOwner { site: String, why: String },
    /// The coordination service could not be asked.
    #[error("site {site}: etcd: {message}")]
    Coordination { site: String, message: String },
}

impl StoreError {
    /// The error says nothing about the site itself, only that this controller may not act
    /// on it now: the service waits for its lease instead of backing the site off.
    pub fn is_coordination(&self) -> bool {
        matches!(
            self,
            StoreError::NotOwner { .. } | StoreError::Coordination { .. }
        )
    }
}

/// A site's memory and journal.
///
/// # Guarantees
/// `save` and `append` are durable when they return `Ok`. In a fleet they succeed only while
/// this controller owns the site, checked by the store itself in the same write.
pub trait SiteStore: Send + Sync {
    /// The site's memory; a site never seen has empty memory.
    ///
    /// # Errors
    /// Memory that exists but cannot be read; the store cannot be reached.
    fn load(&self, site: &str) -> Result<Memory, StoreError>;

    /// Replaces the site's memory atomically.
    ///
    /// # Errors
    /// Nothing was written (the old memory is intact).
    fn save(&self, site: &str, memory: &Memory) -> Result<(), StoreError>;

    /// `memory`, equal to what the store holds for the site, in place of it: its parts are
    /// shared with the site's manifest. Nothing is written; a store that keeps no memory
    /// in memory has nothing to do.
    fn share(&self, _site: &str, _memory: &Memory) {}

    /// Appends one journal entry.
    ///
    /// # Errors
    /// Nothing was appended: the caller must not issue the action then.
    fn append(&self, site: &str, entry: &Entry) -> Result<(), StoreError>;

    /// The journal, oldest first, and how many damaged entries were skipped. A store may
    /// give only the latest entries of a site it keeps in memory (the dashboard's use).
    ///
    /// # Errors
    /// The journal exists but cannot be read.
    fn journal(&self, site: &str) -> Result<(Vec<Entry>, usize), StoreError>;

    /// A value that changes whenever the journal grows, so that the dashboard reads the
    /// journal again only then.
    fn journal_stamp(&self, site: &str) -> Option<u64>;

    /// `Ok` when this controller may issue an action on the site at this instant. A single
    /// controller always may; a fleet member only while it provably holds the site's lease.
    ///
    /// # Errors
    /// [`StoreError::NotOwner`] saying why not.
    fn may_act(&self, site: &str) -> Result<(), StoreError> {
        let _ = site;
        Ok(())
    }
}
