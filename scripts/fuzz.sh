#!/usr/bin/env bash
# Fuzzes the shard reader, the JSON extractor, the tokenizer and the reference index's open,
# verify and matching (crafted files: checksums set right) with libFuzzer and AddressSanitizer (an
# out-of-bounds write is a crash even where it changes no output) for a bounded time.
# Seeds: the bundled sample shards (plain, zstd, gzip, lz4, chat JSONL and Parquet) and
# Tests/FuzzCorpus (Parquet of pyarrow, DuckDB and polars, damaged Parquet, malformed lines).
# Usage: scripts/fuzz.sh [SECONDS]   (default 600); crashes are saved under .fuzz/artifacts/
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN="${1:-600}"
scripts/setup.sh --no-build
# SwiftPM's --sanitize=fuzzer links the target for libFuzzer; the sanitizers to compile with go
# in one -sanitize= list, since swiftc keeps only the last -sanitize= flag: with a second
# --sanitize=address the code had no coverage instrumentation and libFuzzer ran blind. -Xcc puts
# AddressSanitizer in the C shims too (the tokenizer's ASCII loop), which -Xswiftc does not reach.
swift build --scratch-path .build-fuzz --product echoscan-fuzz --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=address \
  -Xswiftc -DFUZZING 2>&1 | tail -1
mkdir -p .fuzz/corpus .fuzz/artifacts
cp samples/corpus/* samples/chat/* Tests/FuzzCorpus/* .fuzz/corpus/
SWIFT_BACKTRACE=enable=no .build-fuzz/debug/echoscan-fuzz .fuzz/corpus -max_total_time="$SECONDS_TO_RUN" \
  -max_len=131072 -timeout=10 -rss_limit_mb=2048 -artifact_prefix=.fuzz/artifacts/ -print_final_stats=1
