#!/usr/bin/env bash
# Installs what the tests need and runs them (the README's test command; CI runs exactly this).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --no-build
swift build --product echoscan
swift test
