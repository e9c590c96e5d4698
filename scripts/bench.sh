#!/usr/bin/env bash
# Throughput benchmarks (never timed unit tests). Figures are wall-clock seconds from
# /usr/bin/time on this machine; compare ratios measured in the same run, since machines are noisy.
#   1. read floor: `echoscan stats` vs `zstd -dc | wc -l` on a 200 MB .jsonl.zst, one core; the same
#      records as a Parquet shard (pyarrow, zstd, row groups of 64 MiB) through `echoscan stats`, and
#      its peak RSS beside that of a file of ten times as many row groups (bounded by a row group)
#   2. index build over all of DATA/reference: MB of reference text per second per core, index size,
#      and peak RSS for the references and for four times as many (bounded memory)
#   3. scan: MB of uncompressed text per second, one core (taskset) and two threads on two cores,
#      in alternating pairs (PAIRS, default 5) so that the speed-up compares runs of the same moment
#   4. the style detector's share of a one-core scan (style on and off, alternating pairs)
# Usage: scripts/bench.sh [DATA_DIR] [WORK_DIR] [MEGABYTES]   (ONLY=read stops after section 1;
# ONLY=style builds the index and runs section 4 alone; ECHOSCAN=path measures that binary)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${1:-../shared/data}"
WORK="${2:-/tmp/echoscan-bench}"
MB="${3:-200}"
BIN="${ECHOSCAN:-$(pwd)/.build/release/echoscan}"
[ -n "${ECHOSCAN:-}" ] || swift build -c release --product echoscan >/dev/null
mkdir -p "$WORK"
CORPUS="$WORK/corpus-${MB}MB.jsonl"
if [ ! -f "$CORPUS.zst" ]; then
  python3 scripts/make_bench_corpus.py "$DATA" "$CORPUS" "$MB"
  zstd -q -f -T0 "$CORPUS" -o "$CORPUS.zst"
fi
TEXT_MB=$(python3 -c "import json,sys; print(sum(len(json.loads(l)['text'].encode()) for l in open(sys.argv[1]))/1e6)" "$CORPUS")
PAIRS="${PAIRS:-5}"
seconds() { /usr/bin/time -f "%e" "$@" 2>&1 >/dev/null | tail -1; }
best() { local b=""; for _ in 1 2 3; do t=$(seconds "$@"); b=$(python3 -c "print(min(float('$t'), float('${b:-1e9}')))"); done; echo "$b"; }

if [ "${ONLY:-}" != style ]; then
echo "== read floor (one core, best of 3)"
ZSTD_WC=$(best taskset -c 0 sh -c "zstd -dc '$CORPUS.zst' | wc -l")
STATS=$(best taskset -c 0 "$BIN" stats "$CORPUS.zst")
python3 -c "print(f'zstd -dc | wc -l: {$ZSTD_WC:.2f} s; echoscan stats: {$STATS:.2f} s; ratio {$STATS/$ZSTD_WC:.2f}x (target <= 1.5x)')"
PYTHON=$(scripts/python-env.sh)
if [ ! -f "$WORK/corpus-${MB}MB.parquet" ]; then
  "$PYTHON" - "$CORPUS" "$WORK/corpus-${MB}MB.parquet" <<'PY'
import sys, pyarrow.json as pj, pyarrow.parquet as pq
table = pj.read_json(sys.argv[1])
# Row groups of about 64 MiB of text, as the Hugging Face hub's shards have.
rows = max(1, int(len(table) * (64 << 20) / max(1, table.nbytes)))
pq.write_table(table, sys.argv[2], compression="zstd", row_group_size=rows)
# Ten times the records, in ten times as many row groups of the same size.
with pq.ParquetWriter(sys.argv[2].replace(".parquet", "-x10.parquet"), table.schema, compression="zstd") as writer:
    for _ in range(10):
        writer.write_table(table, row_group_size=rows)
PY
fi
PARQUET=$(best taskset -c 0 "$BIN" stats "$WORK/corpus-${MB}MB.parquet")
python3 -c "print(f'parquet (zstd) through echoscan stats: {$PARQUET:.2f} s = {$TEXT_MB/$PARQUET:.0f} MB/s of text per core; .jsonl.zst {$STATS:.2f} s = {$TEXT_MB/$STATS:.0f} MB/s; parquet/jsonl.zst {$PARQUET/$STATS:.2f}x (target <= 1.0x)')"
for FILE in "$WORK/corpus-${MB}MB.parquet" "$WORK/corpus-${MB}MB-x10.parquet" "$WORK/corpus-${MB}MB.jsonl.zst"; do
  /usr/bin/time -f "$(basename "$FILE"): peak RSS %M KB" "$BIN" stats "$FILE" 2>&1 >/dev/null | tail -1
done
[ "${ONLY:-}" = read ] && exit 0
fi

echo "== index build over $DATA/reference"
"$BIN" index build -o "$WORK/reference.idx" "$DATA/reference" --background "$DATA/human" "$DATA/background" | tail -1
if [ "${ONLY:-}" != style ]; then
/usr/bin/time -f "peak RSS %M KB" "$BIN" index build -o "$WORK/reference.idx" "$DATA/reference" --background "$DATA/human" "$DATA/background" 2>&1 >/dev/null | tail -1

echo "== index build memory: the references, then 4 edited copies of them, with --sort-memory 64 (MiB)"
[ -d "$WORK/references-x4" ] || python3 scripts/make_scaled_references.py "$DATA/reference" "$WORK/references-x4" 4
for SET in "$DATA/reference" "$WORK/references-x4"; do
  /usr/bin/time -f "$SET: %e s, peak RSS %M KB" "$BIN" index build --sort-memory 64 -o "$WORK/scaled.idx" "$SET" \
    --background "$DATA/human" "$DATA/background" 2>&1 >/dev/null | tail -1
done
rm -f "$WORK/scaled.idx"

# One- and two-thread runs alternate, so that both see the same drift of this machine's speed;
# the speed-up is the median of the pairs' ratios.
echo "== scan of $TEXT_MB MB of text ($PAIRS alternating pairs of one-core and two-thread runs)"
TIMES=""
for _ in $(seq "$PAIRS"); do
  ONE=$(seconds taskset -c 0 "$BIN" scan --rescan --threads 1 --index "$WORK/reference.idx" -o "$WORK/scan1" "$CORPUS.zst")
  TWO=$(seconds "$BIN" scan --rescan --threads 2 --index "$WORK/reference.idx" -o "$WORK/scan2" "$CORPUS.zst")
  TIMES="$TIMES $ONE,$TWO"
done
python3 - "$TEXT_MB" $TIMES <<'PY'
import statistics, sys
mb = float(sys.argv[1])
pairs = [tuple(map(float, p.split(","))) for p in sys.argv[2:]]
one = [a for a, _ in pairs]; two = [b for _, b in pairs]
print(f"one core: best {min(one):.2f} s = {mb/min(one):.1f} MB/s per core, median {statistics.median(one):.2f} s = {mb/statistics.median(one):.1f} MB/s")
print(f"two threads: best {min(two):.2f} s = {mb/min(two):.1f} MB/s, median {statistics.median(two):.2f} s = {mb/statistics.median(two):.1f} MB/s")
print(f"speed-up: median of pair ratios {statistics.median(a / b for a, b in pairs):.2f}x (pairs: {', '.join(f'{a / b:.2f}' for a, b in pairs)})")
PY
cmp "$WORK/scan1/manifest.jsonl" "$WORK/scan2/manifest.jsonl" && echo "manifests of 1 and 2 threads are byte-identical"
/usr/bin/time -f "scan peak RSS %M KB" "$BIN" scan --rescan --threads 2 --index "$WORK/reference.idx" -o "$WORK/scan2" "$CORPUS.zst" 2>&1 >/dev/null | tail -1
fi

# The style detector's share of a scan: one-core scans with `detectors.style` on and off, in
# alternating pairs.
echo "== style detector cost ($PAIRS alternating pairs of one-core scans, style on and off)"
printf 'version: 1\ndetectors:\n  style: {enabled: false}\n' > "$WORK/no-style.yaml"
TIMES=""
for _ in $(seq "$PAIRS"); do
  ON=$(seconds taskset -c 0 "$BIN" scan --rescan --threads 1 --index "$WORK/reference.idx" -o "$WORK/style-on" "$CORPUS.zst")
  OFF=$(seconds taskset -c 0 "$BIN" scan --rescan --threads 1 --pipeline "$WORK/no-style.yaml" --index "$WORK/reference.idx" -o "$WORK/style-off" "$CORPUS.zst")
  TIMES="$TIMES $ON,$OFF"
done
python3 - "$TEXT_MB" $TIMES <<'PY'
import statistics, sys
mb = float(sys.argv[1])
pairs = [tuple(map(float, p.split(","))) for p in sys.argv[2:]]
on = statistics.median(a for a, _ in pairs); off = statistics.median(b for _, b in pairs)
print(f"style on: median {on:.2f} s = {mb/on:.1f} MB/s per core; off: {off:.2f} s = {mb/off:.1f} MB/s; "
      f"style's share of the scan: {statistics.median((a - b) / a for a, b in pairs):.0%} (median of pairs)")
PY
