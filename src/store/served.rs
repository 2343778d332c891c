//! What the controller of a state dir runs with, written where the commands look: the command
//! an alert gives (`galaxy-ha failover hq`) then runs as written on the controller's machine,
//! with no `-m`, on the manifests and state the controller uses.
//!
//! `run` writes `STATE/service.json` when it starts serving, and `service install` when it
//! makes the state dir, so the record names what the service was last started with.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file, in the state dir.
pub const FILE: &str = "service.json";

/// The manifests (absolute) and the one site, if the controller was given `--site`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Served {
    pub manifests: PathBuf,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
}

/// Why the record could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ServedError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a record of the service's manifests ({source}); delete it, and start the service again to write it afresh", path.display())]
    Invalid {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// Records what the controller of `state_dir` runs with. `manifests` is made absolute, so the
/// record holds from any working directory.
///
/// # Errors
/// The state dir cannot be written.
pub fn record(state_dir: &Path, manifests: &Path, site: Option<&str>) -> Result<(), ServedError> {
    let path = state_dir.join(FILE);
    let io = |source| ServedError::Io {
        path: path.clone(),
        source,
    };
    let served = Served {
        manifests: std::path::absolute(manifests).map_err(io)?,
        site: site.map(str::to_string),
    };
    if read(state_dir).ok().flatten().as_ref() == Some(&served) {
        return Ok(());
    }
    std::fs::create_dir_all(state_dir).map_err(io)?;
    let mut bytes = serde_json::to_vec_pretty(&served).expect("a path and a name serialize");
    bytes.push(b'\n');
    crate::state::write_atomic(&path, &bytes).map_err(io)
}

/// What the controller of `state_dir` runs with; `None` when no controller ever ran there.
///
/// # Errors
/// The file exists but cannot be read or is not a record.
pub fn read(state_dir: &Path) -> Result<Option<Served>, ServedError> {
    let path = state_dir.join(FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(ServedError::Io { path, source }),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| ServedError::Invalid { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_with_absolute_manifests_and_a_bad_one_names_its_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(dir.path()).unwrap().is_none());
        record(dir.path(), Path::new("manifests"), Some("hq")).unwrap();
        let served = read(dir.path()).unwrap().unwrap();
        assert!(served.manifests.is_absolute());
        assert!(served.manifests.ends_with("manifests"));
        assert_eq!(served.site.as_deref(), Some("hq"));
        std::fs::write(dir.path().join(FILE), "{").unwrap();
        let err = read(dir.path()).unwrap_err().to_string();
        assert!(err.contains(FILE) && err.contains("delete it"), "{err}");
    }
}
