//! Rule 13: steps after a run (`spec.hooks`). At each hook point of this pass (System Galaxy
//! live after a failover or switchover; a rollback, resume or drill ended) the manifest's
//! steps for that kind of run are planned in order: a command as a `run-hook` action (the
//! executor runs it on the controller's machine), a message as an alert to on-call. A hook
//! point happens in one pass only, so each step is planned once; a step never undoes the run.

use std::collections::BTreeMap;

use super::builder::Builder;
use crate::model::operation::{AlertKind, Operation, Severity};
use crate::model::run::HookPoint;

pub(crate) fn plan(b: &mut Builder) {
    let Some(hooks) = b.spec.hooks.clone() else {
        return;
    };
    for point in std::mem::take(&mut b.hook_points) {
        let kind = point.kind.as_str();
        for (i, step) in hooks.steps(kind).iter().enumerate() {
            let reason = format!(
                "rule 13 (hooks): spec.hooks.{kind}[{i}] after {}",
                point.run
            );
            match &step.message {
                Some(text) => b.alert(
                    AlertKind::Message,
                    Severity::Information,
                    format!("message/{}/{i}", point.run),
                    format!("{kind} {} ({}): {text}", point.run, facts(&point)),
                    reason,
                ),
                None => {
                    b.act(
                        Operation::RunHook {
                            run: point.run.clone(),
                            kind: point.kind,
                            step: i,
                            command: step.run.clone(),
                            timeout: step.timeout,
                            env: env(b.site, &point),
                        },
                        reason,
                    );
                }
            }
        }
    }
}

fn facts(p: &HookPoint) -> String {
    match (&p.from, &p.to) {
        (Some(from), Some(to)) => format!("from {from} to {to}, {}", p.result),
        (None, Some(to)) => format!("on {to}, {}", p.result),
        _ => p.result.clone(),
    }
}

/// The run's facts as the hook's environment.
fn env(site: &str, p: &HookPoint) -> BTreeMap<String, String> {
    let host = |h: &Option<crate::model::names::HostName>| {
        h.as_ref().map(ToString::to_string).unwrap_or_default()
    };
    BTreeMap::from([
        ("GALAXY_HA_SITE".to_string(), site.to_string()),
        ("GALAXY_HA_RUN".to_string(), p.run.clone()),
        ("GALAXY_HA_KIND".to_string(), p.kind.as_str().to_string()),
        (
            "GALAXY_HA_REAL".to_string(),
            (p.kind != crate::model::run::RunKind::Drill).to_string(),
        ),
        ("GALAXY_HA_FROM".to_string(), host(&p.from)),
        ("GALAXY_HA_TO".to_string(), host(&p.to)),
        ("GALAXY_HA_RESULT".to_string(), p.result.clone()),
    ])
}
