"""A bin move in the desktop app, driven by wedge-scanner key bursts with a location
barcode (SPEC §3.3, issue 12): the home page's button and key, the choose page's bins,
the grid's Bin column, and the posting that puts each unit in its bin."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, text

from station.codes import Code
from tests.seed import add_operators, seed
from tests.ui.conftest import keyboard
from tests.ui.test_honest import press
from ui.main_window import MainWindow
from ui.widgets import BAD, GOOD


def test_whole_bin_move_with_a_location_barcode_by_wedge_scans(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    add_operators(engine)
    window = make_window(user="kim")  # a clerk
    window.resize(1366, 768)
    keys = keyboard(window)
    button = window.home.workflow_buttons["move"]
    assert button.isVisible() and button.text() == "Move to a bin\nCtrl+F7"
    qtbot.keyClick(window, Qt.Key.Key_F7, Qt.KeyboardModifier.ControlModifier)
    chooser = window.choose["move"]
    assert window.current_page() is chooser
    assert chooser.title.text() == "Move: the bin the units go to"
    # the bins of this station's warehouse (EAST's B-07 is no bin to move to here)
    assert [row[:2] for row in chooser.model.rows] == [
        ("A-01", "MAIN"),
        ("A-02", "MAIN"),
        ("QC-OK", "MAIN"),
    ]
    keys.scan("A-02")
    qtbot.waitUntil(lambda: window.scan_page is not None)
    page = window.scan_page
    assert page is not None and window.current_page() is page
    assert page.title.text() == "Moving to A-02 · MAIN"
    assert list(page.entries_model.columns) == ["#", "SKU", "Product", "Serial", "Bin", "Qty"]

    keys.scan("WS-1")
    assert page.banner.state == "good" and page.banner.colour == GOOD, page.banner.text()
    keys.scan("LOC-Z-99")  # no such bin: refused, red, nothing changes
    assert page.banner.state == "bad" and page.banner.colour == BAD
    assert page.banner.code == Code.BIN_UNKNOWN
    assert "MAIN has no bin Z-99" in page.banner.text()
    keys.scan("LOC-QC-OK")
    assert page.banner.state == "good", page.banner.text()
    assert "Units scanned next go to MAIN bin QC-OK." in page.banner.text()
    keys.scan("WS-2")
    keys.scan("WS-3")
    assert page.banner.state == "good", page.banner.text()
    rows = page.entries_model.rowCount()
    assert [
        (page.entries_model.index(r, 3).data(), page.entries_model.index(r, 4).data())
        for r in range(rows)
    ] == [("WS-1", "A-02"), ("WS-2", "QC-OK"), ("WS-3", "QC-OK")]

    press(Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: window.current_page() is chooser)
    assert chooser.banner.state == "good", chooser.banner.text()
    assert "Moved 3 unit(s) to A-02: transfer TRF-000001." in chooser.banner.text()
    with engine.connect() as c:
        moved = c.execute(
            text(
                "SELECT u.serial, u.bin, e.from_bin, e.to_bin, e.user_name FROM units u"
                " JOIN events e ON e.unit_id = u.id WHERE e.kind = 'moved' ORDER BY u.serial"
            )
        ).all()
    assert [tuple(row) for row in moved] == [
        ("WS-1", "A-02", "A-01", "A-02", "kim"),
        ("WS-2", "QC-OK", "A-01", "QC-OK", "kim"),
        ("WS-3", "QC-OK", "A-01", "QC-OK", "kim"),
    ]
