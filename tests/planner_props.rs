//! Property tests: the safety invariants of docs/architecture.md hold for every plan over random
//! observations and memories.

use std::time::Duration;

use galaxy_ha::memory::{FailoverCause, FailoverRecord, Memory, Rollback, Switchover};
use galaxy_ha::model::operation::FailoverKind;
use galaxy_ha::observed::*;
use galaxy_ha::plan::{self, Operation};
use proptest::prelude::*;

use crate::support::*;

fn host_name(i: usize) -> &'static str {
    [A, B][i]
}

fn vm_strategy(host: usize) -> impl Strategy<Value = Vec<Vm>> {
    let other = host_name(1 - host);
    prop::collection::vec(
        (0..4usize, any::<bool>(), any::<bool>()).prop_map(move |(kind, running, isolated)| {
            let state = if running {
                VmState::Running
            } else {
                VmState::Off
            };
            match kind {
                0 => sg_vm("GCSServer", state),
                1 => Vm {
                    isolated,
                    ..sg_vm(&format!("GCSServer_Replica_{}", host_name(host)), state)
                },
                2 => Vm {
                    state,
                    isolated,
                    ..replica_vm(&format!("GCSServer_Replica_{}", host_name(host)))
                },
                _ => replica_vm(&format!("GCSServer_Replica_{other}")),
            }
        }),
        0..3,
    )
    .prop_map(|mut vms| {
        vms.dedup_by(|a, b| a.name == b.name);
        vms
    })
}

fn activity() -> impl Strategy<Value = Activity> {
    prop_oneof![
        Just(Activity::Provisioning),
        Just(Activity::Synchronizing),
        Just(Activity::Protecting),
        Just(Activity::ServerCommunicationError),
        Just(Activity::FailingOver),
        Just(Activity::FailedOver),
        Just(Activity::Stopped),
        Just(Activity::Failed),
    ]
}

fn observed() -> impl Strategy<Value = Observed> {
    (
        any::<[bool; 2]>(),
        any::<[bool; 2]>(),
        vm_strategy(0),
        vm_strategy(1),
        prop::option::of((
            any::<bool>(),
            activity(),
            any::<bool>(),
            0u64..900,
            any::<bool>(),
            0u64..120,
        )),
    )
        .prop_map(|(reach, known, vms_a, vms_b, job_parts)| {
            let mut hosts = vec![host(A, vms_a), host(B, vms_b)];
            for (h, k) in hosts.iter_mut().zip(known) {
                h.jobs_known = k;
            }
            for (h, r) in hosts.iter_mut().zip(reach) {
                if !r {
                    *h = HostState {
                        reachable: false,
                        services: vec![],
                        firewall: vec![],
                        vms: vec![],
                        email: None,
                        ..h.clone()
                    };
                }
            }
            let job = job_parts.map(|(forward, act, alive, missed, data_ok, latency)| {
                let (s, t) = if forward { (A, B) } else { (B, A) };
                let mut j = job(s, t, act);
                j.target_data_ok = data_ok;
                j.recovery_point_latency = Duration::from_secs(latency);
                j.monitor_status = MonitorStatus {
                    source_alive: alive,
                    missed_for: if alive {
                        Duration::ZERO
                    } else {
                        Duration::from_secs(missed)
                    },
                    failed_queries: 0,
                    remaining: Duration::from_secs(300u64.saturating_sub(missed)),
                    condition_met: !alive && missed >= 300,
                };
                j
            });
            // A job lives on its target: it is seen only where Double-Take answered.
            let job = job.filter(|j| hosts.iter().any(|h| h.name == j.target && h.jobs_known));
            Observed { hosts, job }
        })
}

fn memory() -> impl Strategy<Value = Memory> {
    (
        prop::option::of(0..2usize),
        prop::option::of(0..2usize),
        any::<bool>(),
        prop::option::of(0..2usize),
        prop::option::of(0..2usize),
    )
        .prop_map(|(live, ack, latched, switch_to, rollback_to)| Memory {
            live_host: live.map(|i| host_name(i).to_string()).map(Into::into),
            acknowledged_primary: ack.map(|i| host_name(i).to_string()).map(Into::into),
            failover_latched: latched,
            switchover: switch_to.map(|i| Switchover {
                from: host_name(1 - i).into(),
                to: host_name(i).into(),
                started: now(),
            }),
            rollback: rollback_to.map(|i| Rollback {
                from: host_name(1 - i).into(),
                to: host_name(i).into(),
                failover_at: now(),
                started: now(),
                live_at: None,
            }),
            last_failover: latched
                .then(|| FailoverRecord::new(now(), A.into(), B.into(), FailoverCause::Automatic)),
            ..Memory::default()
        })
}

fn spec_choice() -> impl Strategy<Value = (bool, usize, bool)> {
    (any::<bool>(), 0..2usize, any::<bool>())
}

fn live_on(o: &Observed, host: &str) -> bool {
    o.host(host)
        .is_some_and(|h| h.reachable && h.vms.iter().any(Vm::is_live))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn safety_invariants_hold_for_every_plan(o in observed(), m in memory(), (automatic, primary, maintenance) in spec_choice()) {
        let mut manifest = manifest(if automatic { "automatic" } else { "manual" });
        manifest.spec_mut().primary = host_name(primary).into();
        if maintenance {
            manifest.spec_mut().maintenance = serde_saphyr::from_str("reason: patching\n").unwrap();
        }
        let p = plan::plan(&manifest, &o, &m, now());
        let live: Vec<&str> = o.live_hosts().into_iter().map(|h| h.as_str()).collect();

        // Deterministic.
        prop_assert_eq!(&p, &plan::plan(&manifest, &o, &m, now()));

        // Split brain: only fencing of the host that is not kept, and alerts.
        if live.len() > 1 {
            for a in &p.actions {
                prop_assert!(matches!(a.op, Operation::StopVm { turn_off: true, .. } | Operation::Alert { .. }), "{:?}", a);
            }
            let fences = p.actions.iter().filter(|a| matches!(a.op, Operation::StopVm { .. })).count();
            prop_assert!(fences > 0, "split brain without a fence");
        }

        let mut live_failovers = 0;
        for a in &p.actions {
            match &a.op {
                // Never replicate onto the host that runs System Galaxy.
                Operation::CreateJob(job) => {
                    prop_assert!(!live_on(&o, &job.target), "job onto a live host: {:?}", job);
                    prop_assert_ne!(&job.source, &job.target);
                    prop_assert!(live_on(&o, &job.source), "job from a host not running System Galaxy");
                }
                Operation::Failover { mode: FailoverKind::Live, target, .. } => {
                    live_failovers += 1;
                    prop_assert!(!maintenance, "failover during maintenance");
                    let source = manifest.spec.other_host(target).unwrap().name.clone();
                    let job = o.job.as_ref().unwrap();
                    let switchover = m.switchover.as_ref().is_some_and(|s| &s.to == target);
                    if !switchover {
                        // Both views must agree the live host failed.
                        prop_assert!(job.monitor_status.condition_met, "failover without the condition for failure");
                        prop_assert!(!live_on(&o, &source), "failover while the controller sees System Galaxy");
                        // Automatic only when not latched; otherwise a person asked (spec.primary).
                        let approved = manifest.spec.primary == *target && m.acknowledged_primary.as_deref() != Some(target.as_str());
                        prop_assert!(approved || (automatic && !m.failover_latched), "unapproved failover");
                    }
                    prop_assert!(!live_on(&o, target), "failover onto a host already running System Galaxy");
                }
                Operation::StopVm { host, turn_off: false, .. } => {
                    // A clean shutdown only starts a switchover a person asked for.
                    prop_assert!(!maintenance, "switchover in maintenance");
                    let asked = m.switchover.is_some() || m.rollback.is_some() || m.acknowledged_primary.as_deref() != Some(manifest.spec.primary.as_str());
                    prop_assert!(asked, "clean shutdown nobody asked for");
                    prop_assert!(live.contains(&host.as_str()), "clean shutdown of a VM that is not live");
                }
                // A start (a back-out, a rollback) never makes a second copy.
                Operation::StartVm { host, .. } => {
                    prop_assert!(live.is_empty(), "start on {} while System Galaxy runs on {:?}", host, live);
                }
                Operation::RemoveReplica { host, vm } => {
                    let h = o.host(host).unwrap();
                    let v = h.vms.iter().find(|v| &v.name == vm).unwrap();
                    prop_assert_eq!(v.state, VmState::Off, "removing a VM that is not off");
                    prop_assert!(!live_on(&o, host) || live.len() > 1, "removing a VM on the live host");
                }
                _ => {}
            }
            // No action on an unreachable host.
            for h in a.op.hosts() {
                prop_assert!(o.host(h).is_some_and(|h| h.reachable), "action on unreachable {}: {:?}", h, a);
            }
        }
        // "No job" from a host whose Double-Take did not answer is not a fact.
        if o.job.is_none() && o.hosts.iter().any(|h| h.reachable && !h.jobs_known) {
            for a in &p.actions {
                let touches_jobs = matches!(a.op, Operation::CreateJob(_) | Operation::RemoveReplica { .. } | Operation::DeleteJob { .. });
                prop_assert!(!touches_jobs, "job action while jobs are unknown: {:?}", a);
            }
        }

        // One failure: at most one failover.
        prop_assert!(live_failovers <= 1);
        // Maintenance acts on nothing but a split brain's fence; it still alerts.
        if maintenance {
            for a in p.actionable() {
                if matches!(a.op, Operation::Alert { .. }) {
                    continue;
                }
                prop_assert!(live.len() > 1, "action in maintenance: {:?}", a);
                prop_assert!(matches!(a.op, Operation::StopVm { turn_off: true, .. }), "{:?}", a);
            }
        }
    }
}
