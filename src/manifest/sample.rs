//! The guide's own site as a manifest (hosts GCSHOSTA and GCSHOSTB, VM GCSServer): the demo,
//! the benchmarks and the tests all start from it.

use super::spec::{FailoverMode, Manifest};

/// The guide's site `hq` on the simulated lab, with the monitor's defaults (10 s, 5 min).
pub fn guide_site_yaml(mode: FailoverMode) -> String {
    let mode = match mode {
        FailoverMode::Manual => "manual",
        FailoverMode::Automatic => "automatic",
    };
    format!(
        r#"apiVersion: galaxy-ha/v1
kind: RedundantServer
metadata:
  name: hq
spec:
  platform:
    kind: simulated
  hosts:
    - name: GCSHOSTA
      address: 10.100.0.43
    - name: GCSHOSTB
      address: 10.100.0.44
  primary: GCSHOSTA
  vm:
    name: GCSServer
    address: 10.100.0.45
  failover:
    mode: {mode}
"#
    )
}

/// [`guide_site_yaml`], parsed.
pub fn guide_site(mode: FailoverMode) -> Manifest {
    match serde_saphyr::from_str(&guide_site_yaml(mode)) {
        Ok(m) => m,
        Err(e) => unreachable!("the built-in sample manifest parses: {e}"),
    }
}
