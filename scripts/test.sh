#!/usr/bin/env bash
# The whole test suite on a fresh machine: venv, install, lint, types, schema drift, tests.
# (Later issues add: start Kafka, Elasticsearch and slapd with scripts/services.sh before pytest.)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "ucsiem needs Python >= 3.11 (found $("$PY" --version))" >&2
    exit 2
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip setuptools wheel
.venv/bin/python -m pip install -q -e '.[dev]'
echo "== ruff";    .venv/bin/ruff check .
echo "== mypy";    .venv/bin/mypy
echo "== mappings drift"; .venv/bin/ucsiem mappings check
echo "== pytest";  .venv/bin/python -m pytest "$@"
