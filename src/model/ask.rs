//! What a person asks of a site from the command line: the approvals and the pass that
//! `galaxy-ha failover`, `resume` and `apply` stand for, journaled with who asked.

use serde::{Deserialize, Serialize};

/// What a person asks the controller to do to a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ask {
    /// A failover, or a planned switchover when both hosts are healthy.
    Failover,
    /// A failover although the failover monitor still reaches System Galaxy on the live
    /// host (`--force`): System Galaxy may then run on both hosts until the old one is seen
    /// off or fenced.
    ForcedFailover,
    /// A test failover (a drill).
    Test,
    /// A test failover with what the person adds: notes for its report, and whether its
    /// verified replica is held running for a look (`--notes`, `--hold`).
    Drill(DrillAsk),
    /// The end of the running test failover.
    EndTest,
    /// Resuming replication after a failover (`spec.resume: approve`).
    Resume,
    /// Committing the last failover inside its commit window: replication may resume.
    Commit,
    /// Rolling the last failover back inside its commit window.
    Rollback,
    /// A failover to a snapshot of the replica's data: its id, `latest` or `latest-good`.
    SnapshotFailover(String),
    /// A pass now, carrying out the plan (`galaxy-ha apply`).
    Apply,
}

/// See [`Ask::Drill`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DrillAsk {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hold: bool,
}

impl Ask {
    /// A test failover's ask with the person's notes and hold: [`Ask::Drill`] when either is
    /// given, so that a plain `--test` is journaled as before.
    pub fn with_drill(self, notes: Option<String>, hold: bool) -> Ask {
        match self {
            Ask::Test if notes.is_some() || hold => Ask::Drill(DrillAsk { notes, hold }),
            other => other,
        }
    }

    /// A test failover, with or without the person's additions.
    pub fn drill(&self) -> Option<DrillAsk> {
        match self {
            Ask::Test => Some(DrillAsk::default()),
            Ask::Drill(d) => Some(d.clone()),
            _ => None,
        }
    }

    /// The ask of `galaxy-ha failover`'s flags (clap keeps the exclusive ones apart).
    pub fn of(
        test: bool,
        end: bool,
        force: bool,
        commit: bool,
        rollback: bool,
        snapshot: Option<String>,
    ) -> Ask {
        match (test, end) {
            (true, true) => Ask::EndTest,
            (true, false) => Ask::Test,
            _ if snapshot.is_some() => Ask::SnapshotFailover(snapshot.unwrap_or_default()),
            _ if commit => Ask::Commit,
            _ if rollback => Ask::Rollback,
            _ if force => Ask::ForcedFailover,
            _ => Ask::Failover,
        }
    }

    /// The command that asks it, for the journal and history.
    pub fn command(&self, site: &str) -> String {
        match self {
            Ask::Failover => format!("galaxy-ha failover {site}"),
            Ask::ForcedFailover => format!("galaxy-ha failover {site} --force"),
            Ask::Test => format!("galaxy-ha failover {site} --test"),
            Ask::Drill(d) => format!(
                "galaxy-ha failover {site} --test{}{}",
                if d.hold { " --hold" } else { "" },
                d.notes
                    .as_ref()
                    .map(|n| format!(" --notes {n:?}"))
                    .unwrap_or_default()
            ),
            Ask::EndTest => format!("galaxy-ha failover {site} --test --end"),
            Ask::Resume => format!("galaxy-ha resume {site}"),
            Ask::Commit => format!("galaxy-ha failover {site} --commit"),
            Ask::Rollback => format!("galaxy-ha failover {site} --rollback"),
            Ask::SnapshotFailover(s) => format!("galaxy-ha failover {site} --snapshot {s}"),
            Ask::Apply => format!("galaxy-ha apply --site {site}"),
        }
    }
}
