"""The files Station ships inside its package: label templates (`labels/`), the scan
sounds (`sounds/`), the icon (`icons/`) and the stylesheet (`station.qss`).

They are package data, read through `importlib.resources`, so a wheel, an editable
install, a source checkout and the PyInstaller bundle all find them the same way.
`STATION_RESOURCES_DIR` points at another folder of the same layout (a site's own
sounds or stylesheet); `STATION_LABELS_DIR` at another folder of label templates.
"""

from __future__ import annotations

import atexit
import contextlib
import os
from functools import cache
from importlib.resources import as_file, files
from importlib.resources.abc import Traversable
from pathlib import Path

#: Every file the package must carry (the installed-wheel smoke test checks each).
SHIPPED = (
    "labels/serial_label.zpl",
    "labels/packing_slip.zpl",
    "sounds/good.wav",
    "sounds/bad.wav",
    "icons/station.svg",
    "station.qss",
)

_extracted = contextlib.ExitStack()  # temporary copies, for a package that is not a folder
atexit.register(_extracted.close)


def folder() -> Traversable:
    """The resource folder: `STATION_RESOURCES_DIR`, else the package's own."""
    override = os.environ.get("STATION_RESOURCES_DIR")
    return Path(override) if override else files(__name__)


def resource(name: str) -> Traversable:
    """One resource by its `/`-separated name, e.g. `sounds/good.wav`."""
    return folder().joinpath(*name.split("/"))


def labels_folder() -> Traversable:
    """Label templates: `STATION_LABELS_DIR`, else `labels/` of the resource folder."""
    override = os.environ.get("STATION_LABELS_DIR")
    return Path(override) if override else resource("labels")


@cache
def file_path(name: str) -> Path:
    """A real file holding the resource (Qt and the sound players take a path): the file
    itself when the package is a folder, else a copy kept until the program ends."""
    return _extracted.enter_context(as_file(resource(name)))


def missing() -> list[str]:
    """The files of SHIPPED the installed package lacks (empty when it is whole)."""
    own = files(__name__)
    return [name for name in SHIPPED if not own.joinpath(*name.split("/")).is_file()]
