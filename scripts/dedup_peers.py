#!/usr/bin/env python3
"""Runs a peer's MinHash-LSH deduplication over a corpus with echoscan's parameters (Jaccard 0.8,
128 permutations, word 5-grams) and writes the duplicate pairs it finds (every pair inside a
cluster) as JSONL. Shingling is the same for all peers: lowercased \\w+ words, 5-grams.
datatrove runs its own four MinHash stages (its word tokenizer and normalisation, 16 buckets of 8
hashes, sha1 hashing: its xxhash path fails with the installed xxhash) and its clusters are read back.
Usage: dedup_peers.py datasketch|rensa|datatrove CORPUS_DIR PAIRS_OUT
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
elif peer == "datatrove":
    import glob, gzip, tempfile
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
                                                  MinhashDedupFilter, MinhashDedupSignature)
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from datatrove.utils.hashing import HashConfig
    work = tempfile.mkdtemp(prefix="datatrove-")
    config = MinhashConfig(n_grams=5, num_buckets=16, hashes_per_bucket=8, seed=1, hash_config=HashConfig(hash_fc="sha1", precision=64))
    for name, pipeline, tasks in [
        ("signatures", [JsonlReader(corpus), MinhashDedupSignature(output_folder=f"{work}/sigs", config=config)], 1),
        ("buckets", [MinhashDedupBuckets(input_folder=f"{work}/sigs", output_folder=f"{work}/buckets", config=config)], config.num_buckets),
        ("clusters", [MinhashDedupCluster(input_folder=f"{work}/buckets", output_folder=f"{work}/remove", config=config, save_cluster_id=True)], 1),
        ("filter", [JsonlReader(corpus), MinhashDedupFilter(input_folder=f"{work}/remove", exclusion_writer=JsonlWriter(f"{work}/removed"),
                                                            load_cluster_ids=True), JsonlWriter(f"{work}/kept")], 1),
    ]:
        LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1, logging_dir=f"{work}/logs/{name}").run()
    for path in glob.glob(f"{work}/removed/*") + glob.glob(f"{work}/kept/*"):
        with gzip.open(path, "rt") as handle:
            for line in handle:
                record = json.loads(line)
                cluster = record.get("metadata", {}).get("minhash_cluster_id", -1)
                if cluster is not None and cluster >= 0:
                    union(f"cluster-{cluster}", record["id"])
    megabytes = sum(len(text.encode()) for _, text in documents()) / 1e6
else:
    sys.exit(f"unknown peer {peer}")
seconds = time.time() - start
clusters = {}
for doc_id in list(parent):
    if not doc_id.startswith("cluster-"):
        clusters.setdefault(find(doc_id), set()).add(doc_id)
with open(pairs_out, "w") as handle:
    for members in clusters.values():
        members = sorted(members)
        for i in range(len(members)):
            for j in range(i + 1, len(members)):
                handle.write(json.dumps([members[i], members[j]]) + "\n")
print(json.dumps({"peer": peer, "seconds": round(seconds, 2), "megabytes": round(megabytes, 1),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
