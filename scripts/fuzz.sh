#!/usr/bin/env bash
# Fuzzes the shard reader, the JSON extractor and the tokenizer with libFuzzer and AddressSanitizer (an
# out-of-bounds write is a crash even where it changes no output) for a bounded time.
# Seeds: the bundled sample shards (plain, zstd, gzip, lz4, chat JSONL and Parquet written by
# pyarrow), Parquet files of other writers when a Python with them is at hand, and a few malformed lines.
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
cp samples/corpus/* samples/chat/* .fuzz/corpus/
if PYTHON=$(scripts/python-env.sh 2>/dev/null); then
  zstd -dc samples/chat/chat-000.jsonl.zst | head -5 > .fuzz/records.jsonl
  "$PYTHON" scripts/write_parquet.py .fuzz/records.jsonl .fuzz/parquet >/dev/null && cp .fuzz/parquet/*.parquet .fuzz/corpus/
fi
printf '{"text":"a\\ud83d\\ude00b","id":1}\n{"text":"\\u00e9"}\n{"text":5}\n{"id":"x"}\nnot json\n' > .fuzz/corpus/lines.jsonl
head -c 3000 samples/references/fastchat__bard.jsonl > .fuzz/corpus/head.jsonl
SWIFT_BACKTRACE=enable=no .build-fuzz/debug/echoscan-fuzz .fuzz/corpus -max_total_time="$SECONDS_TO_RUN" \
  -max_len=131072 -timeout=10 -rss_limit_mb=2048 -artifact_prefix=.fuzz/artifacts/ -print_final_stats=1
