//! Where each field of a manifest is: a map from YAML path (`spec.hosts[1].name`) to line
//! and column, built in one pass over the YAML parser's events.
//!
//! Why a separate pass: the spec types stay plain (`Spanned<T>` has no JSON Schema), so
//! semantic errors found after deserializing are placed by their path instead.

use std::collections::HashMap;

use serde_saphyr::granit_parser::{Event, Marker, Parser};

use super::diagnostic::Position;

/// Where a node is: its key (for a mapping entry) and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Node {
    key: Option<Position>,
    value: Position,
}

/// Positions of the nodes of a manifest's first document, by YAML path.
#[derive(Debug, Default, Clone)]
pub struct Positions {
    nodes: HashMap<String, Node>,
}

enum Frame {
    /// A mapping at `path`; `key` is the pending key (with its position) when a value is due.
    Map {
        path: String,
        key: Option<(String, Position)>,
        complex_key: bool,
    },
    /// A sequence at `path` and the index of its next item.
    Seq { path: String, next: usize },
    /// Inside a complex (non-scalar) mapping key: ignored, only nesting is counted.
    Skip { depth: usize },
}

/// Limits that keep hostile input cheap: a real manifest is 6 levels deep with short keys
/// and a few hundred nodes. Deeper or longer parts are not mapped (they are invalid anyway,
/// and the deserializer reports them).
const MAX_DEPTH: usize = 40;
const MAX_KEY_CHARS: usize = 128;
const MAX_NODES: usize = 100_000;

fn position(m: Marker) -> Position {
    // The parser counts lines from 1 and columns from 0.
    Position {
        line: m.line().max(1),
        column: m.col() + 1,
    }
}

fn child(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

impl Positions {
    /// Reads the first document of `text`. Stops quietly at a syntax error: the deserializer
    /// reports it with its own position, and whatever was read up to there stays usable.
    pub fn of(text: &str) -> Positions {
        let mut nodes = HashMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        for item in Parser::new_from_str(text) {
            let Ok((event, span)) = item else { break };
            let at = position(span.start);
            let is_start = matches!(event, Event::MappingStart(..) | Event::SequenceStart(..));
            let is_node = is_start || matches!(event, Event::Scalar(..) | Event::Alias(..));
            if let Some(Frame::Skip { depth }) = stack.last_mut() {
                if is_start {
                    *depth += 1;
                } else if matches!(event, Event::MappingEnd | Event::SequenceEnd) {
                    *depth -= 1;
                    if *depth == 0 {
                        stack.pop();
                    }
                }
                continue;
            }
            if matches!(event, Event::MappingEnd | Event::SequenceEnd) {
                stack.pop();
                continue;
            }
            if matches!(event, Event::DocumentEnd) {
                break;
            }
            if !is_node {
                continue;
            }
            if nodes.len() >= MAX_NODES {
                break;
            }
            if is_start && stack.len() >= MAX_DEPTH {
                stack.push(Frame::Skip { depth: 1 });
                continue;
            }
            // Is this node a mapping key, or a value (and then at which path)?
            let (path, key) = match stack.last_mut() {
                None => (String::new(), None),
                Some(Frame::Seq { path, next }) => {
                    let p = format!("{path}[{next}]");
                    *next += 1;
                    (p, None)
                }
                Some(Frame::Map {
                    path,
                    key,
                    complex_key,
                }) => match key.take() {
                    Some((k, key_at)) => (child(path, &k), Some(key_at)),
                    None if *complex_key => {
                        *complex_key = false;
                        ("?".to_string(), None)
                    }
                    None => {
                        if let Event::Scalar(text, ..) = &event
                            && text.chars().count() <= MAX_KEY_CHARS
                        {
                            *key = Some((text.to_string(), at));
                        } else if is_start {
                            *complex_key = true;
                            stack.push(Frame::Skip { depth: 1 });
                        } else {
                            *complex_key = true;
                        }
                        continue;
                    }
                },
                Some(Frame::Skip { .. }) => continue,
            };
            nodes.entry(path.clone()).or_insert(Node { key, value: at });
            match event {
                Event::MappingStart(..) => stack.push(Frame::Map {
                    path,
                    key: None,
                    complex_key: false,
                }),
                Event::SequenceStart(..) => stack.push(Frame::Seq { path, next: 0 }),
                _ => {}
            }
        }
        Positions { nodes }
    }

    /// Where the value at `path` is. A path that is not in the file (a field left out, so a
    /// default applies) falls back to where its nearest present parent is named.
    pub fn locate(&self, path: &str) -> Position {
        if let Some(node) = self.nodes.get(path) {
            return node.value;
        }
        let mut p = path;
        while let Some(parent) = parent(p) {
            if let Some(node) = self.nodes.get(parent) {
                return node.key.unwrap_or(node.value);
            }
            p = parent;
        }
        Position::START
    }

    /// Where the field at `path` is named (its key), else where its value is.
    pub fn locate_key(&self, path: &str) -> Position {
        match self.nodes.get(path) {
            Some(node) => node.key.unwrap_or(node.value),
            None => self.locate(path),
        }
    }

    /// Whether `path` is written in the file (not defaulted).
    pub fn contains(&self, path: &str) -> bool {
        self.nodes.contains_key(path)
    }
}

/// `spec.hosts[1].name` → `spec.hosts[1]` → `spec.hosts` → `spec` → `` (the document).
fn parent(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(&path[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
apiVersion: galaxy-ha/v1
spec:
  hosts:
    - name: A
      address: 10.0.0.1
    - {name: B, address: 10.0.0.2}
  firewall:
    ports: [1, 2]
";

    fn at(line: usize, column: usize) -> Position {
        Position { line, column }
    }

    #[test]
    fn values_are_found_by_path_with_one_based_lines_and_columns() {
        let p = Positions::of(DOC);
        assert_eq!(p.locate("apiVersion"), at(1, 13));
        assert_eq!(p.locate("spec.hosts[0].name"), at(4, 13));
        assert_eq!(p.locate("spec.hosts[0].address"), at(5, 16));
        assert_eq!(p.locate("spec.hosts[1].address"), at(6, 26));
        assert_eq!(p.locate("spec.firewall.ports[1]"), at(8, 16));
    }

    #[test]
    fn a_missing_field_is_placed_where_its_parent_is_named() {
        let p = Positions::of(DOC);
        assert_eq!(p.locate("spec.firewall.missing"), at(7, 3));
        assert_eq!(p.locate("spec.vm.address"), at(2, 1));
        assert_eq!(p.locate("nothing"), Position::START);
    }

    #[test]
    fn hostile_shapes_stay_cheap() {
        let deep = format!("a: {}{}", "[".repeat(200), "]".repeat(200));
        let p = Positions::of(&deep);
        assert!(p.nodes.len() <= MAX_DEPTH + 1);
        let long_key = format!("{}: {{a: 1, b: 2}}", "k".repeat(10_000));
        let p = Positions::of(&long_key);
        assert!(p.nodes.keys().all(|k| k.len() < 100));
    }

    #[test]
    fn complex_keys_and_syntax_errors_do_not_confuse_the_walk() {
        let p = Positions::of("? [a, b]\n: 1\nc: 2\nd: [\n");
        assert_eq!(p.locate("c"), at(3, 4));
        assert_eq!(p.locate_key("c"), at(3, 1));
    }
}
