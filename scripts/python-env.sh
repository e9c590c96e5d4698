#!/usr/bin/env bash
# Creates .venv with the Python packages the tests and benchmarks use as real writers and peers
# (pyarrow, duckdb, polars) and prints its interpreter's path. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv >&2
fi
if ! .venv/bin/python -c "import pyarrow, duckdb, polars" 2>/dev/null; then
  .venv/bin/pip install -q --disable-pip-version-check "pyarrow>=15" "duckdb>=1.0" "polars>=1.0" >&2
fi
echo "$PWD/.venv/bin/python"
