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

/// Every module of `src/` by its path (`plan::failover`), with its source.
fn modules() -> BTreeMap<String, String> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut map = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(src()).unwrap().with_extension("");
        let mut parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if parts.last().is_some_and(|p| p == "mod") {
            parts.pop();
        }
        if parts == ["lib"] || parts == ["main"] {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        map.insert(parts.join("::"), code_of(&text));
    }
    map
}

/// The text without comments, string literals and the unit tests at the end (whose `super`
/// is the file itself).
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod ").next().unwrap_or(text);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push_str("\"\"");
            }
            _ => out.push(c),
        }
    }
    out
}

/// Every path of two or more segments in the code (`crate::a::B`, `super::{x, y::Z}`,
/// `child::f`), with `{..}` groups expanded.
fn paths(code: &str) -> Vec<Vec<String>> {
    let bytes = code.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if ident(bytes[i]) && (i == 0 || !(ident(bytes[i - 1]) || bytes[i - 1] == b':')) {
            let start = i;
            let mut end = i;
            loop {
                while end < bytes.len() && ident(bytes[end]) {
                    end += 1;
                }
                if code[end..].starts_with("::{") {
                    let mut depth = 0;
                    end += 2;
                    for (k, b) in code[end..].bytes().enumerate() {
                        match b {
                            b'{' => depth += 1,
                            b'}' => depth -= 1,
                            _ => {}
                        }
                        if depth == 0 {
                            end += k + 1;
                            break;
                        }
                    }
                    break;
                } else if code[end..].starts_with("::")
                    && code[end + 2..].bytes().next().is_some_and(ident)
                {
                    end += 2;
                } else {
                    break;
                }
            }
            let path = code[start..end]
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if path.contains("::") {
                out.extend(expand(&path));
            }
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// `a::{b, c::{d, e as f}, self}` into `a::b`, `a::c::d`, `a::c::e`, `a`.
fn expand(path: &str) -> Vec<Vec<String>> {
    let segments = |p: &str| -> Vec<String> {
        p.split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let Some(open) = path.find('{') else {
        return vec![segments(path)];
    };
    let prefix = &path[..open];
    let body = path[open + 1..]
        .strip_suffix('}')
        .unwrap_or(&path[open + 1..]);
    let mut parts = Vec::new();
    let (mut depth, mut from) = (0, 0);
    for (k, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&body[from..k]);
                from = k + 1;
            }
            _ => {}
        }
    }
    parts.push(&body[from..]);
    let mut out = Vec::new();
    for part in parts {
        let part = part.split(" as ").next().unwrap_or(part).trim();
        match part {
            "" | "*" => {}
            "self" => out.push(segments(prefix)),
            _ => out.extend(expand(&format!("{prefix}{part}"))),
        }
    }
    out
}

struct Graph {
    modules: BTreeMap<String, String>,
    /// `(module, name)` to the module that defines what `pub use` re-exports as `name`.
    reexports: BTreeMap<(String, String), String>,
}

impl Graph {
    fn new() -> Graph {
        let mut graph = Graph {
            modules: modules(),
            reexports: BTreeMap::new(),
        };
        // Re-exports of re-exports: a few rounds settle every chain in src/.
        for _ in 0..3 {
            let mut found = BTreeMap::new();
            for (module, code) in &graph.modules {
                for item in code
                    .split("pub use ")
                    .skip(1)
                    .chain(code.split("pub(crate) use ").skip(1))
                {
                    let item = item.split(';').next().unwrap_or("");
                    for path in expand(&item.split_whitespace().collect::<Vec<_>>().join(" ")) {
                        if let (Some(name), Some(target)) =
                            (path.last(), graph.resolve(module, &path))
                            && &target != module
                        {
                            found.insert((module.clone(), name.clone()), target);
                        }
                    }
                }
            }
            graph.reexports = found;
        }
        graph
    }

    fn children(&self, module: &str) -> BTreeSet<&str> {
        let prefix = if module.is_empty() {
            String::new()
        } else {
            format!("{module}::")
        };
        self.modules
            .keys()
            .filter_map(|m| m.strip_prefix(&prefix))
            .filter(|rest| !rest.contains("::") && !rest.is_empty())
            .collect()
    }

    /// The module a path in `module` names: the longest prefix that is a module, then a
    /// re-exported name followed to the module that defines it.
    fn resolve(&self, module: &str, path: &[String]) -> Option<String> {
        let mut base: Vec<String> = module.split("::").map(str::to_string).collect();
        let mut rest = path;
        match path.first().map(String::as_str) {
            Some("crate") => {
                base.clear();
                rest = &path[1..];
            }
            Some("super") => {
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop();
                    rest = &rest[1..];
                }
            }
            Some("self") => rest = &path[1..],
            Some(first) if self.children(module).contains(first) => {}
            _ => return None,
        }
        for segment in rest {
            let mut next = base.clone();
            next.push(segment.clone());
            if self.modules.contains_key(&next.join("::")) {
                base = next;
            } else {
                if let Some(target) = self.reexports.get(&(base.join("::"), segment.clone())) {
                    return Some(target.clone());
                }
                break;
            }
        }
        let name = base.join("::");
        (!name.is_empty()).then_some(name)
    }

    /// Who names whom. A module naming its own descendants is left out: a parent declares
    /// its children and dispatches to them, and its children may use what it defines.
    fn edges(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut edges = BTreeMap::new();
        for (module, code) in &self.modules {
            let named: BTreeSet<String> = paths(code)
                .iter()
                .filter_map(|p| self.resolve(module, p))
                .filter(|t| t != module && !t.starts_with(&format!("{module}::")))
                .collect();
            edges.insert(module.clone(), named);
        }
        edges
    }
}

/// The strongly connected components of more than one module (Tarjan's algorithm).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            for w in self.edges.get(v).into_iter().flatten() {
                if !self.index.contains_key(w.as_str()) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w.as_str()]);
                    self.low.insert(v, low);
                } else if self.stack.contains(&w.as_str()) {
                    let low = self.low[v].min(self.index[w.as_str()]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    component.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found
}

#[test]
fn no_modules_of_src_import_each_other_in_a_cycle() {
    let graph = Graph::new();
    assert!(
        graph.modules.len() > 100,
        "src/ read: {}",
        graph.modules.len()
    );
    let edges = graph.edges();
    // The reader must see the imports it is meant to judge.
    assert!(edges["plan::failover"].contains("plan::builder"));
    assert!(edges["memory"].contains("model::operation"));
    assert!(edges["platform::powershell::payload"].contains("platform::powershell::input"));
    let found = cycles(&edges);
    let shown: Vec<String> = found
        .iter()
        .map(|c| {
            c.iter()
                .map(|m| {
                    format!(
                        "{m} -> {:?}",
                        edges[m]
                            .iter()
                            .filter(|t| c.contains(t))
                            .collect::<Vec<_>>()
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .collect();
    assert!(found.is_empty(), "import cycles in src/: {shown:#?}");
}

#[test]
fn the_cycle_finder_finds_a_cycle_and_the_path_reader_follows_groups_and_re_exports() {
    let edges: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(str::to_string).collect()))
    .collect();
    assert_eq!(cycles(&edges), vec![vec!["a", "b", "c"]]);
    let code =
        code_of("use super::{x, y::{Z, W as V}}; // crate::q::r\nlet s = \"crate::s::t\";\n");
    let found = paths(&code);
    assert_eq!(
        found,
        vec![
            vec!["super", "x"],
            vec!["super", "y", "Z"],
            vec!["super", "y", "W"]
        ]
    );
    let graph = Graph::new();
    assert_eq!(
        graph.resolve(
            "plan::builder",
            &["crate".into(), "memory".into(), "FailoverRecord".into()]
        ),
        Some("model::operation".to_string()),
        "a re-export is followed to the module that defines the item"
    );
}
