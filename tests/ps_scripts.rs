//! Every generated script: parsed by a real PowerShell grammar, free of PowerShell 7-only
//! syntax and typographic quotes, constant whatever the data, and snapshotted.

use galaxy_ha::platform::powershell::names;
use galaxy_ha::platform::powershell::scripts::{ScriptKind, script};
use tree_sitter::{Node, Parser};

fn parse(text: &str) -> tree_sitter::Tree {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("the PowerShell grammar loads");
    parser.parse(text, None).expect("the parser returns a tree")
}

/// The first node in error, with its line and the text around it.
fn first_error(node: Node, text: &str) -> Option<String> {
    if node.is_error() || node.is_missing() {
        let p = node.start_position();
        let line = text.lines().nth(p.row).unwrap_or("");
        return Some(format!(
            "line {}: {:?} near {line:?}",
            p.row + 1,
            node.kind()
        ));
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        if child.has_error()
            && let Some(e) = first_error(child, text)
        {
            return Some(e);
        }
    }
    None
}

/// Tokens of a kind the grammar names, e.g. `&&`.
fn tokens(node: Node, out: &mut Vec<String>) {
    if node.child_count() == 0 {
        out.push(node.kind().to_string());
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        tokens(child, out);
    }
}

#[test]
fn every_script_should_parse_without_errors() {
    let errors: Vec<String> = ScriptKind::all()
        .iter()
        .filter_map(|kind| {
            let s = script(*kind);
            let tree = parse(&s.text);
            tree.root_node().has_error().then(|| {
                format!(
                    "{}: {}",
                    kind.as_str(),
                    first_error(tree.root_node(), &s.text).unwrap_or_default()
                )
            })
        })
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn no_script_should_use_powershell_7_syntax_or_typographic_quotes() {
    for kind in ScriptKind::all() {
        let s = script(kind);
        let mut toks = Vec::new();
        tokens(parse(&s.text).root_node(), &mut toks);
        for bad in ["&&", "||", "??", "?", "??="] {
            assert!(
                !toks.iter().any(|t| t == bad),
                "{}: uses PowerShell 7-only `{bad}`",
                kind.as_str()
            );
        }
        for q in ['\u{2018}', '\u{2019}', '\u{201c}', '\u{201d}', '\u{201e}'] {
            assert!(
                !s.text.contains(q),
                "{}: typographic quote {q}",
                kind.as_str()
            );
        }
        assert!(
            s.text.is_ascii(),
            "{}: only ASCII survives 5.1's code pages",
            kind.as_str()
        );
        // Forms the grammar misreads, kept out so that its verdict can be trusted.
        assert!(!s.text.contains(".ForEach("), "{}", kind.as_str());
        assert!(!s.text.contains("break :"), "{}", kind.as_str());
        for unit in ["KB", "MB", "GB", "TB"] {
            let suffixed = s
                .text
                .as_bytes()
                .windows(3)
                .any(|w| w[0].is_ascii_digit() && w[1..] == *unit.as_bytes());
            assert!(
                !suffixed,
                "{}: upper-case size suffix {unit}",
                kind.as_str()
            );
        }
    }
}

#[test]
fn every_placeholder_should_be_expanded_and_every_name_used() {
    let all: String = ScriptKind::all()
        .iter()
        .map(|k| script(*k).text.clone())
        .collect();
    for kind in ScriptKind::all() {
        assert!(!script(kind).text.contains("%%"), "{}", kind.as_str());
    }
    for n in names::NAMES {
        assert!(
            all.contains(n.value),
            "name {} ({}) is not used by any script",
            n.key,
            n.value
        );
    }
}

#[test]
fn scripts_should_read_their_data_from_standard_input_only() {
    for kind in ScriptKind::all() {
        let s = &script(kind).text;
        assert!(
            s.contains("[Console]::In.ReadToEnd() | ConvertFrom-Json"),
            "{}",
            kind.as_str()
        );
        assert!(
            !s.contains("$args"),
            "{}: data only through $in",
            kind.as_str()
        );
        assert!(
            !s.contains("Invoke-Expression"),
            "{}: no code from data",
            kind.as_str()
        );
    }
}

#[test]
fn scripts_should_match_their_snapshots() {
    for kind in ScriptKind::all() {
        insta::assert_snapshot!(format!("ps-script-{}", kind.as_str()), script(kind).text);
    }
}
