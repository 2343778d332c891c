//! A fleet of three real `galaxy-ha run` controllers on a real etcd, thirty sites on the
//! simulated lab: sites spread evenly, a killed controller's sites are taken over in time, a
//! stopped one acts on none of the sites it lost, live hosts failing during a takeover fail
//! over exactly once, and nothing disruptive happens while etcd is away.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::fleet_support::{Fleet, live_host};

const ALL: [&str; 3] = ["c1", "c2", "c3"];

/// The sites each controller owns.
fn by_owner(owners: &[(String, String)]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (site, owner) in owners {
        map.entry(owner.clone()).or_default().push(site.clone());
    }
    map
}

/// Waits until every one of `sites` is owned by one of `owners`; returns how long it took.
fn wait_owned(fleet: &Fleet, sites: &[String], owners: &[&str], limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let now = fleet.owners();
        let done = sites.iter().all(|s| {
            now.iter()
                .any(|(n, o)| n == s && owners.contains(&o.as_str()))
        });
        if done {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "{sites:?} not owned by {owners:?} within {limit:?}: {now:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until `check` holds for the site's failover count.
fn wait_failovers(fleet: &Fleet, site: &str, limit: Duration, check: impl Fn(u64) -> bool) {
    let start = Instant::now();
    loop {
        let n = fleet.failovers(site);
        if check(n) {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "{site}: {n} failovers after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_killed_controllers_sites_are_taken_over_in_time_and_hosts_failing_meanwhile_fail_over_once() {
    let mut fleet = Fleet::start(3, 30, 300);
    let owners = fleet.wait_protecting(&ALL, Duration::from_secs(120));
    let spread = by_owner(&owners);
    assert_eq!(
        spread.values().map(Vec::len).collect::<Vec<_>>(),
        vec![10, 10, 10],
        "thirty sites spread evenly over three controllers: {spread:?}"
    );
    // Each controller's status API (the dashboard's source) lists every site with its
    // owner, and reports in full the sites it owns.
    let mut api = crate::run_support::api_status(fleet.ports[0]);
    let start = Instant::now();
    while api["sites"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["owner"].is_null())
    {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "owners unknown: {api}"
        );
        std::thread::sleep(Duration::from_millis(200));
        api = crate::run_support::api_status(fleet.ports[0]);
    }
    let sites = api["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 30);
    for s in sites {
        let name = s["name"].as_str().unwrap();
        let owner = &owners.iter().find(|(n, _)| n == name).unwrap().1;
        assert_eq!(s["owner"].as_str(), Some(owner.as_str()), "{s}");
        assert_eq!(s["live_host"].is_string(), owner == "c1", "{s}");
    }
    let doc = fleet.status();
    let live: BTreeMap<String, String> = doc["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap().to_string(), live_host(s)))
        .collect();
    let victims = spread["c2"].clone();
    // Live hosts fail just before the kill, and during the takeover; one site of each
    // survivor fails too.
    let mut failing: Vec<String> = victims[..2].to_vec();
    for site in &failing {
        fleet.host_down(site, &live[site]);
    }
    fleet.signal(1, "KILL");
    let killed = Instant::now();
    let during = [
        victims[2].clone(),
        victims[3].clone(),
        spread["c1"][0].clone(),
        spread["c3"][0].clone(),
    ];
    for site in &during {
        fleet.host_down(site, &live[site]);
    }
    failing.extend(during);
    wait_owned(&fleet, &victims, &["c1", "c3"], Duration::from_secs(30));
    let taken_over = killed.elapsed();
    // The lease's TTL (3 s) from its last renewal, one monitor interval (1 s), and room for
    // a loaded CI machine.
    assert!(
        taken_over < Duration::from_secs(10),
        "c2's sites were taken over after {taken_over:?}"
    );
    for site in &failing {
        fleet.host_kept_down(site, &live[site]);
        wait_failovers(&fleet, site, Duration::from_secs(60), |n| n >= 1);
    }
    for site in &failing {
        fleet.host_up(site, &live[site]);
    }
    let after = fleet.wait_protecting(&["c1", "c3"], Duration::from_secs(120));
    let spread = by_owner(&after);
    assert_eq!(
        spread.values().map(Vec::len).collect::<Vec<_>>(),
        vec![15, 15],
        "the survivors share the sites evenly: {spread:?}"
    );
    for site in &fleet.sites {
        let expected = u64::from(failing.contains(site));
        assert_eq!(
            fleet.failovers(site),
            expected,
            "{site}: one failover per failure, none without one"
        );
    }
    // The journal lives in etcd: `history` reads it there, whoever wrote it.
    let out = fleet.cli(&[
        "history",
        "--coordination",
        "etcd",
        "--etcd-endpoints",
        &fleet.etcd.endpoint,
        "--site",
        &failing[0],
        "--kind",
        "failover",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.lines()
            .any(|l| l.contains(" failover ") && l.contains("fail over job")),
        "{text}"
    );
}

/// The lines of a log after its first `skip` lines.
fn lines_after(text: &str, skip: usize) -> Vec<&str> {
    text.lines().skip(skip).collect()
}

#[test]
fn a_controller_stopped_past_its_lease_acts_on_none_of_the_sites_it_lost() {
    let mut fleet = Fleet::start(3, 30, 300);
    let owners = fleet.wait_protecting(&ALL, Duration::from_secs(120));
    let lost = by_owner(&owners)["c2"].clone();
    fleet.signal(1, "STOP");
    wait_owned(&fleet, &lost, &["c1", "c3"], Duration::from_secs(30));
    // Work waits on every site c2 lost as it wakes: a stopped service, which the new owner
    // starts, and which c2 would start too if it still acted on the site.
    for site in &lost {
        let out = fleet.cli(&[
            "sim",
            "fault",
            "service-stop",
            "GCSHOSTA",
            "Double-Take",
            "--site",
            site,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mark = fleet.log_text(1).lines().count();
    fleet.signal(1, "CONT");
    // c2 finds its lease expired, takes a new one, and gets its share back by claiming it.
    let start = Instant::now();
    loop {
        let text = fleet.log_text(1);
        let after = lines_after(&text, mark);
        if after
            .iter()
            .filter(|l| l.contains("claimed the site"))
            .count()
            >= 5
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "c2 claimed no sites again; its log after SIGCONT:\n{}",
            after.join("\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    fleet.wait_protecting(&ALL, Duration::from_secs(60));
    let text = fleet.log_text(1);
    let after = lines_after(&text, mark);
    assert!(
        after.iter().any(|l| l.contains("the lease expired")),
        "c2 noticed it lost its lease:\n{}",
        after.join("\n")
    );
    for site in &lost {
        let quoted = format!("site=\"{site}\"");
        let field = format!("site={site}");
        let claimed = after
            .iter()
            .position(|l| l.contains("claimed the site") && l.contains(&quoted))
            .unwrap_or(after.len());
        let acted = after[..claimed]
            .iter()
            .find(|l| l.contains(&field) && (l.contains("applied:") || l.contains("failed:")));
        assert!(
            acted.is_none(),
            "c2 acted on {site}, which it had lost, before claiming it again: {acted:?}"
        );
    }
}

#[test]
fn while_etcd_is_away_no_disruptive_action_is_taken_and_all_resumes_after() {
    let mut fleet = Fleet::start(3, 30, 300);
    let owners = fleet.wait_protecting(&ALL, Duration::from_secs(120));
    let spread = by_owner(&owners);
    // One failing site per controller.
    let failing: Vec<String> = ALL.iter().map(|c| spread[*c][0].clone()).collect();
    fleet.etcd.stop();
    for site in &failing {
        fleet.host_down(site, "GCSHOSTA");
        // Well past the failover monitor's condition for failure (5 min): a controller that
        // acted without its lease would fail over now.
        let out = fleet.cli(&["sim", "advance", "20m", "--site", site]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Past the TTL and several monitor intervals without etcd.
    std::thread::sleep(Duration::from_secs(6));
    for site in &failing {
        assert_eq!(
            fleet.failovers(site),
            0,
            "{site}: no failover while no controller can prove its lease"
        );
    }
    for (i, id) in ALL.iter().enumerate() {
        assert!(
            fleet.log_text(i).contains("cannot renew the lease"),
            "{id} noticed etcd was away"
        );
    }
    fleet.etcd.resume();
    for site in &failing {
        wait_failovers(&fleet, site, Duration::from_secs(60), |n| n >= 1);
        fleet.host_up(site, "GCSHOSTA");
    }
    fleet.wait_protecting(&ALL, Duration::from_secs(120));
    for site in &fleet.sites {
        let expected = u64::from(failing.contains(site));
        assert_eq!(fleet.failovers(site), expected, "{site}");
    }
}

#[test]
fn fleet_flags_that_cannot_work_are_refused_with_how_to_fix_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("hq.yaml"),
        crate::fleet_support::site_manifest("hq"),
    )
    .unwrap();
    let state = tmp.path().join("s");
    let galaxy = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
            .args(args)
            .arg("-m")
            .arg(&dir)
            .arg("--state-dir")
            .arg(&state)
            .env_remove("GALAXY_HA_ETCD_ENDPOINTS")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let etcd = [
        "--coordination",
        "etcd",
        "--etcd-endpoints",
        "http://127.0.0.1:1",
    ];
    let cases: [(Vec<&str>, &str); 5] = [
        (
            vec!["run", "--coordination", "etcd"],
            "needs --etcd-endpoints",
        ),
        (
            [&["run", "--lease-ttl", "1s"][..], &etcd[..]].concat(),
            "use 2s or more",
        ),
        (
            [&["run", "--controller-id", "a/b"][..], &etcd[..]].concat(),
            "--controller-id: \"a/b\"",
        ),
        (
            [&["run", "--dry-run"][..], &etcd[..]].concat(),
            "--dry-run cannot join a fleet",
        ),
        (
            vec![
                "run",
                "--coordination",
                "etcd",
                "--etcd-endpoints",
                "127.0.0.1:2379",
            ],
            "write it as http://HOST:PORT",
        ),
    ];
    for (args, message) in cases {
        let (code, stderr) = galaxy(&args);
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    // A state dir a fleet works from refuses a lone controller's actions.
    std::fs::create_dir_all(state.join("controllers").join("c1")).unwrap();
    let (code, stderr) = galaxy(&["apply", "--yes"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("setting spec.primary"), "{stderr}");
}
