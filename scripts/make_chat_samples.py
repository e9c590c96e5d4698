#!/usr/bin/env python3
"""Builds samples/chat: fine-tuning conversations in the OpenAI/Hugging Face chat shape whose
assistant turns are indexed answers (whole, or a passage inside other words) or human text, as
JSONL (zstd) and as a Parquet shard written by pyarrow, with labels per assistant turn.

Usage: make_chat_samples.py [--seed N]   (needs pyarrow and the zstd command)
"""
import argparse
import json
import os
import random
import subprocess

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def load(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=17)
    arguments = parser.parse_args()
    rng = random.Random(arguments.seed)
    references = []
    folder = os.path.join(ROOT, "samples", "references")
    for name in sorted(os.listdir(folder)):
        references += load(os.path.join(folder, name))
    human = load(os.path.join(ROOT, "samples", "background", "human.jsonl"))
    records, labels = [], []
    for number in range(48):
        messages = [{"role": "system", "content": "You are a helpful assistant."}]
        for turn in range(rng.randint(1, 3)):
            kind = rng.choice(["copy", "copy", "passage", "human"])
            if kind == "human":
                source = rng.choice(human)
                prompt, answer = "Can you help me with this?", source["text"]
            else:
                source = rng.choice(references)
                prompt, answer = source.get("prompt") or "Please answer.", source["text"]
                if kind == "passage":
                    words = answer.split(" ")
                    start = rng.randint(0, max(0, len(words) - 60))
                    answer = "Sure. " + " ".join(words[start:start + 60]) + " Let me know if that helps."
            messages.append({"role": "user", "content": prompt})
            labels.append({"id": f"chat-{number:03d}", "field": f"messages[{len(messages)}].content",
                           "label": "human" if kind == "human" else "copy", "kind": kind,
                           "ref_id": None if kind == "human" else source["id"]})
            messages.append({"role": "assistant", "content": answer})
        records.append({"id": f"chat-{number:03d}", "model": "sample-finetune", "messages": messages})
    out = os.path.join(ROOT, "samples", "chat")
    os.makedirs(out, exist_ok=True)
    half = len(records) // 2
    plain = os.path.join(out, "chat-000.jsonl")
    with open(plain, "w", encoding="utf-8") as handle:
        for record in records[:half]:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    subprocess.run(["zstd", "-q", "-f", "--rm", plain], check=True)
    import pyarrow as pa
    import pyarrow.parquet as pq
    pq.write_table(pa.Table.from_pylist(records[half:]), os.path.join(out, "chat-001.parquet"),
                   compression="snappy", row_group_size=8)
    # Beside the folder, not in it: a directory given to echoscan is read as shards.
    with open(os.path.join(ROOT, "samples", "chat-labels.jsonl"), "w", encoding="utf-8") as handle:
        for label in labels:
            handle.write(json.dumps(label) + "\n")
    print(f"wrote {len(records)} conversations, {len(labels)} assistant turns to {out}")


if __name__ == "__main__":
    main()
