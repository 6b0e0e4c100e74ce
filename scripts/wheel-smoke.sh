#!/usr/bin/env bash
# The installed station works (SPEC §9): builds the wheel, installs it into a fresh virtual
# environment outside the checkout (its dependencies from requirements/runtime.txt) and,
# from a folder where the source cannot be imported, renders a ZPL and a PNG label, runs a
# `station scan` session that posts and prints to a file:// printer, and starts the window
# offscreen. Fails on any missing resource. Run by .ci/run; alone: bash scripts/wheel-smoke.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/station-wheel.XXXXXX")"
trap 'rm -rf "$work"' EXIT
started=$SECONDS
step() { printf 'wheel-smoke: %s\n' "$*"; }
fail() { printf 'wheel-smoke: FAILED: %s\n' "$*" >&2; exit 1; }

# The tracked files only (a stale build/ or a local file cannot slip into the wheel).
mkdir -p "$work/src" "$work/dist" "$work/run"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$root" && git ls-files -z | xargs -0 cp --parents -t "$work/src")
else
  cp -r "$root/." "$work/src" && rm -rf "$work/src/.venv" "$work/src/build"
fi

bash "$root/scripts/system-deps.sh"  # Qt's system libraries, for the window
step "fresh virtual environment, dependencies from requirements/runtime.txt"
python3 -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install -q --upgrade pip
"$py" -m pip install -q -r "$root/requirements/runtime.txt"
step "building the wheel"
"$py" -m pip wheel -q --no-deps --no-build-isolation -w "$work/dist" "$work/src"
wheel=("$work"/dist/station-*.whl)
[ -f "${wheel[0]}" ] || fail "no wheel was built"
"$py" -m pip install -q --no-deps "${wheel[0]}"
rm -rf "$work/src"  # nothing left to import but the installed package

# From here on: outside the checkout, nothing pointing back at it.
cd "$work/run"
unset PYTHONPATH STATION_DATABASE_URL STATION_LABELS_DIR STATION_RESOURCES_DIR
export STATION_DATA_DIR="$work/data" STATION_PIN=2468 QT_QPA_PLATFORM=offscreen
station="$work/venv/bin/station"
db="sqlite:///$work/ledger.db"

"$py" - "$work/venv" <<'PY' || fail "the installed package is not the one in the venv, or lacks a resource"
import sys
from pathlib import Path

import station, ui
from station import resources

venv = Path(sys.argv[1]).resolve()
for module in (station, ui):
    where = Path(module.__file__).resolve()
    assert venv in where.parents, f"{module.__name__} imported from {where}"
assert not resources.missing(), f"missing from the wheel: {resources.missing()}"
print(f"wheel-smoke: {len(resources.SHIPPED)} resources in {Path(station.__file__).parent}")
PY

step "ledger, first supervisor, demo data, a station printing to a file"
"$station" --db "$db" users add smoke --role supervisor >/dev/null
"$station" --db "$db" demo >/dev/null
labels_file="$work/printed-labels.zpl"
"$station" --db "$db" options set --station SMOKE --user smoke \
  print_label_on_receive=true "label_printer=file://$labels_file" >/dev/null

step "station label: ZPL, PNG"
"$station" --db "$db" label --sku W-100 --serial SMOKE-0001 --out "$work/label.zpl"
[ "$(head -c 3 "$work/label.zpl")" = "^XA" ] || fail "the ZPL label does not start with ^XA"
grep -q "SMOKE-0001" "$work/label.zpl" || fail "the ZPL label lacks its serial"
"$station" --db "$db" label --sku W-100 --serial SMOKE-0001 --format png --out "$work/label.png"
[ "$(head -c 8 "$work/label.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] \
  || fail "the PNG label is not a PNG"

step "station scan: receive two units, post, print their labels"
status=0
printf 'W100\nSMOKE-1\nW100\nSMOKE-2\nCMD-SAVE\n' \
  | "$station" --db "$db" scan --station SMOKE --receive PO-9001 --user smoke \
  >"$work/scan.jsonl" 2>"$work/scan.err" || status=$?
[ "$status" -eq 0 ] || { cat "$work/scan.jsonl" "$work/scan.err"; fail "station scan exited $status"; }
"$py" - "$work/scan.jsonl" "$work/scan.err" "$labels_file" <<'PY' || fail "the scan session"
import json
import sys
from pathlib import Path

lines = [json.loads(line) for line in Path(sys.argv[1]).read_text().splitlines()]
err = Path(sys.argv[2]).read_text()
assert len(lines) == 5 and all(line["ok"] for line in lines[:4]), lines
posted = lines[-1]
assert posted["posted"] is True and posted["units"] == 2, posted
assert (posted["printing"], posted["print_jobs"]) == ("queued", 2), posted
assert err == "", err
printed = Path(sys.argv[3]).read_bytes()
assert printed.startswith(b"^XA") and printed.count(b"^XA") == 2, printed[:200]
assert b"SMOKE-1" in printed and b"SMOKE-2" in printed
print(f"wheel-smoke: posted {posted['document']}, 2 labels in {sys.argv[3]}")
PY

step "the window, offscreen"
"$py" - <<'PY' || fail "the window's resources"
from PySide6.QtWidgets import QApplication

app = QApplication([])
from ui.resources import icon, sound_path, stylesheet

assert "QMainWindow" in stylesheet(), "no stylesheet"
assert not icon().pixmap(32).isNull(), "no icon"
for name in ("good", "bad"):
    assert sound_path(name).read_bytes()[:4] == b"RIFF", f"no {name} sound"
PY
STATION_EXIT_WHEN_READY=1 "$station" --db "$db" >"$work/gui.out" 2>"$work/gui.err" \
  || { cat "$work/gui.out" "$work/gui.err"; fail "the window did not start"; }
grep -q "^ready " "$work/gui.out" || fail "the window never said ready: $(cat "$work/gui.out")"
[ ! -s "$work/gui.err" ] || { cat "$work/gui.err"; fail "the window wrote to stderr"; }
step "passed in $((SECONDS - started)) s ($(basename "${wheel[0]}"))"
