//! Manifest values reach scripts only as data: whatever a name holds (quotes, `$`,
//! backticks, semicolons, newlines), the script text is the same and the value comes back
//! exactly from the JSON the script reads.

use std::time::Duration;

use galaxy_ha::manifest::spec::{Manifest, Threshold};
use galaxy_ha::model::operation::{
    FailoverKind, MonitorOptions, NewJob, Operation, Place, SnapshotSchedule,
};
use galaxy_ha::platform::powershell::payload::{self, ascii_json};
use galaxy_ha::platform::powershell::scripts::script;
use galaxy_ha::platform::powershell::sim_runner::decode;
use proptest::prelude::*;

fn spec() -> galaxy_ha::manifest::spec::SiteSpec {
    let yaml = "apiVersion: galaxy-ha/v1\nkind: RedundantServer\nmetadata: {name: hq}\nspec:\n  \
        hosts: [{name: GCSHOSTA, address: 10.100.0.43}, {name: GCSHOSTB, address: 10.100.0.44}]\n  \
        primary: GCSHOSTA\n  vm: {name: GCSServer, address: 10.100.0.45}\n";
    std::sync::Arc::unwrap_or_clone(
        serde_saphyr::from_str::<Manifest>(yaml)
            .expect("manifest")
            .spec,
    )
}

fn hostile() -> impl Strategy<Value = String> {
    proptest::string::string_regex(
        "[a-zA-Z0-9 '\"$`;\n\r{}()|&<>@#%\\\\\u{e9}\u{2019}\u{1f600}-]{0,40}",
    )
    .expect("regex")
}

proptest! {
    #[test]
    fn hostile_names_should_not_change_scripts_and_should_round_trip(
        job in hostile(), replica in hostile(), path in hostile(), service in hostile(),
    ) {
        let spec = spec();
        let new_job = NewJob {
            snapshots: None,
            name: job.clone(),
            vm: "GCSServer".into(),
            source: "GCSHOSTA".into(),
            target: "GCSHOSTB".into(),
            replica: (&replica).into(),
            replica_path: path.clone(),
            monitor: MonitorOptions { interval: Duration::from_secs(10), threshold: Threshold::TotalTime(Duration::from_secs(300)) },
        };
        let ops = vec![
            Operation::CreateJob(new_job.clone()),
            Operation::CreateJob(NewJob {
                snapshots: Some(SnapshotSchedule { every: Duration::from_secs(3600), keep: 24 }),
                monitor: MonitorOptions { interval: Duration::from_secs(10), threshold: Threshold::ConsecutiveFailures(20) },
                ..new_job
            }),
            Operation::UpdateJob {
                snapshots: Some(SnapshotSchedule { every: Duration::from_secs(900), keep: 4 }),
                job: job.clone(),
                target: "GCSHOSTB".into(),
                monitor: MonitorOptions { interval: Duration::from_secs(10), threshold: Threshold::TotalTime(Duration::from_secs(300)) },
            },
            Operation::Failover {
                snapshot: Some(service.clone()),
                job: job.clone(),
                target: "GCSHOSTB".into(),
                mode: FailoverKind::Live,
                apply_queued_data: false,
            },
            Operation::StartService { place: Place::Guest("GCSHOSTA".into()), service: service.clone() },
            Operation::DeleteJob { job: job.clone(), target: "GCSHOSTB".into(), delete_replica: true },
            Operation::StopVm { host: "GCSHOSTA".into(), vm: (&replica).into(), turn_off: false },
            Operation::StartVm { host: "GCSHOSTA".into(), vm: (&replica).into() },
        ];
        for op in ops {
            let call = payload::operation("hq", &spec, &op, None).expect("a host operation");
            // The text is the constant of its kind: no value is in it.
            let text = &script(call.kind).text;
            prop_assert_eq!(text, &script(call.kind).text);
            for v in [&job, &replica, &path, &service] {
                if v.len() > 3 {
                    prop_assert!(!text.contains(v.as_str()) || "GCSServer".contains(v.as_str()));
                }
            }
            // What the script reads back from stdin is exactly the operation.
            let wire = ascii_json(&call.input);
            prop_assert!(wire.is_ascii());
            let back: serde_json::Value = serde_json::from_str(&wire).expect("json");
            prop_assert_eq!(&back, &call.input);
            let decoded = decode(call.kind, &call.host, &back).expect("decodes");
            prop_assert_eq!(decoded, op);
        }
    }
}

#[test]
fn alerts_should_run_no_script() {
    let op = Operation::Alert {
        alert: galaxy_ha::model::operation::AlertKind::Test,
        severity: galaxy_ha::manifest::spec::EventLevel::Information,
        key: "k".into(),
        message: "m".into(),
        action: None,
    };
    assert!(payload::operation("hq", &spec(), &op, None).is_none());
}

#[test]
fn the_smtp_password_should_travel_only_in_the_data() {
    let settings = galaxy_ha::observed::EmailSettings {
        server: "mail".into(),
        port: 587,
        security: galaxy_ha::manifest::spec::SmtpSecurity::Starttls,
        username: Some("u".into()),
        from: "a@b.c".into(),
        to: vec!["d@e.f".into()],
        subject_prefix: "[x]".into(),
        add_event_description: false,
        include: vec![galaxy_ha::manifest::spec::EventLevel::Error],
        exclude_event_ids: String::new(),
    };
    let op = Operation::SetEmailNotification {
        host: "GCSHOSTA".into(),
        settings,
    };
    let secret = galaxy_ha::platform::powershell::Secret::new("s3cr3t-'$`");
    let call = payload::operation("hq", &spec(), &op, Some(&secret)).expect("call");
    assert_eq!(call.input["password"], "s3cr3t-'$`");
    assert!(!script(call.kind).text.contains("s3cr3t"));
    assert_eq!(format!("{secret:?}"), "Secret(***)");
}

/// One call of every script, with every optional value set.
fn every_call() -> Vec<payload::Call> {
    use galaxy_ha::manifest::spec::{EventLevel, SmtpSecurity, Startup};
    use galaxy_ha::observed::{EmailSettings, Protocol};
    let spec = spec();
    let monitor = MonitorOptions {
        interval: Duration::from_secs(10),
        threshold: Threshold::TotalTime(Duration::from_secs(300)),
    };
    let ops = [
        Operation::StartService {
            place: Place::Guest("GCSHOSTA".into()),
            service: "Double-Take".into(),
        },
        Operation::SetServiceStartup {
            place: Place::Host("GCSHOSTA".into()),
            service: "Double-Take".into(),
            startup: Startup::AutomaticDelayed,
        },
        Operation::OpenFirewallPort {
            host: "GCSHOSTA".into(),
            port: 6320,
            protocol: Protocol::Udp,
        },
        Operation::SetEmailNotification {
            host: "GCSHOSTA".into(),
            settings: EmailSettings {
                server: "127.0.0.1".into(),
                port: 25,
                security: SmtpSecurity::Starttls,
                username: Some("alerts".into()),
                from: "dt@example.test".into(),
                to: vec!["ops@example.test".into()],
                subject_prefix: "[DT]".into(),
                add_event_description: true,
                include: vec![EventLevel::Warning, EventLevel::Error],
                exclude_event_ids: "4000-4099".into(),
            },
        },
        Operation::CreateJob(guide_job(monitor)),
        Operation::UpdateJob {
            snapshots: Some(schedule()),
            job: "GCSServer to GCSHOSTB".into(),
            target: "GCSHOSTB".into(),
            monitor: MonitorOptions {
                interval: Duration::from_secs(10),
                threshold: Threshold::ConsecutiveFailures(20),
            },
        },
        Operation::DeleteJob {
            job: "GCSServer to GCSHOSTB".into(),
            target: "GCSHOSTB".into(),
            delete_replica: false,
        },
        Operation::RemoveReplica {
            host: "GCSHOSTA".into(),
            vm: "GCSServer".into(),
        },
        Operation::StopVm {
            host: "GCSHOSTA".into(),
            vm: "GCSServer".into(),
            turn_off: true,
        },
        Operation::StartVm {
            host: "GCSHOSTA".into(),
            vm: "GCSServer".into(),
        },
        Operation::Failover {
            snapshot: Some(SNAPSHOT_ID.into()),
            job: "GCSServer to GCSHOSTB".into(),
            target: "GCSHOSTB".into(),
            mode: FailoverKind::Live,
            apply_queued_data: true,
        },
        Operation::EndTestFailover {
            job: "GCSServer to GCSHOSTB".into(),
            target: "GCSHOSTB".into(),
        },
    ];
    let password = galaxy_ha::platform::powershell::Secret::new("s3cret");
    let mut calls: Vec<payload::Call> = ops
        .iter()
        .map(|op| payload::operation("hq", &spec, op, Some(&password)).expect("a host operation"))
        .collect();
    calls.extend([
        payload::observe("hq", &spec, "GCSHOSTA"),
        payload::capture("hq", &spec, "GCSHOSTA"),
        payload::doctor("hq", &spec, "GCSHOSTA"),
    ]);
    calls
}

/// Every `$in.NAME` and `$in.NAME.FIELD` a script reads.
fn reads(text: &str) -> Vec<Vec<String>> {
    let word = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect()
    };
    text.match_indices("$in.")
        .map(|(at, _)| {
            let rest = &text[at + 4..];
            let first = word(rest);
            let mut path = vec![first.clone()];
            if let Some(more) = rest[first.len()..].strip_prefix('.') {
                let second = word(more);
                if !second.is_empty() {
                    path.push(second);
                }
            }
            path
        })
        .collect()
}

#[test]
fn every_field_a_script_reads_is_one_its_input_writes() {
    use galaxy_ha::platform::powershell::scripts::ScriptKind;
    let calls = every_call();
    for kind in ScriptKind::all() {
        let call = calls
            .iter()
            .find(|c| c.kind == kind)
            .unwrap_or_else(|| panic!("no call of {kind:?}"));
        let text = &script(kind).text;
        for path in reads(text) {
            let mut at = &call.input;
            for key in &path {
                // A method or property of a value (`$in.services.Count`) is PowerShell's own.
                if !at.is_object() {
                    break;
                }
                at = at.get(key).unwrap_or_else(|| {
                    panic!(
                        "the {} script reads $in.{} but its input has no {key:?}: {}",
                        kind.as_str(),
                        path.join("."),
                        call.input
                    )
                });
            }
        }
    }
}

#[test]
fn every_operation_comes_back_from_its_script_input() {
    for call in every_call() {
        let back: serde_json::Value = serde_json::from_str(&ascii_json(&call.input)).unwrap();
        match decode(call.kind, &call.host, &back) {
            Ok(op) => {
                let again = payload::operation(
                    "hq",
                    &spec(),
                    &op,
                    Some(&galaxy_ha::platform::powershell::Secret::new("s3cret")),
                )
                .expect("a host operation");
                assert_eq!(again, call, "{op:?}");
            }
            Err(e) => assert!(e.contains("is not an operation"), "{:?}: {e}", call.kind),
        }
    }
}

#[test]
fn the_reader_of_script_fields_sees_paths() {
    assert_eq!(
        reads("$x = $in.settings.to; if ($in.guest) { $in.services.Count }"),
        vec![
            vec!["settings".to_string(), "to".to_string()],
            vec!["guest".to_string()],
            vec!["services".to_string(), "Count".to_string()],
        ]
    );
}

fn schedule() -> SnapshotSchedule {
    SnapshotSchedule {
        every: Duration::from_secs(3600),
        keep: 24,
    }
}

const SNAPSHOT_ID: &str = "3f2c9a10-0000-4000-8000-000000000002";

/// The body of a helper function the scripts share.
fn function(text: &str, name: &str) -> String {
    let start = text
        .find(&format!("function {name} {{"))
        .unwrap_or_else(|| panic!("no function {name}"));
    let len = text[start..].find("\n}\n").expect("the function ends");
    text[start..start + len].to_string()
}

/// The guide's job from A to B with a snapshot schedule.
fn guide_job(monitor: MonitorOptions) -> NewJob {
    NewJob {
        snapshots: Some(schedule()),
        name: "GCSServer to GCSHOSTB".into(),
        vm: "GCSServer".into(),
        source: "GCSHOSTA".into(),
        target: "GCSHOSTB".into(),
        replica: "GCSServer_Replica_GCSHOSTB".into(),
        replica_path: "D:\\Replicas".into(),
        monitor,
    }
}

/// The lines of `text` that hold `what`, trimmed.
fn lines_with<'a>(text: &'a str, what: &str) -> Vec<&'a str> {
    text.lines()
        .map(str::trim)
        .filter(|l| l.contains(what))
        .collect()
}

#[test]
fn a_snapshot_schedule_should_travel_to_the_job_scripts_and_be_set_there() {
    use galaxy_ha::platform::powershell::scripts::ScriptKind;
    let spec = spec();
    let monitor = MonitorOptions {
        interval: Duration::from_secs(10),
        threshold: Threshold::TotalTime(Duration::from_secs(300)),
    };
    let create = Operation::CreateJob(guide_job(monitor));
    let update = |snapshots| Operation::UpdateJob {
        snapshots,
        job: "GCSServer to GCSHOSTB".into(),
        target: "GCSHOSTB".into(),
        monitor,
    };
    for (op, wire) in [
        (
            create,
            serde_json::json!({"everySeconds": 3600, "keep": 24}),
        ),
        (
            update(Some(schedule())),
            serde_json::json!({"everySeconds": 3600, "keep": 24}),
        ),
        (update(None), serde_json::Value::Null),
    ] {
        let call = payload::operation("hq", &spec, &op, None).expect("a host operation");
        assert_eq!(call.input["snapshots"], wire, "{op:?}");
        let back: serde_json::Value = serde_json::from_str(&ascii_json(&call.input)).unwrap();
        assert_eq!(decode(call.kind, &call.host, &back).expect("decodes"), op);
        // The script hands the schedule, or its absence, to the one helper that sets it,
        // before the options go to Carbonite.
        let text = &script(call.kind).text;
        let set = text
            .find("Set-SnapshotSchedule -Options $options -Snapshots $in.snapshots")
            .unwrap_or_else(|| panic!("{:?} does not set the schedule", call.kind));
        let sent = match call.kind {
            ScriptKind::Act(galaxy_ha::model::ActionKind::CreateJob) => {
                text.find("$verification = Confirm-DtJobOptions")
            }
            _ => text.find("$edited = Edit-DtJob"),
        }
        .expect("the options are sent");
        assert!(
            set < sent,
            "{:?}: set after the options were sent",
            call.kind
        );
    }
    // The helper: off when there is none, else interval, number kept and on, at the model's
    // place in JobOptions.
    let helper = function(
        &script(ScriptKind::Act(galaxy_ha::model::ActionKind::UpdateJob)).text,
        "Set-SnapshotSchedule",
    );
    assert!(
        helper.contains(
            "$schedule = $Options.CoreConnectionOptions.ConnectionStartParameters.SnapshotSchedule"
        ),
        "{helper}"
    );
    assert_eq!(
        lines_with(&helper, "$schedule.IsEnabled ="),
        [
            "if ($null -ne $schedule) { $schedule.IsEnabled = $false }",
            "$schedule.IsEnabled = $true"
        ],
        "{helper}"
    );
    assert_eq!(
        lines_with(&helper, "$schedule.Interval ="),
        ["$schedule.Interval = [TimeSpan]::FromSeconds([double]$Snapshots.everySeconds)"],
        "{helper}"
    );
    assert_eq!(
        lines_with(&helper, "$schedule.MaxNumberOfSnapshots ="),
        ["$schedule.MaxNumberOfSnapshots = [int]$Snapshots.keep"],
        "{helper}"
    );
    // Turned off before anything else is set; turned on last.
    let off = helper.find("IsEnabled = $false").expect("off");
    let ret = helper.find("return").expect("return");
    let on = helper.find("IsEnabled = $true").expect("on");
    assert!(off < ret && ret < helper.find("Interval =").expect("interval") && on > ret);
}

#[test]
fn a_failover_to_a_snapshot_should_travel_to_the_script_and_set_its_mode_and_id() {
    let op = Operation::Failover {
        snapshot: Some(SNAPSHOT_ID.into()),
        job: "GCSServer to GCSHOSTB".into(),
        target: "GCSHOSTB".into(),
        mode: FailoverKind::Live,
        apply_queued_data: false,
    };
    let call = payload::operation("hq", &spec(), &op, None).expect("a host operation");
    assert_eq!(call.input["snapshot"], SNAPSHOT_ID);
    assert_eq!(call.input["mode"], "live");
    let back: serde_json::Value = serde_json::from_str(&ascii_json(&call.input)).unwrap();
    assert_eq!(decode(call.kind, &call.host, &back).expect("decodes"), op);
    // Without one, the data says so.
    let newest = Operation::Failover {
        snapshot: None,
        job: "GCSServer to GCSHOSTB".into(),
        target: "GCSHOSTB".into(),
        mode: FailoverKind::Live,
        apply_queued_data: false,
    };
    let call = payload::operation("hq", &spec(), &newest, None).expect("a host operation");
    assert_eq!(call.input["snapshot"], serde_json::Value::Null);
    assert_eq!(
        decode(call.kind, &call.host, &call.input).expect("decodes"),
        newest
    );
    // The script's branch for it: the snapshot must still be listed, then mode and id.
    let text = &script(call.kind).text;
    let branch_at = text
        .find("} elseif ($null -ne $in.snapshot) {")
        .expect("a branch for a failover to a snapshot");
    let branch = &text[branch_at..branch_at + text[branch_at..].find("} else {").expect("end")];
    assert!(
        branch.contains("Get-DtSnapshot -ServiceHost $server -JobId $job.Id | Where-Object { [string]$_.Id -eq [string]$in.snapshot }"),
        "{branch}"
    );
    assert!(
        branch.contains("throw"),
        "a snapshot no longer kept is refused: {branch}"
    );
    assert_eq!(
        lines_with(branch, "$failover."),
        [
            "$failover.FailoverMode = 'Snapshot'",
            "$failover.SnapshotId = $snapshot[0].Id",
            "$failover.PerformTestFailover = $false",
        ],
        "{branch}"
    );
    // A test failover is decided first: it never goes to a snapshot.
    assert!(
        text.find("if ($in.mode -eq 'test') {")
            .expect("test branch")
            < branch_at
    );
}

#[test]
fn observe_and_capture_should_carry_what_a_drill_checks_in_the_test_replica() {
    let mut spec = spec();
    spec.vm.services = vec!["Double-Take".into(), "MSSQLSERVER".into()];
    spec.vm.ports = vec![6320, 1433];
    for call in [
        payload::observe("hq", &spec, "GCSHOSTB"),
        payload::capture("hq", &spec, "GCSHOSTB"),
    ] {
        // spec.vm's, beside the host's own services and firewall ports.
        assert_eq!(
            call.input["vmServices"],
            serde_json::json!(["Double-Take", "MSSQLSERVER"]),
            "{:?}",
            call.kind
        );
        assert_eq!(
            call.input["vmPorts"],
            serde_json::json!([6320, 1433]),
            "{:?}",
            call.kind
        );
        assert_eq!(
            call.input["services"],
            serde_json::json!(["Double-Take", "Double-Take Management Service"])
        );
        assert_eq!(call.input["ports"], serde_json::json!(spec.firewall.ports));
    }
}

#[test]
fn observe_should_carry_where_a_replica_keeps_its_files_on_the_host() {
    let mut spec = spec();
    // The guide's default: the same folder on both hosts.
    for host in ["GCSHOSTA", "GCSHOSTB"] {
        assert_eq!(
            payload::observe("hq", &spec, host).input["replicaPath"],
            serde_json::json!(r"D:\HVRA_Replicas\10.100.0.45"),
            "{host}"
        );
    }
    // A template naming the target: each host gets the path of the job onto it, as the job
    // that would fail over there was created.
    spec.replication.replica_path = r"E:\Replicas\{target}\{vm} from {source}".into();
    for (host, other) in [("GCSHOSTA", "GCSHOSTB"), ("GCSHOSTB", "GCSHOSTA")] {
        let made = galaxy_ha::manifest::names::job_names("hq", &spec, other, host).replica_path;
        assert_eq!(made, format!(r"E:\Replicas\{host}\GCSServer from {other}"));
        for call in [
            payload::observe("hq", &spec, host),
            payload::capture("hq", &spec, host),
        ] {
            assert_eq!(call.input["replicaPath"], serde_json::json!(made), "{host}");
        }
    }
}
