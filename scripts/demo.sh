#!/usr/bin/env bash
# The main job end to end on the bundled sample data: build a reference index from
# samples/references (with samples/background as human text), scan the shards in samples/corpus,
# then the chat conversations of samples/chat (JSONL and Parquet, --format chat), and print where
# the manifests and the summaries are.
# Usage: scripts/demo.sh [OUTPUT_DIR]   (default: out/demo)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-out/demo}"
scripts/setup.sh >/dev/null
BIN=.build/release/echoscan
mkdir -p "$OUT"
"$BIN" index build --output "$OUT/reference.idx" samples/references --background samples/background
"$BIN" scan --index "$OUT/reference.idx" --output "$OUT" --pipeline pipelines/default.yaml samples/corpus
"$BIN" scan --index "$OUT/reference.idx" --output "$OUT/chat" --pipeline pipelines/default.yaml --format chat samples/chat
