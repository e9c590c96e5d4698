#!/usr/bin/env python3
"""Runs a peer's MinHash-LSH deduplication over a corpus with echoscan's parameters (Jaccard 0.8,
128 permutations, word 5-grams) and writes the duplicate pairs it finds (every pair inside a
cluster) as JSONL. Shingling is the same for all peers: lowercased \\w+ words, 5-grams.
Usage: dedup_peers.py datasketch|rensa CORPUS_DIR PAIRS_OUT
Prints one JSON line: seconds, MB of text, peak RSS.
"""
import json, os, re, resource, sys, time

peer, corpus, pairs_out = sys.argv[1:4]
WORD = re.compile(r"\w+")


def shingles(text):
    words = WORD.findall(text.lower())
    if len(words) < 5:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + 5]) for i in range(len(words) - 4)}


def documents():
    for name in sorted(os.listdir(corpus)):
        with open(os.path.join(corpus, name), encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                yield record["id"], record["text"]


parent = {}


def find(x):
    while parent.get(x, x) != x:
        parent[x] = parent.get(parent[x], parent[x])
        x = parent[x]
    return x


def union(a, b):
    parent.setdefault(a, a)
    parent.setdefault(b, b)
    ra, rb = find(a), find(b)
    if ra != rb:
        parent[max(ra, rb)] = min(ra, rb)


start = time.time()
megabytes = 0.0
if peer == "datasketch":
    from datasketch import MinHash, MinHashLSH
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    for doc_id, text in documents():
        megabytes += len(text.encode()) / 1e6
        minhash = MinHash(num_perm=128, seed=1)
        minhash.update_batch([s.encode() for s in shingles(text)])
        for other in lsh.query(minhash):
            union(other, doc_id)
        lsh.insert(doc_id, minhash)
elif peer == "rensa":
    from rensa import RMinHash, RMinHashLSH
    lsh = RMinHashLSH(threshold=0.8, num_perm=128, num_bands=16)
    keys = []
    for number, (doc_id, text) in enumerate(documents()):
        megabytes += len(text.encode()) / 1e6
        minhash = RMinHash(num_perm=128, seed=1)
        minhash.update(list(shingles(text)))
        for other in lsh.query(minhash):
            if minhash.jaccard(keys[other][1]) >= 0.8:
                union(keys[other][0], doc_id)
        lsh.insert(number, minhash)
        keys.append((doc_id, minhash))
else:
    sys.exit(f"unknown peer {peer}")
seconds = time.time() - start
clusters = {}
for doc_id in list(parent):
    clusters.setdefault(find(doc_id), set()).add(doc_id)
with open(pairs_out, "w") as handle:
    for members in clusters.values():
        members = sorted(members)
        for i in range(len(members)):
            for j in range(i + 1, len(members)):
                handle.write(json.dumps([members[i], members[j]]) + "\n")
print(json.dumps({"peer": peer, "seconds": round(seconds, 2), "megabytes": round(megabytes, 1),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
