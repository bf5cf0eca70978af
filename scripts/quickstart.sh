#!/usr/bin/env bash
# Install into .venv and run the bundled sample logs through the agent into ./ucsiem-demo/events.ndjson.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q .
exec .venv/bin/ucsiem demo --out ucsiem-demo
