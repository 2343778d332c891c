//! Command-line syntax (clap). Resolving arguments into settings happens in `commands`.

use std::path::PathBuf;

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::settings::SiteFlags;

/// Keeps a Galaxy redundant server (two Hyper-V hosts, System Galaxy, a Carbonite
/// Full Server to Hyper-V job) in the state its manifest in git describes.
#[derive(Debug, Parser)]
#[command(name = "galaxy-ha", version, propagate_version = true)]
pub struct Cli {
    /// Log format on standard error.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Also write the log to a file in this directory, a new one each day, the last 14 kept
    /// [default on Windows: %ProgramData%\galaxy-ha\logs, for commands that act on sites].
    #[arg(long, global = true, env = "GALAXY_HA_LOG_DIR", value_name = "DIR")]
    pub log_dir: Option<PathBuf>,
    /// Run as a Windows service: how the Service Control Manager starts `run` once
    /// `service install` registered it.
    #[arg(long, global = true, hide = true)]
    pub windows_service: bool,
    /// Where alert e-mails and `status` link the runbook, e.g. the copy on your intranet
    /// (https://intranet/galaxy-ha/runbook.html) [default: docs/runbook.md installed beside
    /// the program, as a file: URL].
    #[arg(long, global = true, env = "GALAXY_HA_RUNBOOK_URL", value_name = "URL")]
    pub runbook_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The command's logging: the demo shows only what went wrong (it prints its own
    /// timeline); commands that act on sites keep a file by default, those that only read
    /// files (`validate`, `schema`) and the demo's throwaway lab only when `--log-dir` asks;
    /// the controller reports to the event log.
    pub fn logging(&self) -> crate::logging::Options {
        let quiet = matches!(self.command, Command::Demo { .. });
        let offline = matches!(
            self.command,
            Command::Validate { .. } | Command::Schema { .. } | Command::Demo { .. }
        );
        crate::logging::Options {
            format: self.log_format,
            default_filter: if quiet { "warn" } else { "warn,galaxy_ha=info" },
            file_dir: self
                .log_dir
                .clone()
                .or_else(|| (!offline).then(crate::dirs::log_dir).flatten()),
            event_log: cfg!(windows) && matches!(self.command, Command::Run { .. }),
        }
    }
}

pub use crate::logging::LogFormat;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

/// How `galaxy-ha report` writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Markdown, for a ticket or a change record.
    #[default]
    Md,
    /// One self-contained HTML page, fit to print.
    Html,
    /// JSON, for scripts.
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
A file reports every type error (or its first YAML syntax error), or else all of its other
problems. Durations take humantime (10s, 5m) or the guide's HH:MM:SS (00:05:00).")]
    Validate {
        /// Manifest files or directories of *.yaml files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Also require every passwordFrom/credentialFrom to be usable here (on the
        /// controller's machine); without it, one that cannot be read is only a warning,
        /// since CI has no secrets.
        #[arg(long)]
        secrets: bool,
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
        /// The manifest reference in Markdown (docs/manifest.md) instead of the JSON Schema.
        #[arg(long)]
        markdown: bool,
    },
    /// Show what the controller would do now, without doing it.
    ///
    /// Exit status: 0 no changes, 2 changes pending, 1 error.
    ///
    /// Example: galaxy-ha plan -m manifests/hq.yaml --format json
    ///
    /// What-if: galaxy-ha plan -m manifests/hq.yaml --assume "host-down GCSHOSTA" --after 6m
    #[command(after_help = "Signs: + create  ~ change  - delete  ! disruptive  * alert")]
    Plan {
        #[command(flatten)]
        site: SiteFlags,
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
        /// What if this happened now? A fault as `sim fault` names it, e.g. "host-down GCSHOSTA"
        /// or "link-down GCSHOSTA GCSHOSTB"; repeat for several. Nothing is changed.
        #[arg(long, value_name = "FAULT")]
        assume: Vec<String>,
        /// ...and this much time passed with nothing done (the failover monitor keeps counting).
        #[arg(long, value_parser = crate::duration::parse, value_name = "DURATION")]
        after: Option<Duration>,
    },
    /// Carry out the plan: converge the sites to their manifests.
    ///
    /// Asks for confirmation on a terminal; without one, --yes is required. With --wait it
    /// keeps reconciling until every site is protecting (on the simulated lab the virtual
    /// clock jumps instead of sleeping).
    ///
    /// Example: galaxy-ha apply -m manifests/ --yes --wait --timeout 30m
    Apply {
        #[command(flatten)]
        site: SiteFlags,
        /// Apply without asking.
        #[arg(long)]
        yes: bool,
        /// Keep reconciling until converged or --timeout.
        #[arg(long)]
        wait: bool,
        /// How long --wait may take (platform time).
        #[arg(long, value_parser = crate::duration::parse, default_value = "1h")]
        timeout: Duration,
    },
    /// Show each site's job health, conditions and history, as the Replication Console would.
    ///
    /// Example: galaxy-ha status -m manifests/ --format json
    ///
    /// Monitoring: galaxy-ha status -m manifests/ --check
    Status {
        #[command(flatten)]
        site: SiteFlags,
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
        /// Keep the view on screen, redrawn in place (with --format json: one document per line).
        #[arg(long)]
        watch: bool,
        /// How often --watch redraws.
        #[arg(long, value_parser = crate::duration::parse, default_value = "2s")]
        interval: Duration,
        /// Answer as a monitoring plugin does: one line with performance data, exit 0 OK,
        /// 1 WARNING, 2 CRITICAL, 3 UNKNOWN (docs/monitoring.md).
        #[arg(long, conflicts_with_all = ["watch", "format"])]
        check: bool,
        #[command(flatten)]
        coordination: crate::fleet::CoordinationArgs,
    },
    /// The journal as a timeline: failovers, switchovers, resumes, fences, drills, alerts and
    /// manifest changes (with their git commit and its author when the manifests are a git
    /// checkout), and who asked for what (`asked by USER on HOST`).
    ///
    /// Example: galaxy-ha history -m manifests/ --since 24h --kind failover,switchover,alert
    ///
    /// In text, the baseline actions of one pass are folded into one line.
    History {
        #[command(flatten)]
        site: SiteFlags,
        /// Only what happened in this last stretch of time (e.g. 24h, 7d).
        #[arg(long, value_parser = crate::duration::parse)]
        since: Option<Duration>,
        /// Only these kinds of event, comma-separated.
        #[arg(
            long,
            value_delimiter = ',',
            value_name = "KIND",
            value_parser = clap::builder::PossibleValuesParser::new(crate::history::CATEGORIES)
        )]
        kind: Vec<String>,
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
        /// In a fleet the journal lives in etcd: read it there.
        #[command(flatten)]
        coordination: crate::fleet::CoordinationArgs,
    },
    /// Run reports for auditors: each failover, switchover, rollback, resume and drill with
    /// who or what started it, its steps and times, System Galaxy's downtime, what could be
    /// lost, the recovery point, how long the site was unprotected, the result and notes.
    ///
    /// Example: galaxy-ha report -m manifests/ --since 90d --format html --out drills.html
    Report {
        /// One run, by its id (as `report` lists them, e.g. drill-20261203T134500Z).
        run: Option<String>,
        #[command(flatten)]
        site: SiteFlags,
        /// Only runs that started in this last stretch of time (e.g. 90d).
        #[arg(long, value_parser = crate::duration::parse)]
        since: Option<Duration>,
        #[arg(long, value_enum, default_value_t)]
        format: ReportFormat,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
        /// In a fleet the journal lives in etcd: read it there.
        #[command(flatten)]
        coordination: crate::fleet::CoordinationArgs,
    },
    /// Fail a site over to its standby host now: a person's approval.
    ///
    /// When the live host failed, the replica goes live. When both hosts are healthy, it is a
    /// planned switchover: System Galaxy is shut down cleanly first, no data is lost. With
    /// --test the replica boots without network and replication keeps protecting; --test --end
    /// ends that drill. Refuses, saying why, when the standby is not ready.
    ///
    /// Example: galaxy-ha failover hq -m manifests/ --yes
    Failover {
        /// The site (metadata.name).
        name: String,
        #[command(flatten)]
        site: SiteFlags,
        /// A test failover: the replica boots isolated; nothing else changes.
        #[arg(long)]
        test: bool,
        /// With --test: end the running test failover (its isolated replica shuts down;
        /// replication keeps protecting).
        #[arg(long, requires = "test")]
        end: bool,
        /// With --test: notes for the drill's report (what was tested, who was there).
        #[arg(long, value_name = "TEXT", requires = "test", conflicts_with = "end")]
        notes: Option<String>,
        /// With --test: once the drill's checks pass, keep its isolated replica running for a
        /// person to look at, until --test --end or spec.drills.maxDuration.
        #[arg(long, requires = "test", conflicts_with = "end")]
        hold: bool,
        /// Fail over although the failover monitor on the standby host still reaches System
        /// Galaxy on the live host (only the controller lost it). System Galaxy may then run
        /// on both hosts: the site shows SplitBrainPending, and alerts, until the old live
        /// host is seen with it off or the controller fences it there. Never overrides the
        /// checks that protect data (a job not ready, the replica already running).
        #[arg(long, conflicts_with = "test")]
        force: bool,
        /// Commit the last failover now, inside its commit window
        /// (spec.failover.commitWindow): replication resumes towards the old live host as
        /// soon as it answers, and the failover can no longer be rolled back.
        #[arg(long, conflicts_with_all = ["test", "force", "rollback"])]
        commit: bool,
        /// Undo the last failover inside its commit window: System Galaxy shuts down cleanly
        /// on the new live host and starts on the old one, whose VM is as the failover left
        /// it; the job is recreated in the original direction. What System Galaxy recorded
        /// since the failover is lost (the confirmation and the alert say how much).
        #[arg(long, conflicts_with_all = ["test", "force"])]
        rollback: bool,
        /// Fail over to a snapshot of the replica's data (spec.snapshots) instead of its
        /// newest data: a snapshot's id (as `status` lists them), `latest`, or `latest-good`
        /// (the newest whose data was good). What was replicated after it is lost. For a
        /// live host that failed, when the newest data is not good.
        #[arg(long, value_name = "ID|latest|latest-good", conflicts_with_all = ["test", "commit", "rollback"])]
        snapshot: Option<String>,
        /// When a controller runs: which right to ask with, `drill` or `operate` (by default
        /// the widest this account may read; see docs/rights.md).
        #[arg(long, env = "GALAXY_HA_RIGHT", value_parser = ["drill", "operate"])]
        right: Option<String>,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// How long a switchover may take to complete (platform time).
        #[arg(long, value_parser = crate::duration::parse, default_value = "1h")]
        timeout: Duration,
    },
    /// Resume replication after a failover, when the manifest says `spec.resume: approve`:
    /// the failed-over job is deleted (its replica, the live VM now, is kept), the stale VM
    /// on the old live host is removed (its disks are kept), and a job is created towards it.
    /// While `galaxy-ha run` works on the state dir, the request goes to it.
    ///
    /// Example: galaxy-ha resume hq -m manifests/ --yes
    Resume {
        /// The site (metadata.name).
        name: String,
        #[command(flatten)]
        site: SiteFlags,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// How long to wait for a running controller's answer.
        #[arg(long, value_parser = crate::duration::parse, default_value = "1h")]
        timeout: Duration,
    },
    /// The guide's four stages, end to end, on a fresh simulated lab: protect, the live host
    /// fails, resume replication, planned switchover back. Checks each stage; exit 1 if any
    /// check fails.
    ///
    /// Example: galaxy-ha demo
    Demo {
        /// Keep the lab's state dir here instead of a temporary one.
        #[arg(long)]
        state_dir: Option<PathBuf>,
    },
    /// Check that each host has what the PowerShell platform needs: Windows PowerShell 5.1,
    /// remoting, the DoubleTake module and services, the Hyper-V module, the account's rights.
    ///
    /// Prints what is missing and how to fix it. Exit status: 0 when everything is in place,
    /// 1 otherwise. Sites on the simulated lab have nothing to check.
    #[command(after_help = "\
Examples:
  galaxy-ha doctor -m manifests/branch-office.yaml
  galaxy-ha doctor -m manifests/ --site branch-office
  galaxy-ha doctor -m manifests/branch-office.yaml --capture capture.json

See docs/preparing-hosts.md for preparing the hosts and the account.")]
    Doctor {
        #[command(flatten)]
        site: SiteFlags,
        /// Also write what the read-only cmdlets return on every host and the guest, with
        /// every secret and address redacted, to this JSON file.
        #[arg(long, value_name = "FILE")]
        capture: Option<PathBuf>,
    },
    /// Run the controller as a service: every site reconciled every monitor interval and at
    /// once when its manifest changes; alerts e-mailed through a durable outbox.
    ///
    /// Watches the manifest directory: an edit, a new file or a `git checkout` starts a pass
    /// within a second. An invalid edit keeps the site's last good manifest and raises a
    /// "manifest invalid" alert; a deleted manifest stops managing its site without touching
    /// its hosts. SIGINT/SIGTERM finish the step in progress and exit 0. Holds the state
    /// dir's lock for its life: a second controller on the same state dir exits 1. With
    /// --coordination etcd it is one of a fleet: each site is owned by one controller at a
    /// time, and each controller locks STATE/controllers/ID/ instead.
    #[command(after_help = "\
Examples:
  galaxy-ha run -m /srv/galaxy-ha/manifests/ --state-dir /var/lib/galaxy-ha
  galaxy-ha run -m manifests/ --dry-run                 plan and log each pass, do nothing
  galaxy-ha run -m manifests/hq.yaml --sim-speed 60     the simulated lab, one minute a second
  galaxy-ha run -m manifests/ --listen 0.0.0.0:9440 --tls-cert cert.pem --tls-key key.pem --auth-token-file token
                                                        the dashboard for the LAN (HTTPS, a token)
  galaxy-ha run -m manifests/ --coordination etcd --etcd-endpoints http://10.0.0.5:2379,http://10.0.0.6:2379,http://10.0.0.7:2379
                                                        one controller of a fleet (docs/fleet.md)
  RUST_LOG=galaxy_ha=debug galaxy-ha run -m manifests/ --log-format json")]
    Run {
        #[command(flatten)]
        site: SiteFlags,
        /// Plan and log each pass; act on nothing, remember nothing.
        #[arg(long)]
        dry_run: bool,
        /// On the simulated lab, run its clock N times faster than the wall clock.
        #[arg(long, value_name = "N", default_value_t = 1)]
        sim_speed: u32,
        /// The outbox's first retry wait (doubles up to 10 min); tests shorten it.
        #[arg(long, hide = true, value_parser = crate::duration::parse, default_value = "10s")]
        alert_retry: Duration,
        /// Serve the dashboard (/), the status API (/api/v1/status), health checks and
        /// /metrics here; a non-loopback address needs TLS and a token, or --insecure-listen.
        #[arg(long, value_name = "ADDR", default_value = crate::http::DEFAULT_LISTEN)]
        listen: std::net::SocketAddr,
        /// Serve no HTTP at all.
        #[arg(long, conflicts_with = "listen")]
        no_listen: bool,
        #[command(flatten)]
        access: crate::http::listen::AccessArgs,
        #[command(flatten)]
        coordination: crate::fleet::CoordinationArgs,
    },
    /// Alerts: send a test e-mail, as the guide's Test button does.
    ///
    /// Example: galaxy-ha alert test -m manifests/
    Alert {
        #[command(subcommand)]
        command: AlertCommand,
    },
    /// Install the controller as a service: with the Windows Service Control Manager, or on
    /// Linux print the systemd unit to install.
    ///
    /// Example: galaxy-ha service install -m C:\galaxy-ha\manifests
    Service {
        #[command(subcommand)]
        command: ServiceCommand,
    },
    /// Drive the simulated lab: show it, advance its virtual clock, reset it, inject faults.
    ///
    /// Example: galaxy-ha sim fault host-down GCSHOSTA -m manifests/hq.yaml
    Sim {
        #[command(subcommand)]
        command: SimCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Register `galaxy-ha run ARGS` as the Windows service "galaxy-ha": started at boot
    /// (delayed), restarted 5 s after a failure, stopped as SIGTERM stops `run`; errors and
    /// alerts go to the Application event log. Needs an elevated PowerShell. On Linux, print
    /// the systemd unit that runs the same command.
    #[command(after_help = "\
Examples:
  galaxy-ha service install -m C:\\galaxy-ha\\manifests
  galaxy-ha service install -m C:\\galaxy-ha\\manifests --state-dir D:\\galaxy-ha --listen 0.0.0.0:9440 --tls-cert C:\\galaxy-ha\\cert.pem --tls-key C:\\galaxy-ha\\key.pem --auth-token-file C:\\galaxy-ha\\token
  galaxy-ha service install -m /srv/galaxy-ha/manifests > /etc/systemd/system/galaxy-ha.service

The service runs this program from where it is now: copy it to its place first (e.g.
C:\\Program Files\\galaxy-ha\\galaxy-ha.exe). Start it with `Start-Service galaxy-ha`.
See docs/windows.md.")]
    Install {
        /// `run`'s arguments: -m PATH and any of --site, --state-dir, --listen, --no-listen,
        /// --tls-cert, --tls-key, --auth-token-file, --insecure-listen, --dry-run,
        /// --log-format, --log-dir. Paths are made absolute; on Windows the state
        /// dir is always passed, by default %ProgramData%\galaxy-ha\state.
        #[arg(
            required = true,
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "RUN ARGS"
        )]
        args: Vec<std::ffi::OsString>,
    },
    /// Stop the Windows service and remove it with its event log source; state, logs and
    /// manifests are kept. On Linux, print how to remove the systemd unit.
    Uninstall,
}

#[derive(Debug, Subcommand)]
pub enum AlertCommand {
    /// Send a test message to every site's recipients (notifications.email).
    ///
    /// Exit status: 0 when every site's server accepted it, 1 when any failed (the SMTP
    /// error is printed).
    Test(SiteFlags),
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use clap::Parser;

    use super::*;

    fn options(args: &[&str]) -> crate::logging::Options {
        Cli::try_parse_from(args).unwrap().logging()
    }

    #[test]
    fn each_command_logs_where_it_should() {
        let demo = options(&["galaxy-ha", "demo"]);
        assert_eq!(demo.default_filter, "warn");
        assert_eq!(demo.file_dir, None);
        let validate = options(&["galaxy-ha", "validate", "m"]);
        assert_eq!(validate.file_dir, None);
        let asked = options(&["galaxy-ha", "validate", "m", "--log-dir", "logs"]);
        assert_eq!(asked.file_dir, Some(PathBuf::from("logs")));
        let run = options(&["galaxy-ha", "run", "-m", "m", "--log-format", "json"]);
        assert_eq!(run.default_filter, "warn,galaxy_ha=info");
        assert_eq!(run.format, LogFormat::Json);
        assert_eq!(run.file_dir, crate::dirs::log_dir());
        assert_eq!(run.event_log, cfg!(windows));
        assert!(!options(&["galaxy-ha", "status", "-m", "m"]).event_log);
    }
}

/// The `sim` subcommands.
#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Show the lab: hosts, VMs, links, the job's highlights and the event counters.
    ///
    /// Example: galaxy-ha sim show -m manifests/hq.yaml --format json
    Show {
        #[command(flatten)]
        site: SiteFlags,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Move the lab's virtual clock forward (humantime: 30s, 6m, 2h 30m).
    ///
    /// Example: galaxy-ha sim advance 6m -m manifests/hq.yaml
    Advance {
        /// How far to move the clock.
        #[arg(value_parser = crate::duration::parse, value_name = "DURATION")]
        duration: Duration,
        #[command(flatten)]
        site: SiteFlags,
    },
    /// Throw the lab's world away and start afresh from the manifest, where the guide
    /// starts (System Galaxy running on the primary host, no job). Seeded by
    /// GALAXY_HA_SIM_SEED.
    ///
    /// Example: galaxy-ha sim reset -m manifests/hq.yaml
    Reset {
        #[command(flatten)]
        site: SiteFlags,
    },
    /// Inject a fault. KIND is one of: host-down HOST, host-up HOST, link-down A B,
    /// link-up A B (A, B: a host name or `controller`), service-stop HOST SERVICE,
    /// port-close HOST PORT, vm-start HOST, shutdown-fails HOST (the guest refuses its next
    /// clean shutdown), shutdown-times-out HOST (Stop-VM gives up on the next clean shutdown,
    /// which the guest finishes anyway), email-drift HOST, job-stop, target-data-bad (the replica's
    /// data goes bad until a new job mirrors it), target-data-good, guest-silent HOST (the
    /// guests of its VMs never answer: no heartbeat, nothing read inside; a drill's test
    /// replica then fails its checks), guest-answers HOST, memory-low HOST / memory-ok HOST
    /// (free memory on the host for System Galaxy's VM), disk-low HOST / disk-ok HOST (free
    /// space for the replica), licence-invalid HOST / licence-valid HOST (Carbonite's
    /// activation).
    ///
    /// Example: galaxy-ha sim fault host-down GCSHOSTA -m manifests/hq.yaml
    Fault(FaultArgs),
    /// Run random schedules of faults, crashes, manifest edits and failover commands against
    /// the guide's site on fresh labs (no manifest needed), with every safety invariant checked
    /// after every step and the site required to be protecting an hour after the faults heal.
    ///
    /// Exit status: 0 when no schedule broke an invariant, 1 otherwise; each failure names its
    /// seed and the command that replays it step by step.
    ///
    /// Example: galaxy-ha sim chaos --cases 1000        galaxy-ha sim chaos --seed 42
    Chaos(ChaosArgs),
}

#[derive(Debug, Args)]
pub struct ChaosArgs {
    /// How many schedules (seeds 1 to N, or from --first-seed).
    #[arg(long, env = crate::chaos::CASES_ENV, default_value_t = 300)]
    pub cases: u64,
    /// The first seed of the run: a soak too long for one sitting runs in parts
    /// (`--first-seed 1 --cases 25000`, then `--first-seed 25001 --cases 25000`, ...).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "seed")]
    pub first_seed: u64,
    /// Replay the one schedule of this seed, printing every step.
    #[arg(long, env = crate::chaos::SEED_ENV)]
    pub seed: Option<u64>,
    /// Hours of faults in each schedule (then every fault heals and an hour passes).
    #[arg(long, default_value_t = crate::chaos::DEFAULT_HOURS)]
    pub hours: u32,
    /// Before about half of the switchovers asked for, a guest refuses or is slow over its
    /// next clean shutdown (the switchover backs out and System Galaxy is started again).
    /// A seed's other steps stay as they are without it.
    #[arg(long)]
    pub guest_faults: bool,
    /// About half of the people's failover commands carry --force (a failover where only
    /// the controller lost the live host; its copy there is fenced once seen). A seed's other
    /// steps stay as they are without it.
    #[arg(long)]
    pub forced_failovers: bool,
    /// After about a quarter of the quiet spells, a person's `failover --commit` or
    /// `failover --rollback`: failovers committed before their window ends, and rolled back
    /// to the host they left. A seed's other steps stay as they are without it.
    #[arg(long)]
    pub commits: bool,
    /// The site keeps snapshots and fails over to the newest good one when its data is not
    /// good; the replica's data goes bad before about a third of the hosts failing, and half
    /// of the people's failover commands ask for `--snapshot latest-good`. A seed's other
    /// steps stay as they are without it.
    #[arg(long)]
    pub snapshots: bool,
}

#[derive(Debug, Args)]
pub struct FaultArgs {
    /// The fault: host-down, host-up, link-down, link-up, service-stop, port-close,
    /// vm-start, shutdown-fails, shutdown-times-out, email-drift, job-stop, target-data-bad,
    /// target-data-good, guest-silent, guest-answers, memory-low, memory-ok, disk-low,
    /// disk-ok, licence-invalid, licence-valid.
    #[arg(value_name = "KIND")]
    pub kind: String,
    /// The fault's arguments (host names, `controller`, a service name, a port).
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    #[command(flatten)]
    pub site: SiteFlags,
}
