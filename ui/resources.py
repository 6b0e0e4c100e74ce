"""The one place icons, sounds and the stylesheet are found (`resources/` next to `ui/`)."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon


def resources_dir() -> Path:
    override = os.environ.get("STATION_RESOURCES_DIR")
    return Path(override) if override else Path(__file__).parents[1] / "resources"


def sound_path(name: str) -> Path:
    """`good` or `bad`: a short WAV file."""
    return resources_dir() / "sounds" / f"{name}.wav"


def icon_path(name: str = "station") -> Path:
    return resources_dir() / "icons" / f"{name}.svg"


@cache
def icon(name: str = "station") -> QIcon:
    return QIcon(str(icon_path(name)))


def stylesheet() -> str:
    path = resources_dir() / "station.qss"
    return path.read_text() if path.exists() else ""
