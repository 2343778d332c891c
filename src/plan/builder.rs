//! Collects one pass's actions, conditions and next memory, and applies the rules that
//! cut across all others when the pass is finished: no actions on unreachable hosts
//! (rule 2), back-off (rule 11), maintenance (rule 10), one alert per condition change.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use super::{Condition, ConditionType, Plan};
use crate::manifest::spec::{Manifest, SiteSpec};
use crate::memory::{FailoverCause, FailoverRecord, Memory, Transition};
use crate::model::names::HostName;
use crate::model::operation::{Action, AlertKind, FailoverKind, Operation, Severity};
use crate::observed::Observed;

pub(crate) struct Builder<'a> {
    pub site: &'a str,
    pub spec: &'a SiteSpec,
    pub observed: &'a Observed,
    pub memory: &'a Memory,
    pub now: Timestamp,
    /// The memory to keep after this pass.
    pub next: Memory,
    pub live_host: Option<HostName>,
    pub standby_host: Option<HostName>,
    pub waiting: Vec<String>,
    /// See [`Plan::recovered`].
    pub recovered: Option<(Action, String)>,
    actions: Vec<Action>,
    conditions: BTreeMap<ConditionType, (bool, Cow<'static, str>, Cow<'static, str>)>,
    degraded: Vec<(String, String)>,
    active_alerts: BTreeSet<String>,
    /// Alerts already raised stay remembered though no rule raised them this pass.
    keep_alerted: bool,
    /// A person ran `galaxy-ha resume`: rule 8 resumes under `spec.resume: approve` too.
    pub resume_approved: bool,
    /// See [`Plan::resume_awaits_person`].
    pub resume_awaits_person: bool,
    /// See [`Plan::commit_until`].
    pub commit_until: Option<Timestamp>,
    /// See [`Plan::finished_runs`].
    pub finished_runs: Vec<crate::model::run::Run>,
    /// The moments in this pass after which `spec.hooks` run.
    pub hook_points: Vec<crate::model::run::HookPoint>,
}

impl<'a> Builder<'a> {
    pub fn new(
        manifest: &'a Manifest,
        observed: &'a Observed,
        memory: &'a Memory,
        now: Timestamp,
    ) -> Self {
        let mut b = Builder {
            site: &manifest.metadata.name,
            spec: &manifest.spec,
            observed,
            memory,
            now,
            next: memory.clone(),
            live_host: None,
            standby_host: None,
            waiting: Vec::new(),
            recovered: None,
            actions: Vec::new(),
            conditions: BTreeMap::new(),
            degraded: Vec::new(),
            active_alerts: BTreeSet::new(),
            keep_alerted: false,
            resume_approved: false,
            resume_awaits_person: false,
            commit_until: None,
            finished_runs: Vec::new(),
            hook_points: Vec::new(),
        };
        // The pass that sees maintenance over marks when it ended (rule 7 counts from then).
        let was_in_maintenance = memory
            .transitions
            .get(ConditionType::Maintenance.as_str())
            .is_some_and(|t| t.status);
        if b.maintenance().is_some() {
            b.next.maintenance_ended = None;
        } else if was_in_maintenance {
            b.next.maintenance_ended = Some(now);
        }
        b
    }

    /// Plans an operation, with the rule and observation that call for it. Gives the
    /// action planned (to attach the evidence of an automatic decision), or `None` when the
    /// pass had planned it already.
    pub fn act(&mut self, op: Operation, reason: impl Into<String>) -> Option<&mut Action> {
        self.act_with(op, reason, None)
    }

    /// Plans a live failover, with the record memory keeps once it starts.
    pub fn act_failover(
        &mut self,
        op: Operation,
        reason: impl Into<String>,
        from: &str,
        cause: FailoverCause,
    ) -> Option<&mut Action> {
        let to = match &op {
            Operation::Failover { target, .. } => target.clone(),
            _ => (String::new()).into(),
        };
        // A drill running on the target would make Carbonite refuse the failover: it ends
        // first, in the same pass, so a drill never delays a real failover.
        if let Operation::Failover {
            job,
            target,
            mode: FailoverKind::Live,
            ..
        } = &op
            && self
                .observed
                .host(target)
                .is_some_and(|h| h.test_replica().is_some())
        {
            let now = self.now;
            if let Some(d) = self.next.drill.as_mut() {
                d.end_on_purpose(now, "ended for a real failover to its host");
            }
            self.act(
                Operation::EndTestFailover {
                    job: job.clone(),
                    target: target.clone(),
                },
                format!(
                    "a test failover runs on {target}: it ends so that the failover can start; {}",
                    self.observed.drill_result_on(target)
                ),
            );
        }
        let job = self.observed.job.as_ref();
        let missed = job.map(|j| j.monitor_status.missed_for);
        let record = FailoverRecord {
            at: self.now,
            from: from.into(),
            to,
            cause,
            down_since: missed.and_then(|m| {
                self.now
                    .checked_sub(jiff::SignedDuration::try_from(m).ok()?)
                    .ok()
            }),
            live_at: None,
            queue_bytes: job.map(|j| j.replication_queue_bytes),
            latency: job.map(|j| j.recovery_point_latency),
            snapshot: match &op {
                Operation::Failover { snapshot, .. } => snapshot.clone(),
                _ => None,
            },
        };
        self.act_with(op, reason, Some(record))
    }

    fn act_with(
        &mut self,
        op: Operation,
        reason: impl Into<String>,
        failover: Option<FailoverRecord>,
    ) -> Option<&mut Action> {
        let id = action_id(self.site, &op);
        if self.actions.iter().any(|a| a.id == id) {
            return None;
        }
        self.actions.push(Action {
            id,
            description: describe(&op),
            reason: reason.into(),
            disruptive: op.disruptive(),
            op,
            failover,
            decision: None,
            drill: None,
        });
        self.actions.last_mut()
    }

    /// Records the outcome of an intent found open after a restart (see [`Plan::recovered`]).
    pub fn recovered(&mut self, id: String, op: Operation, note: String) {
        self.recovered = Some((
            Action {
                id,
                description: describe(&op),
                reason: "found after a restart".into(),
                disruptive: op.disruptive(),
                op,
                failover: None,
                decision: None,
                drill: None,
            },
            note,
        ));
    }

    /// Raises an alert once per condition: while `key` stays active, later passes plan
    /// nothing more for it; once it clears, it may alert again.
    pub fn alert(
        &mut self,
        alert: AlertKind,
        severity: Severity,
        key: String,
        message: String,
        reason: impl Into<String>,
    ) {
        self.alert_to_act(alert, severity, key, message, None, reason);
    }

    /// [`Builder::alert`] with what to do, for the e-mail's subject.
    pub fn alert_to_act(
        &mut self,
        alert: AlertKind,
        severity: Severity,
        key: String,
        message: String,
        action: Option<String>,
        reason: impl Into<String>,
    ) {
        self.active_alerts.insert(key.clone());
        if self.memory.alerted.contains(&key) {
            return;
        }
        self.act(
            Operation::Alert {
                alert,
                severity,
                key,
                message,
                action,
            },
            reason,
        );
    }

    /// Keeps an alert raised earlier remembered as raised though no rule raises it this
    /// pass: its condition has not cleared, it has grown into another (a failure detected
    /// whose condition for failure is now met).
    pub fn still_alerting(&mut self, key: String) {
        self.active_alerts.insert(key);
    }

    /// A pass that ends before the other rules run (the fence) keeps every alert raised
    /// before as raised: the next full pass must not send them again.
    pub fn keep_alerted(&mut self) {
        self.keep_alerted = true;
    }

    pub fn set(
        &mut self,
        kind: ConditionType,
        status: bool,
        reason: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) {
        self.conditions
            .insert(kind, (status, reason.into(), message.into()));
    }

    pub fn degrade(&mut self, reason: &str, message: impl Into<String>) {
        self.degraded.push((reason.to_string(), message.into()));
    }

    /// An action of `kind` is planned in this pass.
    pub fn plans(&self, kind: crate::model::operation::ActionKind) -> bool {
        self.actions.iter().any(|a| a.kind() == kind)
    }

    pub fn wait(&mut self, why: impl Into<String>) {
        self.waiting.push(why.into());
    }

    /// Whether maintenance holds now (`until` not passed).
    pub fn maintenance(&self) -> Option<String> {
        let m = self.spec.maintenance.as_ref()?;
        let what = match &m.host {
            Some(host) => format!("{} ({host} only)", m.reason),
            None => m.reason.clone(),
        };
        match m.until {
            Some(until) if self.now >= until => None,
            Some(until) => Some(format!("{what} (until {until})")),
            None => Some(what),
        }
    }

    /// The one host in maintenance now, when the manifest names one.
    fn maintenance_host(&self) -> Option<HostName> {
        self.maintenance()?;
        self.spec.maintenance.as_ref()?.host.clone()
    }

    /// How `op` failed when an earlier pass carried it out, while memory keeps the failure
    /// (until its back-off ends or it succeeds).
    pub fn failure(&self, op: &Operation) -> Option<&crate::memory::Failure> {
        self.memory.failures.get(&action_id(self.site, op))
    }

    /// Drops the failure of `op` from memory: what it failed for is dealt with otherwise,
    /// and a new attempt must not wait for its back-off.
    pub fn forget_failure(&mut self, op: &Operation) {
        self.next.failures.remove(&action_id(self.site, op));
    }

    pub fn reachable(&self, host: &str) -> bool {
        self.observed.host(host).is_some_and(|h| h.reachable)
    }

    pub fn finish(mut self) -> Plan {
        let mut actions = Vec::new();
        for action in std::mem::take(&mut self.actions) {
            // Rule 2: an unreachable host gets no actions.
            if let Some(host) = action.op.hosts().into_iter().find(|h| !self.reachable(h)) {
                self.waiting.push(format!(
                    "{}: waiting for {host} to be reachable",
                    action.description
                ));
                continue;
            }
            // Rule 11: an action that failed waits for its back-off.
            if let Some(f) = self.memory.failures.get(&action.id)
                && f.retry_at > self.now
                && !matches!(action.op, Operation::Alert { .. })
            {
                self.waiting.push(format!(
                    "{}: failed {} time(s) ({}); retrying at {}",
                    action.description, f.attempts, f.error, f.retry_at
                ));
                continue;
            }
            actions.push(action);
        }
        let maintenance = self.maintenance();
        let maintenance_host = self.maintenance_host();
        if let Some(host) = &maintenance_host {
            // Rule 10 for one host: nothing on it; the other host is kept as usual.
            actions.retain(|a| {
                let on_it = a.op.hosts().into_iter().any(|h| h == host);
                if on_it {
                    self.waiting.push(format!(
                        "{}: waits for the maintenance of {host} to end",
                        a.description
                    ));
                }
                !on_it
            });
        }
        if maintenance.is_some() {
            // Rule 10: plan everything, do nothing, and never fail over.
            actions.retain(|a| {
                !matches!(
                    a.op,
                    Operation::Failover {
                        mode: FailoverKind::Live,
                        ..
                    }
                )
            });
        }
        if !self.keep_alerted {
            for key in self.memory.alerted.difference(&self.active_alerts) {
                if let Some(what) = all_clear(key) {
                    actions.push(Action {
                        id: format!("{}/alert/all-clear/{key}", self.site),
                        description: describe_all_clear(),
                        reason: format!("the condition of alert {key:?} has cleared"),
                        disruptive: false,
                        op: Operation::Alert {
                            alert: AlertKind::AllClear,
                            severity: Severity::Information,
                            key: format!("all-clear/{key}"),
                            message: format!("all clear: {what}"),
                            action: None,
                        },
                        failover: None,
                        decision: None,
                        drill: None,
                    });
                }
            }
            self.next.alerted.retain(|k| self.active_alerts.contains(k));
        }
        for host in &self.observed.hosts {
            if host.reachable {
                self.next.unreachable_since.remove(&host.name);
            } else {
                self.next
                    .unreachable_since
                    .entry(host.name.clone())
                    .or_insert(self.now);
            }
        }
        let (memory, now) = (self.memory, self.now);
        self.next.failures.retain(|id, _| {
            actions.iter().any(|a| &a.id == id)
                || memory.failures.get(id).is_some_and(|f| f.retry_at > now)
        });

        let protected = self
            .conditions
            .get(&ConditionType::Protected)
            .is_some_and(|c| c.0);
        let pending = actions
            .iter()
            .any(|a| !matches!(a.op, Operation::Alert { .. }));
        if pending {
            self.set(
                ConditionType::Ready,
                false,
                "ChangesPending",
                format!("{} action(s) pending", actions.len()),
            );
        } else if !protected {
            self.set(
                ConditionType::Ready,
                false,
                "NotProtected",
                "the replication job is not protecting",
            );
        } else {
            self.set(
                ConditionType::Ready,
                true,
                "Converged",
                "the site matches its manifest",
            );
        }
        match maintenance.clone() {
            Some(why) => self.set(
                ConditionType::Maintenance,
                true,
                "InMaintenance",
                format!("acting on nothing but alerts: {why}"),
            ),
            None => self.set(
                ConditionType::Maintenance,
                false,
                "NoMaintenance",
                "the controller acts",
            ),
        }
        if let Some((reason, _)) = self.degraded.first().cloned() {
            let message = self
                .degraded
                .iter()
                .map(|(_, m)| m.as_str())
                .collect::<Vec<_>>()
                .join("; ");
            self.set(ConditionType::Degraded, true, reason, message);
        } else {
            self.set(
                ConditionType::Degraded,
                false,
                "Healthy",
                "nothing is degraded",
            );
        }

        let mut conditions = Vec::new();
        for kind in ConditionType::ALL {
            let (status, reason, message) = self.conditions.remove(&kind).unwrap_or((
                false,
                Cow::Borrowed("Unknown"),
                Cow::Borrowed(""),
            ));
            let key = kind.as_str().to_string();
            let last = match self.memory.transitions.get(&key) {
                Some(t) if t.status == status => t.at,
                _ => {
                    self.next.transitions.insert(
                        key,
                        Transition {
                            status,
                            at: self.now,
                        },
                    );
                    self.now
                }
            };
            conditions.push(Condition {
                kind,
                status,
                reason,
                message,
                last_transition: Some(last),
            });
        }
        Plan {
            site: self.site.to_string(),
            actions,
            conditions,
            memory: self.next,
            live_host: self.live_host,
            standby_host: self.standby_host,
            maintenance,
            waiting: self.waiting,
            recovered: self.recovered,
            maintenance_host,
            resume_awaits_person: self.resume_awaits_person,
            commit_until: self.commit_until,
            finished_runs: self.finished_runs,
        }
    }
}

fn describe_all_clear() -> String {
    describe(&Operation::Alert {
        alert: AlertKind::AllClear,
        severity: Severity::Information,
        key: String::new(),
        message: String::new(),
        action: None,
    })
}

/// What clearing the condition behind an alert key means, in words; `None` for alerts about
/// an event rather than a state (a failover started, replication resumed), which have
/// nothing to clear, and for an all-clear itself.
fn all_clear(key: &str) -> Option<String> {
    let (kind, rest) = key.split_once('/').unwrap_or((key, ""));
    let parts: Vec<&str> = rest.split('/').collect();
    let one = parts.first().copied().unwrap_or("");
    Some(match kind {
        "failure-detected" => {
            format!("System Galaxy on {one} is no longer missed, or the failure was handled")
        }
        "condition-met" => format!(
            "the condition for failure on {one} no longer holds: System Galaxy runs again, or a failover took over"
        ),
        "unseen-live" => format!("{one} is seen again, and System Galaxy runs on one host"),
        "link" => format!("the failover monitor on {one} reaches System Galaxy again"),
        "controller-link" => format!("the controller sees System Galaxy on {one} again"),
        "split-brain" => "System Galaxy runs on one host again".to_string(),
        "split-brain-pending" => {
            format!("{one} is seen without System Galaxy running: it runs on one host")
        }
        "manifest-stale" => "spec.primary names the live host again".to_string(),
        "rollback-stopped" => format!("the rollback from {} has ended", parts.join(" to ")),
        "rpo-missed" => "the recovery point latency is within spec.rpoTarget again".to_string(),
        "wrong-direction" => format!("job {one:?} no longer replicates in the wrong direction"),
        "failover-failed" => format!("job {one:?} is no longer failed"),
        "switchover-stuck" | "switchover-abandoned" | "superseded" => {
            format!(
                "the switchover or failover of {} has ended",
                parts.join(" to ")
            )
        }
        "not-ready" => "the readiness check found nothing lacking for a failover".to_string(),
        "drill-overdue" => "a drill passed or runs; drills are up to date".to_string(),
        _ => return None,
    })
}

/// A stable id: the same intent gets the same id in every pass.
fn action_id(site: &str, op: &Operation) -> String {
    let kind = op.kind().as_str();
    let rest = match op {
        Operation::StartService { place, service }
        | Operation::SetServiceStartup { place, service, .. } => {
            format!("{}/{service}", place_id(place))
        }
        Operation::OpenFirewallPort {
            host,
            port,
            protocol,
        } => format!("{host}/{port}/{protocol:?}").to_lowercase(),
        Operation::SetEmailNotification { host, .. } => host.to_string(),
        Operation::CreateJob(job) => job.name.clone(),
        Operation::UpdateJob { job, .. }
        | Operation::DeleteJob { job, .. }
        | Operation::Failover { job, .. }
        | Operation::EndTestFailover { job, .. } => job.clone(),
        Operation::RemoveReplica { host, vm }
        | Operation::StopVm { host, vm, .. }
        | Operation::StartVm { host, vm } => format!("{host}/{vm}"),
        Operation::Alert { key, .. } => key.clone(),
        Operation::RunHook { run, step, .. } => format!("{run}/{step}"),
    };
    format!("{site}/{kind}/{rest}")
}

fn place_id(place: &crate::model::operation::Place) -> String {
    match place {
        crate::model::operation::Place::Host(h) => h.to_string(),
        crate::model::operation::Place::Guest(h) => format!("{h}/vm"),
    }
}

/// One line for the plan.
fn describe(op: &Operation) -> String {
    match op {
        Operation::StartService { place, service } => {
            format!("start service {service:?} on {place}")
        }
        Operation::SetServiceStartup {
            place,
            service,
            startup,
        } => {
            format!("set startup of {service:?} on {place} to {startup:?}")
        }
        Operation::OpenFirewallPort {
            host,
            port,
            protocol,
        } => {
            format!(
                "open firewall port {port}/{} on {host}",
                format!("{protocol:?}").to_uppercase()
            )
        }
        Operation::SetEmailNotification { host, settings } => {
            format!(
                "set e-mail notification on {host} (server {}, to {})",
                settings.server,
                settings.to.join(", ")
            )
        }
        Operation::CreateJob(job) => format!(
            "create job {:?}: {} on {} → replica {:?} on {}",
            job.name, job.vm, job.source, job.replica, job.target
        ),
        Operation::UpdateJob { job, monitor, .. } => format!(
            "update failover monitor of job {job:?} (interval {}, {})",
            humantime::format_duration(monitor.interval),
            threshold_text(monitor.threshold, monitor.interval)
        ),
        Operation::DeleteJob {
            job,
            target,
            delete_replica,
        } => format!(
            "delete job {job:?} on {target}{}",
            if *delete_replica {
                " with its replica"
            } else {
                " (keep the replica VM)"
            }
        ),
        Operation::RemoveReplica { host, vm } => format!("remove stale VM {vm:?} on {host}"),
        Operation::StopVm { host, vm, turn_off } => {
            if *turn_off {
                format!("turn off VM {vm:?} on {host} (fence)")
            } else {
                format!("shut down VM {vm:?} on {host} cleanly")
            }
        }
        Operation::StartVm { host, vm } => format!("start VM {vm:?} on {host}"),
        Operation::Failover {
            job,
            target,
            mode,
            apply_queued_data,
            snapshot,
        } => format!(
            "{} job {job:?} to {target} ({})",
            match mode {
                FailoverKind::Live => "fail over",
                FailoverKind::Test => "test failover of",
            },
            match snapshot {
                Some(id) => format!("to snapshot {id}"),
                None if *apply_queued_data => "apply data in target queues".to_string(),
                None => "discard target queues".to_string(),
            }
        ),
        Operation::EndTestFailover { job, target } => {
            format!("end the test failover of job {job:?} on {target}")
        }
        Operation::Alert {
            alert, severity, ..
        } => format!("alert {} ({severity:?})", alert.as_str()),
        Operation::RunHook {
            run,
            kind,
            step,
            command,
            ..
        } => format!(
            "run hook spec.hooks.{}[{step}] after {run}: {}",
            kind.as_str(),
            command.join(" ")
        ),
    }
}

pub(crate) fn threshold_text(
    t: crate::manifest::spec::Threshold,
    interval: std::time::Duration,
) -> String {
    match t {
        crate::manifest::spec::Threshold::TotalTime(d) => {
            format!("total time to failure {}", humantime::format_duration(d))
        }
        crate::manifest::spec::Threshold::ConsecutiveFailures(n) => format!(
            "{n} consecutive failures (~{})",
            humantime::format_duration(interval * n)
        ),
    }
}
