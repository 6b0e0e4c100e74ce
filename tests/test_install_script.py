"""scripts/install.sh (run by scripts/start.sh and scripts/test.sh) installs the first time
and again only when the lock file, pyproject.toml or the script itself changed. The copy of
the checkout here gets a .venv whose `python` records what pip was asked (the installs
themselves are measured in the README, not repeated in a test)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PIP = """#!/bin/sh
bin="$(dirname "$0")"
echo "$*" >>"$bin/../pip.log"
[ -z "$PIP_FAILS" ] || exit 1
case "$*" in *" -e ."*) printf '#!/bin/sh\\n' >"$bin/station"; chmod +x "$bin/station";; esac
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    copy = tmp_path / "checkout"
    for name in ("scripts/install.sh", "pyproject.toml", "requirements/runtime.txt",
                 "requirements/test.txt", "station/__init__.py"):  # fmt: skip
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, copy / name)
    python = copy / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(PIP)
    python.chmod(0o755)
    return copy


def install(checkout: Path, *args: str, **env: str) -> tuple[int, str, list[str]]:
    log = checkout / ".venv" / "pip.log"
    before = log.read_text().splitlines() if log.exists() else []
    done = subprocess.run(
        ["bash", str(checkout / "scripts" / "install.sh"), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    after = log.read_text().splitlines() if log.exists() else []
    return done.returncode, done.stderr, after[len(before) :]


FULL = [
    "-m pip install -q --upgrade pip",
    "-m pip install -q -r requirements/runtime.txt",
    "-m pip install -q --no-deps --no-build-isolation -e .",
]


def test_installs_once_and_again_only_when_the_project_changed(checkout: Path) -> None:
    lock = "requirements/runtime.txt"
    status, said, ran = install(checkout, lock)
    assert (status, ran) == (0, FULL)
    assert "Installing Station and requirements/runtime.txt into .venv" in said
    assert (checkout / ".venv" / ".installed-runtime").is_file()

    assert install(checkout, lock) == (0, "", [])  # the second start: nothing at all
    (checkout / "station" / "__init__.py").write_text("# edited\n")
    assert install(checkout, lock) == (0, "", [])  # editable: source edits need nothing

    with (checkout / "pyproject.toml").open("a") as file:
        file.write("\n# a dependency changed\n")
    assert install(checkout, lock)[2] == FULL
    with (checkout / lock).open("a") as file:
        file.write("\n")
    assert install(checkout, lock)[2] == FULL
    assert install(checkout, lock, STATION_REINSTALL="1")[2] == FULL
    assert install(checkout, lock) == (0, "", [])

    # The test tools' lock has a stamp of its own; installing it leaves the app's valid.
    assert install(checkout, "requirements/test.txt")[2] == [
        line.replace("runtime", "test") for line in FULL
    ]
    assert install(checkout, lock) == (0, "", [])


def test_a_failed_install_is_tried_again_and_a_lost_station_command_reinstalls(
    checkout: Path,
) -> None:
    lock = "requirements/runtime.txt"
    assert install(checkout, lock)[0] == 0
    (checkout / "pyproject.toml").write_text((checkout / "pyproject.toml").read_text() + "\n")
    status, _said, ran = install(checkout, lock, PIP_FAILS="1")
    assert status != 0 and ran == FULL[:1]
    assert not (checkout / ".venv" / ".installed-runtime").exists()
    assert install(checkout, lock)[2] == FULL  # tried again, not taken as done
    (checkout / ".venv" / "bin" / "station").unlink()
    assert install(checkout, lock)[2] == FULL


@pytest.mark.parametrize("args", [[], ["requirements/nothing.txt"]])
def test_a_missing_lock_file_is_named(checkout: Path, args: list[str]) -> None:
    status, said, ran = install(checkout, *args)
    assert (status, ran) == (2, [])
    assert said.startswith("usage: bash scripts/install.sh requirements/<lock>.txt (no lock file")
    assert f"'{args[0] if args else ''}'" in said
