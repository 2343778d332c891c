//! The manifest's JSON Schema (2020-12), generated from the spec types: what editors use
//! through the `yaml-language-server` comment, and what `schemas/manifest.schema.json` holds.

use super::spec::Manifest;

/// Where the checked-in schema lives, relative to the repository root.
pub const SCHEMA_PATH: &str = "schemas/manifest.schema.json";

/// The schema as pretty JSON with a final newline, byte-for-byte what `galaxy-ha schema` prints.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(Manifest);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// What `validate` refuses and the schema cannot say, with why: rules across fields, case-
/// insensitive comparisons, arithmetic on durations, and what lies below the document (YAML
/// syntax, encoding). An editor flags every other problem as it is typed; these only
/// `galaxy-ha validate` finds. The docs list them, and a test proves that every bad manifest
/// of the test suite is refused by the schema unless its mistake is one of these.
pub const VALIDATE_ONLY: &[(&str, &str)] = &[
    (
        "YAML syntax: tabs, bad indentation, duplicate keys, undefined aliases, more than one document, bytes that are not UTF-8, nesting deeper than the reader allows",
        "below JSON Schema: the document must parse before a schema applies (editors report these themselves)",
    ),
    (
        "`spec.primary` names one of `spec.hosts`",
        "a value compared with another field's",
    ),
    (
        "`spec.maintenance.host` names one of the hosts",
        "a value compared with another field's",
    ),
    (
        "the two hosts have different names (compared without regard to case) and the three addresses differ",
        "uniqueness of one field across list items, and case-insensitive",
    ),
    (
        "a service listed once (compared without regard to case)",
        "uniqueness of one field across list items, and case-insensitive",
    ),
    (
        "the addresses lie inside `spec.network.prefix`",
        "address arithmetic",
    ),
    (
        "`jobName` and `replicaName` render differently in the two directions",
        "the templates rendered with both hosts' names",
    ),
    (
        "`totalTimeToFailure` at least the monitor interval; every duration at most 3650d; `scriptTimeout` at least 5s",
        "arithmetic on durations written as text",
    ),
    (
        "`spec.switchover.window.timeZone` is a time zone of the IANA database; its `hours` do not open and close at the same minute",
        "a lookup in the time zone database, and a value compared with another",
    ),
    (
        "an `excludeEventIds` range with its low ID first, IDs at most 65535, an IP address's IPv6 form",
        "numbers inside text (the pattern checks the form)",
    ),
];
