//! What a replayed schedule prints after each step: the world and the controller's memory in
//! a line or two, to read a failure by.

use std::time::Duration;

use crate::manifest::spec::SiteSpec;
use crate::memory::Memory;
use crate::observed::VmRole;
use crate::platform::sim::World;

/// The world in one line: hosts and their VMs, links down, the job, failovers, events lost.
pub fn describe_world(world: &World) -> String {
    let hosts: Vec<String> = world
        .hosts()
        .iter()
        .map(|h| {
            let vms: Vec<String> = h
                .vms
                .iter()
                .map(|v| {
                    format!(
                        "{}:{}{}{}",
                        v.name,
                        if v.role == VmRole::SystemGalaxy {
                            "SG"
                        } else {
                            "replica"
                        },
                        if v.running { ":on" } else { ":off" },
                        if v.isolated { ":isolated" } else { "" }
                    )
                })
                .collect();
            format!(
                "{} {} [{}]",
                h.name,
                if h.up { "up" } else { "DOWN" },
                vms.join(", ")
            )
        })
        .collect();
    let links: Vec<String> = ["controller", "GCSHOSTA", "GCSHOSTB"]
        .iter()
        .enumerate()
        .flat_map(|(i, a)| {
            ["controller", "GCSHOSTA", "GCSHOSTB"][i + 1..]
                .iter()
                .filter(|b| !world.link_is_up(a, b))
                .map(move |b| format!("{a}-{b}"))
        })
        .collect();
    let job = world.job().map_or("no job".to_string(), |j| {
        format!("job {}→{} {}", j.source, j.target, j.activity().label())
    });
    format!(
        "{}; links down {:?}; {job}; failovers {}; lost {}",
        hosts.join("; "),
        links,
        world.failovers(),
        world.events().lost
    )
}

/// The step, then the world, memory and manifest after it.
pub fn line(
    what: &str,
    world: &World,
    memory: Option<&Memory>,
    spec: &SiteSpec,
    up: bool,
) -> String {
    format!(
        "{what}\n        +{} {}; memory: live {:?}, acknowledged {:?}, latched {}, switchover {:?}; primary {}{}{}",
        humantime::format_duration(Duration::from_secs(world.elapsed().as_secs())),
        describe_world(world),
        memory.and_then(|m| m.live_host.clone()),
        memory.and_then(|m| m.acknowledged_primary.clone()),
        memory.is_some_and(|m| m.failover_latched),
        memory.and_then(|m| m
            .switchover
            .as_ref()
            .map(|s| format!("{}→{}", s.from, s.to))),
        spec.primary,
        if spec.maintenance.is_some() {
            ", maintenance"
        } else {
            ""
        },
        if up { "" } else { ", controller down" },
    )
}
