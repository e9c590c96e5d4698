#!/usr/bin/env bash
# Measures the style detector leaving one model out over ../shared/data: for each reference file
# (one model's outputs), an index is built from every other reference file and half of each
# human and background file (even lines), then the held-out model's file and the other half of
# the human files (odd lines) are scanned. Reports, for texts of 150 words or more, the vendor
# accuracy per held-out model and overall (openai, anthropic, google; vendors with a single model
# apart), the shard-level vendor of each held-out model, model-written against human AUROC and
# the share of human texts called model-written at the default threshold; with a peer on the same
# splits in the same run: scikit-learn TF-IDF (word 1-2-grams) + logistic regression.
# Usage: scripts/eval-style.sh [DATA_DIR] [WORK_DIR]   (ONLY=name1,name2 for some models)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="$(cd "${1:-../shared/data}" && pwd)"
WORK="${2:-/tmp/echoscan-eval-style}"
BIN="$(pwd)/${ECHOSCAN:-.build/release/echoscan}"
[ -x "$BIN" ] || swift build -c release --product echoscan >/dev/null
PYTHON="${ECHOSCAN_PYTHON:-$(scripts/python-env.sh scikit-learn matplotlib)}"
rm -rf "$WORK"; mkdir -p "$WORK/human-train" "$WORK/human-test" "$WORK/folds"
for file in "$DATA"/human/*.jsonl "$DATA"/background/*.jsonl; do
  name=$(basename "$file")
  awk 'NR % 2 == 0' "$file" > "$WORK/human-train/$name"
  awk 'NR % 2 == 1' "$file" > "$WORK/human-test/$name"
done
for file in "$DATA"/reference/*.jsonl; do
  model=$(basename "$file" .jsonl)
  if [ -n "${ONLY:-}" ] && [[ ",$ONLY," != *",$model,"* ]]; then continue; fi
  fold="$WORK/folds/$model"; mkdir -p "$fold/refs"
  for other in "$DATA"/reference/*.jsonl; do [ "$other" = "$file" ] || ln -s "$other" "$fold/refs/"; done
  "$BIN" index build -o "$fold/ref.idx" "$fold/refs" --background "$WORK/human-train" >/dev/null
  mkdir -p "$fold/corpus"; cp "$file" "$fold/corpus/$model.jsonl"
  for human in "$WORK"/human-test/*.jsonl; do ln -s "$human" "$fold/corpus/human__$(basename "$human")"; done
  "$BIN" scan --index "$fold/ref.idx" -o "$fold/scan" "$fold/corpus" >/dev/null || true
  echo "fold $model done" >&2
done
"$PYTHON" scripts/eval_style.py "$DATA" "$WORK"
