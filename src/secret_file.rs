//! A password file as Windows tools write it. Windows PowerShell 5.1 writes UTF-16 with `>`
//! and `Out-File`, and puts a byte order mark before UTF-8 with `Set-Content -Encoding UTF8`;
//! Notepad may do either. None of that, nor a trailing line break, is part of the password.
//!
//! A password file is checked as strictly as it is read: it must be a regular file (a FIFO
//! or a device could block the reader or never end), hold text, and hold exactly one
//! non-empty line. Reading never blocks: the file is opened without waiting for a writer
//! and refused unless it is a regular file.

use std::io::Read;
use std::path::Path;

use crate::manifest::spec::SecretSource;

/// More than any password; a file larger than this is not a password file.
pub const MAX_BYTES: u64 = 64 * 1024;

/// Why a password file cannot be used. No variant holds any of the file's content.
#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    /// Opening or reading failed (missing, no permission, ...).
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A directory, FIFO, socket or device.
    #[error(
        "{path} is {what}, not a regular file; give the path of the file that holds the password"
    )]
    NotAFile { path: String, what: &'static str },
    #[error("{path} is larger than {MAX_BYTES} bytes; a password file holds one line")]
    TooLarge { path: String },
    #[error("{path} is neither UTF-8 nor UTF-16 text")]
    NotText { path: String },
    #[error("{path} is empty; write the password in it (one line)")]
    Empty { path: String },
    #[error(
        "{path} holds more than one line; a password file holds the password alone on one line (a final line break is allowed)"
    )]
    SeveralLines { path: String },
    /// `{ env: NAME }` names a variable that is unset, empty or not one line.
    #[error("environment variable {name} {problem}; it should hold the password")]
    Env { name: String, problem: &'static str },
}

/// The password `source` points to: a file ([`read`]) or an environment variable, held to
/// the same rules.
///
/// # Errors
/// See [`SecretFileError`].
pub fn resolve(source: &SecretSource) -> Result<String, SecretFileError> {
    match source {
        SecretSource::File(path) => read(path),
        SecretSource::Env(name) => {
            let problem = match std::env::var(name) {
                Ok(v) if v.is_empty() => "is empty",
                Ok(v) if v.contains(['\r', '\n']) => "holds more than one line",
                Ok(v) => return Ok(v),
                Err(std::env::VarError::NotPresent) => "is not set",
                Err(std::env::VarError::NotUnicode(_)) => "is not Unicode text",
            };
            Err(SecretFileError::Env {
                name: name.clone(),
                problem,
            })
        }
    }
}

/// Reads the password in `path`, without blocking.
///
/// # Errors
/// See [`SecretFileError`]: not a regular file, unreadable, not text, empty or several lines.
pub fn read(path: &Path) -> Result<String, SecretFileError> {
    let shown = || path.display().to_string();
    let io = |source| SecretFileError::Io {
        path: shown(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // A FIFO opened for reading would wait for a writer.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(io)?;
    let kind = file.metadata().map_err(io)?.file_type();
    if !kind.is_file() {
        return Err(SecretFileError::NotAFile {
            path: shown(),
            what: describe(kind),
        });
    }
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(SecretFileError::TooLarge { path: shown() });
    }
    let text = decode(&bytes).ok_or_else(|| SecretFileError::NotText { path: shown() })?;
    if text.is_empty() {
        return Err(SecretFileError::Empty { path: shown() });
    }
    if text.contains(['\r', '\n']) {
        return Err(SecretFileError::SeveralLines { path: shown() });
    }
    Ok(text)
}

/// What a file that is not a regular file is, in words.
fn describe(kind: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// The text of a password file: UTF-8, or UTF-16 after its byte order mark; the trailing
/// line break removed.
pub fn decode(bytes: &[u8]) -> Option<String> {
    let text = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        String::from_utf8(rest.to_vec()).ok()?
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        utf16(rest, u16::from_le_bytes)?
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        utf16(rest, u16::from_be_bytes)?
    } else {
        String::from_utf8(bytes.to_vec()).ok()?
    };
    Some(text.trim_end_matches(['\r', '\n']).to_string())
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Option<String> {
    let (pairs, odd) = bytes.as_chunks::<2>();
    if !odd.is_empty() {
        return None;
    }
    String::from_utf16(&pairs.iter().map(|p| unit(*p)).collect::<Vec<_>>()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(text: &str) -> Vec<u8> {
        let mut out = vec![0xFF, 0xFE];
        out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        out
    }

    #[test]
    fn the_ways_windows_tools_write_a_password_all_read_the_same() {
        let password = "pä$$wörd";
        let cases: [(&str, Vec<u8>); 5] = [
            ("plain UTF-8", password.as_bytes().to_vec()),
            (
                "UTF-8 and a line break",
                format!("{password}\r\n").into_bytes(),
            ),
            (
                "Set-Content -Encoding UTF8",
                [
                    b"\xEF\xBB\xBF".as_slice(),
                    format!("{password}\r\n").as_bytes(),
                ]
                .concat(),
            ),
            ("Out-File, >", utf16le(&format!("{password}\r\n"))),
            (
                "UTF-16 big-endian",
                [0xFE, 0xFF]
                    .into_iter()
                    .chain(password.encode_utf16().flat_map(u16::to_be_bytes))
                    .collect(),
            ),
        ];
        for (how, bytes) in cases {
            assert_eq!(decode(&bytes).as_deref(), Some(password), "{how}");
        }
    }

    #[test]
    fn bytes_that_are_no_text_are_refused_not_guessed() {
        assert_eq!(decode(b"\xC3\x28"), None, "invalid UTF-8");
        assert_eq!(decode(&[0xFF, 0xFE, 0x61]), None, "half a UTF-16 unit");
        assert_eq!(decode(&[0xFF, 0xFE, 0x00, 0xD8]), None, "a lone surrogate");
    }

    #[test]
    fn a_file_is_read_and_a_missing_one_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("smtp-password");
        std::fs::write(&path, utf16le("secret\r\n")).unwrap();
        assert_eq!(read(&path).unwrap(), "secret");
        std::fs::write(&path, b"\xC3\x28").unwrap();
        assert!(matches!(read(&path), Err(SecretFileError::NotText { .. })));
        let err = read(&dir.path().join("none")).unwrap_err();
        assert!(
            matches!(&err, SecretFileError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound),
            "{err}"
        );
    }

    #[test]
    fn what_is_no_one_line_password_is_refused_naming_the_file_and_nothing_of_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        };
        let empty = file("empty", b"");
        let blank = file("blank", b"\r\n");
        let two = file("two", b"Zebra-Quokka\nsecond-line\n");
        for (path, want) in [
            (&empty, "is empty"),
            (&blank, "is empty"),
            (&two, "more than one line"),
        ] {
            let err = read(path).unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
            assert!(err.contains(&path.display().to_string()), "{err}");
            assert!(!err.contains("Zebra") && !err.contains("second"), "{err}");
        }
        let err = read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("is a directory, not a regular file"), "{err}");
        let err = read(Path::new("/dev/null")).unwrap_err().to_string();
        assert!(err.contains("is a device"), "{err}");
        assert_eq!(read(&file("last-newline", b"ok\n")).unwrap(), "ok");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_at_once_rather_than_waited_on() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pw");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        let started = std::time::Instant::now();
        let err = read(&fifo).unwrap_err().to_string();
        assert!(err.contains("is a FIFO"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
