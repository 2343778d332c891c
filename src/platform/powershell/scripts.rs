//! The scripts: one constant text per operation kind, plus observe and doctor, each in its
//! own `scripts/*.ps1` file (PowerShell, with `%%KEY%%` placeholders for the DoubleTake
//! names of `names.rs`) and compiled in. No manifest value is ever part of a script's text;
//! values arrive as JSON on standard input.
//!
//! Every script is the same wrapper around a body. The wrapper reads the envelope
//! (`{computer, remote, credential, guestCredential, input}`) from standard input, builds a
//! `PSCredential` from each credential there is, and runs the body here (`& $body`) or on the
//! host (`Invoke-Command -ComputerName`). Bodies print one JSON document (observe, doctor,
//! capture, remove-replica) or nothing. Failures: exit 3 with `unreachable|message` when the host
//! cannot be reached, exit 2 with `SYSTEM|message` when Carbonite, Hyper-V or Windows refused.
//!
//! No credential ever makes a second WinRM hop: every Double-Take server (each host, and the
//! System Galaxy guest that is a job's source) gets its own `New-DtServer` session with its
//! own credential, and the guest's services are read with the guest's credential (PowerShell
//! Direct on Windows Server 2016 and later, WinRM to the guest's address on 2012 R2). A
//! drill's isolated test replica is read through PowerShell Direct only: the guest's address
//! is the live VM's, so on 2012 R2 the replica's checks fail rather than read the live guest.
//! Carbonite's asynchronous cmdlets return an `ActivityToken`; every one is waited on.

use std::sync::LazyLock;

use super::names;
use crate::model::operation::ActionKind;

/// What a script does: one of the three queries, or the action of an operation kind. The
/// operation kinds are [`ActionKind`]'s one list; no second list of them is kept here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScriptKind {
    Observe,
    Doctor,
    Capture,
    Act(ActionKind),
}

impl ScriptKind {
    /// The script that carries out an action of `kind`: its own, except that a test failover
    /// is the failover script with `mode: test` in its input, and an alert runs no script.
    pub fn of(kind: ActionKind) -> Option<ScriptKind> {
        match kind {
            ActionKind::Alert | ActionKind::RunHook => None,
            ActionKind::TestFailover => Some(ScriptKind::Act(ActionKind::Failover)),
            kind => Some(ScriptKind::Act(kind)),
        }
    }

    /// Every script: the queries, then one per operation kind that has its own.
    pub fn all() -> Vec<ScriptKind> {
        [ScriptKind::Observe, ScriptKind::Doctor, ScriptKind::Capture]
            .into_iter()
            .chain(
                ActionKind::ALL
                    .into_iter()
                    .filter(|&k| ScriptKind::of(k) == Some(ScriptKind::Act(k)))
                    .map(ScriptKind::Act),
            )
            .collect()
    }

    /// Whether the script only reads (observe, doctor, capture): it may be run again when
    /// its first run gave no answer.
    pub fn is_read_only(self) -> bool {
        !matches!(self, ScriptKind::Act(_))
    }

    /// A stable name (snapshot names, logs, temp file names): the operation kind's.
    pub fn as_str(self) -> &'static str {
        match self {
            ScriptKind::Observe => "observe",
            ScriptKind::Doctor => "doctor",
            ScriptKind::Capture => "capture",
            ScriptKind::Act(kind) => kind.as_str(),
        }
    }

    /// The script's own part, without the wrapper every script shares.
    pub(crate) fn body(self) -> &'static str {
        match self {
            ScriptKind::Observe => OBSERVE,
            ScriptKind::Doctor => DOCTOR,
            ScriptKind::Capture => CAPTURE,
            ScriptKind::Act(kind) => match kind {
                ActionKind::StartService => START_SERVICE,
                ActionKind::SetServiceStartup => SET_SERVICE_STARTUP,
                ActionKind::OpenFirewallPort => OPEN_FIREWALL_PORT,
                ActionKind::SetEmailNotification => SET_EMAIL_NOTIFICATION,
                ActionKind::CreateJob => CREATE_JOB,
                ActionKind::UpdateJob => UPDATE_JOB,
                ActionKind::DeleteJob => DELETE_JOB,
                ActionKind::RemoveReplica => REMOVE_REPLICA,
                ActionKind::StopVm => STOP_VM,
                ActionKind::StartVm => START_VM,
                ActionKind::Failover | ActionKind::TestFailover => FAILOVER,
                ActionKind::EndTestFailover => END_TEST_FAILOVER,
                ActionKind::Alert | ActionKind::RunHook => {
                    unreachable!("an alert or a hook runs no script (`ScriptKind::of`)")
                }
            },
        }
    }
}

/// A generated script: constant for its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub kind: ScriptKind,
    pub text: String,
}

static SCRIPTS: LazyLock<Vec<Script>> = LazyLock::new(|| {
    ScriptKind::all()
        .into_iter()
        .map(|kind| Script {
            kind,
            text: generate(kind),
        })
        .collect()
});

/// The script of a kind (generated once); a test failover's is the failover script.
pub fn script(kind: ScriptKind) -> &'static Script {
    let kind = match kind {
        ScriptKind::Act(action) => ScriptKind::of(action).unwrap_or(kind),
        query => query,
    };
    SCRIPTS
        .iter()
        .find(|s| s.kind == kind)
        .unwrap_or_else(|| unreachable!("every kind has a script"))
}

fn generate(kind: ScriptKind) -> String {
    let text = [
        format!(
            "# galaxy-ha {} script. Generated; manifest values arrive as JSON on standard input.\n",
            kind.as_str()
        ),
        PREAMBLE.to_string(),
        HELPERS.to_string(),
        kind.body().to_string(),
        POSTAMBLE.to_string(),
    ]
    .concat();
    names::expand(&text)
}

/// Reads the envelope and opens the body's script block.
const PREAMBLE: &str = include_str!("scripts/preamble.ps1");

/// Functions every body may use; defined inside the block so that they travel with it.
const HELPERS: &str = include_str!("scripts/helpers.ps1");

/// Closes the body and runs it here or on the host; prints what it returned.
const POSTAMBLE: &str = include_str!("scripts/postamble.ps1");

/// Everything `Observed` holds about one host, as one JSON document: with each running VM,
/// Hyper-V's heartbeat and what is read inside its guest (in an isolated test replica,
/// `spec.vm.services` and which of `spec.vm.ports` listen). Enums are written as their names
/// (`[string]`), `DateTimeOffset` with `.ToString('o')`, `TimeSpan` as `.TotalSeconds`:
/// Windows PowerShell 5.1's `ConvertTo-Json` would write numbers and objects.
const OBSERVE: &str = include_str!("scripts/observe.ps1");

/// What a host needs, each check with how to fix it.
const DOCTOR: &str = include_str!("scripts/doctor.ps1");

/// Only read-only cmdlets: what a host and the guest return, as Windows PowerShell 5.1 writes
/// it (no formatting), for `doctor --capture`. Secrets are removed by the controller.
const CAPTURE: &str = include_str!("scripts/capture.ps1");

const START_SERVICE: &str = include_str!("scripts/start-service.ps1");

const SET_SERVICE_STARTUP: &str = include_str!("scripts/set-service-startup.ps1");

const OPEN_FIREWALL_PORT: &str = include_str!("scripts/open-firewall-port.ps1");

/// Guide steps 7-12: the server's e-mail settings, then its TEST button.
const SET_EMAIL_NOTIFICATION: &str = include_str!("scripts/set-email-notification.ps1");

/// Guide step "create a new replication job": the workload on the source (the System Galaxy
/// guest, with its own credential), the options, validation and the job on the target host.
const CREATE_JOB: &str = include_str!("scripts/create-job.ps1");

const UPDATE_JOB: &str = include_str!("scripts/update-job.ps1");

/// Deletes the job and waits until Carbonite no longer lists it.
const DELETE_JOB: &str = include_str!("scripts/delete-job.ps1");

/// Guide "perform a manual failover": the job's state and `CanFailover` are read afresh, then
/// the recommended `FailoverOptions` get their mode and queue action. A failover to a
/// snapshot first checks that `Get-DtSnapshot` still lists it, so that one no longer kept is
/// refused by its id rather than by whatever Carbonite would make of it.
const FAILOVER: &str = include_str!("scripts/failover.ps1");

/// Ends a test failover, where Carbonite allows it (`CanUndoFailover`).
const END_TEST_FAILOVER: &str = include_str!("scripts/end-test-failover.ps1");

const STOP_VM: &str = include_str!("scripts/stop-vm.ps1");
const START_VM: &str = include_str!("scripts/start-vm.ps1");

/// Removes the VM's Hyper-V configuration, as the guide does; its virtual disks stay where
/// they are, and the script prints their paths so that the controller can say so.
const REMOVE_REPLICA: &str = include_str!("scripts/remove-replica.ps1");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_kind_but_an_alert_has_a_script_and_every_script_one_name() {
        for kind in ActionKind::ALL {
            let script_kind = ScriptKind::of(kind);
            assert_eq!(
                script_kind.is_none(),
                matches!(kind, ActionKind::Alert | ActionKind::RunHook),
                "{kind:?}"
            );
            if let Some(s) = script_kind {
                assert!(ScriptKind::all().contains(&s), "{kind:?}");
                assert!(!script(s).text.is_empty());
            }
        }
        let names: std::collections::BTreeSet<&str> =
            ScriptKind::all().iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), ScriptKind::all().len());
        assert_eq!(ScriptKind::all().len(), 3 + ActionKind::ALL.len() - 3);
        assert_eq!(
            script(ScriptKind::Act(ActionKind::TestFailover)).kind,
            ScriptKind::Act(ActionKind::Failover)
        );
    }
}
