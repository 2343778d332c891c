//! No input bytes make the loader panic, and every diagnostic points inside the file.

use std::path::Path;

use galaxy_ha::manifest;
use proptest::prelude::*;

const HQ: &str = include_str!("../manifests/hq.yaml");

fn check(bytes: &[u8]) {
    if let Err(diagnostics) = manifest::load_bytes(Path::new("fuzz.yaml"), bytes) {
        assert!(!diagnostics.is_empty(), "an error without a diagnostic");
        let lines = bytes.split(|b| *b == b'\n').count();
        for d in &diagnostics {
            assert!(!d.message.is_empty());
            if let Some(p) = d.position {
                assert!(p.line >= 1 && p.column >= 1, "{d}");
                assert!(p.line <= lines + 1, "{d} is past the end ({lines} lines)");
            }
        }
    }
}

/// One edit an admin's editor (or a bad merge) could make to a manifest.
#[derive(Debug, Clone)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    Byte { at: usize, byte: u8 },
    SwapLines { a: usize, b: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    let yamlish = prop::sample::select(vec![
        ":", " ", "\t", "\n", "-", "[", "]", "{", "}", "&a", "*a", "!!str", "'", "\"", "#", "---",
        "? ", "|", ">", "0", "~", "{vm", "70000", "\u{feff}", "é",
    ]);
    prop_oneof![
        (any::<usize>(), 0usize..20).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), prop::collection::vec(yamlish, 1..4)).prop_map(|(at, t)| Edit::Insert {
            at,
            text: t.concat()
        }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Byte { at, byte }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines { a, b }),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let n = bytes.len().max(1);
        match e {
            Edit::Delete { at, len } => {
                let at = at % n;
                let end = (at + len).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
            Edit::Insert { at, text } => {
                let at = (at % n).min(bytes.len());
                bytes.splice(at..at, text.bytes());
            }
            Edit::Byte { at, byte } => {
                if !bytes.is_empty() {
                    let at = at % bytes.len();
                    bytes[at] = *byte;
                }
            }
            Edit::SwapLines { a, b } => {
                let mut lines: Vec<Vec<u8>> =
                    bytes.split(|c| *c == b'\n').map(<[u8]>::to_vec).collect();
                let len = lines.len();
                lines.swap(a % len, b % len);
                bytes = lines.join(&b'\n');
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        check(&bytes);
    }

    #[test]
    fn mutated_valid_manifests_never_panic(edits in prop::collection::vec(edit(), 1..6)) {
        check(&apply(HQ.as_bytes().to_vec(), &edits));
    }
}

#[test]
fn the_unmutated_manifest_is_valid() {
    assert!(manifest::load_bytes(Path::new("hq.yaml"), HQ.as_bytes()).is_ok());
}
