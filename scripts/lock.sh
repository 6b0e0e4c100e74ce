#!/usr/bin/env bash
# Regenerates the lock files scripts/start.sh and scripts/test.sh install from:
#   bash scripts/lock.sh              # after changing dependencies in pyproject.toml
#   bash scripts/lock.sh --upgrade    # move every pin to the newest release allowed
# Versions already pinned stay (uv prefers them); new ones are pinned, with the hashes of
# every platform's files (--universal: one lock for Linux, Windows and macOS).
# requirements/runtime.txt: the app; requirements/test.txt: the app and its test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${TMPDIR:-/tmp}/station-lock-tools"
[ -x "$tools/bin/uv" ] || { python3 -m venv "$tools" && "$tools/bin/python" -m pip install -q uv; }
uv=("$tools/bin/uv" pip compile -q --universal --generate-hashes
    --custom-compile-command "bash scripts/lock.sh" "$@")
"${uv[@]}" pyproject.toml -o requirements/runtime.txt
"${uv[@]}" pyproject.toml --extra test -c requirements/runtime.txt -o requirements/test.txt
