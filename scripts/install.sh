#!/usr/bin/env bash
# Makes .venv hold the versions of a lock file and Station itself (editable), installing
# only when the install could differ from the last one:
#   bash scripts/install.sh requirements/runtime.txt    # scripts/start.sh
#   bash scripts/install.sh requirements/test.txt       # scripts/test.sh
# After an install, .venv/.installed-<lock> keeps a checksum of the lock file,
# pyproject.toml, this script and the checkout's path; while they match (and .venv still
# has its station command), nothing runs: Station is installed editable, so an edit to its
# source needs no reinstall. STATION_REINSTALL=1 installs again regardless.
set -euo pipefail
cd "$(dirname "$0")/.."
lock="${1:-}"
[ -n "$lock" ] && [ -f "$lock" ] \
  || { echo "usage: bash scripts/install.sh requirements/<lock>.txt (no lock file '$lock')" >&2; exit 2; }
stamp=".venv/.installed-$(basename "$lock" .txt)"
want="$({ cat "$lock" pyproject.toml scripts/install.sh; pwd; } | cksum)"
if [ -z "${STATION_REINSTALL:-}" ] && [ -x .venv/bin/python ] && [ -x .venv/bin/station ] \
  && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
# stderr: `bash scripts/start.sh scan ...` keeps stdout for the session's JSON lines.
echo "Installing Station and $lock into .venv (again only when they change)..." >&2
[ -x .venv/bin/python ] || python3 -m venv .venv
rm -f "$stamp"
.venv/bin/python -m pip install -q --upgrade pip
# The versions CI passed with (hashed; bash scripts/lock.sh regenerates them), then
# Station itself, editable, built with the locked setuptools.
.venv/bin/python -m pip install -q -r "$lock"
.venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
printf '%s\n' "$want" >"$stamp"
