"""Name the system libraries Qt's xcb platform plugin needs when they are missing (SPEC §9).

Qt's own message ("could not load the Qt platform plugin "xcb"") does not say which
library is absent; this check runs before the QApplication exists and names them.
No Qt import here.
"""

from __future__ import annotations

import ctypes.util
import os
import sys
from collections.abc import Callable, Mapping

#: Debian/Ubuntu package -> the library name `ctypes.util.find_library` looks for.
XCB_LIBRARIES: dict[str, str] = {
    "libxcb-cursor0": "xcb-cursor",
    "libxcb-icccm4": "xcb-icccm",
    "libxcb-keysyms1": "xcb-keysyms",
    "libxcb-image0": "xcb-image",
    "libxcb-render-util0": "xcb-render-util",
    "libxcb-shape0": "xcb-shape",
    "libxcb-randr0": "xcb-randr",
    "libxcb-xinerama0": "xcb-xinerama",
    "libxkbcommon-x11-0": "xkbcommon-x11",
}


def uses_xcb(environ: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """True when Qt will load the xcb plugin: Linux, and no other platform asked for."""
    env = os.environ if environ is None else environ
    if (platform or sys.platform) != "linux":
        return False
    wanted = env.get("QT_QPA_PLATFORM", "")
    if wanted:
        return wanted.split(":")[0] == "xcb"
    return not env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE") == "x11"


def missing_xcb_packages(find: Callable[[str], str | None] = ctypes.util.find_library) -> list[str]:
    """The Debian/Ubuntu packages whose libraries cannot be found."""
    return [package for package, library in XCB_LIBRARIES.items() if not find(library)]


def problem_message(missing: list[str]) -> str:
    return (
        "Station cannot open its window: Qt's xcb platform plugin needs system libraries"
        f" that are missing: {', '.join(missing)}.\n"
        f"Install them with:  sudo apt-get install -y {' '.join(missing)}\n"
        "(or run headless with QT_QPA_PLATFORM=offscreen)."
    )


NO_DISPLAY = (
    "Station cannot open its window: no X display (DISPLAY is not set). Run it in a desktop"
    " session, or headless with QT_QPA_PLATFORM=offscreen."
)


def check(environ: Mapping[str, str] | None = None) -> str | None:
    """A message naming what is missing, or None when the window can open."""
    env = os.environ if environ is None else environ
    if not uses_xcb(env):
        return None
    missing = missing_xcb_packages()
    if missing:
        return problem_message(missing)
    return None if env.get("DISPLAY") else NO_DISPLAY
