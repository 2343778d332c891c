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
    ///
    /// Example: galaxy-ha validate manifests/
    Validate {
        /// Manifest files or directories of *.yaml files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Print the manifest's JSON Schema (for editors and CI).
    ///
    /// Example: galaxy-ha schema --out schemas/manifest.schema.json
    Schema {
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Drive the simulated lab: show it, advance its virtual clock, reset it, inject faults.
    ///
    /// Example: galaxy-ha sim fault host-down GCSHOSTA -m manifests/hq.yaml
    Sim {
        #[command(subcommand)]
        command: crate::commands::sim::SimCommand,
    },
}
