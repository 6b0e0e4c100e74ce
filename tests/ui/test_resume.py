"""A crash mid-session: a new window over the same journal offers to resume, and the
resumed session holds every scan."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, text

from tests.seed import seed
from tests.ui.conftest import keyboard
from ui.main_window import MainWindow

SCANS = ["W1", "SN-A", "SN-B", "CABLE3", "G2", "G2SERIAL01", "G2SERIAL02", "CABLE3", "W1"]


def test_new_window_over_the_journal_resumes_every_scan(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    first = make_window()
    keys = keyboard(first)
    keys.scan("PO-1")
    page = first.scan_page
    assert page is not None
    for scan in SCANS:
        keys.scan(scan)
        assert page.banner.state == "good", page.banner.text()
    scanned = [(e.line, e.serial, e.qty) for e in page.session.entries]
    assert len(scanned) == 7  # the last W1 is a unit waiting for its serial
    # the crash: the first window is never closed or saved; its process state is gone
    first.wedge.remove()
    first.hide()

    second = make_window()
    assert second.home.offer_box.isVisibleTo(second)
    assert second.home.offer.text() == "Resume receiving PO-1: 9 scans?"
    keys = keyboard(second)
    second.home.resume_button.setFocus()
    keys.type("\r")  # Enter on the focused Resume button
    qtbot.waitUntil(lambda: second.scan_page is not None)
    resumed = second.scan_page
    assert resumed is not None
    assert [(e.line, e.serial, e.qty) for e in resumed.session.entries] == scanned
    assert resumed.entries_model.rowCount() == 7
    assert "9 scans restored" in resumed.banner.text()
    assert resumed.prompt.text() == "Scan serial for Widget One — 3 of 3"

    keys.scan("SN-C")
    keys.scan("PR400")
    keys.scan("PR123456")
    keys.scan("CMD-SAVE")
    qtbot.waitUntil(lambda: second.scan_page is None)
    with engine.connect() as c:
        serials = c.execute(
            text("SELECT serial FROM units WHERE receipt_id > 1 ORDER BY serial")
        ).scalars()
        assert list(serials) == ["G2SERIAL01", "G2SERIAL02", "PR123456", "SN-A", "SN-B", "SN-C"]
    second.go_home()
    assert not second.home.offer_box.isVisibleTo(second)
