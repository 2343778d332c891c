//! The commit window after a failover (`spec.failover.commitWindow`). Carbonite cannot
//! undo a live failover, so what makes one undoable is the old VM and its disks left as
//! they were: resuming replication towards the old host replaces that VM with a replica.
//! Rule 8 therefore holds replication back until the failover is committed — by a person,
//! by the window running out while System Galaxy runs on the new live host, or by the
//! manifest naming the new live host — and until then `galaxy-ha failover --rollback` can
//! still move System Galaxy back (rule 8b, `rollback.rs`).

use jiff::{SignedDuration, Timestamp};

use super::builder::Builder;
use crate::manifest::spec::{ResumeMode, SiteSpec};
use crate::memory::{CommitBy, Committed, FailoverCause, FailoverRecord, Memory};
use crate::observed::{Activity, Job};

/// A failover whose commit is open: it may still be rolled back until `until`.
#[derive(Debug, Clone, PartialEq)]
pub struct Open {
    pub failover: FailoverRecord,
    pub until: Timestamp,
}

/// The failover of `job` whose commit is open, if there is one: a failover (not a planned
/// switchover) that memory recorded, that the job shows failed over and that nothing has
/// committed yet. The window may have run out: [`hold`] commits it then.
pub fn open(spec: &SiteSpec, memory: &Memory, job: &Job) -> Option<Open> {
    let window = spec.failover.commit_window;
    if window.is_zero() || job.activity != Activity::FailedOver {
        return None;
    }
    let failover = memory.last_failover.clone()?;
    let this_failover = failover.cause != FailoverCause::Switchover
        && failover.to == job.target
        && failover.from == job.source;
    let committed = memory
        .committed
        .as_ref()
        .is_some_and(|c| c.failover_at == failover.at);
    if !this_failover || committed {
        return None;
    }
    let until = failover
        .at
        .checked_add(SignedDuration::try_from(window).unwrap_or(SignedDuration::MAX))
        .unwrap_or(Timestamp::MAX);
    Some(Open { failover, until })
}

/// Rule 8's gate: whether resuming replication after the failover whose commit is `open`
/// ([`open`]) waits for it (or for a rollback in progress). Commits the failover when the
/// manifest names the new live host or the window has run out, System Galaxy running there.
pub(crate) fn hold(b: &mut Builder, open: Option<Open>, live_running: bool) -> bool {
    if b.next.rollback.is_some() {
        return true;
    }
    let Some(open) = open else {
        return false;
    };
    if b.spec.resume == ResumeMode::Approve {
        // A person resumes replication: that is the commit, and a rollback stays possible
        // until then.
        if b.resume_approved {
            commit(b, &open, CommitBy::Person);
        }
        return false;
    }
    let to = &open.failover.to;
    let by = if b.spec.primary == *to {
        Some(CommitBy::Manifest)
    } else if b.now >= open.until && live_running {
        Some(CommitBy::Window)
    } else {
        None
    };
    if let Some(by) = by {
        commit(b, &open, by);
        return false;
    }
    b.commit_until = Some(open.until);
    b.wait(format!(
        "the failover to {to} waits to be committed until {} (spec.failover.commitWindow): replication towards {} resumes then. Commit now: galaxy-ha failover {site} --commit; undo it: galaxy-ha failover {site} --rollback",
        open.until, open.failover.from,
        site = b.site
    ));
    true
}

/// Records the commit of `open`: from now on the failover cannot be rolled back.
pub(crate) fn commit(b: &mut Builder, open: &Open, by: CommitBy) {
    b.next.committed = Some(Committed {
        failover_at: open.failover.at,
        at: b.now,
        by,
    });
}
