//! Two controllers that briefly see different manifest directories (one pulled a new site,
//! the other not yet) disagree on who should own some sites; no site is left without an
//! owner meanwhile, because an owner hands a site over only to a controller that asks.

use crate::fleet_support;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use galaxy_ha::fleet::Turn;
use galaxy_ha::fleet::assign::assign;

use crate::fleet_crash::{Controller, die, member};
use crate::fleet_support::Etcd;

/// Site lists for `a` and `b` (b has one site more) on which their views cross: some site
/// `a` thinks is `b`'s while `b` thinks it is `a`'s.
fn crossed_views() -> (Vec<String>, Vec<String>) {
    let ids = ["a".to_string(), "b".to_string()];
    for n in 3..60 {
        let base: Vec<String> = (0..n).map(|i| format!("site-{i:02}")).collect();
        for extra in 0..60 {
            let mut more = base.clone();
            more.push(format!("new-{extra}"));
            let (va, vb) = (assign(&base, &ids), assign(&more, &ids));
            if base.iter().any(|s| va[s] == "b" && vb[s] == "a") {
                return (base, more);
            }
        }
    }
    panic!("no site list makes the views cross");
}

/// One round of every site task of a controller: pass, hand over or wait.
fn round(rt: &tokio::runtime::Runtime, c: &Controller, sites: &[String]) {
    for site in sites {
        if c.fleet.turn(site) == Turn::Release {
            rt.block_on(c.fleet.release(site));
        }
    }
}

#[test]
fn controllers_that_disagree_on_the_sites_leave_none_without_an_owner() {
    let etcd = Etcd::start();
    let rt = fleet_support::runtime();
    let (sites_a, sites_b) = crossed_views();
    let a = member(&rt, &etcd, "a", &sites_a);
    let b = member(&rt, &etcd, "b", &sites_b);
    let start = Instant::now();
    let mut last_orphans = BTreeSet::new();
    while start.elapsed() < Duration::from_secs(14) {
        round(&rt, &a, &sites_a);
        round(&rt, &b, &sites_b);
        std::thread::sleep(Duration::from_millis(100));
        let owners = rt.block_on(a.fleet.fetch_owners()).unwrap();
        last_orphans = sites_a
            .iter()
            .filter(|s| !owners.contains_key(*s))
            .cloned()
            .collect();
        // Past the first claims and hand-overs (8 s leaves room for a loaded machine), every
        // site the two agree exists keeps an owner.
        if start.elapsed() > Duration::from_secs(8) {
            assert!(
                last_orphans.is_empty(),
                "sites without an owner while the views differ: {last_orphans:?}"
            );
        }
    }
    assert!(last_orphans.is_empty());
    die(&rt, a);
    die(&rt, b);
}
