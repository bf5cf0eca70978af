#!/usr/bin/env bash
# The whole test suite on a fresh machine: venv, install, lint, types, schema drift, the Debian packages
# the end-to-end tests drive (scripts/system-packages.sh: Kamailio, SIPp), the real Kafka and
# Elasticsearch on loopback (scripts/services.sh: fetched from Maven Central, cached), tests.
# Set UCSIEM_KEEP_SERVICES=1 to leave the services running afterwards (faster reruns).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "ucsiem needs Python >= 3.11 (found $("$PY" --version))" >&2
    exit 2
fi
echo "== system packages"; bash scripts/system-packages.sh
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip setuptools wheel
.venv/bin/python -m pip install -q -e '.[dev]'
echo "== ruff";    .venv/bin/ruff check .
echo "== mypy";    .venv/bin/mypy
echo "== mappings drift"; .venv/bin/ucsiem mappings check
echo "== services"; bash scripts/services.sh start kafka es
if [ -z "${UCSIEM_KEEP_SERVICES:-}" ]; then
    trap 'bash scripts/services.sh stop kafka es >/dev/null 2>&1 || true' EXIT
fi
# The install compiled the hot path (setup.py): the suite runs it, then the parser and unit tests run the same
# modules' Python source (what a machine without a C compiler gets).
echo "== pytest";  UCSIEM_REQUIRE_COMPILED=1 .venv/bin/python -m pytest "$@"
if [ $# -eq 0 ]; then
    echo "== pytest, pure Python"; UCSIEM_PURE_PYTHON=1 .venv/bin/python -m pytest -q tests/parsers tests/unit
fi
