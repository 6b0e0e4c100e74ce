#!/usr/bin/env bash
# Installs Station in .venv and opens the desktop app on the embedded SQLite database.
# The first-run setup offers the demo data (or run: .venv/bin/station demo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# The versions CI passed with (requirements/runtime.txt, hashed; bash scripts/lock.sh
# regenerates it), then Station itself, editable, built with the locked setuptools.
.venv/bin/python -m pip install -q -r requirements/runtime.txt
.venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
exec .venv/bin/station "$@"
