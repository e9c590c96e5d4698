#!/usr/bin/env bash
# The main job end to end on the bundled sample data: build a reference index from
# samples/references (with samples/background as human text), scan the shards in samples/corpus,
# and print where the manifest and the summary are.
# Usage: scripts/demo.sh [OUTPUT_DIR]   (default: out/demo)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-out/demo}"
scripts/setup.sh >/dev/null
BIN=.build/release/echoscan
mkdir -p "$OUT"
"$BIN" index build --output "$OUT/reference.idx" samples/references --background samples/background
"$BIN" scan --index "$OUT/reference.idx" --output "$OUT" --pipeline pipelines/default.yaml samples/corpus
