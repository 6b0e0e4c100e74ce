"""The keyboard-wedge event filter: scans reach the window wherever the focus is.

Installed on the QApplication, it sees every key press meant for a widget of the main
window and feeds its text and `QKeyEvent.timestamp()` to the devices layer's
`WedgeDecoder`. Keys are held while they may still be a scan (at most `max_gap_ms`);
a complete burst ending in Enter/Tab/EOT becomes `scanned(text)`, and anything else
(human typing) is replayed, in order, to the widget that has the focus, so a person
types into fields as usual. While a modal dialog is open (a supervisor PIN, a
confirmation) typing goes to the dialog, but a scan is never taken by it (its Enter
could press the default button): it becomes `refused(text)`.
"""

from __future__ import annotations

import time

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget

from station.devices.wedge import GS, TERMINATORS, WedgeDecoder

_HANDLED_MODIFIERS = Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier


def key_for(ch: str) -> Qt.Key:
    """The Qt key a character is typed with (what a replayed event carries)."""
    if ch in "\r\n":
        return Qt.Key.Key_Return
    if ch == "\t":
        return Qt.Key.Key_Tab
    if ch == " ":
        return Qt.Key.Key_Space
    if ch.isascii() and ch.isalnum():
        return Qt.Key(ord(ch.upper()))
    return Qt.Key.Key_unknown


class WedgeFilter(QObject):
    """Application event filter turning key bursts into `scanned(text)` for `window`."""

    scanned = Signal(str)
    refused = Signal(str)  # a scan while a modal dialog is open: not taken

    def __init__(self, window: QWidget, decoder: WedgeDecoder | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.decoder = decoder or WedgeDecoder()
        self.decoder.on_scan = self._scan
        self.decoder.on_typed = self._replay
        self.enabled = True
        self._replaying = False
        self._target: QWidget | None = None
        self._last_key = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._expire)

    def install(self) -> None:
        QApplication.instance().installEventFilter(self)

    def remove(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    # --- the filter ---------------------------------------------------------------

    def eventFilter(self, receiver: QObject, event: QEvent) -> bool:
        if self._replaying or event.type() != QEvent.Type.KeyPress or not self.enabled:
            return False
        if not receiver.isWidgetType() or not self._ours(receiver):  # type: ignore[arg-type]
            return False
        assert isinstance(event, QKeyEvent)
        text = event.text()
        if not text:
            return False
        modifiers = event.modifiers() & ~_HANDLED_MODIFIERS
        if text != GS and (modifiers or not (text.isprintable() or text in TERMINATORS)):
            self.flush()  # Ctrl/Alt shortcuts, Backspace, Escape: typed text first, then the key
            return False
        self._target = receiver  # type: ignore[assignment]
        self.decoder.feed(text, float(event.timestamp()))
        self._last_key = time.monotonic()
        if self.decoder.pending and not self._timer.isActive():
            self._timer.start(int(self.decoder.allowed_gap_ms) + 5)
        return True

    def _ours(self, receiver: QWidget) -> bool:
        if QApplication.activePopupWidget():
            return False
        return self._accepts(receiver)

    def _scan(self, text: str) -> None:
        if QApplication.activeModalWidget() is not None:
            self.refused.emit(text)
        else:
            self.scanned.emit(text)

    def _accepts(self, widget: QWidget) -> bool:
        """A widget of the window, or of the modal dialog on show over it."""
        modal = QApplication.activeModalWidget()
        return widget.window() is self.window or (
            modal is not None and widget.window() is modal.window()
        )

    # --- releasing typed text ------------------------------------------------------

    def flush(self) -> None:
        """Release held keys now as typed text."""
        self._timer.stop()
        if self.decoder.pending:
            deadline = self.decoder.deadline_ms
            assert deadline is not None
            self.decoder.expire(deadline)

    def _expire(self) -> None:
        """Release held keys once no key came for the decoder's allowed gap of wall time
        (longer after a first key, for scanners that start slowly; the timer is not
        restarted per key: it re-arms itself for the rest of the gap)."""
        if not self.decoder.pending:
            return
        quiet_ms = (time.monotonic() - self._last_key) * 1000
        rest = self.decoder.allowed_gap_ms + 5 - quiet_ms
        if rest > 0:
            self._timer.start(int(rest) + 1)
            return
        self.flush()

    def type_text(self, text: str) -> None:
        """Type `text` into the focused widget of the window, as a person would."""
        self._replay(text)

    def _replay(self, text: str) -> None:
        target = QApplication.focusWidget()
        if target is None or not self._accepts(target):
            target = self._target
        if target is None or not shiboken6.isValid(target):
            return
        self._replaying = True
        try:
            for ch in text:
                press = QKeyEvent(
                    QEvent.Type.KeyPress, key_for(ch), Qt.KeyboardModifier.NoModifier, ch
                )
                QApplication.sendEvent(target, press)
                release = QKeyEvent(
                    QEvent.Type.KeyRelease, key_for(ch), Qt.KeyboardModifier.NoModifier, ch
                )
                QApplication.sendEvent(target, release)
                focus = QApplication.focusWidget()  # Enter or Tab may have moved the focus
                if focus is not None and self._accepts(focus):
                    target = focus
        finally:
            self._replaying = False
