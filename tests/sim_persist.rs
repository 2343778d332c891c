//! The lab's world file: created on first use, saved after every change, read back the
//! same, and a corrupt or foreign file refused with a way out.

use std::path::PathBuf;

use galaxy_ha::manifest::Site;
use galaxy_ha::manifest::spec::Manifest;
use galaxy_ha::model::operation::Operation;
use galaxy_ha::observed::Activity;
use galaxy_ha::platform::sim::{Lab, World, world_path};
use galaxy_ha::platform::{Platform, PlatformError};

use crate::sim_support::*;

fn site(yaml: &str) -> Site {
    Site {
        name: "hq".into(),
        path: PathBuf::from("hq.yaml"),
        manifest: serde_saphyr::from_str::<Manifest>(yaml).expect("manifest"),
    }
}

#[test]
fn a_lab_is_created_saved_after_every_change_and_read_back_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = site(&manifest_text());
    let mut lab = Lab::load_or_create(dir.path(), &site).expect("create");
    let path = world_path(dir.path(), "hq");
    assert_eq!(lab.path(), Some(path.as_path()));
    assert!(path.exists(), "a fresh world is saved at once");

    let mut w = lab.world().clone();
    baseline(&mut w);
    *lab.world_mut() = w;
    lab.execute(&Operation::CreateJob(new_job(A, B)))
        .expect("create job");
    lab.sleep(secs(200));
    assert_eq!(lab.now().to_string(), "2026-01-05T08:03:20Z");
    assert_eq!(
        lab.observe().expect("observe").job.map(|j| j.activity),
        Some(Activity::Synchronizing)
    );
    let next = lab.next_change().expect("sync end");

    let again = Lab::load_or_create(dir.path(), &site).expect("load");
    assert_eq!(again.world(), lab.world());
    assert_eq!(again.next_change(), Some(next));
}

#[test]
fn a_corrupt_world_file_names_the_file_and_the_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = world_path(dir.path(), "hq");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, "{ not json").expect("write");
    match Lab::load_or_create(dir.path(), &site(&manifest_text())) {
        Err(e @ PlatformError::State { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(&path.display().to_string()), "{msg}");
            assert!(msg.contains("galaxy-ha sim reset"), "{msg}");
        }
        other => panic!("expected a state error, got {other:?}"),
    }
    let lab = Lab::create(dir.path(), &site(&manifest_text())).expect("reset");
    assert_eq!(lab.world().elapsed(), secs(0));
    assert!(Lab::load_or_create(dir.path(), &site(&manifest_text())).is_ok());
}

#[test]
fn a_world_built_from_another_manifest_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    Lab::load_or_create(dir.path(), &site(&manifest_text())).expect("create");
    let other = manifest_text().replace("GCSHOSTB", "GCSHOSTC");
    let err = Lab::load_or_create(dir.path(), &site(&other)).expect_err("different hosts");
    assert!(err.to_string().contains("different manifest"), "{err}");
}

#[test]
fn the_world_round_trips_through_json_exactly() {
    let mut w = protected();
    w.link_down(A, B).expect("link");
    w.advance(secs(45));
    let json = serde_json::to_string(&w).expect("json");
    let back: World = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, w);
    assert_eq!(back.observe(), w.observe());
}
