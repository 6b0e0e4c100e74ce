"""The journal in the desktop app: a damaged journal is named in the banner, another
user's session is not taken over, and what cannot be journaled is refused on screen."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from station.codes import Code
from station.journal import journal_path
from tests.seed import add_operators, seed
from tests.test_journal_sessions import Broken
from tests.ui.conftest import keyboard
from ui.main_window import MainWindow


def _crash(make_window: Callable[..., MainWindow], scans: list[str], **kw: str) -> None:
    """A window that acknowledged `scans` on PO-1, then died (never closed or saved)."""
    window = make_window(**kw)
    keys = keyboard(window)
    keys.scan("PO-1")
    page = window.scan_page
    assert page is not None
    for scan in scans:
        keys.scan(scan)
        assert page.banner.state == "good", page.banner.text()
    window.wedge.remove()
    window.hide()


def test_a_damaged_journal_is_named_in_the_banner(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    _crash(make_window, ["W1", "SN-A", "SN-B", "CABLE3", "G2"])
    path = journal_path("receive", "DOCK-1", "PO-1")
    lines = path.read_bytes().split(b"\n")
    lines[4] = b"#" * 20  # the 4th record (CABLE3) cannot be read, nor what follows
    path.write_bytes(b"\n".join(lines))

    window = make_window()
    assert window.home.offer.text() == "Resume receiving PO-1: 3 scans?"
    window.home.resume_button.click()
    qtbot.waitUntil(lambda: window.scan_page is not None)
    page = window.scan_page
    assert page is not None
    assert page.banner.state == "bad" and page.banner.code == Code.JOURNAL_DAMAGED
    assert "3 scans restored, 2 could not be" in page.banner.text()
    assert "[JOURNAL_DAMAGED]" in page.banner.text()
    assert page.entries_model.rowCount() == 2  # SN-A, SN-B
    keyboard(window).scan("CABLE3")
    assert page.banner.state == "good"


def test_another_users_session_is_offered_but_not_taken_over(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    add_operators(engine, alice="clerk", bob="clerk")
    _crash(make_window, ["W1", "SN-A"], user="alice")
    window = make_window(user="bob")
    assert window.home.offer.text() == "Resume receiving PO-1: 2 scans by alice?"
    window.home.resume_button.click()
    chooser = window.choose["receive"]
    qtbot.waitUntil(lambda: window.current_page() is chooser)
    assert window.scan_page is None
    assert chooser.banner.state == "bad" and chooser.banner.code == Code.SESSION_OTHER_USER
    assert "has 2 unsaved scans by alice: continue as alice" in chooser.banner.text()


def test_what_cannot_be_journaled_is_refused_on_screen(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    window = make_window()
    keys = keyboard(window)
    page = window.open_document("receive", "PO-1")
    assert page is not None
    for scan in ["W1", "SN-A", "CABLE3"]:
        keys.scan(scan)
    broken = Broken(page.session)
    keys.scan("G2")
    assert page.banner.state == "bad" and page.banner.code == Code.JOURNAL_UNAVAILABLE
    assert page.prompt.text() == "Scan an item"  # G2 was taken back
    page.entries_view.setFocus()
    page.select_row(0)
    qtbot.keyClick(page.entries_view, Qt.Key.Key_Delete)
    assert page.banner.code == Code.JOURNAL_UNAVAILABLE and page.entries_model.rowCount() == 2
    keys.scan("CMD-RESCAN")
    keys.scan("CMD-RESCAN")
    assert page.banner.code == Code.JOURNAL_UNAVAILABLE and page.entries_model.rowCount() == 2
    assert len(page.session.entries) == 2
    broken.repair()
    keys.scan("G2")
    assert page.banner.state == "good"
