"""Fixtures for the desktop app: a window over a real database, and a keyboard that
types like a wedge scanner (key bursts a few ms apart) or like a person (150 ms apart)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from ui.app import build_window
from ui.main_window import MainWindow
from ui.resources import stylesheet
from ui.wedge import key_for


class Keyboard:
    """Sends key events with chosen `QKeyEvent.timestamp()`s to the focused widget."""

    def __init__(self, window: QWidget) -> None:
        self.window = window
        self.now = 1_000_000

    def target(self) -> QWidget:
        focus = QApplication.focusWidget()
        return focus if focus is not None else self.window

    def key(self, ch: str, timestamp: int, target: QWidget | None = None) -> None:
        event = QKeyEvent(QEvent.Type.KeyPress, key_for(ch), Qt.KeyboardModifier.NoModifier, ch)
        event.setTimestamp(timestamp)
        QApplication.sendEvent(target or self.target(), event)

    def scan(self, text: str, gap_ms: int = 4, end: str = "\r") -> None:
        """A wedge scanner's burst: every key `gap_ms` apart, then Enter."""
        self.now += 500
        for ch in text + end:
            self.now += gap_ms
            self.key(ch, self.now)

    def type(self, text: str, gap_ms: int = 150) -> None:
        """A person typing: keys `gap_ms` apart (no Enter unless in `text`)."""
        self.now += 500
        for ch in text:
            self.now += gap_ms
            self.key(ch, self.now)


@pytest.fixture
def make_window(qtbot: QtBot, engine: Engine) -> Iterator[Callable[..., MainWindow]]:
    windows: list[MainWindow] = []
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setStyleSheet(stylesheet())

    def make(
        station: str | None = "DOCK-1", user: str | None = None, sounds: str = "record"
    ) -> MainWindow:
        window = build_window(engine, station=station, user=user, sounds=sounds)
        windows.append(window)
        qtbot.addWidget(window)
        window.show()
        window.activateWindow()
        qtbot.waitExposed(window)
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
        return window

    yield make
    for window in windows:
        window.close()


def keyboard(window: QWidget) -> Keyboard:
    return Keyboard(window)
