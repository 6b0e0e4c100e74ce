"""The guard against PySide6 6.12 losing references to None/True/False (ui/refcount.py)."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from ui.refcount import RESERVE, none_lost_per_call, protect_none


def test_many_void_calls_never_exhaust_none(qtbot: QtBot) -> None:
    applied = protect_none()
    if sys.version_info < (3, 12) and none_lost_per_call():
        assert applied and sys.getrefcount(None) > RESERVE // 2
        assert sys.getrefcount(True) > RESERVE // 2 and sys.getrefcount(False) > RESERVE // 2
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for n in range(50_000):
        label.setText(str(n))
        label.setVisible(False)
    assert label.text() == "49999"
    lost = before - sys.getrefcount(None)
    assert lost <= 2 * 50_000  # at most the two calls per loop, and the reserve covers it
    assert sys.getrefcount(None) > 0
