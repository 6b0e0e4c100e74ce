"""Failures are shown, never raised into the event loop: the database down, a file open in
Excel, a printer that raises; and scans that arrive where they cannot be taken."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from station import stations
from station.codes import Code
from station.db import print_jobs
from station.db.engine import make_engine
from station.devices.errors import DeviceError
from station.devices.printers import open_printer
from station.devices.printers.memory import MemoryPrinter
from station.users import add_user, role_of
from tests.seed import seed
from tests.ui.conftest import keyboard
from ui.app import build_window
from ui.devices import Printing
from ui.main_window import MainWindow
from ui.services import DatabaseWatch, first_line
from ui.sounds import BAD, GOOD, Sounds


class _Refusing:
    """An engine whose every connection fails with an exception that has no message."""

    def connect(self) -> None:
        raise RuntimeError()


def _dead_engine() -> Engine:
    with socket.socket() as sock:  # a port nobody listens on: the database is down
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/station")


def test_an_error_without_a_message_leaves_the_watch_free_to_check_again(qtbot: QtBot) -> None:
    assert first_line(RuntimeError()) == "RuntimeError"
    assert first_line(ValueError("first\nsecond")) == "first"
    watch = DatabaseWatch(_Refusing())  # type: ignore[arg-type]
    with qtbot.waitSignal(watch.changed) as blocker:
        watch.check()
    assert blocker.args == [False, "RuntimeError"]
    qtbot.waitUntil(lambda: not watch._busy)
    watch.check()  # not stuck: a second check runs
    qtbot.waitUntil(lambda: not watch._busy)


def test_the_status_bar_never_queries_the_database(
    engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    window = make_window()
    assert window.services.kind == "both"
    window.services.engine = _Refusing()  # type: ignore[assignment]
    try:
        window.services.database.mark(False, "gone")  # a status change repaints the bar
        window.update_status()
    finally:
        window.services.engine = engine
    assert window.station_label.text() == "Station: DOCK-1 (both)"
    assert "UNREACHABLE" in window.database_label.text()


def test_enter_before_the_filter_caught_up_opens_what_was_typed(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    window = make_window()
    window.do("ship")
    chooser = window.choose["ship"]
    first = chooser.model.rows[0][0]
    assert first != "SO-2"  # the row selected before the typing
    chooser.search.setText("SO-2")
    assert chooser._timer.isActive()  # Enter comes before the 150 ms filter
    with qtbot.waitSignal(chooser.chosen) as blocker:
        chooser.open_selected()
    assert blocker.args == ["SO-2"]
    assert window.scan_page is not None
    assert window.scan_page.session.document.number == "SO-2"


def test_command_scans_on_the_choose_and_lookup_pages(
    engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    window = make_window()
    keys = keyboard(window)
    window.do("receive")
    chooser = window.choose["receive"]
    keys.scan("CMD-SAVE")
    assert window.current_page() is chooser and window.scan_page is None
    assert (chooser.banner.state, chooser.banner.code) == ("bad", Code.UNKNOWN_COMMAND)
    assert "not used here" in chooser.banner.text()
    assert window.services.sounds.played[-1] == BAD
    keys.scan("cmd-cancel")
    assert window.current_page() is window.home

    window.do("lookup")
    keys.scan("CMD-UNDO")
    assert window.lookup.banner.code == Code.UNKNOWN_COMMAND
    keys.scan("CMD-CANCEL")
    assert window.current_page() is window.home


def test_a_scan_on_the_setup_page_is_typed_into_the_focused_field(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window(station=None)
    setup = window.setup
    assert setup is not None
    setup.name_field.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is setup.name_field)
    keyboard(window).scan("DOCK-9")
    assert setup.name_field.text() == "DOCK-9"
    assert window.current_page() is setup


def test_setup_shows_a_database_failure_and_can_be_started_again(
    monkeypatch: pytest.MonkeyPatch, make_window: Callable[..., MainWindow], engine: Engine
) -> None:
    window = make_window(station=None)
    setup = window.setup
    assert setup is not None
    setup.name_field.setText("DOCK-8")
    setup.user_field.setText("sue")
    setup.pin_field.setText("2468")
    register = stations.register

    def fails(*_args: object, **_kwargs: object) -> int:
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(stations, "register", fails)
    assert not setup.finish()  # after the supervisor was created
    assert (setup.banner.state, setup.banner.code) == ("bad", Code.DATABASE_UNAVAILABLE)
    assert "server closed the connection" in setup.banner.text()
    assert role_of(engine, "sue") == "supervisor"
    monkeypatch.setattr(stations, "register", register)
    setup.demo_box.setChecked(False)
    assert setup.finish(), setup.banner.text()  # not "user exists"
    assert window.current_page() is window.home


def test_supervisor_dialogs_show_that_the_database_is_down(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    make_window().close()  # caches the station's options on this machine
    dead = _dead_engine()
    window = build_window(dead, station="DOCK-1", sounds="record", database_up=False)
    qtbot.addWidget(window)
    try:
        for make in (window.users_dialog, window.options_dialog):
            dialog = make()
            qtbot.addWidget(dialog)
            assert (dialog.banner.state, dialog.banner.code) == (
                "bad",
                Code.DATABASE_UNAVAILABLE,
            )
            dialog.user_field.setText("sue")
            dialog.pin_field.setText("2468")
            assert not dialog.unlock()
            assert dialog.banner.code == Code.DATABASE_UNAVAILABLE
    finally:
        window.close()
        dead.dispose()


def test_export_to_a_file_open_in_excel_says_so(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    engine: Engine,
    make_window: Callable[..., MainWindow],
) -> None:
    import ui.lookup_page

    seed(engine)
    window = make_window()
    page = window.lookup
    page.look_up("PO-0")
    assert page.units
    written = page.export_to(tmp_path / "po.xlsx")
    assert written == len(page.units) + 1 and page.banner.state == "good"

    def locked(*_args: object, **_kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(ui.lookup_page, "write_rows_xlsx", locked)
    assert page.export_to(tmp_path / "open.xlsx") == 0
    assert page.banner.state == "bad" and "open in another program" in page.banner.text()


def test_a_posting_whose_printing_raises_is_still_posted(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    window = make_window()
    keys = keyboard(window)
    keys.scan("PO-1")

    def raises(_jobs: object) -> str:
        raise DeviceError("zpl+tcp://label", "printer on fire")

    window.services.printing.submit = raises  # type: ignore[method-assign]
    for scan in ["W1", "SN-FIRE-1"]:
        keys.scan(scan)
    page = window.scan_page
    assert page is not None
    page.session.station.options["print_label_on_receive"] = True
    keys.scan("CMD-SAVE")
    chooser = window.choose["receive"]
    qtbot.waitUntil(lambda: window.current_page() is chooser)
    assert (chooser.banner.state, chooser.banner.code) == ("bad", Code.PRINT_FAILED)
    assert "Printing failed" in chooser.banner.text() and "printer on fire" in chooser.banner.text()
    assert "Printing failed" in window.statusBar().currentMessage()


def test_a_bad_sound_is_never_dropped_when_the_queue_is_full(qtbot: QtBot) -> None:
    sounds = Sounds("record")
    sounds._record = False
    release, heard = threading.Event(), []

    def play(name: str) -> None:
        release.wait(5)
        heard.append(name)

    sounds._play = play
    for _ in range(8):  # one playing, four waiting, the rest dropped
        sounds.play(GOOD)
    sounds.play(BAD)
    release.set()
    qtbot.waitUntil(lambda: BAD in heard)
    assert heard.count(BAD) == 1


def test_printers_follow_the_options_and_a_test_print_leaves_no_queue(
    qtbot: QtBot, engine: Engine
) -> None:
    first, second, trial = (f"zpl+memory://p-{uuid.uuid4().hex[:6]}" for _ in range(3))
    left = open_printer(second, default_protocol="zpl")
    print_jobs.add_jobs(engine, [print_jobs.NewJob(left.url, "po", "PO-1", "left", b"LEFT")])
    printing = Printing(engine)
    try:
        printing.configure(first, "")
        assert list(printing.queues) == [first]
        printing.configure(second, "")  # the old printer's queue ends
        assert list(printing.queues) == [second]
        name = second.split("://")[1]
        qtbot.waitUntil(lambda: MemoryPrinter.jobs.get(name) == [b"LEFT"])  # resumed

        ticket = printing.test_print(trial, "zpl")
        qtbot.waitUntil(lambda: ticket.done)
        assert ticket.status == "printed"
        assert trial not in printing.queues
    finally:
        printing.stop()


def test_a_scan_while_a_dialog_is_open_is_refused(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    window = make_window()
    keys = keyboard(window)
    page = window.open_document("receive", "PO-1")
    assert page is not None
    for scan in ["W1", "D-1"]:
        keys.scan(scan)
    seen: list[object] = []

    def in_the_box() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        box.activateWindow()
        qtbot.waitUntil(lambda: QApplication.focusWidget() is box.defaultButton())
        keys.scan("CMD-RESCAN")  # its Enter must not press the default button
        seen.append(box.isVisible())
        seen.append((page.banner.state, page.banner.code))
        box.button(QMessageBox.StandardButton.No).click()

    QTimer.singleShot(0, in_the_box)
    page.ask_rescan()
    assert seen == [True, ("bad", Code.DIALOG_OPEN)]
    # the dialog closed: the banner says again what it said before (issue 10)
    assert (page.banner.state, page.banner.text()) == ("good", "✔ Widget One serial D-1 — 1 of 3")
    assert window.services.sounds.played[-1] == BAD
    assert len(page.session.entries) == 1  # nothing cleared, nothing scanned

    add_user(engine, "sue", "supervisor", "2468")
    dialog = window.users_dialog()
    qtbot.addWidget(dialog)
    dialog.open()  # modal
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is dialog)
    dialog.user_field.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.user_field)
    keys.type("sue")  # a person typing still reaches the dialog
    qtbot.waitUntil(lambda: dialog.user_field.text() == "sue")
    keys.scan("SN-X")
    assert dialog.user_field.text() == "sue"
    assert "Close the dialog first" in dialog.banner.text()
    dialog.close()


def test_a_busy_database_is_busy_on_the_lookup_and_choose_pages(
    engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    """A lock held too long by another program: the pages say busy (the database answers;
    the station stays connected), not unreachable."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite readers never wait for a writer (WAL)")
    from sqlalchemy import text

    seed(engine)
    window = make_window()
    holder = make_engine(engine.url.render_as_string(hide_password=False), patient=True)
    with holder.connect() as connection:
        connection.execute(text("LOCK TABLE units, purchase_orders IN ACCESS EXCLUSIVE MODE"))
        window.lookup.look_up("WS-1")
        assert (window.lookup.banner.state, window.lookup.banner.code) == (
            "bad",
            Code.DATABASE_BUSY,
        )
        assert "busy" in window.lookup.banner.text()
        choose = window.choose["receive"]
        choose.reload()
        assert (choose.banner.state, choose.banner.code) == ("bad", Code.DATABASE_BUSY)
        connection.rollback()
    holder.dispose()
    assert window.services.database.connected
    window.lookup.look_up("WS-1")
    assert window.lookup.banner.state != "bad" and window.lookup.traces
