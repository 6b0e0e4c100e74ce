"""Human typing is typed; a scanner burst is a scan — wherever the focus is."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from tests.seed import seed
from tests.ui.conftest import keyboard
from ui.main_window import MainWindow


def test_typing_is_not_a_scan_and_a_burst_is_wherever_the_focus_is(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    window = make_window()
    keys = keyboard(window)
    page = window.open_document("receive", "PO-1")
    assert page is not None
    page.manual.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.manual)

    keys.type("W1")  # a person, 150 ms per key: the text lands in the field
    qtbot.waitUntil(lambda: page.manual.text() == "W1")
    assert page.banner.state == "info" and page.entries_model.rowCount() == 0
    keys.type("\r")  # ... and their Enter submits it as a manual entry
    qtbot.waitUntil(lambda: page.banner.state == "good")
    assert page.manual.text() == ""
    assert page.prompt.text() == "Scan serial for Widget One — 1 of 3"

    keys.type("SN")  # typed halfway, then the scanner fires while the field has focus
    qtbot.waitUntil(lambda: page.manual.text() == "SN")
    keys.scan("SN-A")
    assert page.manual.text() == "SN", "a scan never lands in the field"
    assert page.entries_model.index(0, 3).data() == "SN-A"

    for widget, serial in ((page.close_button, "SN-B"), (page.entries_view, "SN-C")):
        widget.setFocus()
        keys.scan("W1")
        assert page.banner.state == "good" and "scan its serial" in page.banner.text()
        keys.scan(serial)
        assert page.banner.state == "good" and serial in page.banner.text()
    assert [page.entries_model.index(r, 3).data() for r in range(3)] == ["SN-A", "SN-B", "SN-C"]

    # a slow scanner-like run (each key 60 ms apart) is typing, not a scan
    page.manual.clear()
    page.manual.setFocus()
    keys.type("CABLE3", gap_ms=60)
    qtbot.waitUntil(lambda: page.manual.text() == "CABLE3")
    assert page.entries_model.rowCount() == 3
    keys.type("\r", gap_ms=60)  # submitted by its Enter as a manual entry
    qtbot.waitUntil(lambda: page.entries_model.rowCount() == 4)


def test_choose_page_filters_by_typing_and_opens_by_scan(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    window = make_window()
    keys = keyboard(window)
    window.do("ship")
    chooser = window.choose["ship"]
    qtbot.waitUntil(lambda: QApplication.focusWidget() is chooser.search)
    keys.type("Contoso")
    qtbot.waitUntil(lambda: [r[0] for r in chooser.model.rows] == ["SO-2"])
    assert window.scan_page is None
    keys.scan("SO-1")
    assert window.scan_page is not None
    assert window.scan_page.session.document.number == "SO-1"


def test_serial_scanner_scans_arrive_through_the_worker_signal(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    import os
    import pty

    from tests.workflow import configure

    seed(engine)
    master, slave = pty.openpty()
    port = os.ttyname(slave)
    configure(engine, "DOCK-1", scanner=["keyboard", f"serial:{port}"])
    window = make_window()
    try:
        page = window.open_document("receive", "PO-1")
        assert page is not None
        scanners = window.services.scanners
        qtbot.waitUntil(lambda: scanners.scanners and scanners.scanners[0].state == "connected")
        window.update_status()
        assert port in window.scanner_label.text()
        os.write(master, b"W1\r\nSN-SERIAL\r\n")
        qtbot.waitUntil(lambda: page.entries_model.rowCount() == 1)
        qtbot.waitUntil(lambda: page.entries_model.index(0, 3).data() == "SN-SERIAL")
        assert page.banner.state == "good"
    finally:
        window.services.scanners.stop()
        os.close(master)
        os.close(slave)
