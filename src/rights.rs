//! Who may ask the running controller for what (through the `requests` module): two
//! rights, each a secret in a file of the state dir that the controller makes when it
//! starts serving.
//!
//! - `drill` ([`Right::Drill`], `STATE/rights/drill.token`): a test failover and its end
//!   (`galaxy-ha failover SITE --test`, `--test --end`), nothing else;
//! - `operate` ([`Right::Operate`], `STATE/rights/operate.token`): everything a person may
//!   ask (a real failover, a resume, a commit, a rollback, `apply`).
//!
//! An administrator gives each group read access to its right's file with the operating
//! system's own tools; the command reads the token it can and puts it in its request, and
//! the controller compares it with the files (in constant time) before it does anything.
//! The files are created `0600` on Unix (on Windows they inherit the state dir's access,
//! administrators and the service's account); an existing file is never rewritten, so the
//! access an administrator gave it stays. A token is never logged, journaled nor shown: its
//! `Debug` says `Token(…)` and it has no `Display`.
//!
//! Rights apply to requests to a running controller only: a command that holds the state
//! dir's lock (no controller runs) acts itself, as any account that may write the state dir
//! could. See docs/rights.md.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::ask::Ask;

/// A right to ask the running controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Right {
    /// Test failovers only: [`Ask::Test`], [`Ask::Drill`] and [`Ask::EndTest`].
    Drill,
    /// Everything.
    Operate,
}

impl Right {
    /// In the order the command tries them: the wider right first.
    pub const ALL: [Right; 2] = [Right::Operate, Right::Drill];

    pub fn as_str(self) -> &'static str {
        match self {
            Right::Drill => "drill",
            Right::Operate => "operate",
        }
    }

    /// This right lets a person ask `ask`.
    pub fn allows(self, ask: &Ask) -> bool {
        match self {
            Right::Operate => true,
            Right::Drill => matches!(ask, Ask::Test | Ask::Drill(_) | Ask::EndTest),
        }
    }
}

impl std::fmt::Display for Right {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Right {
    type Err = String;

    fn from_str(s: &str) -> Result<Right, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "drill" => Ok(Right::Drill),
            "operate" => Ok(Right::Operate),
            _ => Err(format!("{s:?} is not a right: expected drill or operate")),
        }
    }
}

/// `STATE/rights/`.
pub fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join("rights")
}

/// `STATE/rights/RIGHT.token`.
pub fn token_path(state_dir: &Path, right: Right) -> PathBuf {
    dir(state_dir).join(format!("{right}.token"))
}

/// A right's secret. Never shown: its `Debug` hides it and it has no `Display`; two tokens
/// compare in constant time.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

impl PartialEq for Token {
    fn eq(&self, other: &Token) -> bool {
        same(self.0.as_bytes(), other.0.as_bytes())
    }
}

/// The shortest token accepted from a file: 128 bits as hex. The controller writes 256.
const MIN_LEN: usize = 32;
/// The longest: a token file is one short line.
const MAX_LEN: usize = 1024;

impl Token {
    /// 32 bytes from the operating system's generator, as hex.
    fn generate() -> std::io::Result<Token> {
        use rand::TryRngCore;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(std::io::Error::other)?;
        Ok(Token(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    /// The token of a file's text, if it is one: one line of printable ASCII without spaces,
    /// of [`MIN_LEN`] to [`MAX_LEN`] characters.
    fn parse(text: &str) -> Option<Token> {
        let text = text.trim();
        let fits =
            (MIN_LEN..=MAX_LEN).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic());
        fits.then(|| Token(text.to_string()))
    }
}

/// `a == b`, in a time that depends on their lengths only.
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a
        .iter()
        .zip(b)
        .fold(0u8, |acc, (x, y)| acc | std::hint::black_box(x ^ y));
    std::hint::black_box(diff) == 0
}

/// Why a right's token cannot be had. No variant holds any of the file's content.
#[derive(Debug, thiserror::Error)]
pub enum RightsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} does not hold a token (one line of {MIN_LEN} to {MAX_LEN} characters); remove it and restart the controller to make a new one"
    )]
    Malformed { path: PathBuf },
}

/// Makes `STATE/rights/` (`0700` on Unix, when it does not exist yet) and a token file for
/// each right that has none (`0600` on Unix). An existing file is left as it is: its
/// token, and the access an administrator gave it.
///
/// # Errors
/// The directory or a missing token file cannot be made.
pub fn ensure(state_dir: &Path) -> Result<(), RightsError> {
    let dir = dir(state_dir);
    make_dir(&dir).map_err(|source| RightsError::Io {
        path: dir.clone(),
        source,
    })?;
    for right in Right::ALL {
        let path = token_path(state_dir, right);
        let io = |source| RightsError::Io {
            path: path.clone(),
            source,
        };
        match std::fs::symlink_metadata(&path) {
            Ok(_) => {
                if let Err(e) = read(state_dir, right) {
                    tracing::warn!("the {right} right cannot be used: {e}");
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let token = Token::generate().map_err(io)?;
                // A temporary file (`0600` on Unix) renamed only where no file is, so that a
                // token file is never seen half written, nor one replaced.
                let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(io)?;
                tmp.write_all(format!("{}\n", token.0).as_bytes())
                    .map_err(io)?;
                tmp.as_file().sync_all().map_err(io)?;
                match tmp.persist_noclobber(&path) {
                    Ok(_) => {}
                    Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(io(e.error)),
                }
            }
            Err(e) => return Err(io(e)),
        }
    }
    Ok(())
}

/// Makes a directory that only its owner can enter (on Unix), when it does not exist yet;
/// an existing one keeps its mode (an administrator may have opened it to a group). The
/// rights' directory and the requests directories are made so.
pub(crate) fn make_dir(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    #[cfg(unix)]
    let made = {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().mode(0o700).create(path)
    };
    #[cfg(not(unix))]
    let made = std::fs::create_dir(path);
    match made {
        Err(e) if !(e.kind() == std::io::ErrorKind::AlreadyExists && path.is_dir()) => Err(e),
        _ => Ok(()),
    }
}

/// The token of `right`, as this account may read it.
///
/// # Errors
/// The file is missing, this account may not read it, or it holds no token.
pub fn read(state_dir: &Path, right: Right) -> Result<Token, RightsError> {
    let path = token_path(state_dir, right);
    match crate::secret_file::read(&path) {
        Ok(text) => Token::parse(&text).ok_or(RightsError::Malformed { path }),
        Err(crate::secret_file::SecretFileError::Io { source, .. }) => {
            Err(RightsError::Io { path, source })
        }
        Err(_) => Err(RightsError::Malformed { path }),
    }
}

/// The right a request's token grants, checked against both files (each compared, whichever
/// matches); `Err` says why none, in words for the person who asked.
pub fn verify(state_dir: &Path, token: Option<&Token>) -> Result<Right, String> {
    let operate = token_path(state_dir, Right::Operate);
    let drill = token_path(state_dir, Right::Drill);
    let Some(token) = token else {
        return Err(format!(
            "no right: the request carries no token. Ask as an account that may read {} (test failovers) or {} (everything), or with a galaxy-ha as new as the controller's (docs/rights.md)",
            drill.display(),
            operate.display()
        ));
    };
    let mut matched = None;
    for right in Right::ALL {
        match read(state_dir, right) {
            Ok(known) => {
                if known == *token && matched.is_none() {
                    matched = Some(right);
                }
            }
            Err(e) => tracing::warn!("the {right} right cannot be checked: {e}"),
        }
    }
    matched.ok_or_else(|| {
        format!(
            "no right: the request's token matches neither {} nor {}; it may have been renewed since it was read (run the command again)",
            operate.display(),
            drill.display()
        )
    })
}

/// Why `right` does not let a person ask `ask` of `site`, naming the right it takes; `None`
/// when it does.
pub fn refusal(state_dir: &Path, right: Right, ask: &Ask, site: &str) -> Option<String> {
    if right.allows(ask) {
        return None;
    }
    let what = match ask {
        Ask::Failover | Ask::ForcedFailover | Ask::SnapshotFailover(_) => "a real failover",
        Ask::Resume => "resuming replication",
        Ask::Commit => "committing a failover",
        Ask::Rollback => "rolling a failover back",
        Ask::Apply => "a pass that carries out the plan",
        Ask::Test | Ask::Drill(_) | Ask::EndTest => "a test failover",
    };
    Some(format!(
        "the {right} right does not allow {what} (`{}`): it allows test failovers only (`galaxy-ha failover {site} --test`, `--test --end`). Ask someone with the operate right, or run it as an account that may read {}",
        ask.command(site),
        token_path(state_dir, Right::Operate).display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_made_once_kept_checked_and_never_shown() {
        let state = tempfile::tempdir().unwrap();
        ensure(state.path()).unwrap();
        let drill = read(state.path(), Right::Drill).unwrap();
        let operate = read(state.path(), Right::Operate).unwrap();
        assert_eq!(drill.0.len(), 64);
        assert_ne!(drill, operate);
        assert!(!format!("{drill:?}").contains(&drill.0));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for right in Right::ALL {
                let mode = std::fs::metadata(token_path(state.path(), right))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{right}");
            }
            // An administrator's access is kept: a second start rewrites nothing.
            let path = token_path(state.path(), Right::Drill);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
            ensure(state.path()).unwrap();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o640);
        }
        ensure(state.path()).unwrap();
        assert_eq!(read(state.path(), Right::Drill).unwrap(), drill);

        assert_eq!(verify(state.path(), Some(&drill)), Ok(Right::Drill));
        assert_eq!(verify(state.path(), Some(&operate)), Ok(Right::Operate));
        let wrong = Token("0".repeat(64));
        let why = verify(state.path(), Some(&wrong)).unwrap_err();
        assert!(why.starts_with("no right: "), "{why}");
        let why = verify(state.path(), None).unwrap_err();
        assert!(why.starts_with("no right: "), "{why}");
        // A token one character short of the file's does not match.
        let short = Token(drill.0[1..].to_string());
        assert!(verify(state.path(), Some(&short)).is_err());
    }

    #[test]
    fn the_drill_right_allows_test_failovers_only() {
        let state = Path::new("/state");
        for ask in [Ask::Test, Ask::EndTest, Ask::Test.with_drill(None, true)] {
            assert!(Right::Drill.allows(&ask));
            assert_eq!(refusal(state, Right::Drill, &ask, "hq"), None);
        }
        for ask in [
            Ask::Failover,
            Ask::ForcedFailover,
            Ask::Resume,
            Ask::Commit,
            Ask::Rollback,
            Ask::SnapshotFailover("latest".into()),
            Ask::Apply,
        ] {
            assert!(Right::Operate.allows(&ask));
            let why = refusal(state, Right::Drill, &ask, "hq").unwrap();
            assert!(why.contains("the drill right does not allow"), "{why}");
            assert!(why.contains("operate right"), "{why}");
        }
        let why = refusal(state, Right::Drill, &Ask::Failover, "hq").unwrap();
        assert!(
            why.contains("a real failover (`galaxy-ha failover hq`)"),
            "{why}"
        );
        assert_eq!("Drill".parse::<Right>(), Ok(Right::Drill));
        assert!("admin".parse::<Right>().is_err());
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
        assert!(Token::parse("short").is_none());
        assert!(Token::parse(&format!("{}\n", "a".repeat(40))).is_some());
        assert!(Token::parse(&format!("{} {}", "a".repeat(20), "b".repeat(20))).is_none());
    }
}
