#!/usr/bin/env python3
"""Distinct, realistic reference text at any size, from this machine's own documentation (man
pages and /usr/share/doc, decompressed, troff markup dropped), cut at paragraph ends into
answers of about 1,500 bytes, each once (exact repeats dropped): the build cannot group them
away as it would edited copies.

Usage: make_doc_references.py OUT.jsonl MEGABYTES
Prints how many megabytes it wrote (less than asked when the machine has no more text).
"""
import gzip
import hashlib
import json
import os
import re
import sys

ROOTS = ["/usr/share/man", "/usr/share/doc", "/usr/share/info", "/opt/swift/usr/share"]
TROFF = re.compile(r"^[.'][A-Za-z\\]|^\\\"")
ESCAPES = re.compile(r"\\f[BIRP]|\\\(..|\\[-e&|^]|\\s[-+]?\d")


def texts():
    for root in ROOTS:
        for folder, _, names in sorted(os.walk(root)):
            for name in sorted(names):
                path = os.path.join(folder, name)
                try:
                    if name.endswith(".gz"):
                        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as handle:
                            yield path, handle.read()
                    elif os.path.getsize(path) < 4 << 20:
                        with open(path, encoding="utf-8") as handle:
                            yield path, handle.read()
                except (OSError, UnicodeDecodeError, EOFError):
                    continue


def chunks(text):
    lines = [ESCAPES.sub("", line) for line in text.splitlines() if not TROFF.match(line)]
    paragraph, size = [], 0
    for line in lines:
        paragraph.append(line)
        size += len(line) + 1
        if size >= 1500 and not line.strip():
            yield "\n".join(paragraph).strip()
            paragraph, size = [], 0
    if size >= 300:
        yield "\n".join(paragraph).strip()


def main():
    out, wanted = sys.argv[1], float(sys.argv[2]) * 1e6
    seen, written, count = set(), 0, 0
    with open(out, "w", encoding="utf-8") as handle:
        for path, text in texts():
            for chunk in chunks(text):
                words = len(chunk.split())
                digest = hashlib.sha1(chunk.encode()).digest()
                if words < 40 or digest in seen:
                    continue
                seen.add(digest)
                handle.write(json.dumps({"id": f"doc/{count:07d}", "text": chunk, "model": "machine-docs",
                                         "vendor": "unknown", "source": path}) + "\n")
                written += len(chunk.encode())
                count += 1
                if written >= wanted:
                    print(f"{written / 1e6:.1f}")
                    return
    print(f"{written / 1e6:.1f}")


if __name__ == "__main__":
    main()
