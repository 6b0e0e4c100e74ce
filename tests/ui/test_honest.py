"""Honest screens: the prompt and the verdict say what is true, the keyboard works again
after a dialog without a click, a scan refused during a dialog leaves no red banner behind."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QTableView, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from station import options as opts
from station.codes import Code
from station.devices.printers.memory import MemoryPrinter
from tests.seed import SUPERVISOR, SUPERVISOR_PIN, add_supervisor, seed
from tests.ui.conftest import keyboard
from tests.workflow import configure
from ui.main_window import MainWindow
from ui.scan_page import ScanPage
from ui.widgets import BAD, GOOD, INFO, WARN


def press(key: Qt.Key) -> None:
    """A key as the platform delivers it: to the window that has the focus (none: lost)."""
    target = QGuiApplication.focusWindow()
    assert target is not None, "no window has the keyboard focus"
    QTest.keyClick(target, key)


def when_dialog_is_up(action: Callable[[], None], ms: int = 100) -> None:
    """Run `action` while a dialog's own event loop runs (exec), once the dialog is up
    and has the keyboard: on a loaded machine it may take longer than `ms` to open, and
    a key pressed before would go to the window behind it — the dialog would never close."""

    def attempt() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None or QGuiApplication.focusWindow() is not dialog.windowHandle():
            QTimer.singleShot(ms, attempt)
            return
        action()

    QTimer.singleShot(ms, attempt)


def press_later(key: Qt.Key, ms: int = 100) -> None:
    """`key` pressed in the dialog that is about to open (see when_dialog_is_up)."""
    when_dialog_is_up(lambda: press(key), ms)


def test_prompt_and_verdict_name_what_is_left(
    engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    window = make_window()
    keys = keyboard(window)
    page = window.open_document("receive", "PO-1")
    assert isinstance(page, ScanPage)
    keys.scan("W1")
    assert page.prompt.text() == "Scan serial for Widget One — 1 of 3"
    keys.scan("H-1")
    keys.scan("H-2")
    assert page.prompt.text() == "Scan the next serial or item (Widget One)"
    keys.scan("H-3")  # the line is full: the prompt no longer asks for its serials
    assert page.prompt.text() == "Widget One is complete — scan the next item"
    assert "Widget One" in page.prompt.text() and "next serial" not in page.prompt.text()

    keys.scan("NO-SUCH-9")  # no product's code, and no room for another serial
    assert (page.banner.state, page.banner.code) == ("bad", Code.OVER_RECEIPT)
    text = page.banner.text()
    assert "NO-SUCH-9 matches no product barcode or SKU; read as the next serial:" in text
    assert "3 ordered, none received before, 3 scanned in this session" in text
    assert "received already" not in text
    assert page.prompt.text() == "Widget One is complete — scan the next item"


def test_saving_a_partial_receipt_says_what_stays_open(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    """Save with lines short: the choose page's banner names what is still to come, and
    the PO is still there to choose; the save that completes it says it is received."""
    seed(engine)
    window = make_window()
    window.resize(1366, 768)
    keys = keyboard(window)
    page = window.open_document("receive", "PO-1")
    assert isinstance(page, ScanPage)
    keys.scan("W1")
    keys.scan("PART-1")
    QTest.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    chooser = window.choose["receive"]
    qtbot.waitUntil(lambda: window.current_page() is chooser)
    text = chooser.banner.text()
    assert chooser.banner.state == "good", text
    assert (
        "Received 1 unit(s) on PO-1: receipt RCV-000001. PO-1 stays open: 2 of Widget One,"
        " 2 of Gadget Two, 2 of Cable Three and 1 more line to come."
    ) in text
    banner = chooser.banner  # the whole sentence shows at 1366×768: wrapped, never cut
    qtbot.waitUntil(lambda: banner.height() >= banner.heightForWidth(banner.width()))
    assert banner.geometry().right() < window.width()
    assert "PO-1" in [row[0] for row in chooser.model.rows]

    page = window.open_document("receive", "PO-1")
    assert isinstance(page, ScanPage)
    for scan in ["W1", "PART-2", "W1", "PART-3", "G2", "G2SERIAL01", "G2SERIAL02"]:
        keys.scan(scan)
    for scan in ["CABLE3", "CABLE3", "PR400", "PR123456"]:
        keys.scan(scan)
    QTest.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.current_page() is chooser)
    text = chooser.banner.text()
    assert "Received 7 unit(s) on PO-1: receipt RCV-000002. PO-1 is fully received." in text
    assert "stays open" not in text
    assert "PO-1" not in [row[0] for row in chooser.model.rows]


def test_shortcuts_work_after_each_dialog_closes_without_a_click(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    window = make_window()
    for opener in (Qt.Key.Key_F9, Qt.Key.Key_F10):  # options, users: Esc closes them
        press_later(Qt.Key.Key_Escape)
        press(opener)  # returns when the dialog is closed
        assert QApplication.activeModalWidget() is None
        assert QGuiApplication.focusWindow() is window.windowHandle()
        assert window.current_page() is window.home
    press(Qt.Key.Key_F11)  # sign in: a window-modal dialog, not blocking
    dialog = window.sign_in_box
    assert dialog is not None
    qtbot.waitUntil(lambda: QGuiApplication.focusWindow() is dialog.windowHandle())
    press(Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert QGuiApplication.focusWindow() is window.windowHandle()
    press(Qt.Key.Key_F4)
    assert window.current_page() is window.lookup
    assert QApplication.focusWidget() is window.lookup.field
    press(Qt.Key.Key_Escape)
    press(Qt.Key.Key_F2)
    assert window.current_page() is window.choose["receive"]

    page = window.open_document("receive", "PO-1")
    assert isinstance(page, ScanPage)
    keys = keyboard(window)
    keys.scan("W1")
    keys.scan("F-1")
    QTimer.singleShot(100, lambda: press(Qt.Key.Key_Escape))  # "No" in the question box
    page.ask_rescan()
    assert len(page.session.entries) == 1  # not cleared
    qtbot.waitUntil(lambda: QGuiApplication.focusWindow() is window.windowHandle())
    assert QApplication.focusWidget() is page.manual
    press(Qt.Key.Key_F12)  # Save receive data, without a click
    qtbot.waitUntil(lambda: window.current_page() is window.choose["receive"])
    assert "Received 1 unit(s) on PO-1" in window.choose["receive"].banner.text()


def test_a_scan_during_a_dialog_leaves_no_red_banner_behind_it(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    window = make_window()
    home = window.home.banner
    before = home.text()
    assert home.state == "info"
    dialog = window.sign_in()
    qtbot.waitUntil(lambda: QGuiApplication.focusWindow() is dialog.windowHandle())
    keyboard(window).scan("PO-1")
    assert (dialog.banner.state, dialog.banner.code) == ("bad", Code.DIALOG_OPEN)
    assert "Close the dialog first" in dialog.banner.text()
    assert window.current_page() is window.home  # the scan opened nothing
    press(Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert (home.state, home.code, home.text()) == ("info", "", before)
    assert home.colour == INFO

    # an options dialog (exec): the same, and a second refused scan changes nothing
    def scan_twice_then_close() -> None:
        keyboard(window).scan("PO-1")
        keyboard(window).scan("SO-1")
        modal = QApplication.activeModalWidget()
        assert modal is not None and modal.banner.code == Code.DIALOG_OPEN  # type: ignore[attr-defined]
        assert home.colour == BAD
        press(Qt.Key.Key_Escape)

    when_dialog_is_up(scan_twice_then_close)
    press(Qt.Key.Key_F9)
    assert (home.state, home.code, home.text()) == ("info", "", before)
    assert QGuiApplication.focusWindow() is window.windowHandle()


def _background(widget: QWidget, inset: int = 1) -> str:
    """The colour the user sees behind the widget's text (near its top-left corner)."""
    return widget.grab().toImage().pixelColor(inset, widget.height() // 2).name()


def test_no_printer_is_grey_a_missing_slip_is_a_warning_and_a_test_print_says_its_result(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    window = make_window()
    assert window.printer_label.text() == "Printer: no printer"
    assert window.printer_label.property("state") == "none"
    assert _background(window.printer_label) == "#5b6673"  # grey: neither working nor broken
    assert _background(window.database_label) == GOOD.lower()

    keys = keyboard(window)
    keys.scan("SO-1")
    for scan in ["W1", "WS-1", "W1", "WS-2", "CABLE3", "CMD-SAVE"]:
        keys.scan(scan)
    chooser = window.choose["ship"]
    qtbot.waitUntil(lambda: window.current_page() is chooser)
    assert chooser.banner.state == "good"  # no printer, no slip: nothing to warn about
    assert "packing slip" not in chooser.banner.text().lower()

    configure(engine, "DOCK-1", receipt_printer="lpt://nowhere")  # set, but unusable
    keys.scan("SO-2")
    assert window.scan_page is not None
    assert window.printer_label.property("state") == "bad"
    assert _background(window.printer_label) == BAD.lower()
    for scan in ["W1", "WS-4", "CMD-SAVE"]:  # WS-4 is allocated to SO-2
        keys.scan(scan)
    qtbot.waitUntil(lambda: window.current_page() is chooser)
    assert chooser.banner.state == "warn" and chooser.banner.colour == WARN
    text = chooser.banner.text()
    assert text.startswith("⚠ Shipped"), text
    assert "Packing slip not printed: the printer lpt://nowhere cannot be used" in text
    assert "No printer is set" not in text

    dialog = window.options_dialog()
    qtbot.addWidget(dialog)
    name = f"honest-{uuid.uuid4().hex[:6]}"
    dialog.set_text("label_printer", f"zpl+memory://{name}")
    dialog.test_print("label_printer")
    assert "waiting for the printer" in dialog.banner.text()
    assert "status bar" not in dialog.banner.text()
    qtbot.waitUntil(lambda: dialog.banner.state == "good")
    assert dialog.banner.text() == f"✔ Test label printed on zpl+memory://{name}."
    assert len(MemoryPrinter.jobs[name]) == 1

    with socket.socket() as sock:  # a port nobody listens on: the printer is off
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    off = f"zpl+tcp://127.0.0.1:{port}?timeout=1"
    dialog.set_text("label_printer", off)
    dialog.test_print("label_printer")
    qtbot.waitUntil(lambda: dialog.banner.state == "bad", timeout=15_000)
    assert dialog.banner.code == Code.PRINT_FAILED
    assert f"Test label to {off} failed:" in dialog.banner.text()


def test_options_show_plain_names_and_a_locked_dialog_looks_what_it_does(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    add_supervisor(engine)
    window = make_window()
    dialog = window.options_dialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    name = dialog.names["require_unique_serial"]
    assert name.text() == "Serials differ from item codes\nrequire_unique_serial"
    assert set(dialog.names) == set(opts.OPTIONS)
    for key, option in opts.OPTIONS.items():
        assert option.label and option.label != key
        assert dialog.names[key].text() == f"{option.label}\n{key}"

    # locked: Close works and looks enabled; Save and the fields look as disabled as they are
    assert not dialog.body.isEnabled()
    assert dialog.close_button.isEnabled() and dialog.close_button.isVisible()
    assert _background(dialog.close_button, 6) == "#ffffff"
    assert not dialog.save_button.isEnabled()
    assert _background(dialog.save_button, 6) != "#12355b"  # not the enabled primary navy
    field = dialog.editors["receiving_bin"]
    assert not field.isEnabled()
    assert _background(field, 6) != "#ffffff"  # not a white, typeable field

    dialog.user_field.setText(SUPERVISOR)
    dialog.pin_field.setText(SUPERVISOR_PIN)
    assert dialog.unlock()
    assert dialog.save_button.isEnabled()
    assert _background(dialog.save_button, 6) == "#12355b"
    assert _background(field, 6) == "#ffffff"
    dialog.close_button.click()
    assert not dialog.isVisible()


def _uncut(view: QTableView) -> list[str]:
    """Headers narrower than their text, and cells narrower than theirs (none elided
    without a tooltip): what a user at 1366×768 would see cut."""
    header = view.horizontalHeader()
    bold = QFont(header.font())
    bold.setBold(True)
    head = QFontMetrics(bold)
    cell = QFontMetrics(view.font())
    model = view.model()
    cut = []
    for column in range(model.columnCount()):
        text = str(model.headerData(column, Qt.Orientation.Horizontal))
        if header.sectionSize(column) < head.horizontalAdvance(text) + 8:
            cut.append(f"header {text}: {header.sectionSize(column)}")
        for row in range(model.rowCount()):
            index = model.index(row, column)
            shown = str(index.data())
            if header.sectionSize(column) < cell.horizontalAdvance(shown) + 6:
                if text.startswith("When"):  # a date is never elided
                    cut.append(f"{text} row {row}: {shown!r} elided")
                elif index.data(Qt.ItemDataRole.ToolTipRole) != shown:
                    cut.append(f"{text} row {row}: {shown!r} without a tooltip")
    return cut


def test_tables_at_1366x768_never_cut_a_header_or_a_date(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    add_supervisor(engine)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    font = app.font()
    large = QFont(font)
    large.setPointSize(13)  # the app's type size (ui/app.py)
    app.setFont(large)
    try:
        _check_tables(qtbot, make_window)
    finally:
        app.setFont(font)


def _check_tables(qtbot: QtBot, make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    window.resize(1366, 768)
    keys = keyboard(window)
    keys.scan("PO-1")
    for scan in ["W1", "WIDE-1", "CMD-SAVE"]:
        keys.scan(scan)
    qtbot.waitUntil(lambda: window.current_page() is window.choose["receive"])
    window.go_home()
    press(Qt.Key.Key_F4)
    keys.scan("WIDE-1")
    lookup = window.lookup
    assert lookup.table.model() is lookup.events_model and lookup.events_model.rowCount() >= 1
    when = lookup.events_model.rows[0][0]
    assert len(when) == 19  # 2026-12-01 15:07:14
    assert _uncut(lookup.table) == []
    keys.scan("PO-1")  # a document: its units
    assert lookup.table.model() is lookup.units_model
    assert _uncut(lookup.table) == []

    dialog = window.options_dialog()
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.user_field.setText(SUPERVISOR)
    dialog.pin_field.setText(SUPERVISOR_PIN)
    assert dialog.unlock()
    dialog.set_text("receiving_bin", "DOCK-RECEIVING-BIN-NORTH")
    assert dialog.save(), dialog.banner.text()
    assert dialog.audit_model.rowCount() == 1
    assert _uncut(dialog.audit_view) == []
