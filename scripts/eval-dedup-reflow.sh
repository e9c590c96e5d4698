#!/usr/bin/env bash
# Dedup of reflowed copies: 300 real answers with numbered lists (../shared/data/reference), each
# beside a copy with 1% of its words replaced and its lines joined (list numbers then stand in
# running text). Prints how many copies `echoscan dedup` clusters with their original.
# Usage: scripts/eval-dedup-reflow.sh [DATA_DIR] [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${1:-../shared/data}"
WORK="${2:-/tmp/echoscan-dedup-reflow}"
BIN="${ECHOSCAN:-.build/release/echoscan}"
[ -x "$BIN" ] || swift build -c release --product echoscan >/dev/null
rm -rf "$WORK"
mkdir -p "$WORK/corpus"
python3 - "$DATA/reference" "$WORK/corpus/shard-000.jsonl" <<'PY'
import json, os, random, re, sys
source, out = sys.argv[1], sys.argv[2]
rng = random.Random(11)
texts = []
for name in sorted(os.listdir(source)):
    for line in open(os.path.join(source, name), encoding="utf-8"):
        text = json.loads(line)["text"]
        if re.search(r"^\s*\d+[.)]\s", text, re.M) and len(text.split()) >= 60:
            texts.append(text)
texts = rng.sample(texts, 300)
vocabulary = sorted({w for t in texts for w in t.split() if w.isalpha()})
documents = []
for number, text in enumerate(texts):
    documents.append({"id": f"orig-{number}", "text": text})
    words = [rng.choice(vocabulary) if rng.random() < 0.01 else w for w in text.split(" ")]
    documents.append({"id": f"copy-{number}", "text": re.sub(r"\s*\n\s*", " ", " ".join(words)).strip()})
rng.shuffle(documents)
with open(out, "w", encoding="utf-8") as handle:
    for document in documents:
        handle.write(json.dumps(document) + "\n")
PY
"$BIN" dedup -o "$WORK/out" "$WORK/corpus" | tail -1
python3 - "$WORK/out/clusters.jsonl" <<'PY'
import json, sys
found = 0
for line in open(sys.argv[1], encoding="utf-8"):
    cluster = json.loads(line)
    ids = [cluster["kept"]["id"]] + [d["id"] for d in cluster["duplicates"]]
    found += sum(1 for i in ids if i.startswith("copy-") and "orig-" + i[5:] in ids)
print(f"copies clustered with their original: {found} of 300")
PY
