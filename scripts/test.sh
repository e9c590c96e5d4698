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
# Real Parquet writers for the reader's tests; the tests fail, not skip, when this is set and broken.
ECHOSCAN_PYTHON=$(scripts/python-env.sh)
export ECHOSCAN_PYTHON
swift build --product echoscan
log=$(mktemp)
# One closing line per pass for any reader: the XCTest totals as "N passed, N failed".
totals() {
  local summary total failed skipped
  summary=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with .*[0-9]+ failures?" "$log" | tail -1 || true)
  [ -n "$summary" ] || return 0
  total=$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
  failed=$(echo "$summary" | sed -E 's/.* ([0-9]+) failures?.*/\1/')
  skipped=$(echo "$summary" | sed -nE 's/.* ([0-9]+) tests? skipped.*/\1/p')
  skipped=${skipped:-0}
  echo "$1: $((total - failed - skipped)) passed, $skipped skipped, $failed failed"
}
status=0
swift test --disable-swift-testing 2>&1 | tee "$log" || status=$?
totals tests
# The fuzz corpus through the fuzz target's replay build: a crash fails the run.
swift build --product echoscan-fuzz 2>&1 | tail -1
.build/debug/echoscan-fuzz Tests/FuzzCorpus/* || status=$?
# The same tests again, built with AddressSanitizer (its own build folder): the reader, the
# tokenizer and the index write through unsafe pointers, and an overflow into spare capacity
# changes no output that a test could compare. Leaks at exit are not checked (the runtime's own
# caches show up as leaks when a command exits early). ECHOSCAN_ASAN=0 skips this pass; the
# Slurm tests are not repeated in it.
if [ "${ECHOSCAN_ASAN:-1}" != 0 ]; then
  asan_status=0
  ASAN_OPTIONS=detect_leaks=0 ECHOSCAN_SKIP_SLURM=1 swift test --disable-swift-testing --scratch-path .build-asan \
    --sanitize=address 2>&1 | tee "$log" || asan_status=$?
  if grep -q "ERROR: AddressSanitizer" "$log"; then asan_status=1; fi
  totals "tests under AddressSanitizer"
  swift build --product echoscan-fuzz --scratch-path .build-asan --sanitize=address 2>&1 | tail -1
  ASAN_OPTIONS=detect_leaks=0 .build-asan/debug/echoscan-fuzz Tests/FuzzCorpus/* || asan_status=$?
  [ $asan_status -eq 0 ] || status=$asan_status
fi
rm -f "$log"
exit $status
