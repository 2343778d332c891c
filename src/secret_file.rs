//! A password file as Windows tools write it. Windows PowerShell 5.1 writes UTF-16 with `>`
//! and `Out-File`, and puts a byte order mark before UTF-8 with `Set-Content -Encoding UTF8`;
//! Notepad may do either. None of that, nor a trailing line break, is part of the password.

use std::path::Path;

/// Reads the password in `path`.
///
/// # Errors
/// The file cannot be read, or is neither UTF-8 nor UTF-16 text.
pub fn read(path: &Path) -> std::io::Result<String> {
    decode(&std::fs::read(path)?).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the file is neither UTF-8 nor UTF-16 text",
        )
    })
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
        assert_eq!(
            read(&path).unwrap_err().kind(),
            std::io::ErrorKind::InvalidData
        );
        assert_eq!(
            read(&dir.path().join("none")).unwrap_err().kind(),
            std::io::ErrorKind::NotFound
        );
    }
}
