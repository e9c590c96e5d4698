#!/usr/bin/env bash
# Creates .venv with the Python packages the tests and benchmarks use as real writers and peers
# (pyarrow, duckdb, polars; Dolma's mixer from the dolma wheel, without the dependencies of its
# taggers, which pip cannot resolve in reasonable time) and prints its interpreter's path. Idempotent.
# Usage: scripts/python-env.sh [PACKAGE...]   (more PyPI packages a script needs, e.g. matplotlib)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv >&2
fi
if ! .venv/bin/python -c "import pyarrow, duckdb, polars" 2>/dev/null; then
  .venv/bin/pip install -q --disable-pip-version-check "pyarrow>=15" "duckdb>=1.0" "polars>=1.0" >&2
fi
if ! .venv/bin/pip show dolma >/dev/null 2>&1; then
  .venv/bin/pip install -q --disable-pip-version-check --no-deps --only-binary=:all: "dolma==1.2.1" >&2
fi
for package in "$@"; do
  module="${package//-/_}"
  [ "$package" = scikit-learn ] && module=sklearn
  .venv/bin/python -c "import $module" 2>/dev/null || .venv/bin/pip install -q --disable-pip-version-check "$package" >&2
done
echo "$PWD/.venv/bin/python"
