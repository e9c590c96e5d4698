#!/usr/bin/env python3
"""Runs Dolma's mixer (the Rust code behind `dolma mix`, from the dolma wheel on PyPI) over
ROOT/documents/* with echoscan's attributes (ROOT/attributes/echoscan/...), dropping every
document that a scan flagged: one with a contained passage or a marker phrase.

Usage: dolma_mix.py ROOT OUT   (writes OUT/documents/<same names>)

The mixer's extension is loaded on its own: the `dolma` package's Python side imports the
taggers' dependencies (boto3, s3fs, ...), which the mixer does not need.
"""
import glob
import importlib.util
import json
import os
import sys


def mixer():
    for folder in sys.path:
        found = glob.glob(os.path.join(folder, "dolma", "dolma.cpython-*.so"))
        if found:
            spec = importlib.util.spec_from_file_location("dolma.dolma", found[0])
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module.mixer_entrypoint
    sys.exit("dolma_mix.py: the dolma wheel is not installed (scripts/python-env.sh installs it)")


def main():
    root, out = sys.argv[1], sys.argv[2]
    config = {
        "work_dir": {"input": os.path.join(out, "work-in"), "output": os.path.join(out, "work-out")},
        "processes": 1,
        "shuffle": False,
        "streams": [{
            "name": "kept",
            "documents": [os.path.join(root, "documents", "*")],
            "attributes": ["echoscan"],
            "output": {"path": out, "max_size_in_bytes": 1 << 30},
            "filter": {
                "include": [],
                "exclude": [
                    "$.attributes[?(@.echoscan__containment && @.echoscan__containment[0])]",
                    "$.attributes[?(@.echoscan__marker && @.echoscan__marker[0])]",
                ],
                "syntax": "jsonpath",
            },
            "compression": {"input": None, "output": None},
        }],
    }
    mixer()(json.dumps(config))


if __name__ == "__main__":
    main()
