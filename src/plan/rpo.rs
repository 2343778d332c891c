//! `RpoMet`: the job's recovery point latency against the site's recovery point objective
//! (`spec.rpoTarget`). Green replication is not the same as little data at risk: a job can
//! protect while its queue grows behind a slow link. A miss alerts once it has lasted
//! `spec.rpoGrace` (a job that protects and falls behind; not protecting at all has its own
//! conditions and alerts); all the time spent outside the target is kept for the metric.

use super::builder::Builder;
use super::view::View;
use crate::model::operation::{AlertKind, Severity};
use crate::model::terms::{elapsed, whole_seconds};
use crate::observed::Activity;
use crate::plan::ConditionType;

pub(crate) fn plan(b: &mut Builder, view: &View) {
    let Some(target) = b.spec.rpo_target else {
        b.set(
            ConditionType::RpoMet,
            true,
            "NoTarget",
            "no recovery point objective (spec.rpoTarget)",
        );
        return;
    };
    let (met, reason, message) = match view.job_forward() {
        // A job cut off from its source still knows its recovery point: it only ages.
        Some(job)
            if matches!(
                job.activity,
                Activity::Protecting | Activity::ServerCommunicationError
            ) =>
        {
            let latency = job.recovery_point_latency;
            let words = format!(
                "recovery point latency {} against rpoTarget {}",
                whole_seconds(latency),
                whole_seconds(target)
            );
            if latency <= target {
                (true, "WithinTarget", words)
            } else {
                (false, "LatencyAboveTarget", words)
            }
        }
        _ => (
            false,
            "NotProtecting",
            "no job protects System Galaxy now: every change since its last recovery point is at risk".to_string(),
        ),
    };
    let key = ConditionType::RpoMet.as_str();
    let was = b.memory.transitions.get(key);
    // The spell outside the target: since when, and how long so far (it begins now when the
    // target was met the pass before).
    let earlier = was.filter(|t| !t.status).map(|t| t.at);
    let since = earlier.unwrap_or(b.now);
    let missed_for = elapsed(since, b.now);
    match earlier {
        Some(_) if met => {
            b.next.rpo_missed = Some(b.memory.rpo_missed.unwrap_or_default() + missed_for);
        }
        // Not protecting has its own conditions and alerts (a first mirror, a failover):
        // the RPO alert is for a job that protects and falls behind.
        _ if !met && reason == "LatencyAboveTarget" && missed_for >= b.spec.rpo_grace => {
            b.alert(
                AlertKind::RpoMissed,
                Severity::Warning,
                "rpo-missed".into(),
                format!(
                    "the recovery point objective is missed: {message}, for {} now (since {since}). A failover now would lose more than the site accepts; see the job's queues and the link between the hosts",
                    whole_seconds(missed_for)
                ),
                "spec.rpoTarget: missed for longer than spec.rpoGrace",
            );
        }
        _ => {}
    }
    b.set(ConditionType::RpoMet, met, reason, message);
}
