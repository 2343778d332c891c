//! The import graph of `src/` against the map of layers in `src/lib.rs`: a module names only
//! modules of its own layer or of the layers below. Any upward import left must be listed with
//! why, and the list can only shrink (an entry no longer needed fails the test too).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Upward imports not yet removed: (importer, imported), each with why. None are left; an
/// entry added here must say why and be removed again.
const KNOWN: &[(&str, &str)] = &[];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Each top-level module's layer, from the `// N. Name` groups of `pub mod` lines in lib.rs.
fn layers() -> BTreeMap<String, u32> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let mut layer = None;
    let mut map = BTreeMap::new();
    for line in lib.lines() {
        if let Some(rest) = line.strip_prefix("// ")
            && let Some((n, _)) = rest.split_once(". ")
            && let Ok(n) = n.parse::<u32>()
        {
            layer = Some(n);
        } else if let Some(name) = line
            .strip_prefix("pub mod ")
            .and_then(|l| l.strip_suffix(';'))
        {
            let n = layer.unwrap_or_else(|| panic!("lib.rs: `pub mod {name}` before any layer"));
            map.insert(name.to_string(), n);
        }
    }
    map
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            rust_files(&entry.unwrap().path(), out);
        }
    } else if path.is_file() && path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

/// The top-level modules a file's `crate::` paths name (also inside `crate::{a, b}`).
fn imports(text: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut names = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            names.extend(group.split(',').map(|p| ident(p.trim())));
        } else {
            names.insert(ident(rest));
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

#[test]
fn every_module_imports_only_its_own_layer_and_those_below() {
    let layers = layers();
    for entry in std::fs::read_dir(src()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name != "lib" && name != "main" {
            assert!(
                layers.contains_key(&name),
                "src/{name} is in no layer of src/lib.rs"
            );
        }
    }
    let mut upward = BTreeSet::new();
    for (module, layer) in &layers {
        let mut files = Vec::new();
        rust_files(&src().join(format!("{module}.rs")), &mut files);
        rust_files(&src().join(module), &mut files);
        assert!(!files.is_empty(), "no source for module {module}");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for name in imports(&text) {
                match layers.get(&name) {
                    Some(other) if other > layer => {
                        upward.insert((module.clone(), name));
                    }
                    Some(_) => {}
                    None => panic!(
                        "{} names crate::{name}, which lib.rs does not place in a layer",
                        file.display()
                    ),
                }
            }
        }
    }
    let known: BTreeSet<(String, String)> = KNOWN
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let new: Vec<_> = upward.difference(&known).collect();
    let gone: Vec<_> = known.difference(&upward).collect();
    assert!(
        new.is_empty(),
        "upward imports (importer, imported) against the map in src/lib.rs: {new:?}"
    );
    assert!(
        gone.is_empty(),
        "no longer imported upward, remove from KNOWN: {gone:?}"
    );
}

#[test]
fn the_import_reader_sees_paths_and_groups() {
    let names = imports("use crate::{history, status};\nlet x = crate::plan::plan(); // crate::");
    let want: BTreeSet<String> = ["history", "plan", "status"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(names, want);
}
