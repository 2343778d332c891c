//! Files in the state dir: written atomically so that a crash leaves the old or the new
//! content, never a torn file.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file in the same directory, fsynced, then
/// renamed over `path`.
///
/// # Errors
/// Any I/O error; `path` then still holds its previous content.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    replace(tmp.into_temp_path(), path)
}

/// Renames `tmp` over `path` durably: the rename is complete only once the directory entry
/// is on disk, which Unix needs a directory fsync for.
#[cfg(not(windows))]
fn replace(tmp: tempfile::TempPath, path: &Path) -> std::io::Result<()> {
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = std::fs::File::open(path.parent().unwrap_or(Path::new("."))) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Windows cannot open or flush a directory the Unix way; `MoveFileExW` with
/// `MOVEFILE_WRITE_THROUGH` returns only once the rename is on disk.
#[cfg(windows)]
fn replace(tmp: tempfile::TempPath, path: &Path) -> std::io::Result<()> {
    // `keep` clears the "temporary" attribute tempfile gives files on Windows (it tells the
    // cache to hold them back from disk), as its own `persist` would.
    let tmp = tmp.keep().map_err(|e| e.error)?;
    atomicwrites::replace_atomic(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
