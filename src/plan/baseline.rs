//! Rule 3: the baseline of each reachable host — the Double-Take services running with their
//! startup type (also inside the live VM), the firewall ports open for TCP and UDP, and the
//! host's e-mail notification settings equal to the manifest's.

use super::builder::Builder;
use super::view::View;
use crate::manifest::spec::EmailSpec;
use crate::model::operation::{Operation, Place};
use crate::observed::{EmailSettings, FirewallRule, Protocol, ServiceState, ServiceStatus, Vm};

pub(crate) fn plan(b: &mut Builder, view: &View) {
    for host in b.spec.hosts.clone() {
        let Some(state) = b.observed.host(&host.name) else {
            continue;
        };
        if !state.reachable {
            continue;
        }
        services(b, Place::Host(host.name.clone()), &state.services.clone());
        if view.is_live(&host.name)
            && let Some(vm) = state.vms.iter().find(|v| Vm::is_live(v))
            && !vm.services.is_empty()
        {
            services(b, Place::Guest(host.name.clone()), &vm.services.clone());
        }
        for port in b.spec.firewall.ports.clone() {
            let Ok(port) = u16::try_from(port) else {
                continue;
            };
            for protocol in [Protocol::Tcp, Protocol::Udp] {
                if !state.firewall.contains(&FirewallRule { port, protocol }) {
                    b.act(
                        Operation::OpenFirewallPort {
                            host: host.name.clone(),
                            port,
                            protocol,
                        },
                        format!("rule 3 (baseline): Double-Take port {port}/{protocol:?} is not open on {}", host.name),
                    );
                }
            }
        }
        if let Some(email) = b.spec.notifications.as_ref().and_then(|n| n.email.as_ref()) {
            let want = email_settings(email);
            if state.email.as_ref() != Some(&want) {
                let what = if state.email.is_none() {
                    "not set"
                } else {
                    "differ from the manifest"
                };
                b.act(
                    Operation::SetEmailNotification {
                        host: host.name.clone(),
                        settings: want,
                    },
                    format!(
                        "rule 3 (baseline): e-mail notification settings on {} are {what}",
                        host.name
                    ),
                );
            }
        }
    }
}

fn services(b: &mut Builder, place: Place, observed: &[ServiceState]) {
    for want in b.spec.services.clone() {
        let seen = observed
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(&want.name));
        if seen.is_none_or(|s| s.startup != want.startup) {
            b.act(
                Operation::SetServiceStartup {
                    place: place.clone(),
                    service: want.name.clone(),
                    startup: want.startup,
                },
                format!(
                    "rule 3 (baseline): startup of {:?} on {place} is {}, should be {:?}",
                    want.name,
                    seen.map_or("unknown (not installed?)".into(), |s| format!(
                        "{:?}",
                        s.startup
                    )),
                    want.startup
                ),
            );
        }
        if seen.is_none_or(|s| s.status != ServiceStatus::Running) {
            b.act(
                Operation::StartService {
                    place: place.clone(),
                    service: want.name.clone(),
                },
                format!(
                    "rule 3 (baseline): {:?} is not running on {place}",
                    want.name
                ),
            );
        }
    }
}

/// The settings a host should have, from the manifest (the password is set by the
/// platform from `passwordFrom` and never appears here).
pub(crate) fn email_settings(email: &EmailSpec) -> EmailSettings {
    EmailSettings {
        server: email.smtp.server.clone(),
        port: u16::try_from(email.smtp.port).unwrap_or(587),
        security: email.smtp.security,
        username: email.smtp.username.clone(),
        from: email.from.clone(),
        to: email.to.clone(),
        subject_prefix: email.subject_prefix.clone(),
        add_event_description: email.add_event_description,
        include: email.include.clone(),
        exclude_event_ids: email.exclude_event_ids.clone(),
    }
}
