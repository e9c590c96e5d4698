#!/usr/bin/env python3
"""Scores echoscan's manifest (and two baselines) against the labels of a planted corpus.

Usage: eval_quality.py LABELS REFERENCES_DIR CORPUS_DIR ECHOSCAN_MANIFEST NEARDUP_MANIFEST
Prints a markdown table: recall per transform, false-positive rate per negative kind, and how
often the top match names the model the planted copy came from.
"""
import difflib, gzip, io, json, os, re, subprocess, sys
from collections import Counter, defaultdict

WORD = re.compile(r"\w+", re.UNICODE)


def read_shard(path):
    if path.endswith(".zst"):
        data = subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout
    elif path.endswith(".lz4"):
        data = subprocess.run(["lz4", "-dc", path], check=True, capture_output=True).stdout
    elif path.endswith(".gz"):
        data = gzip.decompress(open(path, "rb").read())
    else:
        data = open(path, "rb").read()
    for line in io.StringIO(data.decode("utf-8")):
        if line.strip():
            yield json.loads(line)


def flagged(manifest):
    """Documents flagged as copies of a reference (marker-only flags are a separate signal)."""
    result = {}
    with open(manifest, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record["matches"]:
                result[record["id"]] = record["matches"][0]["model"]
    return result


def marker_only(manifest):
    with open(manifest, encoding="utf-8") as handle:
        return {r["id"] for r in map(json.loads, handle) if not r["matches"]}


def thirteen_gram_baseline(references_dir, corpus_dir):
    """GPT-3 / lm-eval style: a document is contaminated if it shares any 13-gram of words."""
    owner = {}
    for name in sorted(os.listdir(references_dir)):
        for record in read_shard(os.path.join(references_dir, name)):
            tokens = WORD.findall(record["text"].lower())
            for i in range(len(tokens) - 12):
                owner.setdefault(tuple(tokens[i:i + 13]), record["model"])
    result = {}
    for name in sorted(os.listdir(corpus_dir)):
        for record in read_shard(os.path.join(corpus_dir, name)):
            tokens = WORD.findall(record["text"].lower())
            votes = Counter(owner[g] for g in (tuple(tokens[i:i + 13]) for i in range(len(tokens) - 12)) if g in owner)
            if votes:
                result[record["id"]] = votes.most_common(1)[0][0]
    return result


def prompt_key(reference_id):
    """Answers to one prompt share their data set (first part of the id) and prompt (last part)."""
    parts = reference_id.split("/")
    return parts[0], parts[-1]


def word_similarity(a, b):
    """Word-sequence similarity (difflib ratio over lowercased words): independent of echoscan."""
    return difflib.SequenceMatcher(None, WORD.findall(a.lower()), WORD.findall(b.lower()), autojunk=False).ratio()


def closeness_report(labels, references_dir, corpus_dir, found):
    """How close the flagged negatives are to an indexed output, against the planted edited copies.

    A negative answers the same prompt as indexed references; its closeness is its highest word
    similarity to one of them. If a negative is as close as planted edited copies (which must be
    found), no text measure tells it from one. Prints the false-positive rate among the negatives
    less close than the 10th-percentile and than the median edited copy.
    """
    texts = {r["id"]: r["text"] for name in sorted(os.listdir(corpus_dir)) for r in read_shard(os.path.join(corpus_dir, name))}
    references = {r["id"]: r["text"] for name in sorted(os.listdir(references_dir)) for r in read_shard(os.path.join(references_dir, name))}
    by_prompt = defaultdict(list)
    for reference_id in references:
        by_prompt[prompt_key(reference_id)].append(reference_id)
    edited = sorted(word_similarity(texts[l["id"]], references[l["ref_id"]]) for l in labels
                    if l["label"] == "positive" and l["kind"] == "edited")
    if not edited:
        return
    negatives = [l for l in labels if l["label"] == "negative"]
    closeness = {l["id"]: max((word_similarity(texts[l["id"]], references[r]) for r in by_prompt.get(prompt_key(l["ref_id"] or ""), [])), default=0.0)
                 for l in negatives}
    print(f"\nclosest indexed answer to the same prompt (word similarity); planted edited copies: 10th percentile {edited[len(edited) // 10]:.2f}, median {edited[len(edited) // 2]:.2f}")
    for name, level in [("10th-percentile", edited[len(edited) // 10]), ("median", edited[len(edited) // 2])]:
        close = [l["id"] for l in negatives if closeness[l["id"]] >= level]
        rest = [l["id"] for l in negatives if closeness[l["id"]] < level]
        flagged_close, flagged_rest = sum(i in found for i in close), sum(i in found for i in rest)
        print(f"- negatives at least as close as the {name} edited copy: {len(close)}, echoscan flags {flagged_close}; "
              f"false-positive rate among the other {len(rest)}: {flagged_rest / max(len(rest), 1):.4f} ({flagged_rest}/{len(rest)})")


def main():
    labels_path, references_dir, corpus_dir, echoscan_manifest, neardup_manifest = sys.argv[1:6]
    labels = [json.loads(line) for line in open(labels_path, encoding="utf-8")]
    systems = {
        "echoscan": flagged(echoscan_manifest),
        "13-gram overlap": thirteen_gram_baseline(references_dir, corpus_dir),
        "MinHash-LSH J>=0.8": flagged(neardup_manifest),
    }
    kinds = sorted({(l["label"], l["kind"]) for l in labels}, key=lambda k: (k[0] != "positive", k[1]))
    header = "| | " + " | ".join(systems) + " |"
    print(header)
    print("|" + "---|" * (len(systems) + 1))
    rows = []
    for label, kind in kinds:
        members = [l for l in labels if l["label"] == label and l["kind"] == kind]
        cells = []
        for name, found in systems.items():
            hits = sum(1 for l in members if l["id"] in found)
            share = hits / len(members)
            cells.append(f"{share:.3f} ({hits}/{len(members)})")
        measure = "recall" if label == "positive" else "false-positive rate"
        print(f"| {measure}: {kind} | " + " | ".join(cells) + " |")
    positives = [l for l in labels if l["label"] == "positive"]
    negatives = [l for l in labels if l["label"] == "negative"]
    for title, group, positive in [("recall: all positives", positives, True), ("false-positive rate: all negatives", negatives, False)]:
        cells = []
        for name, found in systems.items():
            hits = sum(1 for l in group if l["id"] in found)
            cells.append(f"**{hits / len(group):.4f}** ({hits}/{len(group)})")
        print(f"| {title} | " + " | ".join(cells) + " |")
    cells = []
    for name, found in systems.items():
        hit = [l for l in positives if l["id"] in found]
        right = sum(1 for l in hit if found[l["id"]] == l["model"])
        cells.append(f"{right / max(len(hit), 1):.4f} ({right}/{len(hit)})")
    print("| top match names the right model | " + " | ".join(cells) + " |")
    markers = marker_only(echoscan_manifest)
    by_label = Counter(l["label"] + "/" + l["kind"] for l in labels if l["id"] in markers)
    print(f"\nechoscan marker-only flags (not counted above): {len(markers)} {dict(sorted(by_label.items()))}")
    wrong = [(l["id"], l["kind"], l["model"], systems["echoscan"][l["id"]]) for l in positives
             if l["id"] in systems["echoscan"] and systems["echoscan"][l["id"]] != l["model"]]
    if wrong:
        print(f"\nechoscan wrong-model examples: {wrong[:10]}", file=sys.stderr)
    closeness_report(labels, references_dir, corpus_dir, systems["echoscan"])
    misses = [(l["id"], l["kind"]) for l in positives if l["id"] not in systems["echoscan"]]
    print(f"echoscan misses by kind: {Counter(k for _, k in misses)}; first: {misses[:10]}", file=sys.stderr)
    false_positives = [(l["id"], l["kind"], l.get("model")) for l in negatives if l["id"] in systems["echoscan"]]
    print(f"echoscan false positives: {false_positives[:20]}", file=sys.stderr)


if __name__ == "__main__":
    main()
