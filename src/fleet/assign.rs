//! Which controller should own which site: rendezvous hashing, bounded so that no controller
//! owns more than its share (⌈sites ÷ controllers⌉). Every controller computes the same
//! answer from the same site names and live controllers, so they agree without talking; when
//! they briefly disagree (one saw a join before another), etcd's create-if-absent claim
//! decides and the loser waits. Pure: no I/O.

use std::collections::HashMap;
use std::hash::Hasher;

/// The owner each site should have. Every controller gets ⌊sites ÷ controllers⌋ sites or one
/// more. Sites are placed in name order on the controller that ranks them highest among
/// those below ⌊sites ÷ controllers⌋; those left over then go, one each, to their
/// highest-ranked controller without an extra one. A join or a departure so moves few sites
/// besides the ones that must move.
pub fn assign(sites: &[String], controllers: &[String]) -> HashMap<String, String> {
    let mut owners = HashMap::with_capacity(sites.len());
    if controllers.is_empty() {
        return owners;
    }
    let mut sorted: Vec<&String> = sites.iter().collect();
    sorted.sort();
    sorted.dedup();
    let floor = sorted.len() / controllers.len();
    let mut load = vec![0usize; controllers.len()];
    let mut extra = vec![false; controllers.len()];
    let mut left = Vec::new();
    for site in sorted {
        let ranked = rank(site, controllers);
        match ranked.iter().find(|&&i| load[i] < floor) {
            Some(&i) => {
                load[i] += 1;
                owners.insert(site.clone(), controllers[i].clone());
            }
            None => left.push((site, ranked)),
        }
    }
    for (site, ranked) in left {
        if let Some(&i) = ranked.iter().find(|&&i| !extra[i]) {
            extra[i] = true;
            owners.insert(site.clone(), controllers[i].clone());
        }
    }
    owners
}

/// The controllers' indexes, the site's favourite first; the controller's name breaks a tie
/// the same way everywhere.
fn rank(site: &str, controllers: &[String]) -> Vec<usize> {
    let mut ranked: Vec<(u64, usize)> = controllers
        .iter()
        .enumerate()
        .map(|(i, c)| (score(site, c), i))
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(controllers[a.1].cmp(&controllers[b.1])));
    ranked.into_iter().map(|(_, i)| i).collect()
}

/// A stable score for (site, controller): FNV-1a, whose output is fixed by its definition
/// (controllers of different builds must agree), then a finalizer that spreads its bits.
fn score(site: &str, controller: &str) -> u64 {
    let mut h = fnv::FnvHasher::default();
    h.write(site.as_bytes());
    h.write(&[0]);
    h.write(controller.as_bytes());
    let mut x = h.finish();
    // splitmix64's finalizer.
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i:03}")).collect()
    }

    fn counts(owners: &HashMap<String, String>) -> HashMap<&str, usize> {
        let mut c = HashMap::new();
        for o in owners.values() {
            *c.entry(o.as_str()).or_default() += 1;
        }
        c
    }

    #[test]
    fn every_site_gets_one_owner_and_none_more_than_its_share() {
        let sites = names("site-", 30);
        let controllers = names("c", 3);
        let owners = assign(&sites, &controllers);
        assert_eq!(owners.len(), 30);
        assert!(counts(&owners).values().all(|&n| n == 10), "{owners:?}");
        let four = assign(&sites, &names("c", 4));
        assert!(
            counts(&four).values().all(|&n| (7..=8).contains(&n)),
            "{four:?}"
        );
        assert_eq!(four.len(), 30);
    }

    #[test]
    fn the_answer_does_not_depend_on_the_order_names_arrive_in() {
        let mut sites = names("s", 50);
        let mut controllers = names("c", 3);
        let a = assign(&sites, &controllers);
        sites.reverse();
        controllers.reverse();
        assert_eq!(a, assign(&sites, &controllers));
    }

    #[test]
    fn a_departure_moves_only_the_departed_controllers_sites_and_few_others() {
        let sites = names("s", 300);
        let before = assign(&sites, &names("c", 3));
        let after = assign(&sites, &names("c", 2));
        let moved_from_survivors = sites
            .iter()
            .filter(|s| before[*s] != "c002" && before[*s] != after[*s])
            .count();
        assert!(after.values().all(|c| c != "c002"));
        // The survivors keep nearly all of their sites.
        assert!(moved_from_survivors < 30, "{moved_from_survivors} moved");
    }

    #[test]
    fn no_controllers_means_no_owners() {
        assert!(assign(&names("s", 3), &[]).is_empty());
    }
}
