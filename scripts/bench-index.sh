#!/usr/bin/env bash
# The reference index against its size: for each scale S of SCALES (default "1 10"), the
# references of DATA/reference plus (S-1) times their size of distinct text, built into an index
# and scanned. The text is this machine's documentation (scripts/make_doc_references.py, about
# 250 MB of it) or, with EXTRA_TEXT=ngram, answers of a word bigram model of DATA
# (scripts/make_ngram_references.py, any size). Reports build
# seconds, MB of reference text per second per core and peak RSS; index bytes per reference byte;
# scan start-up (one document, best of 3) and its peak RSS; a one-core scan of a clean 50 MB
# corpus (MB/s, peak RSS). Writes WORK/bench-index.tsv and docs/index-scaling.png.
# Usage: scripts/bench-index.sh [DATA_DIR] [WORK_DIR]    (SCALES="1 10 100" EXTRA_TEXT=ngram for
# 100x: 2.6 GB of generated text; the plot goes to docs/index-scaling-ngram.png then)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${1:-../shared/data}"
WORK="${2:-/tmp/echoscan-bench-index}"
SCALES="${SCALES:-1 10}"
EXTRA_TEXT="${EXTRA_TEXT:-docs}"
PLOT=docs/index-scaling.png
[ "$EXTRA_TEXT" = docs ] || PLOT="docs/index-scaling-$EXTRA_TEXT.png"
BIN="$(pwd)/.build/release/echoscan"
swift build -c release --product echoscan >/dev/null
mkdir -p "$WORK"
[ -f "$WORK/corpus.jsonl.zst" ] || { python3 scripts/make_bench_corpus.py "$DATA" "$WORK/corpus.jsonl" 50 >/dev/null; zstd -q -f "$WORK/corpus.jsonl" -o "$WORK/corpus.jsonl.zst"; }
printf '{"id": "one", "text": "A single short document for the start-up time."}\n' > "$WORK/one.jsonl"
BASE_MB=$(python3 -c "import json,glob,sys; print(sum(len(json.loads(l)['text'].encode()) for f in glob.glob(sys.argv[1] + '/*.jsonl') for l in open(f))/1e6)" "$DATA/reference")
printf "scale\treference_mb\tbuild_s\tbuild_mb_s_per_core\tbuild_rss_mb\tindex_mb\tindex_bytes_per_byte\tstartup_s\tstartup_rss_mb\tscan_mb_s\tscan_rss_mb\n" > "$WORK/bench-index.tsv"
for SCALE in $SCALES; do
  EXTRA="$WORK/docs-x$SCALE.jsonl"
  rm -f "$EXTRA"
  INPUTS=("$DATA/reference")
  if [ "$SCALE" -gt 1 ]; then
    MB=$(python3 -c "print($BASE_MB * ($SCALE - 1))")
    if [ "$EXTRA_TEXT" = ngram ]; then
      GOT=$("$(scripts/python-env.sh numpy)" scripts/make_ngram_references.py "$DATA" "$EXTRA" "$MB")
    else
      GOT=$(python3 scripts/make_doc_references.py "$EXTRA" "$MB")
    fi
    echo "scale $SCALE: $GOT MB of $EXTRA_TEXT text added"
    INPUTS+=("$EXTRA")
  fi
  IDX="$WORK/x$SCALE.idx"
  BUILD=$( { /usr/bin/time -f "TIME %e %M" "$BIN" index build --threads 2 -o "$IDX" "${INPUTS[@]}" --background "$DATA/human" "$DATA/background" >"$WORK/build-x$SCALE.log"; } 2>&1 | grep TIME)
  REF_MB=$(grep -o '^[0-9.]* MB of reference text' "$WORK/build-x$SCALE.log" | cut -d' ' -f1)
  START=9; START_RSS=0
  for _ in 1 2 3; do
    LINE=$( { /usr/bin/time -f "TIME %e %M" "$BIN" scan --rescan --index "$IDX" -o "$WORK/one-out" "$WORK/one.jsonl" >/dev/null; } 2>&1 | grep TIME)
    START=$(python3 -c "print(min($START, $(echo "$LINE" | cut -d' ' -f2)))")
    START_RSS=$(echo "$LINE" | cut -d' ' -f3)
  done
  SCAN=$( { /usr/bin/time -f "TIME %e %M" taskset -c 0 "$BIN" scan --rescan --threads 1 --index "$IDX" -o "$WORK/scan-out" "$WORK/corpus.jsonl.zst" >/dev/null; } 2>&1 | grep TIME)
  python3 - "$SCALE" "$REF_MB" "$BUILD" "$(stat -c %s "$IDX")" "$START" "$START_RSS" "$SCAN" >> "$WORK/bench-index.tsv" <<'PY'
import sys
scale, ref_mb, build, size, start, start_rss, scan = sys.argv[1:]
_, build_s, build_rss = build.split()
_, scan_s, scan_rss = scan.split()
ref_mb = float(ref_mb); build_s = float(build_s)
print("\t".join(str(x) for x in [scale, ref_mb, build_s, round(ref_mb / build_s / 2, 2), round(int(build_rss) / 1024),
      round(int(size) / 1e6, 1), round(int(size) / 1e6 / ref_mb, 2), start, round(int(start_rss) / 1024),
      round(50.0 / float(scan_s), 1), round(int(scan_rss) / 1024)]))
PY
  rm -f "$EXTRA"
done
column -t "$WORK/bench-index.tsv"
"$(scripts/python-env.sh matplotlib)" - "$WORK/bench-index.tsv" "$PLOT" <<'PY'
import csv, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
size = [float(r["index_mb"]) for r in rows]
fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
axes[0].plot(size, [float(r["startup_s"]) for r in rows], "o-"); axes[0].set_title("scan start-up (s)")
axes[1].plot(size, [float(r["startup_rss_mb"]) for r in rows], "o-", label="start-up")
axes[1].plot(size, [float(r["scan_rss_mb"]) for r in rows], "s-", label="50 MB scan"); axes[1].set_title("scan peak RSS (MB)"); axes[1].legend()
axes[2].plot(size, [float(r["build_mb_s_per_core"]) for r in rows], "o-"); axes[2].set_title("build MB/s per core")
for axis in axes: axis.set_xlabel("index size (MB)")
fig.tight_layout(); fig.savefig(sys.argv[2], dpi=100)
print("wrote", sys.argv[2])
PY
