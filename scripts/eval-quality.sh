#!/usr/bin/env bash
# Measures detection quality on a planted-contamination corpus built from ../shared/data (see
# scripts/make_corpus.py: transform families with random parameters): recall per family and for
# the target slices, false-positive rate per kind of negative, right model among hits, for
# echoscan and, on the same corpus in the same run, two baselines (13-gram overlap; MinHash-LSH
# at Jaccard 0.8). Recall curves go to WORK_DIR/recall.png. Then the calibration: at nominal rates
# from 0.01 to 0.0003, the share of each kind of negative whose false-match probability is at most
# the rate (from a third scan that reports every match).
# Usage: scripts/eval-quality.sh [DATA_DIR] [WORK_DIR]
# SEED=N draws another corpus from the same data. Choose anything on some seeds and report on
# others: docs/QUALITY.md says which seeds its tables come from. EXTRA_REFERENCES="PATH..." indexes
# more reference files beside the nine model sets (other models, generated text: quality as the
# index grows); the 13-gram baseline does not see them.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${1:-../shared/data}"
WORK="${2:-/tmp/echoscan-eval}"
BIN="${ECHOSCAN:-.build/release/echoscan}"
[ -x "$BIN" ] || swift build -c release --product echoscan >/dev/null
rm -rf "$WORK"
PYTHON=$(scripts/python-env.sh matplotlib)
"$PYTHON" scripts/make_corpus.py --data "$DATA" --out "$WORK" --seed "${SEED:-20261129}" \
  --indexed alpaca_eval__gpt4 alpaca_eval__claude-2 alpaca_eval__gemini-pro alpaca_eval__mistral-large-2402 \
            alpaca_eval__cohere arena-hard__gpt-4-0314 self-instruct__text-davinci-003 gsm8k__175b_finetuning fastchat__bard \
  --negative-models alpaca_eval__gpt4_1106_preview alpaca_eval__claude-3-opus-20240229 alpaca_eval__gpt-4o-2024-05-13 \
            alpaca_eval__claude-2.1 arena-hard__gpt-4-0613 arena-hard__gpt-3.5-turbo-0125 self-instruct__text-davinci-002 \
            fastchat__gpt-3.5-turbo alpaca_eval__text_davinci_001 \
  --sibling-models alpaca_eval__gpt4_1106_preview alpaca_eval__claude-2.1 arena-hard__gpt-4-0613 self-instruct__text-davinci-002
# shellcheck disable=SC2086 # EXTRA_REFERENCES is a list of paths
"$BIN" index build -o "$WORK/ref.idx" "$WORK/references" ${EXTRA_REFERENCES:-} --background "$WORK/background"
"$BIN" scan --index "$WORK/ref.idx" -o "$WORK/scan" --pipeline pipelines/default.yaml "$WORK/corpus" >/dev/null
cat > "$WORK/neardup.yaml" <<'YAML'
version: 1
detectors:
  max_false_match_rate: 1
  near_duplicate: {enabled: true, threshold: 0.8}
  containment: {enabled: false}
  marker: {enabled: false}
YAML
"$BIN" scan --index "$WORK/ref.idx" -o "$WORK/neardup" --pipeline "$WORK/neardup.yaml" "$WORK/corpus" >/dev/null
cat > "$WORK/every-match.yaml" <<'YAML'
version: 1
detectors: {max_false_match_rate: 1}
outputs: {attributes: false, max_matches: 100}
YAML
"$BIN" scan --index "$WORK/ref.idx" -o "$WORK/every-match" --pipeline "$WORK/every-match.yaml" "$WORK/corpus" >/dev/null
"$PYTHON" scripts/eval_quality.py "$WORK/labels.jsonl" "$WORK/references" "$WORK/corpus" \
  "$WORK/scan/manifest.jsonl" "$WORK/neardup/manifest.jsonl" "$WORK/recall.png" \
  --calibration "$WORK/every-match/manifest.jsonl"
