//! Integration tests: one binary, one module per scenario family.

/// Fixtures: the guide's site and hand-built observations.
mod support;

/// Table tests of the pure planner, a rule and a guard each.
mod planner_rules;

/// Table tests of the commit window after a failover and of a rollback.
mod planner_commit;

/// Table tests of a failover to a snapshot when the data is not good.
mod planner_snapshot;
// The pure planner's drill rule: checks, verdict, cleanup, the run's record.
mod planner_drill;

/// Property tests of the safety invariants over random observations and memories.
mod planner_props;

// `galaxy-ha demo`, the README's first command.
mod demo_cli;

// proto/generated/ is what etcd's protos generate.
mod etcd_codegen;

/// The planner's alerts: severities, actions, all-clears, nothing twice after a fence.
mod alert_rules;

// Every file in tests/bad/ fails validation with the snapshotted diagnostics.
mod manifest_bad;
// Loading never panics, whatever the bytes (proptest).
mod manifest_fuzz;
// The checked-in schema is current, and every example manifest satisfies it.
mod manifest_schema;
// `galaxy-ha validate` on good manifests, directories, JSON, exit codes.
mod manifest_validate;
// Golden files of plan, status, history and sim show on fixed lab scenarios (cargo insta review).
mod golden;
// The import graph of src/ against the map of layers in src/lib.rs.
mod layers;

// Shared helpers for the simulated-lab tests.
mod sim_support;
// The lab's job lifecycle: provisioning, synchronizing, protecting, monitor, failovers.
mod sim_lifecycle;
// What Carbonite, Hyper-V and Windows refuse in the lab, and that a refusal changes nothing.
mod sim_refusals;
// Every `sim fault` verb on the world.
mod sim_faults;
// Panel events: the ledger property, determinism, switchover and failure losses.
mod sim_events;
// The world file: round trip, corrupt files, a different manifest.
mod sim_persist;
// `galaxy-ha sim` on the real binary in a temp dir.
mod sim_cli;

// Engine scenarios through the real binary on the simulated lab.
mod engine_cli;
// The commit window after a failover: held resume, commits, a rollback.
mod commit_cli;
// Snapshots: taken on schedule, a failover to one, the bad-data fallback.
mod snapshot_cli;
// A recovery point objective: met, missed and alerted, met again.
mod rpo_cli;
// Verified drills: checks inside the test replica, the verdict, the cleanup.
mod drill_cli;
// Run reports: a drill and a failover in Markdown, printable HTML and JSON.
mod report_cli;
// Readiness, standing: memory, disk, licence on the standby.
mod readiness_cli;
// Steps after a run: commands with the run's facts, messages, a failing step.
#[cfg(unix)]
mod hooks_cli;
// Engine scenarios through the library, for situations no fault verb makes.
mod engine_lib;
// Crash after every durable step of a failover and a resume: one failover each time.
mod engine_crash;
// `galaxy-ha history`: the journal as a timeline with manifest commits.
mod history_cli;
// `status` and `status --check` at each stage of a failure; a closed pipe.
mod status_view;
// `plan` errors before any summary; `history --kind` and baseline folding.
mod outputs_clean;
// Every generated PowerShell script: grammar, PS 5.1 only, snapshots.
mod ps_scripts;
// Manifest values reach scripts only as data (proptest), secrets only in the data.
mod ps_payload;
// Recorded observe output with Windows PowerShell 5.1's quirks, and errors naming the field.
mod ps_parse;
// The real runner against a fake powershell.exe: credential on stdin only, timeout kills.
mod ps_runner;
// The warm PowerShell session against a fake powershell.exe that speaks its protocol.
mod ps_session;
// The same engine scenarios on the lab and on the PowerShell platform answered by the lab.
mod ps_conformance;
// `galaxy-ha doctor` on the real binary.
mod ps_doctor;
// Every generated script checked against the model of Carbonite's PowerShell surface.
mod ps_model;
// Captures from hosts (and made from the model) replayed through observe and parse.
mod ps_capture;
// What-if plans: projections match what then happens on the lab.
mod whatif;
// Helpers for the `run` tests: the real binary, a log to poll, a loopback SMTP server.
mod run_support;
// `galaxy-ha run`: the state dir lock, SIGTERM, manifest watching, dry run.
mod run_service;
// `galaxy-ha failover` while `run` runs: the request reaches the controller, which acts and answers.
mod run_requests;
// Rights to ask the running controller: drills apart from real failovers, tokens unseen.
mod rights_cli;
// Alert e-mails: `alert test`, subjects and bodies, the outbox across an outage and a restart.
mod run_alerts;
// Alerts of CLI commands through the outbox, over STARTTLS and AUTH to the real SMTP server.
mod alerts_cli;
// The runbook covers every alert and condition, and e-mails and status link to it.
mod docs;
// The HTTP API of `run`: status, plan, health, readiness, OpenMetrics parsed by a real parser.
mod http_api;
// The dashboard in headless Chromium: the lab's live host and activity, a failover, no console errors.
mod http_dashboard;
// Secrets never appear in output, logs, state files or e-mails.
mod secrets;
// Random schedules of faults on the lab: every invariant after every step (GALAXY_HA_CHAOS_SEED replays).
mod chaos;
// What the chaos schedules found, pinned by planner table tests.
mod chaos_found;
// The real binary killed with SIGKILL at random moments of apply --wait and run (GALAXY_HA_KILL_SEED).
mod kill;
// Damaged state: truncated memory, journal garbage, a corrupt world, a read-only state dir, a full disk.
// (Unix permissions, owners and RLIMIT_FSIZE make the damage; Windows has its own.)
#[cfg(unix)]
mod damaged;
// `galaxy-ha service install|uninstall` on Linux, the Windows service's entry, the log file.
mod service_cli;
// Helpers for the fleet tests: a real etcd on loopback, controllers sharing one lab.
mod fleet_support;
// Three controllers on etcd: spread, takeover after SIGKILL, SIGSTOP, etcd away.
mod fleet_run;
// A takeover after any durable step of a failover: memory and intent in etcd, one failover.
mod fleet_crash;
// Controllers that see different manifests for a moment leave no site without an owner.
mod fleet_handover;
// Hostile manifests: 100 MB, devices, alias bombs, deep nesting; refused in bounded memory.
mod hostile;
// `run` under hostile conditions: stalled connections in a failure, a restart on an invalid
// edit, signals, TLS and a token, a dry run beside the controller.
#[cfg(unix)]
mod hostile_run;
// The CLI under hostile input: broken secrets, extreme durations, future memory, odd
// directory entries, every error said once, and every command's arguments fuzzed.
#[cfg(unix)]
mod hostile_cli;
