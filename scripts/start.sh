#!/usr/bin/env bash
# Installs Station in .venv (the first time, and again only when requirements/runtime.txt
# or pyproject.toml changed: scripts/install.sh) and opens the desktop app on the embedded
# SQLite database. The first-run setup offers the demo data (or run: .venv/bin/station demo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
bash scripts/install.sh requirements/runtime.txt
exec .venv/bin/station "$@"
