//! Manifest values reach scripts only as data: whatever a name holds (quotes, `$`,
//! backticks, semicolons, newlines), the script text is the same and the value comes back
//! exactly from the JSON the script reads.

use std::time::Duration;

use galaxy_ha::manifest::spec::{Manifest, Threshold};
use galaxy_ha::model::operation::{MonitorOptions, NewJob, Operation, Place};
use galaxy_ha::platform::powershell::payload::{self, ascii_json};
use galaxy_ha::platform::powershell::scripts::script;
use galaxy_ha::platform::powershell::sim_runner::decode;
use proptest::prelude::*;

fn spec() -> galaxy_ha::manifest::spec::SiteSpec {
    let yaml = "apiVersion: galaxy-ha/v1\nkind: RedundantServer\nmetadata: {name: hq}\nspec:\n  \
        hosts: [{name: GCSHOSTA, address: 10.100.0.43}, {name: GCSHOSTB, address: 10.100.0.44}]\n  \
        primary: GCSHOSTA\n  vm: {name: GCSServer, address: 10.100.0.45}\n";
    serde_saphyr::from_str::<Manifest>(yaml)
        .expect("manifest")
        .spec
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
        let ops = vec![
            Operation::CreateJob(NewJob {
                name: job.clone(),
                vm: "GCSServer".into(),
                source: "GCSHOSTA".into(),
                target: "GCSHOSTB".into(),
                replica: replica.clone(),
                replica_path: path.clone(),
                monitor: MonitorOptions { interval: Duration::from_secs(10), threshold: Threshold::TotalTime(Duration::from_secs(300)) },
            }),
            Operation::StartService { place: Place::Guest("GCSHOSTA".into()), service: service.clone() },
            Operation::DeleteJob { job: job.clone(), target: "GCSHOSTB".into(), delete_replica: true },
            Operation::StopVm { host: "GCSHOSTA".into(), vm: replica.clone(), turn_off: false },
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
    let secret = payload::Secret::new("s3cr3t-'$`");
    let call = payload::operation("hq", &spec(), &op, Some(&secret)).expect("call");
    assert_eq!(call.input["password"], "s3cr3t-'$`");
    assert!(!script(call.kind).text.contains("s3cr3t"));
    assert_eq!(format!("{secret:?}"), "Secret(***)");
}
