//! A site's memory and journal as files under `STATE/sites/SITE/`: the single controller's
//! store. Memory is written atomically (a crash leaves the old or the new file, never a torn
//! one); journal entries are appended and fsynced.

use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::{SiteStore, StoreError};
use crate::dirs::site_dir;
use crate::journal::Entry;
use crate::memory::{FORMAT_VERSION, Memory, MemoryError};

/// `STATE/sites/SITE/memory.json`.
pub fn memory_path(state_dir: &Path, site: &str) -> PathBuf {
    site_dir(state_dir, site).join("memory.json")
}

/// Reads a site's memory; a site never seen has empty memory.
///
/// # Errors
/// A file that exists but cannot be read or parsed.
pub fn load_memory(state_dir: &Path, site: &str) -> Result<Memory, MemoryError> {
    let path = memory_path(state_dir, site);
    match std::fs::read(&path) {
        Ok(bytes) => Memory::decode(&bytes, &path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Memory {
            format_version: FORMAT_VERSION,
            ..Memory::default()
        }),
        Err(source) => Err(MemoryError::Io { path, source }),
    }
}

/// Writes a site's memory atomically.
///
/// # Errors
/// Any I/O error (the old memory is then intact).
pub fn save_memory(state_dir: &Path, site: &str, memory: &Memory) -> Result<(), MemoryError> {
    let path = memory_path(state_dir, site);
    crate::state::write_atomic(&path, &memory.to_document())
        .map_err(|source| MemoryError::Io { path, source })
}

/// `STATE/sites/SITE/journal.jsonl`: one JSON line per entry, appended and fsynced.
pub fn journal_path(state_dir: &Path, site: &str) -> PathBuf {
    site_dir(state_dir, site).join("journal.jsonl")
}

/// Appends one entry and fsyncs it. A last line left without its end (a crash in the middle
/// of a write, a damaged file) is ended first, so that it does not swallow this entry.
///
/// # Errors
/// Any I/O error: the caller must not issue the action then.
pub fn append_entry(state_dir: &Path, site: &str, entry: &Entry) -> std::io::Result<()> {
    let path = journal_path(state_dir, site);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(&path)?;
    let len = file.metadata()?.len();
    if len > 0 {
        let mut last = [0u8];
        file.seek(SeekFrom::Start(len - 1))?;
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            line.insert(0, b'\n');
        }
    }
    file.write_all(&line)?;
    file.sync_data()
}

/// Reads the journal, skipping (and counting) lines that are not entries, e.g. a line torn
/// by a crash or damaged by hand.
///
/// # Errors
/// The file exists but cannot be read.
pub fn read_journal(state_dir: &Path, site: &str) -> std::io::Result<(Vec<Entry>, usize)> {
    let path = journal_path(state_dir, site);
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(e),
    };
    let mut entries = Vec::new();
    let mut skipped = 0;
    for line in std::io::BufReader::new(file).split(b'\n') {
        let line = line?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Entry>(&line) {
            Ok(e) => entries.push(e),
            Err(_) => skipped += 1,
        }
    }
    Ok((entries, skipped))
}

/// Memory and journal as files under `STATE/sites/SITE/`.
#[derive(Debug, Clone)]
pub struct FileStore {
    state_dir: PathBuf,
}

impl FileStore {
    pub fn new(state_dir: &Path) -> Self {
        FileStore {
            state_dir: state_dir.to_path_buf(),
        }
    }
}

impl SiteStore for FileStore {
    fn load(&self, site: &str) -> Result<Memory, StoreError> {
        Ok(load_memory(&self.state_dir, site)?)
    }

    fn save(&self, site: &str, memory: &Memory) -> Result<(), StoreError> {
        Ok(save_memory(&self.state_dir, site, memory)?)
    }

    fn append(&self, site: &str, entry: &Entry) -> Result<(), StoreError> {
        append_entry(&self.state_dir, site, entry).map_err(|source| StoreError::Journal {
            site: site.to_string(),
            source,
        })
    }

    fn journal(&self, site: &str) -> Result<(Vec<Entry>, usize), StoreError> {
        read_journal(&self.state_dir, site).map_err(|source| StoreError::Journal {
            site: site.to_string(),
            source,
        })
    }

    /// The journal file's length: it only grows.
    fn journal_stamp(&self, site: &str) -> Option<u64> {
        std::fs::metadata(journal_path(&self.state_dir, site))
            .map(|m| m.len())
            .ok()
    }
}
