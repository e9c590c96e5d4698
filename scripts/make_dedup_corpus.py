#!/usr/bin/env python3
"""A corpus with planted near-duplicates at known edit rates, from real text (../shared/data).

Every text of the data set is a document; enough sentence-shuffled documents (real words, no
shared k-grams) are added to reach the target size; 10% of the real documents get one copy with
a share of its words replaced: 0 (exact), 1%, 2%, 5%, 10% or 20%.
Writes OUT/corpus/shard-NNN.jsonl and OUT/planted.jsonl ({"original", "copy", "edit_rate"}).
Usage: make_dedup_corpus.py DATA_DIR OUT MEGABYTES [SHARDS]
"""
import json, os, random, sys

data, out, megabytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
shards = int(sys.argv[4]) if len(sys.argv) > 4 else 8
rng = random.Random(7)
texts = []
for folder in ["reference", "human", "background"]:
    for name in sorted(os.listdir(os.path.join(data, folder))):
        with open(os.path.join(data, folder, name), encoding="utf-8") as handle:
            texts.extend(json.loads(line)["text"] for line in handle)
texts = [t for t in texts if len(t.split()) >= 30]
vocabulary = sorted({w for t in texts[:3000] for w in t.split() if w.isalpha()})
sentences = [s.split() for t in texts for s in t.replace("\n", " ").split(". ") if len(s.split()) > 3]

documents = [(t, None) for t in texts]
planted = []
rates = [0.0, 0.01, 0.02, 0.05, 0.1, 0.2]
for index in rng.sample(range(len(texts)), len(texts) // 10):
    rate = rng.choice(rates)
    words = texts[index].split(" ")
    for position in range(len(words)):
        if rng.random() < rate:
            words[position] = rng.choice(vocabulary)
    documents.append((" ".join(words), (index, rate)))
size = sum(len(t.encode()) for t, _ in documents)
while size < megabytes * 1_000_000:
    words = []
    wanted = rng.randint(150, 1500)
    while len(words) < wanted:
        sentence = list(rng.choice(sentences))
        rng.shuffle(sentence)
        words.extend(sentence)
    text = " ".join(words[:wanted]) + "."
    documents.append((text, None))
    size += len(text.encode())
order = list(range(len(documents)))
rng.shuffle(order)
position_of = {}
os.makedirs(os.path.join(out, "corpus"), exist_ok=True)
handles = [open(os.path.join(out, "corpus", f"shard-{n:03d}.jsonl"), "w", encoding="utf-8") for n in range(shards)]
for new, old in enumerate(order):
    doc_id = f"d{new:08d}"
    position_of[old] = doc_id
    handles[new % shards].write(json.dumps({"id": doc_id, "text": documents[old][0]}, ensure_ascii=False) + "\n")
for handle in handles:
    handle.close()
with open(os.path.join(out, "planted.jsonl"), "w") as handle:
    for old, (text, origin) in enumerate(documents):
        if origin:
            handle.write(json.dumps({"original": position_of[origin[0]], "copy": position_of[old], "edit_rate": origin[1]}) + "\n")
print(f"{len(documents)} documents, {size / 1e6:.1f} MB of text, {len(texts) // 10} planted copies", file=sys.stderr)
