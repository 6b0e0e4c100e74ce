"""Returns in the desktop app, driven by wedge-scanner key bursts: a customer return
against the order the goods shipped on, a free return (no order), a supplier return by a
signed-in supervisor (refused for a clerk) — and the home page and the pages of these
workflows readable at 1366×768 (SPEC §3.3, issue 11)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QInputDialog, QPushButton
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, text

from station.codes import Code
from tests.seed import (
    SUPERVISOR,
    SUPERVISOR_PIN,
    add_operators,
    add_supervisor,
    seed,
    seed_returns,
)
from tests.ui.conftest import keyboard
from tests.ui.test_honest import _uncut, press
from ui.main_window import MainWindow
from ui.scan_page import ScanPage
from ui.widgets import BAD, GOOD


def _page(window: MainWindow) -> ScanPage:
    page = window.scan_page
    assert page is not None and window.current_page() is page
    return page


def _column(page: ScanPage, column: int) -> list[str]:
    model = page.lines_model
    return [str(model.index(row, column).data()) for row in range(model.rowCount())]


def _header(page: ScanPage) -> list[str]:
    return list(page.lines_model.columns)


def _cut_text(widget: QPushButton) -> list[str]:
    """Lines of a button's text wider than the button leaves them (its padding and
    border: 14 px a side in station.qss)."""
    metrics = QFontMetrics(widget.font())
    room = widget.width() - 2 * 16
    return [
        f"{line!r}: {metrics.horizontalAdvance(line)} > {room}"
        for line in widget.text().split("\n")
        if metrics.horizontalAdvance(line) > room
    ]


def test_whole_customer_return_by_wedge_scans(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    seed_returns(engine)
    add_operators(engine)
    window = make_window(user="kim")  # a clerk
    window.resize(1366, 768)
    keys = keyboard(window)
    button = window.home.workflow_buttons["return"]
    assert button.isVisible() and button.text() == "Customer return\nShift+F2"
    qtbot.keyClick(window, Qt.Key.Key_F2, Qt.KeyboardModifier.ShiftModifier)  # its key
    chooser = window.choose["return"]
    assert window.current_page() is chooser
    assert chooser.title.text() == "Return: choose the order the goods shipped on"
    # the orders with units shipped and not back (SO-1 and SO-2 shipped nothing)
    listed = [row[:2] for row in chooser.model.rows]
    assert ("SO-3", "Fabrikam") in listed and not {"SO-1", "SO-2"} & {r[0] for r in listed}

    keys.scan("SO-3")
    qtbot.waitUntil(lambda: window.scan_page is not None)
    page = _page(window)
    assert page.title.text() == "Returning SO-3 · Fabrikam · MAIN"
    assert page.prompt.text() == "Scan a serial (or an item first)"
    assert page.save_button.text() == "Save return (F12)"
    assert _header(page) == ["#", "SKU", "Product", "Shipped", "Returned", "Now", "Left"]
    assert _column(page, 6) == ["1", "2", "2"]  # WS-BACK is back already
    assert page.save_hint.text() == "5 left that may come back"

    keys.scan("WS-OUT")  # a serial alone names its unit, and so its line
    assert page.banner.state == "good" and page.banner.colour == GOOD
    assert "Widget One serial WS-OUT — 1 of 1" in page.banner.text()
    assert window.services.sounds.played[-1] == "good"
    keys.scan("GSNOUT0001")
    assert page.banner.state == "good", page.banner.text()
    keys.scan("CABLE3")
    assert page.banner.state == "good", page.banner.text()
    keys.scan("WS-BACK")  # returned already: refused, red, the bad sound, nothing added
    assert page.banner.state == "bad" and page.banner.colour == BAD
    assert page.banner.code == Code.SERIAL_NOT_SHIPPED
    assert "WS-BACK" in page.banner.text() and "[SERIAL_NOT_SHIPPED]" in page.banner.text()
    assert window.services.sounds.played[-1] == "bad"
    assert [page.entries_model.index(r, 3).data() for r in range(3)] == [
        "WS-OUT",
        "GSNOUT0001",
        "—",
    ]
    assert _column(page, 5) == ["1", "1", "1"]
    assert _column(page, 6) == ["0", "1", "1"]
    assert page.progress.text() == "3 of 5 units"

    press(Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: window.current_page() is chooser)
    shown = chooser.banner.text()
    assert chooser.banner.state == "good", shown
    assert "Returned 3 unit(s) on SO-3: RMA-000001." in shown
    assert "SO-3" in [row[0] for row in chooser.model.rows]  # GSNOUT0002, a cable: still out
    with engine.connect() as c:
        back = c.execute(
            text(
                "SELECT u.serial, u.status, u.bin, r.number, r.user_name FROM units u"
                " JOIN rmas r ON r.id = u.rma_id ORDER BY u.serial"
            )
        ).all()
    assert [tuple(row) for row in back] == [
        ("GSNOUT0001", "in_stock", "RETURNS", "RMA-000001", "kim"),
        ("WS-OUT", "in_stock", "RETURNS", "RMA-000001", "kim"),
    ]


def test_free_return_opens_its_page_from_its_button(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    window = make_window()
    window.resize(1366, 768)
    keys = keyboard(window)
    button = window.home.workflow_buttons["free_return"]
    assert button.isVisible() and button.text() == "Free return\nCtrl+F2"
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    page = _page(window)  # no choose page with a single "FREE" row
    assert "free_return" not in window.choose
    assert page.title.text() == "Free return · MAIN"
    assert page.banner.text() == "Free return open — Scan an item."
    assert page.save_button.text() == "Save return (F12)"
    assert _header(page) == ["#", "SKU", "Product", "Scanned"]
    assert page.progress.text() == "0 units scanned"
    assert page.save_hint.text() == ""

    keys.scan("W1")
    assert page.prompt.text() == "Scan serial for Widget One — 1 in this session"
    keys.scan("FR-1")
    assert page.banner.state == "good", page.banner.text()
    keys.scan("CABLE3")
    keys.scan("CABLE3")
    assert page.banner.state == "good", page.banner.text()
    assert _column(page, 2) == ["Widget One", "Cable Three"]
    assert _column(page, 3) == ["1", "2"]  # this session's count: no "0 of 0", no "left"
    assert page.progress.text() == "3 units scanned"
    assert "All lines done" not in page.prompt.text()
    assert "of 0" not in page.prompt.text() and "-" not in "".join(_column(page, 3))
    assert page.lines_model.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    assert _uncut(page.lines_view) == [] and _uncut(page.entries_view) == []

    keys.scan("CMD-SAVE")
    home = window.home
    qtbot.waitUntil(lambda: window.current_page() is home)
    assert home.banner.state == "good", home.banner.text()
    assert "Returned 3 unit(s) with no order: RMA-000001." in home.banner.text()
    with engine.connect() as c:
        unit = c.execute(text("SELECT status, bin, origin FROM units WHERE serial = 'FR-1'")).one()
    assert tuple(unit) == ("in_stock", "RETURNS", "return")

    qtbot.keyClick(window, Qt.Key.Key_F2, Qt.KeyboardModifier.ControlModifier)  # its key
    page = _page(window)
    press(Qt.Key.Key_Escape)  # nothing scanned: back home
    assert window.current_page() is home and window.scan_page is None


def test_supplier_return_by_a_supervisor_refused_for_a_clerk(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    add_supervisor(engine)
    add_operators(engine)
    with engine.begin() as c:  # three cables on hand here
        c.execute(text("INSERT INTO stock_levels (product_id, warehouse_id, qty) VALUES (3, 1, 3)"))
    window = make_window(user="kim")
    home = window.home
    supplier = home.workflow_buttons["supplier_return"]
    assert not supplier.isVisible()  # a clerk's home page: no supplier return
    assert home.workflow_buttons["return"].isVisible()
    qtbot.keyClick(window, Qt.Key.Key_F3, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page() is home and window.scan_page is None
    assert (home.banner.state, home.banner.code) == ("bad", Code.NOT_AUTHORIZED)
    assert "kim is a clerk; supplier return is done by a supervisor." in home.banner.text()
    assert window.services.sounds.played[-1] == "bad"
    window.close()

    window = make_window(user=None)  # nobody signed in: a supervisor signs in first
    home = window.home
    assert not home.workflow_buttons["supplier_return"].isVisible()
    qtbot.keyClick(window, Qt.Key.Key_F3, Qt.KeyboardModifier.ControlModifier)
    assert home.banner.code == Code.NOT_AUTHORIZED
    assert "Supplier return is done by a supervisor: sign in first (F11)." in home.banner.text()
    dialog = window.sign_in(SUPERVISOR)
    dialog.pin_field.setText(SUPERVISOR_PIN)
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: window.services.operator == SUPERVISOR)
    supplier = home.workflow_buttons["supplier_return"]
    assert supplier.isVisible() and supplier.text() == "Supplier return\nCtrl+F3"

    keys = keyboard(window)
    QTest.mouseClick(supplier, Qt.MouseButton.LeftButton)
    chooser = window.choose["supplier_return"]
    assert window.current_page() is chooser
    assert "Acme Supply" in [row[0] for row in chooser.model.rows]
    qtbot.waitUntil(lambda: QApplication.focusWidget() is chooser.search)
    keys.type("acme")
    qtbot.waitUntil(lambda: [row[0] for row in chooser.model.rows] == ["Acme Supply"])
    keys.type("\r")  # a person's Enter opens the one vendor the filter shows
    qtbot.waitUntil(lambda: window.scan_page is not None)
    page = _page(window)
    assert page.title.text() == "Returning to vendor Acme Supply · MAIN"
    assert _header(page) == ["#", "SKU", "Product", "On hand", "Scanned"]
    keys.scan("WS-1")
    assert page.banner.state == "good", page.banner.text()
    keys.scan("CABLE3")
    assert page.banner.state == "good", page.banner.text()
    assert _column(page, 3) == ["—", "3"]  # a unit goes by its serial; cables by what is here
    assert _column(page, 4) == ["1", "1"]
    assert page.progress.text() == "2 units scanned" and page.save_hint.text() == ""
    assert "All lines done" not in page.prompt.text()
    press(Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: window.current_page() is chooser)
    assert chooser.banner.state == "good", chooser.banner.text()
    assert "Returned 2 unit(s) to Acme Supply: RTV-000001." in chooser.banner.text()
    with engine.connect() as c:
        status = c.execute(text("SELECT status FROM units WHERE serial = 'WS-1'")).scalar_one()
        cables = c.execute(text("SELECT qty FROM stock_levels WHERE product_id = 3")).scalar_one()
    assert (status, cables) == ("returned_to_vendor", 2)


def test_home_and_return_pages_at_1366x768_cut_nothing(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    """Seven workflow buttons on a "both" station for a supervisor (the receive side in
    one row, the supervisor's own in the next, ship in a third): every one shown whole;
    the return pages' tables cut no header or cell."""
    seed(engine)
    seed_returns(engine)
    add_supervisor(engine)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    font = app.font()
    large = QFont(font)
    large.setPointSize(13)  # the app's type size (ui/app.py)
    app.setFont(large)
    try:
        _check_return_pages(qtbot, make_window)
    finally:
        app.setFont(font)


def _check_return_pages(qtbot: QtBot, make_window: Callable[..., MainWindow]) -> None:
    window = make_window(user=SUPERVISOR)
    window.resize(1366, 768)
    home = window.home
    qtbot.waitUntil(lambda: home.width() > 1200)
    buttons = home.workflow_buttons
    assert all(button.isVisible() for button in buttons.values())
    rows = {kind: button.geometry().top() for kind, button in buttons.items()}
    receive_side = {rows[kind] for kind in ("receive", "return", "free_return")}
    supervisor = {rows[kind] for kind in ("supplier_return", "scrap", "release")}
    assert len(receive_side) == 1 and len(supervisor) == 1  # a row each
    assert rows["receive"] < rows["scrap"] < rows["ship"]  # receive, its supervisor's, ship
    for button in (*buttons.values(), home.lookup_button):
        assert _cut_text(button) == [], button.text()
        assert button.height() >= button.sizeHint().height()
        assert button.geometry().right() < home.width()
    assert home.lookup_button.geometry().bottom() < home.operator_label.geometry().top()

    keys = keyboard(window)
    window.do("return")
    keys.scan("SO-3")
    page = _page(window)
    for scan in ["WS-OUT", "GSNOUT0001", "CABLE3"]:
        keys.scan(scan)
    assert _uncut(page.lines_view) == [] and _uncut(page.entries_view) == []
    assert _uncut(window.choose["return"].view) == []
    hint = page.save_hint  # "2 left that may come back": wrapped in its room, never cut
    assert hint.text() == "2 left that may come back"
    assert hint.heightForWidth(hint.width()) <= hint.height()
    press(Qt.Key.Key_Escape)
    window.go_home()
    window.do("supplier_return")
    keys.scan("Acme Supply")
    page = _page(window)
    for scan in ["WS-1", "GSN0000001"]:
        keys.scan(scan)
        assert page.banner.state == "good", page.banner.text()
    assert _uncut(page.lines_view) == [] and _uncut(page.entries_view) == []


def _answer_reason(qtbot: QtBot, text: str | None) -> None:
    """Answer the reason dialog when it opens (`text`), or cancel it (None)."""

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QInputDialog):
            QTimer.singleShot(20, answer)
            return
        if text is None:
            dialog.reject()
        else:
            dialog.setTextValue(text)
            dialog.accept()

    QTimer.singleShot(20, answer)


def test_a_supervisor_scraps_with_the_reason_the_app_asks_for(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    seed_returns(engine)
    window = make_window(user=add_supervisor(engine))
    _answer_reason(qtbot, None)  # cancelled: nothing opens
    window.do("scrap")
    assert window.scan_page is None
    assert window.home.banner.code == Code.REASON_REQUIRED
    _answer_reason(qtbot, "  dropped\tfrom the rack ")
    window.do("scrap")
    qtbot.waitUntil(lambda: window.scan_page is not None)
    # from a serial scanner: the wedge's keys after a closed dialog depend on which
    # widget the platform gives the focus back to (offscreen: none, at times)
    window.services.scanners.scanned.emit("WS-QC")
    window.services.scanners.scanned.emit("CMD-SAVE")

    def said() -> str:
        page = window.scan_page
        return (page.banner if page is not None else window.home.banner).text()

    qtbot.waitUntil(lambda: "Scrapped 1 unit(s): adjustment ADJ-000001." in said())
    with engine.connect() as c:
        row = c.execute(text("SELECT kind, reason, user_name FROM adjustments")).one()
        status = c.execute(text("SELECT status FROM units WHERE serial = 'WS-QC'")).scalar_one()
    assert tuple(row) == ("scrap", "dropped from the rack", SUPERVISOR)
    assert status == "scrapped"
