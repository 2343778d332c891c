//! Chaos on the simulated lab: random schedules of faults, crashes, edits and commands over
//! hours of virtual time with the controller passing; every DESIGN §11 invariant after every
//! step, and the site protecting an hour after the faults healed.

use galaxy_ha::chaos::{self, Options};

/// Schedules CI runs; `GALAXY_HA_CHAOS_CASES=N` runs more, `GALAXY_HA_CHAOS_SEED=S` one.
const CASES: u64 = 300;

#[test]
fn random_schedules_of_faults_should_never_break_an_invariant_and_should_end_protecting() {
    let options = Options::from_env(CASES).expect("chaos variables");
    let figures = chaos::run(&options).expect("chaos run");
    eprintln!("{}", figures.summary());
    for case in figures.failed.iter().take(3) {
        eprintln!("{}", chaos::describe_failure(case));
    }
    assert_eq!(figures.schedules, options.cases);
    assert!(
        figures.failed.is_empty(),
        "{} of {} schedules broke an invariant; the first:\n{}",
        figures.failed.len(),
        figures.schedules,
        chaos::describe_failure(&figures.failed[0])
    );
    assert_eq!(figures.lost_beyond_source_queue, 0);
}
