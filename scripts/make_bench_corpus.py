#!/usr/bin/env python3
"""A large corpus for throughput benchmarks, from ../shared/data, deterministically.

Most documents are "clean" web-like text: windows of 150-1500 words drawn from the human,
background and reference texts with the words of every sentence shuffled (real vocabulary, no
real k-grams); 2% are verbatim reference outputs, 1% are reference outputs pasted into such text.
Usage: make_bench_corpus.py DATA_DIR OUT.jsonl MEGABYTES
"""
import json, os, random, sys

data, out, megabytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(42)
texts, references = [], []
for folder in ["reference", "human", "background"]:
    for name in sorted(os.listdir(os.path.join(data, folder))):
        with open(os.path.join(data, folder, name), encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                texts.append(record["text"])
                if folder == "reference":
                    references.append(record["text"])
sentences = [s.split() for t in texts for s in t.replace("\n", " ").split(". ") if len(s.split()) > 3]

def clean(words_wanted):
    words = []
    while len(words) < words_wanted:
        sentence = list(rng.choice(sentences))
        rng.shuffle(sentence)
        words.extend(sentence)
    return " ".join(words[:words_wanted]) + "."

target = megabytes * 1_000_000
written = 0
number = 0
with open(out, "w", encoding="utf-8") as handle:
    while written < target:
        roll = rng.random()
        if roll < 0.02:
            text = rng.choice(references)
        elif roll < 0.03:
            text = clean(rng.randint(100, 600)) + "\n\n" + rng.choice(references) + "\n\n" + clean(rng.randint(100, 600))
        else:
            text = clean(rng.randint(150, 1500))
        line = json.dumps({"id": f"bench-{number:08d}", "text": text}, ensure_ascii=False) + "\n"
        handle.write(line)
        written += len(text.encode("utf-8"))
        number += 1
print(f"{number} documents, {written} bytes of text", file=sys.stderr)
