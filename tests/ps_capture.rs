//! Captures (`galaxy-ha doctor --capture`) replayed: every file in
//! `tests/fixtures/captures/` goes through observe and parse as the PowerShell platform reads
//! a host, and its Carbonite objects are compared with the model. Captures are redacted.

use std::path::PathBuf;
use std::time::Duration;

use galaxy_ha::manifest::Site;
use galaxy_ha::manifest::spec::{FailoverMode, Manifest};
use galaxy_ha::observed::Activity;
use galaxy_ha::platform::Platform;
use galaxy_ha::platform::powershell::capture::{Capture, HostCapture, compare_host};
use galaxy_ha::platform::powershell::scripts::{Script, ScriptKind};
use galaxy_ha::platform::powershell::{
    HostTarget, PowershellPlatform, RunError, Runner, SimRunner,
};
use galaxy_ha::platform::sim::World;
use serde_json::{Value, json};

fn site() -> Site {
    let manifest: Manifest = galaxy_ha::manifest::sample::guide_site(FailoverMode::Automatic);
    Site {
        name: "hq".into(),
        path: "hq.yaml".into(),
        manifest,
    }
}

/// Answers the observe script from a capture, as the host answered it then.
struct Replay(Capture);

impl Runner for Replay {
    fn run(
        &self,
        host: &HostTarget,
        script: &Script,
        _: &Value,
        _: Duration,
    ) -> Result<String, RunError> {
        let h = self
            .0
            .hosts
            .iter()
            .find(|h| h.host.eq_ignore_ascii_case(&host.name))
            .ok_or_else(|| RunError::Unreachable {
                host: host.name.clone(),
                message: "not in the capture".into(),
            })?;
        if let Some(e) = &h.observe_error {
            return Err(RunError::Unreachable {
                host: host.name.clone(),
                message: e.clone(),
            });
        }
        match script.kind {
            ScriptKind::Observe => Ok(h.observe.to_string()),
            ScriptKind::Capture => Ok(h.raw.to_string()),
            other => Err(RunError::Refused {
                host: host.name.clone(),
                system: "Windows",
                message: format!(
                    "a capture answers only read-only scripts, not {}",
                    other.as_str()
                ),
            }),
        }
    }
}

fn captures() -> Vec<(PathBuf, Capture)> {
    let dir = PathBuf::from("tests/fixtures/captures");
    let mut out: Vec<(PathBuf, Capture)> = std::fs::read_dir(&dir)
        .expect("the captures folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable");
            let c: Capture = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not a capture: {e}", p.display()));
            (p, c)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn there_should_be_captures_to_replay() {
    assert!(
        captures().len() >= 3,
        "tests/fixtures/captures holds the model-made captures"
    );
}

#[test]
fn every_capture_should_replay_through_observe_and_parse() {
    let site = site();
    for (path, capture) in captures() {
        let mut platform = PowershellPlatform::new(&site, Replay(capture.clone()));
        let observed = platform
            .observe()
            .unwrap_or_else(|e| panic!("{}: observe failed: {e}", path.display()));
        assert_eq!(observed.hosts.len(), 2, "{}", path.display());
        for h in &observed.hosts {
            let captured = capture
                .hosts
                .iter()
                .find(|c| *c.host == *h.name)
                .expect("host");
            assert_eq!(
                h.reachable,
                captured.observe_error.is_none(),
                "{}",
                path.display()
            );
        }
        // What the capture says it shows.
        if let Some(expected) = capture
            .hosts
            .iter()
            .find_map(|h| h.observe.get("_expectActivity"))
            .and_then(Value::as_str)
        {
            let job = observed
                .job
                .as_ref()
                .unwrap_or_else(|| panic!("{}: no job", path.display()));
            assert_eq!(
                serde_json::to_value(job.activity).expect("json"),
                json!(expected),
                "{}",
                path.display()
            );
        }
    }
}

#[test]
fn every_capture_should_match_the_model_as_recorded() {
    for (path, capture) in captures() {
        let found: Vec<_> = capture.hosts.iter().flat_map(compare_host).collect();
        assert_eq!(found, capture.findings, "{}", path.display());
    }
}

#[test]
fn a_newer_carbonites_state_should_replay_as_unknown_with_its_name() {
    let (_, capture) = captures()
        .into_iter()
        .find(|(p, _)| p.to_string_lossy().contains("newer-carbonite"))
        .expect("the newer-carbonite capture");
    let mut platform = PowershellPlatform::new(&site(), Replay(capture));
    let job = platform.observe().expect("observe").job.expect("the job");
    assert_eq!(job.activity, Activity::Unknown);
    assert_eq!(job.state_name.as_deref(), Some("Quiescing"));
}

#[test]
fn a_capture_should_name_a_property_of_another_type_or_missing() {
    let site = site();
    let world = World::new("hq", &site.manifest.spec, 7);
    let platform = PowershellPlatform::new(&site, SimRunner::new(world));
    let mut hosts = platform.capture();
    // A job on B, then spoil it as another build would write it.
    let job = json!({
        "Id": "5e1a0000-0000-4000-8000-000000000001",
        "JobType": "VRA",
        "Status": { "HighLevelState": 41, "Health": "Ok" },
    });
    hosts[1].raw["carbonite"]["Jobs"] = json!([job]);
    let capture = Capture::new("hq", &site.manifest.spec, hosts);
    let text = findings(&capture);
    let has = |s: &str| text.iter().any(|t| t.contains(s));
    assert!(
        has("carbonite.Jobs[0].Status.HighLevelState holds 41"),
        "{text:#?}"
    );
    assert!(has("carbonite.Jobs[0].Options is missing"), "{text:#?}");
    assert!(capture.findings.iter().all(|f| !f.fix.is_empty()));
}

#[test]
fn a_capture_should_compare_each_jobs_snapshots_with_the_model() {
    let site = site();
    let world = World::new("hq", &site.manifest.spec, 7);
    let platform = PowershellPlatform::new(&site, SimRunner::new(world));
    let mut hosts = platform.capture();
    assert!(
        hosts[1].raw["carbonite"]["Snapshots"].is_array(),
        "the capture has a place for Get-DtSnapshot's entries"
    );
    // As the model writes them: no finding.
    let good = json!({
        "Attributes": 1, "Comment": null, "ConName": "c", "Id": "3f2c9a10-0000-4000-8000-000000000002",
        "Reason": 2, "States": 64, "Timestamp": { "UtcTicks": 639031968000000000_i64 },
    });
    hosts[1].raw["carbonite"]["Snapshots"] =
        json!([{ "JobId": "j", "Entries": [good.clone()], "Error": null }]);
    assert_eq!(compare_host(&hosts[1]), Vec::new());
    // Another build's entry: a state the model does not name, a time as a number.
    let mut spoiled = good;
    spoiled["States"] = json!("Healthy");
    spoiled["Timestamp"] = json!(1767600000);
    hosts[1].raw["carbonite"]["Snapshots"] =
        json!([{ "JobId": "j", "Entries": spoiled, "Error": null }]);
    let capture = Capture::new("hq", &site.manifest.spec, hosts);
    let text = findings(&capture);
    let has = |s: &str| text.iter().any(|t| t.contains(s));
    assert!(
        has(r#"carbonite.Snapshots[0].Entries.States holds "Healthy""#),
        "{text:#?}"
    );
    assert!(
        has("carbonite.Snapshots[0].Entries.Timestamp is a number"),
        "{text:#?}"
    );
}

#[test]
fn a_capture_should_hold_no_secret_and_no_address() {
    let site = site();
    let dir = tempfile::tempdir().expect("dir");
    let password = dir.path().join("host.cred");
    std::fs::write(&password, "hunter2\n").expect("secret");
    let mut spec = (*site.manifest.spec).clone();
    spec.platform.powershell = Some(galaxy_ha::manifest::spec::PowershellSpec {
        runner: galaxy_ha::manifest::spec::RunnerKind::Remoting,
        username: Some("CORP\\svc".into()),
        credential_from: Some(galaxy_ha::manifest::spec::SecretSource::File(password)),
        ..Default::default()
    });
    let spec = &spec;
    let raw = json!({
        "carbonite": {
            "EmailNotificationOptions": {
                "Enabled": true, "SmtpServer": "smtp.example.org", "SmtpPort": 587,
                "From": "galaxy@example.org", "To": "ops@example.org,guard@example.org",
                "LoginToSmtpServer": true,
                "SmtpCredentials": { "UserName": "CORP\\mailer", "Password": "hunter2", "Domain": "CORP" },
            },
            "Jobs": [{ "SourceHostUri": format!("http://{}:6325/", spec.vm.address), "TargetHostUri": "http://192.0.2.77:6325/" }],
        },
        "doubleTakeError": "cannot reach 198.51.100.9 as CORP\\svc with password hunter2",
    });
    let host = HostCapture {
        host: "GCSHOSTA".into(),
        observe: json!({ "note": format!("guest at {}", spec.vm.address) }),
        observe_error: None,
        raw,
        raw_error: None,
    };
    let capture = Capture::new("hq", spec, vec![host]);
    let text = serde_json::to_string(&capture).expect("json");
    for secret in [
        "hunter2",
        "CORP\\\\svc",
        "CORP\\\\mailer",
        "example.org",
        "192.0.2.77",
        "198.51.100.9",
        spec.vm.address.as_str(),
    ] {
        assert!(!text.contains(secret), "{secret} left in {text}");
    }
    // The site's own addresses become the names they stand for, so captures replay.
    assert!(
        text.contains(&format!("http://{}:6325/", spec.vm.name)),
        "{text}"
    );
}

/// Each finding of a capture as "path problem".
fn findings(capture: &Capture) -> Vec<String> {
    capture
        .findings
        .iter()
        .map(|f| format!("{} {}", f.path, f.problem))
        .collect()
}
