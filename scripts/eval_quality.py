#!/usr/bin/env python3
"""Scores echoscan's manifest (and two baselines) against the labels of a planted corpus.

Usage: eval_quality.py LABELS REFERENCES_DIR CORPUS_DIR ECHOSCAN_MANIFEST NEARDUP_MANIFEST [PLOT]
                       [--calibration MANIFEST]
Prints a markdown table: recall per transform, false-positive rate per negative kind, and how
often the top match names the model the planted copy came from. With --calibration (the manifest
of a scan that reports every match, max_false_match_rate: 1), a second table: at each nominal
rate, the share of each kind of negative whose best match's false-match probability is at most
that rate (answers of other models also per model), and the recall it gives.
"""
import gzip, io, json, os, re, subprocess, sys
from collections import Counter

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


def flagged(manifest, detector=None):
    """Documents flagged as copies of a reference (marker-only flags are a separate signal);
    with `detector`, only matches that detector labelled."""
    result = {}
    with open(manifest, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            matches = [m for m in record["matches"] if detector is None or detector in m["detectors"]]
            if matches:
                result[record["id"]] = matches[0]["model"]
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


def in_slice(label, minimum_words=0, edit_low=0.0, edit_high=1.0):
    return (label.get("words_kept", 0) >= minimum_words and edit_low <= label.get("edit_rate", 0.0) <= edit_high
            and label["kind"] != "reordered")


def plot(path, labels, systems):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    positives = [l for l in labels if l["label"] == "positive"]
    curves = [
        ("edit rate", "edit_rate", [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3001], lambda l: l["kind"] in ("edited", "excerpt_edited_host")),
        ("words of the reference kept", "words_kept", [40, 60, 80, 120, 200, 400, 100000], lambda l: True),
        ("host share (copy's share of the page)", "host_share", [0.05, 0.1, 0.2, 0.3, 0.4, 0.5001], lambda l: l["kind"] in ("host", "excerpt_edited_host")),
    ]
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for axis, (title, key, edges, keep) in zip(axes, curves):
        for name, found in systems.items():
            xs, ys = [], []
            for low, high in zip(edges, edges[1:]):
                members = [l for l in positives if keep(l) and low <= l.get(key, 0) < high]
                if len(members) >= 5:
                    xs.append((low + min(high, edges[-2] * 1.5 if high > 10000 else high)) / 2)
                    ys.append(sum(l["id"] in found for l in members) / len(members))
            axis.plot(xs, ys, marker="o", label=name)
        axis.set_title(f"recall against {title}")
        axis.set_ylim(0, 1.02)
        axis.grid(alpha=0.3)
        if key == "words_kept":
            axis.set_xscale("log")
    axes[0].legend(loc="lower left")
    figure.tight_layout()
    figure.savefig(path, dpi=90)


def calibration(manifest, labels, rates=(0.01, 0.003, 0.001, 0.0003)):
    """Per kind of negative, the share whose lowest false-match probability is at most each rate;
    for the copies keeping >= 50 words with <= 10% edited, that of their own reference."""
    lowest = {}
    with open(manifest, encoding="utf-8") as handle:
        for record in map(json.loads, handle):
            lowest[record["id"]] = {m["ref_id"]: m["false_match_probability"] for m in record["matches"]}
    rows = []
    negatives = [l for l in labels if l["label"] == "negative"]
    groups = sorted({(l["kind"], None) for l in negatives} | {(l["kind"], l["model"]) for l in negatives if l["kind"].endswith("_model")},
                    key=lambda g: (g[0], g[1] or ""))
    for kind, model in groups:
        members = [min(lowest.get(l["id"], {}).values(), default=1.0) for l in negatives
                   if l["kind"] == kind and (model is None or l["model"] == model)]
        rows.append((f"false positives: {kind}{', ' + model if model else ''} ({len(members)})", members))
    copies = [l for l in labels if l["label"] == "positive" and in_slice(l, 50, 0.0, 0.1)]
    rows.append((f"recall: >= 50 words kept, <= 10% edited ({len(copies)})",
                 [min((p for r, p in lowest.get(l["id"], {}).items() if r in l["ref_ids"]), default=1.0) for l in copies]))
    print("\n| rate | " + " | ".join(f"{rate:g}" for rate in rates) + " |")
    print("|" + "---|" * (len(rates) + 1))
    for title, probabilities in rows:
        print(f"| {title} | " + " | ".join(f"{sum(p <= rate for p in probabilities) / max(len(probabilities), 1):.4f}" for rate in rates) + " |")


def main():
    arguments = sys.argv[1:]
    calibration_manifest = None
    if "--calibration" in arguments:
        at = arguments.index("--calibration")
        calibration_manifest = arguments[at + 1]
        del arguments[at:at + 2]
    labels_path, references_dir, corpus_dir, echoscan_manifest, neardup_manifest = arguments[:5]
    plot_path = arguments[5] if len(arguments) > 5 else None
    labels = [json.loads(line) for line in open(labels_path, encoding="utf-8")]
    systems = {
        "echoscan": flagged(echoscan_manifest),
        "13-gram overlap": thirteen_gram_baseline(references_dir, corpus_dir),
        "MinHash-LSH J>=0.8": flagged(neardup_manifest, "near_duplicate"),
    }
    kinds = sorted({(l["label"], l["kind"]) for l in labels}, key=lambda k: (k[0] != "positive", k[1]))
    header = "| | " + " | ".join(systems) + " |"
    print(header)
    print("|" + "---|" * (len(systems) + 1))

    def row(title, members):
        cells = []
        for name, found in systems.items():
            hits = sum(1 for l in members if l["id"] in found)
            cells.append(f"{hits / max(len(members), 1):.3f} ({hits}/{len(members)})")
        print(f"| {title} | " + " | ".join(cells) + " |")

    for label, kind in kinds:
        measure = "recall" if label == "positive" else "false-positive rate"
        row(f"{measure}: {kind}", [l for l in labels if l["label"] == label and l["kind"] == kind])
    positives = [l for l in labels if l["label"] == "positive"]
    negatives = [l for l in labels if l["label"] == "negative"]
    row("recall: >= 50 words kept, <= 10% edited", [l for l in positives if in_slice(l, 50, 0.0, 0.1)])
    row("recall: >= 50 words kept, 20-25% edited", [l for l in positives if in_slice(l, 50, 0.2, 0.25)])
    row("**recall: all positives**", positives)
    row("**false-positive rate: all negatives**", negatives)
    cells = []
    for name, found in systems.items():
        hit = [l for l in positives if l["id"] in found]
        right = sum(1 for l in hit if found[l["id"]] in l.get("models", [l["model"]]))
        cells.append(f"{right / max(len(hit), 1):.4f} ({right}/{len(hit)})")
    print("| top match names the right model | " + " | ".join(cells) + " |")
    markers = marker_only(echoscan_manifest)
    by_label = Counter(l["label"] + "/" + l["kind"] for l in labels if l["id"] in markers)
    print(f"\nechoscan marker-only flags (not counted above): {len(markers)} {dict(sorted(by_label.items()))}")
    wrong = [(l["id"], l["kind"], l["model"], systems["echoscan"][l["id"]]) for l in positives
             if l["id"] in systems["echoscan"] and systems["echoscan"][l["id"]] not in l.get("models", [l["model"]])]
    if wrong:
        print(f"\nechoscan wrong-model examples: {wrong[:10]}", file=sys.stderr)
    misses = [(l["id"], l["kind"]) for l in positives if l["id"] not in systems["echoscan"]]
    print(f"echoscan misses by kind: {Counter(k for _, k in misses)}; first: {misses[:10]}", file=sys.stderr)
    false_positives = [(l["id"], l["kind"], l.get("model")) for l in negatives if l["id"] in systems["echoscan"]]
    print(f"echoscan false positives by model: {Counter(m for _, _, m in false_positives)}", file=sys.stderr)
    if calibration_manifest:
        calibration(calibration_manifest, labels)
    if plot_path:
        plot(plot_path, labels, systems)


if __name__ == "__main__":
    main()
