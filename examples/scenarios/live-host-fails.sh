#!/usr/bin/env bash
# The live host fails hard, on the simulated lab, step by step with the CLI: what an admin
# sees in `status` while the failover monitor counts, and what the controller does.
#
#   examples/scenarios/live-host-fails.sh            (uses target/debug/galaxy-ha)
#   GALAXY_HA=/usr/local/bin/galaxy-ha examples/scenarios/live-host-fails.sh
set -euo pipefail
g=${GALAXY_HA:-target/debug/galaxy-ha}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed 's/mode: manual /mode: automatic/' manifests/hq.yaml > "$work/hq.yaml"
m=(-m "$work/hq.yaml")

echo "== protect the site"
"$g" apply "${m[@]}" --yes --wait >/dev/null 2>&1
"$g" status "${m[@]}" | head -4

echo "== GCSHOSTA fails hard"
"$g" sim fault host-down GCSHOSTA "${m[@]}"
for i in $(seq 1 33); do
  "$g" apply "${m[@]}" --yes >/dev/null 2>&1     # one controller pass
  "$g" sim advance 10s "${m[@]}" >/dev/null
done
"$g" status "${m[@]}" | sed -n '1,3p;/Last failover/p'

echo "== GCSHOSTA is back: replication resumes in the other direction"
"$g" sim fault host-up GCSHOSTA "${m[@]}"
"$g" apply "${m[@]}" --yes --wait >/dev/null 2>&1
"$g" status "${m[@]}" | grep -E 'Site|Job |ManifestStale'
