#!/usr/bin/env python3
"""Builds a planted-contamination corpus from real data (../shared/data), deterministically.

Outputs in OUT/:
  references/*.jsonl   the reference outputs that go into the index (model sets named by --indexed)
  background/*.jsonl   human text for the index's background (common k-grams)
  corpus/shard-NNN.jsonl[.zst|.gz|.lz4]  documents: transformed copies of indexed outputs (positives)
                       and negatives (other models' answers to the same prompts, one-line answers,
                       human answers, web background)
  labels.jsonl         per corpus document: id, label (positive/negative), kind, source model, ref id

Transforms of positives: exact, truncated, edited (about one word in ten replaced), reformatted
(markdown stripped, quotes curled, lines joined), chat (wrapped in a transcript), embedded (pasted
into a much longer human page).
"""
import argparse, gzip, json, os, random, re, subprocess, sys

TRANSFORMS = ["exact", "truncated", "edited", "reformatted", "chat", "embedded"]


def read_jsonl(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def words(text):
    return text.split()


def truncate(text, rng):
    parts = text.split(" ")
    keep = max(1, int(len(parts) * rng.uniform(0.45, 0.7)))
    return " ".join(parts[:keep])


def edit(text, rng, vocabulary):
    tokens = re.split(r"(\s+)", text)
    for i in range(0, len(tokens), 2):
        if tokens[i] and rng.random() < 0.1:
            tokens[i] = rng.choice(vocabulary)
    return "".join(tokens)


def reformat(text):
    text = re.sub(r"^\s*#+\s*", "", text, flags=re.M)           # headings
    text = re.sub(r"^\s*[-*+]\s+", "", text, flags=re.M)         # bullets
    text = re.sub(r"^\s*\d+[.)]\s+", "", text, flags=re.M)       # numbered items
    text = re.sub(r"(\*\*|__|\*|`)", "", text)                    # emphasis, code marks
    text = re.sub(r'"([^"]*)"', "\u201c\\1\u201d", text)          # curly quotes
    text = text.replace("'", "\u2019")
    return re.sub(r"\s*\n\s*", " ", text).strip()                 # lines joined


def chat(text, prompt, rng):
    opener = rng.choice(["User", "Human", "### Instruction"])
    answer = {"User": "Assistant", "Human": "Assistant", "### Instruction": "### Response"}[opener]
    follow = rng.choice(["Thanks, that helps!", "Can you make it shorter?", "Great, thank you."])
    return f"{opener}: {prompt or 'Tell me something.'}\n{answer}: {text}\n{opener}: {follow}"


def embed(text, rng, background):
    before = " ".join(rng.choice(background) for _ in range(rng.randint(2, 4)))
    after = " ".join(rng.choice(background) for _ in range(rng.randint(2, 4)))
    return f"{before}\n\n{text}\n\n{after}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--indexed", nargs="+", required=True, help="reference file stems that go into the index")
    parser.add_argument("--negative-models", nargs="+", required=True, help="reference file stems used as negatives")
    parser.add_argument("--positives-per-transform", type=int, default=300)
    parser.add_argument("--negatives-per-set", type=int, default=400)
    parser.add_argument("--reference-limit", type=int, default=0, help="records per indexed file (0: all)")
    parser.add_argument("--human", nargs="*", default=None, help="human/ file names (default: all)")
    parser.add_argument("--background", nargs="*", default=None, help="background/ file names (default: all)")
    parser.add_argument("--human-limit", type=int, default=0, help="human and background records used (0: all)")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--seed", type=int, default=20261129)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    for folder in ["references", "background", "corpus"]:
        os.makedirs(os.path.join(args.out, folder), exist_ok=True)

    indexed = []
    for stem in args.indexed:
        records = read_jsonl(os.path.join(args.data, "reference", stem + ".jsonl"))
        if args.reference_limit:
            records = records[: args.reference_limit]
        with open(os.path.join(args.out, "references", stem + ".jsonl"), "w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps({k: record[k] for k in ("id", "text", "model", "vendor", "prompt")}, ensure_ascii=False) + "\n")
        indexed.extend(records)

    human_files = args.human if args.human is not None else sorted(os.listdir(os.path.join(args.data, "human")))
    human = []
    for name in human_files:
        human.extend(read_jsonl(os.path.join(args.data, "human", name)))
    background = []
    for name in args.background if args.background is not None else sorted(os.listdir(os.path.join(args.data, "background"))):
        background.extend(read_jsonl(os.path.join(args.data, "background", name)))
    # Half of the human and background text trains the index's background; the other half is
    # negatives in the corpus, so that no negative is in the background it is tested against.
    rng.shuffle(human)
    rng.shuffle(background)
    if args.human_limit:
        human, background = human[: args.human_limit], background[: args.human_limit]
    split_h, split_b = len(human) // 2, len(background) // 2
    with open(os.path.join(args.out, "background", "human.jsonl"), "w", encoding="utf-8") as handle:
        for record in human[:split_h] + background[:split_b]:
            handle.write(json.dumps({"id": record["id"], "text": record["text"]}, ensure_ascii=False) + "\n")
    human_negatives, background_negatives = human[split_h:], background[split_b:]
    paragraphs = [p for r in background_negatives + human_negatives for p in r["text"].split("\n") if len(p.split()) > 25]
    vocabulary = sorted({w for r in background_negatives for w in words(r["text"]) if w.isalpha() and 3 <= len(w) <= 10})

    documents = []
    eligible = [r for r in indexed if len(words(r["text"])) >= 40]
    for transform in TRANSFORMS:
        for record in rng.sample(eligible, min(args.positives_per_transform, len(eligible))):
            text = record["text"]
            if transform == "truncated":
                text = truncate(text, rng)
            elif transform == "edited":
                text = edit(text, rng, vocabulary)
            elif transform == "reformatted":
                text = reformat(text)
            elif transform == "chat":
                text = chat(text, record.get("prompt", ""), rng)
            elif transform == "embedded":
                text = embed(text, rng, paragraphs)
            documents.append((text, {"label": "positive", "kind": transform, "model": record["model"], "ref_id": record["id"]}))

    for stem in args.negative_models:
        records = read_jsonl(os.path.join(args.data, "reference", stem + ".jsonl"))
        longer = [r for r in records if len(words(r["text"])) >= 8]
        for record in rng.sample(longer, min(args.negatives_per_set, len(longer))):
            documents.append((record["text"], {"label": "negative", "kind": "other_model", "model": record["model"], "ref_id": record["id"]}))
        short = [r for r in records if 0 < len(words(r["text"])) < 8]
        for record in short[: args.negatives_per_set // 4]:
            documents.append((record["text"], {"label": "negative", "kind": "one_line", "model": record["model"], "ref_id": record["id"]}))
    for record in human_negatives:
        documents.append((record["text"], {"label": "negative", "kind": "human", "model": None, "ref_id": record["id"]}))
    for record in background_negatives:
        documents.append((record["text"], {"label": "negative", "kind": "background", "model": None, "ref_id": record["id"]}))

    rng.shuffle(documents)
    shards = [[] for _ in range(args.shards)]
    with open(os.path.join(args.out, "labels.jsonl"), "w", encoding="utf-8") as labels:
        for number, (text, label) in enumerate(documents):
            doc_id = f"doc-{number:06d}"
            shards[number % args.shards].append(json.dumps({"id": doc_id, "text": text}, ensure_ascii=False))
            labels.write(json.dumps(dict(id=doc_id, **label), ensure_ascii=False) + "\n")
    compressors = [("zst", ["zstd", "-q", "-f", "--rm"]), ("gz", ["gzip", "-f"]), ("lz4", ["lz4", "-q", "-f", "--rm"]), ("", None)]
    for number, lines in enumerate(shards):
        path = os.path.join(args.out, "corpus", f"shard-{number:03d}.jsonl")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        suffix, command = compressors[number % len(compressors)]
        if command:
            subprocess.run(command + [path] + ([path + ".lz4"] if suffix == "lz4" else []), check=True)
    print(f"{len(documents)} documents in {args.shards} shards; {len(indexed)} references", file=sys.stderr)


if __name__ == "__main__":
    main()
