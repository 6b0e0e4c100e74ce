"""Icons, sounds and the stylesheet of the window: package data of `station.resources`
(read with `importlib.resources`, so an installed wheel has them too). A missing file is
named on stderr, once; the window still opens."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

from station import resources


def sound_path(name: str) -> Path:
    """`good` or `bad`: a short WAV file."""
    found = resources.file_path(f"sounds/{name}.wav")
    if not found.is_file():
        _missing(f"sounds/{name}.wav")
    return found


def icon_path(name: str = "station") -> Path:
    return resources.file_path(f"icons/{name}.svg")


@cache
def icon(name: str = "station") -> QIcon:
    found = QIcon(str(icon_path(name)))
    if found.isNull():
        _missing(f"icons/{name}.svg")
    return found


def stylesheet() -> str:
    try:
        return resources.resource("station.qss").read_text(encoding="utf-8")
    except (OSError, UnicodeError):
        _missing("station.qss")
        return ""


@cache
def _missing(name: str) -> None:
    print(
        f"station: the resource {name} is missing from {resources.folder()};"
        " reinstall Station (or fix STATION_RESOURCES_DIR).",
        file=sys.stderr,
        flush=True,
    )
