#!/usr/bin/env bash
# Installs what the tests need and runs them (the README's test command; CI runs exactly this).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --no-build --test
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
