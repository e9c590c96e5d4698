#!/usr/bin/env bash
# References from a chat log at the size of public ones: CONVERSATIONS (default 100,000) records
# in the shape of lmsys-chat-1m ({"conversation_id", "model", "conversation": [{"role", "content"}]}),
# each one model's answers from DATA/reference (one to four assistant turns), built into an index
# with `--text-field 'conversation[role=assistant].content' --prompt-field
# 'conversation[role=user].content'`. Checks that every assistant turn is a reference known as
# <conversation_id>#<turn>, with its conversation's model and the vendor the data names, and
# prints the build's time, speed and peak RSS.
# Usage: scripts/bench-chat-index.sh [DATA_DIR] [WORK_DIR] [CONVERSATIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${1:-../shared/data}"
WORK="${2:-/tmp/echoscan-chat-index}"
COUNT="${3:-100000}"
BIN="$(pwd)/.build/release/echoscan"
swift build -c release --product echoscan >/dev/null
mkdir -p "$WORK"
python3 - "$DATA/reference" "$WORK/chat-log.jsonl" "$WORK/expected.jsonl" "$COUNT" <<'PY'
import json, os, random, sys
folder, out, expected_path, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rng = random.Random(1)
sets = []
for name in sorted(os.listdir(folder)):
    rows = [json.loads(line) for line in open(os.path.join(folder, name), encoding="utf-8") if line.strip()]
    if rows:
        sets.append(rows)
with open(out, "w", encoding="utf-8") as log, open(expected_path, "w", encoding="utf-8") as expected:
    for number in range(count):
        rows = rng.choice(sets)
        conversation = []
        for _ in range(rng.randint(1, 4)):
            row = rng.choice(rows)
            conversation.append({"role": "user", "content": row.get("prompt") or "Tell me more."})
            expected.write(json.dumps({"id": f"conv-{number:06d}#{len(conversation)}", "model": rows[0]["model"], "vendor": rows[0]["vendor"]}) + "\n")
            conversation.append({"role": "assistant", "content": row["text"]})
        log.write(json.dumps({"conversation_id": f"conv-{number:06d}", "model": rows[0]["model"], "conversation": conversation}, ensure_ascii=False) + "\n")
PY
ls -la "$WORK/chat-log.jsonl"
/usr/bin/time -f "build: %e s, peak RSS %M KB" "$BIN" index build -o "$WORK/chat.idx" --id-field conversation_id \
  --text-field 'conversation[role=assistant].content' --prompt-field 'conversation[role=user].content' "$WORK/chat-log.jsonl" 2>&1 | tail -2
"$BIN" index list "$WORK/chat.idx" > "$WORK/references.jsonl"
python3 - "$WORK/expected.jsonl" "$WORK/references.jsonl" <<'PY'
import collections, json, sys
expected = {r["id"]: r for r in map(json.loads, open(sys.argv[1]))}
got = {r["id"]: r for r in map(json.loads, open(sys.argv[2]))}
missing = set(expected) - set(got)
extra = set(got) - set(expected)
model = sum(1 for k, r in got.items() if k in expected and r["model"] == expected[k]["model"])
vendor = sum(1 for k, r in got.items() if k in expected and r["vendor"] == expected[k]["vendor"])
wrong = collections.Counter((expected[k]["model"], r["vendor"]) for k, r in got.items() if k in expected and r["vendor"] != expected[k]["vendor"])
print(f"assistant turns {len(expected)}; references {len(got)}; missing {len(missing)}; unexpected {len(extra)}")
print(f"right model {model}/{len(expected)}; right vendor {vendor}/{len(expected)}")
for (name, vendor_got), n in wrong.most_common():
    print(f"  vendor table names {name!r} {vendor_got!r} ({n} turns)")
PY
