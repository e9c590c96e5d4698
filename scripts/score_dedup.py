#!/usr/bin/env python3
"""Precision and recall of duplicate pairs against a planted corpus.

A pair is a true duplicate when the exact Jaccard similarity of its word 5-gram sets (lowercased
\\w+ words) is at least 0.8. Recall: share of the planted pairs that are true duplicates that a
system found. Precision: share of a system's pairs that are true duplicates (each checked exactly).
Usage: score_dedup.py CORPUS_DIR PLANTED NAME=PAIRS.jsonl ...
"""
import json, os, re, sys
from collections import Counter

corpus, planted_path = sys.argv[1:3]
WORD = re.compile(r"\w+")
texts = {}
for name in sorted(os.listdir(corpus)):
    with open(os.path.join(corpus, name), encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            texts[record["id"]] = record["text"]
cache = {}


def grams(doc_id):
    if doc_id not in cache:
        words = WORD.findall(texts[doc_id].lower())
        cache[doc_id] = {tuple(words[i:i + 5]) for i in range(max(1, len(words) - 4))}
    return cache[doc_id]


def jaccard(a, b):
    x, y = grams(a), grams(b)
    return len(x & y) / max(1, len(x | y))


planted = [json.loads(line) for line in open(planted_path)]
truth = {tuple(sorted((p["original"], p["copy"]))): p["edit_rate"] for p in planted if jaccard(p["original"], p["copy"]) >= 0.8}
by_rate = Counter(p["edit_rate"] for p in planted)
true_by_rate = Counter(truth.values())
print("| system | pairs found | precision | recall (planted pairs with J >= 0.8) | recall by edit rate |")
print("|---|---|---|---|---|")
for argument in sys.argv[3:]:
    name, path = argument.split("=", 1)
    found = {tuple(sorted(json.loads(line))) for line in open(path)}
    correct = sum(1 for pair in found if pair in truth or jaccard(*pair) >= 0.8)
    hits = Counter(truth[pair] for pair in found if pair in truth)
    rates = ", ".join(f"{rate:g}: {hits[rate]}/{true_by_rate[rate]}" for rate in sorted(true_by_rate))
    print(f"| {name} | {len(found)} | {correct / max(1, len(found)):.4f} | {sum(hits.values()) / max(1, len(truth)):.4f} | {rates} |")
print(f"\nplanted pairs by edit rate: {dict(sorted(by_rate.items()))}; with exact J >= 0.8: {dict(sorted(true_by_rate.items()))}")
