#!/usr/bin/env bash
# Installs what the tests need and runs them: the README's test command, and exactly what CI runs.
# As root it installs the system packages and starts a one-node Slurm cluster for the Slurm
# executor's tests (scripts/slurm-single-node.sh); elsewhere, without Slurm, those tests are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --no-build --test
if [ "$(id -u)" -eq 0 ]; then
  scripts/slurm-single-node.sh start
elif ! command -v sinfo >/dev/null 2>&1; then
  echo "test: no Slurm here and not root to start one: the Slurm tests are skipped" >&2
  export ECHOSCAN_SKIP_SLURM=1
fi
swift build --product echoscan
log=$(mktemp)
status=0
swift test --disable-swift-testing 2>&1 | tee "$log" || status=$?
# One closing line for any reader: the XCTest totals as "N passed, N failed".
summary=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with [0-9]+ failures?" "$log" | tail -1 || true)
if [ -n "$summary" ]; then
  total=$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
  failed=$(echo "$summary" | sed -E 's/.*with ([0-9]+) failures?.*/\1/')
  echo "tests: $((total - failed)) passed, $failed failed"
fi
rm -f "$log"
exit $status
