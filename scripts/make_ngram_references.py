#!/usr/bin/env python3
"""Distinct reference text at any size, from a word bigram model of DATA_DIR's texts (references,
human and background text; line breaks are words of the model): answers whose lengths are drawn
from those of the real references (40 to 512 words), whose words and word pairs are as frequent
as in the data, and whose 5-grams are mostly new, so that the build keeps every answer, as it
would a new model's. Deterministic for a seed. The machine's documentation
(`make_doc_references.py`) runs out near 250 MB; this does not.

Usage: make_ngram_references.py DATA_DIR OUT.jsonl MEGABYTES [SEED]
Prints how many megabytes it wrote.
"""
import glob
import json
import os
import sys

import numpy as np

CHAINS = 20_000
LONGEST = 512


def training_texts(data):
    for folder in ("reference", "human", "background"):
        for path in sorted(glob.glob(os.path.join(data, folder, "*.jsonl"))):
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    text = json.loads(line).get("text")
                    if isinstance(text, str):
                        yield folder, text


def main():
    data, out, wanted = sys.argv[1], sys.argv[2], float(sys.argv[3]) * 1e6
    rng = np.random.default_rng(int(sys.argv[4]) if len(sys.argv) > 4 else 2026)
    vocabulary, ids, stream, lengths = [], {}, [], []
    for folder, text in training_texts(data):
        words = text.replace("\n", " \n ").split(" ")
        words = [w for w in words if w]
        if folder == "reference":
            lengths.append(len(words))
        for word in words:
            if word not in ids:
                ids[word] = len(vocabulary)
                vocabulary.append(word)
            stream.append(ids[word])
    tokens = np.array(stream, dtype=np.int64)
    size = len(vocabulary)
    # Successors of each word, as one sorted table of (word, next) pairs with counts.
    pairs, counts = np.unique(tokens[:-1] * size + tokens[1:], return_counts=True)
    first, following = pairs // size, pairs % size
    cumulative = np.cumsum(counts)
    starts = np.searchsorted(first, np.arange(size), side="left")
    ends = np.searchsorted(first, np.arange(size), side="right")
    before = np.where(starts > 0, cumulative[np.maximum(starts - 1, 0)], 0)
    totals = np.where(ends > starts, cumulative[np.maximum(ends - 1, 0)] - before, 0)
    # A word with no successor (the stream's last) restarts from a random word of the stream.
    unigram = tokens
    lengths = np.clip(np.array(lengths), 40, LONGEST)
    words_of = np.array(vocabulary, dtype=object)
    written, count = 0, 0
    with open(out, "w", encoding="utf-8") as handle:
        while written < wanted:
            current = unigram[rng.integers(0, len(unigram), CHAINS)]
            block = np.empty((CHAINS, LONGEST), dtype=np.int64)
            for step in range(LONGEST):
                block[:, step] = current
                target = before[current] + rng.random(CHAINS) * totals[current]
                chosen = np.minimum(np.searchsorted(cumulative, target, side="right"), len(following) - 1)
                current = np.where(totals[current] > 0, following[chosen], unigram[rng.integers(0, len(unigram), CHAINS)])
            keep = lengths[rng.integers(0, len(lengths), CHAINS)]
            for row, length in zip(block, keep):
                text = " ".join(words_of[row[:length]]).replace(" \n ", "\n").strip()
                handle.write(json.dumps({"id": f"ngram/{count:08d}", "text": text, "model": "bigram-model",
                                         "vendor": "unknown"}) + "\n")
                written += len(text.encode())
                count += 1
                if written >= wanted:
                    break
    print(f"{written / 1e6:.1f}")


if __name__ == "__main__":
    main()
