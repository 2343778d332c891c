//! One located problem in a manifest, printed `FILE:LINE:COL: spec.path: message`.

use std::fmt;
use std::path::PathBuf;

/// A problem found while loading or validating a manifest.
///
/// `line` and `column` are 1-based, as editors and `grep -n` count; `None` when the problem
/// concerns the file as a whole (it does not exist, it cannot be read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, as the user named it (relative paths stay relative).
    pub file: PathBuf,
    /// 1-based line and column of the offending node, when there is one.
    pub position: Option<Position>,
    /// YAML path of the offending field, e.g. `spec.hosts[1].name`; `document` for the
    /// file's top level; empty for problems of the file as a whole.
    pub path: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// A 1-based line and column in a manifest file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// The first character of a file.
    pub const START: Position = Position { line: 1, column: 1 };
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(p) = self.position {
            write!(f, ":{}:{}", p.line, p.column)?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Manifests that could not be loaded. `Display` prints every problem, one per line, in file
/// order and then position order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.diagnostics))]
pub struct Invalid {
    pub diagnostics: Vec<Diagnostic>,
}

fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl Invalid {
    /// How many distinct files have problems.
    pub fn files(&self) -> usize {
        let mut files: Vec<&PathBuf> = self.diagnostics.iter().map(|d| &d.file).collect();
        files.dedup();
        files.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_file_line_column_path_message() {
        let d = Diagnostic {
            file: "manifests/hq.yaml".into(),
            position: Some(Position { line: 4, column: 7 }),
            path: "spec.primary".into(),
            message: "names no host".into(),
        };
        assert_eq!(
            d.to_string(),
            "manifests/hq.yaml:4:7: spec.primary: names no host"
        );
    }

    #[test]
    fn a_whole_file_problem_has_no_position_and_no_path() {
        let d = Diagnostic {
            file: "nope.yaml".into(),
            position: None,
            path: String::new(),
            message: "no such file or directory".into(),
        };
        assert_eq!(d.to_string(), "nope.yaml: no such file or directory");
    }
}
