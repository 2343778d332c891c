//! Manifest benchmarks: loading and validating a directory of 1,000 manifests.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Times `f` `runs` times after one warm-up run; returns (median, min).
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration) {
    std::hint::black_box(f());
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[times.len() / 2], times[0])
}

/// A full manifest for site `i`: every section, so every rule runs.
fn manifest(i: usize) -> String {
    let (a, b) = (i / 250, i % 250);
    format!(
        r#"# yaml-language-server: $schema=../schemas/manifest.schema.json
apiVersion: galaxy-ha/v1
kind: RedundantServer
metadata:
  name: site-{i:04}
spec:
  platform:
    kind: simulated
  hosts:
    - name: HOST{i:04}A
      address: 10.{a}.{b}.43
    - name: HOST{i:04}B
      address: 10.{a}.{b}.44
  primary: HOST{i:04}A
  vm:
    name: GCSServer
    address: 10.{a}.{b}.45
  network:
    prefix: 10.{a}.{b}.0/24
  replication:
    jobName: "{{vm}} to {{target}}"
    replicaName: "{{vm}}_Replica_{{target}}"
    replicaPath: 'D:\HVRA_Replicas\{{vm_address}}'
  failover:
    mode: automatic
    monitor:
      interval: 10s
      totalTimeToFailure: 5m
    applyQueuedData: true
    maxDataLoss: 30s
  services:
    - name: Double-Take
      startup: automatic
    - name: Double-Take Management Service
      startup: automatic-delayed
  firewall:
    ports: [6320, 6325, 6330, 6332]
  notifications:
    email:
      smtp:
        server: mailserver.domain.com
        port: 587
        security: starttls
        username: galaxy-alerts
        passwordFrom: {{ env: GALAXY_HA_SMTP_PASSWORD }}
      from: galaxy-ha@domain.com
      to: [security-ops@domain.com]
      include: [warning, error]
      excludeEventIds: "4000,4002,4010-4020"
"#
    )
}

fn write_sites(dir: &Path, n: usize) {
    for i in 0..n {
        std::fs::write(dir.join(format!("site-{i:04}.yaml")), manifest(i)).expect("write manifest");
    }
}

/// `manifest::load` over a directory of 1,000 manifests (target: under 1 s).
pub fn bench_validate_1000() -> Vec<crate::Figure> {
    let dir = tempfile::tempdir().expect("tempdir");
    write_sites(dir.path(), 1000);
    let paths: Vec<PathBuf> = vec![dir.path().to_path_buf()];
    let (median, min) = time(7, || {
        let sites = galaxy_ha::manifest::load(&paths)
            .unwrap_or_else(|e| panic!("generated manifests are invalid:\n{e}"));
        assert_eq!(sites.len(), 1000);
        sites
    });
    vec![crate::Figure::held(
        "validate 1,000 manifests (load, parse, validate a directory)",
        format!(
            "{} median, {} min of 7",
            crate::report::human(median),
            crate::report::human(min)
        ),
        "< 1 s",
        median < Duration::from_secs(1),
    )]
}
