//! The PowerShell platform: real Hyper-V hosts with Carbonite (Double-Take), driven by
//! constant scripts whose data arrives as JSON on standard input.
//!
//! [`PowershellPlatform`] turns observations and operations into [`payload::Call`]s and hands
//! them to a [`Runner`]: [`PowershellRunner`] spawns Windows PowerShell 5.1; [`SimRunner`]
//! answers from the simulated lab, so the same engine scenarios run on both.

pub mod capture;
pub mod input;
pub mod latency;
pub mod model;
pub mod names;
pub mod parse;
pub mod payload;
pub mod process;
pub mod ps51;
pub mod runner;
pub mod scripts;
pub mod secret;
pub mod session;
pub mod sim_runner;

use std::time::Duration;

use jiff::Timestamp;
use serde::Deserialize;

use crate::manifest::Site;
use crate::manifest::spec::SiteSpec;
use crate::model::names::HostName;
use crate::model::operation::Operation;
use crate::observed::{HostState, Job, Observed};
use crate::platform::{Platform, PlatformError};

pub use payload::Call;
pub use runner::{HostTarget, PowershellRunner, RunError, Runner};
pub use scripts::{Script, ScriptKind};
pub use secret::Secret;
pub use sim_runner::SimRunner;

/// A site's real hosts, through a runner.
#[derive(Debug)]
pub struct PowershellPlatform<R: Runner> {
    site: String,
    spec: std::sync::Arc<SiteSpec>,
    runner: R,
    timeout: Duration,
}

impl<R: Runner> PowershellPlatform<R> {
    pub fn new(site: &Site, runner: R) -> Self {
        let spec = site.manifest.spec.clone();
        let timeout = spec
            .platform
            .powershell
            .as_ref()
            .map_or(Duration::from_secs(120), |p| p.script_timeout);
        Self {
            site: site.name.clone(),
            spec,
            runner,
            timeout,
        }
    }

    pub fn runner(&self) -> &R {
        &self.runner
    }

    fn target(&self, host: &str) -> HostTarget {
        let spec = self.spec.host(host);
        HostTarget {
            name: spec.map_or(host, |h| h.name.as_str()).to_string(),
            address: spec.map_or(host, |h| h.address.as_str()).to_string(),
        }
    }

    /// Runs one call on its host.
    ///
    /// # Errors
    /// As the runner's.
    pub fn call(&self, call: &Call) -> Result<String, RunError> {
        self.runner.run(
            &self.target(&call.host),
            scripts::script(call.kind),
            &call.input,
            self.timeout,
        )
    }

    fn observe_host(&self, host: &str) -> Result<(HostState, Vec<Job>), PlatformError> {
        let call = payload::observe(&self.site, &self.spec, host);
        match self.call(&call) {
            Ok(text) => {
                let doc = parse::document(host, &text).map_err(|e| script_error(host, &e))?;
                if let Some(e) = &doc.double_take_error {
                    tracing::warn!(site = %self.site, host, error = %e, "Double-Take could not be asked; the host's job and e-mail settings are not known");
                }
                let expect = payload::expect(&self.site, &self.spec, host);
                parse::host(host, &doc, &expect).map_err(|e| script_error(host, &e))
            }
            // A host that cannot be reached, or hangs, is an observation.
            Err(RunError::Unreachable { .. } | RunError::Timeout { .. }) => {
                Ok((HostState::unreachable(host), Vec::new()))
            }
            Err(e) => Err(platform_error(e)),
        }
    }

    /// Runs the observe and capture scripts (read-only) on every host: what each returns,
    /// for `doctor --capture`. Secrets and addresses are not yet redacted.
    pub fn capture(&self) -> Vec<capture::HostCapture> {
        self.spec
            .hosts
            .iter()
            .map(|h| {
                let observe = self.call(&payload::observe(&self.site, &self.spec, &h.name));
                let raw = self.call(&payload::capture(&self.site, &self.spec, &h.name));
                capture::HostCapture::from_outputs(&h.name, observe, raw)
            })
            .collect()
    }

    /// Runs the doctor script on every host.
    pub fn doctor(&self) -> Vec<(HostName, Result<DoctorReport, String>)> {
        self.spec
            .hosts
            .iter()
            .map(|h| {
                let call = payload::doctor(&self.site, &self.spec, &h.name);
                let result = self
                    .call(&call)
                    .map_err(|e| e.to_string())
                    .and_then(|text| {
                        serde_json::from_str::<DoctorReport>(
                            &parse::normalize(
                                serde_json::from_str(text.trim())
                                    .map_err(|e| format!("doctor output is not JSON: {e}"))?,
                            )
                            .to_string(),
                        )
                        .map_err(|e| format!("doctor output: {e}"))
                    });
                (h.name.clone(), result)
            })
            .collect()
    }
}

/// What the doctor script found on a host.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DoctorReport {
    #[serde(default)]
    pub computer_name: String,
    #[serde(default)]
    pub ps_version: String,
    pub checks: Vec<DoctorCheck>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DoctorCheck {
    pub name: String,
    pub ok: bool,
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub fix: String,
}

fn script_error(host: &str, e: &dyn std::fmt::Display) -> PlatformError {
    PlatformError::Script {
        host: host.to_string(),
        message: e.to_string(),
    }
}

fn platform_error(e: RunError) -> PlatformError {
    match e {
        RunError::Unreachable { host, .. } => PlatformError::Unreachable { host },
        RunError::Refused {
            system, message, ..
        } => PlatformError::Refused { system, message },
        RunError::Timeout { ref host, .. }
        | RunError::Failed { ref host, .. }
        | RunError::Io { ref host, .. } => script_error(&host.clone(), &e),
        other => script_error("controller", &other),
    }
}

impl<R: Runner> Platform for PowershellPlatform<R> {
    fn observe(&mut self) -> Result<Observed, PlatformError> {
        let mut hosts = Vec::new();
        let mut jobs = Vec::new();
        for h in self.spec.hosts.clone() {
            let (state, held) = self.observe_host(&h.name)?;
            hosts.push(state);
            jobs.extend(held);
        }
        // Only the site's job (name, type, source and target checked by parse): no other job
        // is ever adopted.
        let job = (!jobs.is_empty()).then(|| jobs.swap_remove(0));
        Ok(Observed { hosts, job })
    }

    fn execute(&mut self, op: &Operation) -> Result<(), PlatformError> {
        let password = match op {
            Operation::SetEmailNotification { .. } => self
                .spec
                .notifications
                .as_ref()
                .and_then(|n| n.email.as_ref())
                .and_then(|e| e.smtp.password_from.as_ref())
                .map(secret::read_secret)
                .transpose()
                .map_err(|e| script_error("controller", &e))?,
            _ => None,
        };
        let Some(call) = payload::operation(&self.site, &self.spec, op, password.as_ref()) else {
            return Ok(());
        };
        let out = self.call(&call).map_err(platform_error)?;
        if let Operation::RemoveReplica { host, vm } = op {
            let kept = serde_json::from_str::<serde_json::Value>(out.trim())
                .ok()
                .and_then(|v| v.get("keptDisks").cloned())
                .unwrap_or(serde_json::Value::Null);
            tracing::warn!(site = %self.site, host = %host, vm = %vm, kept_disks = %kept,
                "the virtual machine's Hyper-V configuration was removed; its virtual disks are kept where they are (delete them by hand once they are no longer needed)");
        }
        Ok(())
    }

    fn now(&self) -> Timestamp {
        self.runner.now()
    }

    fn sleep(&mut self, d: Duration) {
        self.runner.sleep(d);
    }
}
