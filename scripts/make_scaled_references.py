#!/usr/bin/env python3
"""Writes COPIES edited copies of every reference in REFERENCE_DIR into OUT_DIR (one file per copy):
copy c drops word 10+c of every 50 and suffixes the id with #c, so the copies are distinct texts.
Used by scripts/bench.sh to show how the index build's memory grows with the reference set.
Usage: make_scaled_references.py REFERENCE_DIR OUT_DIR COPIES"""
import glob, json, os, sys

source, out, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(out, exist_ok=True)
paths = sorted(glob.glob(os.path.join(source, "*.jsonl")))
for c in range(copies):
    with open(os.path.join(out, f"copy{c}.jsonl"), "w") as target:
        for path in paths:
            for line in open(path, encoding="utf-8"):
                record = json.loads(line)
                words = record["text"].split(" ")
                record["text"] = " ".join(w for i, w in enumerate(words) if i % 50 != 10 + c)
                record["id"] = f"{record.get('id')}#{c}"
                target.write(json.dumps(record) + "\n")
