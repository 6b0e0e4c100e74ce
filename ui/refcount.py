"""A guard against a PySide6 bug seen with PySide6 6.12.0 on CPython 3.11: every call of a
Qt method returning `void` (`QLabel.setText`, `QTimer.start`, `processEvents`,
`beginInsertRows`…) drops one reference to `None` that it never took, and bool results
do the same to `True`/`False`. After some thousands of calls the count reaches zero and
the interpreter aborts ("Fatal Python error: none_dealloc") — a station would die
within minutes of scanning. On CPython 3.12+ these objects are immortal: no harm.

`protect_none()` measures the loss on a probe and, when there is one, gives None, True
and False a reserve of 2**40 references each (an extra reference to them is harmless:
they are never freed). At a thousand lost references per second that lasts 35 years.
"""

from __future__ import annotations

import ctypes
import sys

RESERVE = 1 << 40


def none_lost_per_call() -> int:
    """References to None one void Qt call loses (0 when PySide6 is fine)."""
    from PySide6.QtCore import QTimer

    probe = QTimer()
    before = sys.getrefcount(None)
    for _ in range(10):
        probe.stop()
    return max(0, (before - sys.getrefcount(None)) // 10)


def protect_none() -> bool:
    """Give None a reserve of references when void Qt calls lose them. True if applied."""
    if sys.version_info >= (3, 12) or none_lost_per_call() == 0:
        return False
    for singleton in (None, True, False):  # bool-returning calls lose True/False the same way
        if sys.getrefcount(singleton) < RESERVE // 2:
            # ob_refcnt is the first field of every object in a CPython 3.11 release build.
            ctypes.c_ssize_t.from_address(id(singleton)).value += RESERVE
    return True
