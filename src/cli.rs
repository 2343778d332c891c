//! Command-line syntax (clap). Resolving arguments into settings happens in `commands`.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Keeps a Galaxy redundant server (two Hyper-V hosts, System Galaxy, a Carbonite
/// Full Server to Hyper-V job) in the state its manifest in git describes.
#[derive(Debug, Parser)]
#[command(name = "galaxy-ha", version, propagate_version = true)]
pub struct Cli {
    /// Log format on standard error.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests: every problem of every file, each with FILE:LINE:COL.
    ///
    /// Exit status: 0 when every manifest is valid, 1 when any is not.
    #[command(after_help = "\
Examples:
  galaxy-ha validate manifests/                  every *.yaml in the directory
  galaxy-ha validate manifests/hq.yaml new.yaml  files; site names must be unique across all

Each problem is printed on standard error as FILE:LINE:COL: path: message, e.g.
  manifests/hq.yaml:12:12: spec.primary: \"GCSHOSTC\" is not one of the hosts (GCSHOSTA, GCSHOSTB); ...
A file reports its first YAML syntax or type error, or else all of its other problems.")]
    Validate {
        /// Manifest files or directories of *.yaml files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Print the manifest's JSON Schema (for editors and CI).
    #[command(after_help = "\
Examples:
  galaxy-ha schema --out schemas/manifest.schema.json   regenerate the checked-in schema
  galaxy-ha schema > /tmp/manifest.schema.json

Editors (yaml-language-server) use it through the first line of a manifest:
  # yaml-language-server: $schema=../schemas/manifest.schema.json")]
    Schema {
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}
