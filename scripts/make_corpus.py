#!/usr/bin/env python3
"""Builds a planted-contamination corpus from real data (../shared/data), deterministically.

Outputs in OUT/:
  references/*.jsonl   the reference outputs that go into the index (model sets named by --indexed)
  background/*.jsonl   human text for the index's background (common k-grams)
  corpus/shard-NNN.jsonl[.zst|.gz|.lz4]  documents: transformed copies of indexed outputs (positives)
                       and negatives (other models' answers to the same prompts, sibling versions
                       of indexed models (--sibling-models), one-line answers, human answers, web text)
  labels.jsonl         per corpus document: id, label, kind, model(s), ref id(s) and the transform's
                       drawn parameters (words kept, edit rate, host share)

Positives are drawn from transform families whose parameters are random (per --seed), not fixed
recipes: an excerpt of 10-100% of a reference (at least 40 words), word edits at a rate drawn
from 0-30% (substitutions, insertions, deletions), a host page (human and web text) in which the
copy is 5-50% of the words, sentence reordering, several references in one document, chat
wrapping, and the surface changes of re-publishing: lines joined or re-wrapped with hyphens,
markdown stripped or turned into HTML with entities, smart quotes and dashes, other list
numbering, invisible characters, Cyrillic and Greek look-alike letters. Each positive draws a
family, then each of its options at random.
"""
import argparse, gzip, html, json, os, random, re, subprocess, sys

FAMILIES = ["exact", "excerpt", "edited", "host", "excerpt_edited_host", "chat", "reordered", "several",
            "reflow", "html", "invisible", "lookalike"]
LOOKALIKES = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440", "c": "\u0441", "x": "\u0445",
              "y": "\u0443", "i": "\u0456", "s": "\u0455", "A": "\u0391", "B": "\u0392", "E": "\u0395",
              "H": "\u0397", "K": "\u039a", "M": "\u039c", "O": "\u039f", "T": "\u03a4", "P": "\u03a1"}
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]


def read_jsonl(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def words(text):
    return text.split()


def excerpt(text, rng, low, high, minimum=40):
    """A contiguous run of `low`-`high` of the text's words (at least `minimum`), from a line start."""
    parts = text.split(" ")
    keep = min(len(parts), max(minimum, int(len(parts) * rng.uniform(low, high))))
    start = rng.randint(0, len(parts) - keep)
    return " ".join(parts[start:start + keep]), keep / max(len(parts), 1)


def edit(text, rng, vocabulary, rate):
    """Each word is, with probability `rate`, substituted (60%), deleted (20%) or followed by an
    inserted word (20%)."""
    tokens = re.split(r"(\s+)", text)
    out = []
    for i, token in enumerate(tokens):
        if i % 2 == 1 or not token or rng.random() >= rate:
            out.append(token)
            continue
        roll = rng.random()
        if roll < 0.6:
            out.append(rng.choice(vocabulary))
        elif roll < 0.8:
            out.append("")
        else:
            out.append(token + " " + rng.choice(vocabulary))
    return "".join(out)


def sentences(text):
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s]


def reorder(text, rng):
    parts = sentences(text)
    if len(parts) < 3:
        return text
    cut = rng.randint(1, len(parts) - 1)
    moved = parts[cut:] + parts[:cut] if rng.random() < 0.5 else rng.sample(parts, len(parts))
    return " ".join(moved)


def strip_markdown(text):
    text = re.sub(r"^\s*#+\s*", "", text, flags=re.M)
    text = re.sub(r"^\s*[-*+]\s+", "", text, flags=re.M)
    return re.sub(r"(\*\*|__|\*|`)", "", text)


def renumber(text, rng):
    style = rng.choice(["{n})", "({n})", "{n}.", "{n} -"])
    return re.sub(r"^(\s*)(\d+)[.)]\s+", lambda m: m.group(1) + style.format(n=m.group(2)) + " ", text, flags=re.M)


def smart(text):
    text = re.sub(r'"([^"\n]*)"', "\u201c\\1\u201d", text)
    return text.replace("'", "\u2019").replace(" - ", " \u2014 ").replace("--", "\u2013")


def reflow(text, rng):
    """Lines joined, then (half the time) re-wrapped at a random width with words hyphenated at line ends."""
    joined = re.sub(r"\s*\n\s*", " ", text).strip()
    if rng.random() < 0.5:
        return joined
    width, lines, line = rng.randint(30, 90), [], ""
    for word in joined.split(" "):
        if len(line) + len(word) + 1 <= width:
            line = (line + " " + word).strip()
            continue
        if word.isalpha() and word.islower() and len(word) >= 6 and width - len(line) > 4:
            cut = rng.randint(2, len(word) - 3)
            lines.append((line + " " + word[:cut] + "-").strip())
            line = word[cut:]
        else:
            lines.append(line)
            line = word
    lines.append(line)
    return "\n".join(lines)


def to_html(text, rng):
    text = html.escape(text, quote=rng.random() < 0.5)
    text = re.sub(r"\*\*([^*\n]+)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"`([^`\n]+)`", r"<code>\1</code>", text)
    text = re.sub(r"^\s*#+\s*(.*)$", r"<h3>\1</h3>", text, flags=re.M)
    text = re.sub(r"^\s*[-*]\s+(.*)$", r"<li>\1</li>", text, flags=re.M)
    text = re.sub(r"^\s*\d+[.)]\s+(.*)$", r"<li>\1</li>", text, flags=re.M)
    return "".join(f"<p>{p}</p>\n" for p in text.split("\n\n"))


def invisible(text, rng, rate):
    out = []
    for i, ch in enumerate(text):
        out.append(ch)
        if ch.isalpha() and i + 1 < len(text) and text[i + 1].isalpha() and rng.random() < rate:
            out.append(rng.choice(INVISIBLE))
    return "".join(out)


def lookalike(text, rng, rate):
    return "".join(LOOKALIKES[ch] if ch in LOOKALIKES and rng.random() < rate else ch for ch in text)


def chat(text, prompt, rng):
    opener = rng.choice(["User", "Human", "### Instruction"])
    answer = {"User": "Assistant", "Human": "Assistant", "### Instruction": "### Response"}[opener]
    follow = rng.choice(["Thanks, that helps!", "Can you make it shorter?", "Great, thank you."])
    return f"{opener}: {prompt or 'Tell me something.'}\n{answer}: {text}\n{opener}: {follow}"


def host(text, rng, paragraphs, share):
    """Text placed among host paragraphs so that it is about `share` of the words."""
    target = len(words(text)) * (1 - share) / max(share, 1e-6)
    before, after, total = [], [], 0
    while total < target:
        paragraph = rng.choice(paragraphs)
        (before if rng.random() < 0.5 else after).append(paragraph)
        total += len(words(paragraph))
    return "\n\n".join(before + [text] + after), len(words(text)) / (len(words(text)) + total)


def positive(family, record, rng, eligible, vocabulary, paragraphs):
    """One planted document of a family, with its drawn parameters."""
    text, meta = record["text"], {"edit_rate": 0.0, "host_share": 1.0, "excerpt_share": 1.0}
    models, refs = [record["model"]], [record["id"]]
    if family in ("excerpt", "excerpt_edited_host"):
        text, meta["excerpt_share"] = excerpt(text, rng, 0.1, 0.9)
    if family in ("edited", "excerpt_edited_host"):
        meta["edit_rate"] = rng.uniform(0.0, 0.3)
        text = edit(text, rng, vocabulary, meta["edit_rate"])
    if family == "reordered":
        text = reorder(text, rng)
    if family == "several":
        other = rng.choice([r for r in rng.sample(eligible, 20) if r["id"] != record["id"]])
        first, meta["excerpt_share"] = excerpt(text, rng, 0.3, 1.0)
        second, _ = excerpt(other["text"], rng, 0.3, 1.0)
        text = first + "\n\n" + rng.choice(paragraphs) + "\n\n" + second
        models.append(other["model"])
        refs.append(other["id"])
    if family == "chat":
        text = chat(text, record.get("prompt", ""), rng)
    if family == "reflow":
        text = reflow(text, rng)
    if family == "html":
        text = to_html(smart(renumber(text, rng)) if rng.random() < 0.5 else text, rng)
    if family == "invisible":
        text = invisible(text, rng, rng.uniform(0.02, 0.2))
    if family == "lookalike":
        text = lookalike(text, rng, rng.uniform(0.05, 0.5))
    if family in ("host", "excerpt_edited_host"):
        text, meta["host_share"] = host(text, rng, paragraphs, rng.uniform(0.05, 0.5))
    if family in ("reflow", "host") and rng.random() < 0.5:
        text = smart(strip_markdown(text))
    meta["words_kept"] = len(words(text)) if meta["host_share"] == 1.0 else int(len(words(text)) * meta["host_share"])
    return text, {"label": "positive", "kind": family, "model": models[0], "models": models, "ref_id": refs[0],
                  "ref_ids": refs, **{k: round(v, 4) if isinstance(v, float) else v for k, v in meta.items()}}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--indexed", nargs="+", required=True, help="reference file stems that go into the index")
    parser.add_argument("--negative-models", nargs="+", required=True, help="reference file stems used as negatives")
    parser.add_argument("--sibling-models", nargs="*", default=[],
                        help="those of the negative stems that are other versions of an indexed model (kind sibling_model)")
    parser.add_argument("--positives", type=int, default=2400)
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
    # negatives and host pages, so that no negative is in the background it is tested against.
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
    for _ in range(args.positives):
        family = rng.choice(FAMILIES)
        documents.append(positive(family, rng.choice(eligible), rng, eligible, vocabulary, paragraphs))

    for stem in args.negative_models:
        records = read_jsonl(os.path.join(args.data, "reference", stem + ".jsonl"))
        longer = [r for r in records if len(words(r["text"])) >= 8]
        kind = "sibling_model" if stem in args.sibling_models else "other_model"
        for record in rng.sample(longer, min(args.negatives_per_set, len(longer))):
            documents.append((record["text"], {"label": "negative", "kind": kind, "model": record["model"], "ref_id": record["id"]}))
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
