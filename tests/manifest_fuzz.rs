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

/// A YAML node in flow style: scalars of every kind, nested lists and maps, anchors, aliases
/// (defined or not) and tags, so the loader meets structure, not just bytes.
fn node() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        "[a-zA-Z_][a-zA-Z0-9_.-]{0,12}",
        "-?[0-9]{1,25}(\\.[0-9]{0,5})?",
        Just("null".to_string()),
        Just("~".to_string()),
        Just("true".to_string()),
        Just("2026-12-01T06:00:00Z".to_string()),
        Just("10.100.0.43".to_string()),
        "\"[^\"\\\\]{0,20}\"",
        "'[^']{0,20}'",
        (1usize..3000).prop_map(|n| format!("\"{}\"", "x".repeat(n))),
        (0u8..8).prop_map(|i| format!("*a{i}")),
    ];
    let leaf = (
        prop::option::of(0u8..8),
        prop::option::of(prop::sample::select(vec![
            "!!str", "!!int", "!!map", "!local",
        ])),
        scalar,
    )
        .prop_map(|(anchor, tag, s)| {
            let mut out = String::new();
            if let Some(t) = tag {
                out.push_str(t);
                out.push(' ');
            }
            if let Some(a) = anchor.filter(|_| !s.starts_with('*')) {
                out.push_str(&format!("&a{a} "));
            }
            out.push_str(&s);
            out
        });
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec(("[a-zA-Z]{1,10}", inner), 0..8).prop_map(|kv| {
                let pairs: Vec<String> = kv.into_iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!("{{{}}}", pairs.join(", "))
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn structured_yaml_in_any_field_never_panics(line in any::<usize>(), value in node(), extra in any::<bool>()) {
        // Replace the value of one `key: value` line of the manifest, or add a key beside it.
        let lines: Vec<&str> = HQ.lines().collect();
        let keyed: Vec<usize> = (0..lines.len())
            .filter(|i| lines[*i].trim_start().split_once(':').is_some_and(|(k, _)| !k.starts_with('#') && !k.starts_with('-')))
            .collect();
        let at = keyed[line % keyed.len()];
        let (key, _) = lines[at].split_once(':').unwrap();
        let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        if extra {
            let indent = key.len() - key.trim_start().len();
            out.insert(at + 1, format!("{}extra: {value}", " ".repeat(indent)));
        } else {
            out[at] = format!("{key}: {value}");
        }
        check(out.join("\n").as_bytes());
    }

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
