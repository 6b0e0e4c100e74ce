#!/usr/bin/env bash
# Installs Station with its test tools in .venv, then runs the linters and the tests.
# Database tests run on SQLite and on the PostgreSQL at STATION_TEST_PG_URL
# (default: the local server); set STATION_REQUIRE_PG=1 to fail instead of skipping it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
# The app and its test tools at the versions CI passed with (requirements/test.txt),
# installed when it or pyproject.toml changed (scripts/install.sh), then Station, editable.
bash scripts/install.sh requirements/test.txt
export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports
# every core (pytest-xdist): the suite runs in about half the time on two
.venv/bin/python -m pytest -n auto --dist worksteal "$@"
