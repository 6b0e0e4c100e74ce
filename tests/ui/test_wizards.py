"""Whole receive and scan-and-ship runs driven only by wedge-scanner key bursts."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, text

from station.codes import Code
from tests.seed import seed
from tests.ui.conftest import keyboard
from ui.main_window import MainWindow
from ui.scan_page import ScanPage
from ui.widgets import BAD, GOOD


def _page(window: MainWindow) -> ScanPage:
    page = window.scan_page
    assert page is not None and window.current_page() is page
    return page


def test_whole_receive_by_wedge_scans(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    window = make_window(user=None)
    keys = keyboard(window)
    keys.scan("PO-1")  # from the home page: the PO number opens the receive wizard
    qtbot.waitUntil(lambda: window.scan_page is not None)
    page = _page(window)
    assert page.prompt.text() == "Scan an item"
    assert page.lines_model.rowCount() == 4

    keys.scan("W1")
    assert page.banner.state == "good" and page.banner.colour == GOOD
    assert page.prompt.text() == "Scan serial for Widget One — 1 of 3"
    keys.scan("SN-A")
    assert "Widget One serial SN-A — 1 of 3" in page.banner.text()
    assert page.prompt.text() == "Scan the next serial or item (Widget One)"
    keys.scan("SN-B")
    keys.scan("012345678905")  # the UPC selects the same line again
    assert page.prompt.text() == "Scan serial for Widget One — 3 of 3"
    keys.scan("SN-B")  # a duplicate: refused, red, and nothing added
    assert page.banner.state == "bad" and page.banner.colour == BAD
    assert page.banner.code == Code.SERIAL_DUPLICATE_IN_SESSION
    assert "SN-B was already scanned" in page.banner.text()
    assert window.services.sounds.played[-1] == "bad"
    keys.scan("SN-C")
    for scan in ["CABLE3", "CABLE3", "G2", "G2SERIAL01", "G2SERIAL02", "PR400", "PR123456"]:
        keys.scan(scan)
        assert page.banner.state == "good", page.banner.text()
    assert page.prompt.text().startswith("All lines done")
    assert page.entries_model.rowCount() == 8
    model = page.entries_model
    assert [model.index(r, 3).data() for r in range(8)] == [
        "SN-A",
        "SN-B",
        "SN-C",
        "—",
        "—",
        "G2SERIAL01",
        "G2SERIAL02",
        "PR123456",
    ]
    lines = page.lines_model
    assert [lines.index(r, 5).data() for r in range(4)] == ["3", "2", "2", "1"]
    assert [lines.index(r, 6).data() for r in range(4)] == ["0", "0", "0", "0"]

    keys.scan("CMD-SAVE")
    chooser = window.choose["receive"]
    qtbot.waitUntil(lambda: window.current_page() is chooser)
    assert chooser.banner.state == "good" and "8" in chooser.banner.text()
    with engine.connect() as c:
        serials = c.execute(
            text("SELECT serial FROM units WHERE receipt_id > 1 ORDER BY serial")
        ).scalars()
        assert list(serials) == ["G2SERIAL01", "G2SERIAL02", "PR123456", "SN-A", "SN-B", "SN-C"]
        assert c.execute(text("SELECT status FROM purchase_orders WHERE id = 1")).scalar_one() == (
            "received"
        )
        received = dict(
            c.execute(text("SELECT line_no, qty_received FROM po_lines WHERE po_id = 1")).all()
        )
        assert received == {1: 3, 2: 2, 3: 2, 4: 1}


def test_whole_ship_by_wedge_scans(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    window = make_window()
    keys = keyboard(window)
    window.do("ship")
    chooser = window.choose["ship"]
    assert window.current_page() is chooser
    assert [row[0] for row in chooser.model.rows] == ["SO-1", "SO-2"]
    keys.scan("SO-1")
    qtbot.waitUntil(lambda: window.scan_page is not None)
    page = _page(window)
    assert page.save_button.text() == "Ship (F12)"
    assert page.save_hint.text() == "3 left to pack"

    keys.scan("W1")
    assert page.prompt.text() == "Scan serial for Widget One — 1 of 2"
    keys.scan("WS-GONE")
    assert page.banner.state == "bad" and page.banner.code == Code.SERIAL_NOT_IN_STOCK
    keys.scan("WS-1")
    assert page.banner.state == "good" and "WS-1" in page.banner.text()
    keys.scan("CMD-SAVE")  # not complete: refused with the reason
    assert page.banner.state == "bad" and page.banner.code == Code.ORDER_INCOMPLETE
    assert window.scan_page is page
    keys.scan("WS-2")
    keys.scan("CABLE3")
    assert page.save_hint.text() == "Ready to ship"
    assert [page.entries_model.index(r, 3).data() for r in range(3)] == ["WS-1", "WS-2", "—"]
    assert [page.lines_model.index(r, 5).data() for r in range(2)] == ["2", "1"]

    keys.scan("CMD-SAVE")
    qtbot.waitUntil(lambda: window.current_page() is chooser)
    assert chooser.banner.state == "good"
    assert [row[0] for row in chooser.model.rows] == ["SO-2"]
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT serial, status FROM units WHERE serial IN ('WS-1', 'WS-2') ORDER BY serial"
            )
        ).all()
        assert rows == [("WS-1", "shipped"), ("WS-2", "shipped")]
        assert c.execute(text("SELECT status FROM sales_orders WHERE id = 1")).scalar_one() == (
            "shipped"
        )


def test_undo_remove_and_rescan_from_the_keyboard(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    seed(engine)
    window = make_window()
    keys = keyboard(window)
    page = window.open_document("receive", "PO-1")
    assert page is not None
    for scan in ["W1", "A-1", "A-2", "A-3", "CABLE3"]:
        keys.scan(scan)
    assert page.entries_model.rowCount() == 4
    qtbot.keyClick(page.manual, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert page.banner.state == "good" and "Undone" in page.banner.text()
    assert page.entries_model.rowCount() == 3
    page.entries_view.setFocus()
    page.select_row(0)
    qtbot.keyClick(page.entries_view, Qt.Key.Key_Delete)
    assert [page.entries_model.index(r, 3).data() for r in range(2)] == ["A-2", "A-3"]
    assert [e.serial for e in page.session.entries] == ["A-2", "A-3"]

    def answer(button: QMessageBox.StandardButton) -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        box.button(button).click()

    QTimer.singleShot(0, lambda: answer(QMessageBox.StandardButton.No))
    qtbot.keyClick(page.manual, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert page.entries_model.rowCount() == 2  # "No": nothing cleared
    keys.scan("CMD-RESCAN")  # from the scanner: a second scan confirms
    assert page.banner.state == "info" and "again" in page.banner.text()
    assert page.entries_model.rowCount() == 2
    keys.scan("CMD-RESCAN")
    assert page.entries_model.rowCount() == 0 and page.session.entries == []
    keys.scan("W1")
    keys.scan("B-1")
    QTimer.singleShot(0, lambda: answer(QMessageBox.StandardButton.Yes))
    page.rescan_button.click()
    assert page.entries_model.rowCount() == 0
    assert page.prompt.text() == "Scan an item"


def test_home_page_names_an_unknown_or_closed_document(
    engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    with engine.begin() as c:
        c.execute(text("UPDATE purchase_orders SET status = 'closed' WHERE number = 'PO-0'"))
    window = make_window()
    keys = keyboard(window)
    keys.scan("XX-404")
    assert window.current_page() is window.home
    assert window.home.banner.state == "bad"
    assert "No PO or sales order XX-404" in window.home.banner.text()
    assert window.services.sounds.played == ["bad"]
    keys.scan("PO-0")
    assert window.home.banner.code == Code.PO_NOT_OPEN
    keys.scan("SO-0")
    assert window.home.banner.code == Code.ORDER_NOT_OPEN
    keys.scan("SO-2")
    assert window.scan_page is not None and window.scan_page.kind == "ship"


def test_a_typed_quantity_for_a_non_serialized_line(
    engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    window = make_window()
    keys = keyboard(window)
    page = window.open_document("receive", "PO-1")
    assert page is not None
    page.qty.setText("1")
    assert page.add_quantity().code == Code.NO_ITEM_SELECTED  # nothing selected yet
    assert page.banner.state == "bad"
    keys.scan("CABLE3")
    page.qty.setText("5")
    verdict = page.add_quantity()
    assert verdict.code == Code.OVER_RECEIPT and page.banner.code == Code.OVER_RECEIPT
    page.qty.setText("1")
    assert page.add_quantity().ok
    assert page.banner.state == "good" and "1 × Cable Three" in page.banner.text()
    assert [page.lines_model.index(2, c).data() for c in (5, 6)] == ["2", "0"]
    qty = page.entries_model.columns.index("Qty")  # after the Bin column of a receipt
    assert [page.entries_model.index(r, qty).data() for r in range(2)] == ["1", "1"]


def test_starts_on_cached_options_while_the_database_is_unreachable(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    import socket

    from station.db.engine import make_engine
    from ui.app import build_window

    seed(engine)
    first = make_window()  # a normal start caches the station's options on this machine
    first.close()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/station")
    window = build_window(dead, station="DOCK-1", sounds="record", database_up=False)
    qtbot.addWidget(window)
    window.show()
    assert window.current_page() is window.home
    assert "UNREACHABLE" in window.database_label.text()
    assert window.database_label.property("state") == "bad"
    keys = keyboard(window)
    keys.scan("PO-1")
    assert window.scan_page is None
    banner = window.home.banner
    assert (banner.state, banner.code) == ("bad", Code.DATABASE_UNAVAILABLE)
    window.services.database.check()  # the watch keeps trying, and still finds it down
    qtbot.waitUntil(lambda: not window.services.database._busy)
    assert not window.services.database.connected
    window.close()
    dead.dispose()


def test_a_return_with_a_missing_label_by_wedge_scans(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    import uuid

    from station.devices.printers.memory import MemoryPrinter
    from tests.seed import seed_returns
    from tests.workflow import configure

    seed(engine)
    seed_returns(engine)
    printer = f"rma-{uuid.uuid4().hex[:6]}"
    configure(
        engine, "DOCK-1", serial_pattern="{sku}-{seq:07}", label_printer=f"zpl+memory://{printer}"
    )
    window = make_window()
    keys = keyboard(window)
    page = window.open_document("return", "SO-3")
    assert page is not None and window.current_page() is page
    keys.scan("GSNOUT0001")
    assert page.banner.state == "good", page.banner.text()
    keys.scan("CMD-NOLABEL")
    assert page.banner.state == "good"
    assert page.prompt.text().startswith("Missing label: scan the item of the unit")
    keys.scan("CABLE3")  # no serial, so no label to replace: refused, and the mode ends
    assert page.banner.state == "bad" and page.banner.code == Code.NO_ITEM_SELECTED
    assert "not serialized" in page.banner.text()
    keys.scan("CMD-NOLABEL")
    keys.scan("W1")
    assert page.banner.state == "good", page.banner.text()
    assert "it replaces WS-OUT, the only Widget One still out on SO-3" in page.banner.text()
    assert page.prompt.text() == "Scan a serial (or an item first)"
    model = page.entries_model
    assert [model.index(r, 3).data() for r in range(model.rowCount())] == ["GSNOUT0001", "—"]

    keys.scan("CMD-SAVE")
    chooser = window.choose["return"]
    qtbot.waitUntil(lambda: window.current_page() is chooser)
    assert chooser.banner.state == "good"
    assert "New serial W1-0000001 for Widget One replaces WS-OUT" in chooser.banner.text()
    qtbot.waitUntil(lambda: len(MemoryPrinter.jobs.get(printer, [])) == 1)
    assert b"W1-0000001" in MemoryPrinter.jobs[printer][0]
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT u.serial, u.status, o.serial FROM units u"
                " LEFT JOIN units o ON o.id = u.relabels_id"
                " WHERE u.serial IN ('W1-0000001', 'WS-OUT', 'GSNOUT0001') ORDER BY u.serial"
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("GSNOUT0001", "in_stock", None),
        ("W1-0000001", "in_stock", "WS-OUT"),
        ("WS-OUT", "scrapped", None),
    ]
