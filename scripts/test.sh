#!/usr/bin/env bash
# Installs Station with its test tools in .venv, then runs the linters and the tests.
# Database tests run on SQLite and on the PostgreSQL at STATION_TEST_PG_URL
# (default: the local server); set STATION_REQUIRE_PG=1 to fail instead of skipping it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# The versions CI passed with (requirements/test.txt: the app and its test tools, hashed;
# bash scripts/lock.sh regenerates it), then Station itself, editable.
.venv/bin/python -m pip install -q -r requirements/test.txt
.venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports
.venv/bin/python -m pytest "$@"
