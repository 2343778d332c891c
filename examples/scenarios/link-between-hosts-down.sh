#!/usr/bin/env bash
# Only the link between the hosts goes down: the failover monitor on the standby host counts
# and its condition for failure is met, but the controller still sees System Galaxy running.
# One view alone is a warning, never a failover.
#
#   examples/scenarios/link-between-hosts-down.sh
set -euo pipefail
g=${GALAXY_HA:-target/debug/galaxy-ha}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed 's/mode: manual /mode: automatic/' manifests/hq.yaml > "$work/hq.yaml"
m=(-m "$work/hq.yaml")

"$g" apply "${m[@]}" --yes --wait >/dev/null 2>&1
"$g" sim fault link-down GCSHOSTA GCSHOSTB "${m[@]}"
for i in $(seq 1 40); do
  "$g" apply "${m[@]}" --yes 2>&1 | grep -o 'alert="link-down"' || true
  "$g" sim advance 10s "${m[@]}" >/dev/null
done
"$g" sim show --format json "${m[@]}" | grep -E '"failovers"'
"$g" status "${m[@]}" | grep -E 'Activity|Degraded'
