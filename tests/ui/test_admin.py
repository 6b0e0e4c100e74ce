"""Options behind a supervisor PIN (audited), users, first-run setup and lookup."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from openpyxl import load_workbook
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from station import stations
from station.codes import Code
from station.db import admin
from station.devices.printers.memory import MemoryPrinter
from station.users import add_user, authorize_supervisor, role_of
from tests.seed import seed
from tests.ui.conftest import keyboard
from ui.main_window import MainWindow
from ui.platform_check import NO_DISPLAY, check, missing_xcb_packages, problem_message, uses_xcb


def _audit(engine: Engine, station: str) -> list[tuple[str, str | None, str, str]]:
    with engine.connect() as c:
        changes = admin.option_changes(c, admin.station_id(c, station))
    return [(x["key"], x["old"], x["new"], x["user"]) for x in changes]


def test_options_need_a_supervisor_pin_and_changes_are_audited(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    add_user(engine, "sue", "supervisor", "2468")
    add_user(engine, "carl", "clerk", "1357", by="sue", by_pin="2468")
    window = make_window()
    dialog = window.options_dialog()
    qtbot.addWidget(dialog)
    assert not dialog.body.isEnabled()

    dialog.user_field.setText("carl")
    dialog.pin_field.setText("1357")
    assert not dialog.unlock()  # a clerk is refused
    assert (dialog.banner.state, dialog.banner.code) == ("bad", Code.NOT_AUTHORIZED)
    assert "only a supervisor" in dialog.banner.text()
    assert not dialog.body.isEnabled()
    dialog.set_text("serial_length", "12")
    assert not dialog.save()  # and so is a save with the clerk's PIN
    assert dialog.banner.code == Code.NOT_AUTHORIZED
    dialog.user_field.setText("sue")
    dialog.pin_field.setText("0000")
    assert not dialog.unlock()
    assert _audit(engine, "DOCK-1") == []

    dialog.user_field.setText("sue")
    dialog.pin_field.setText("2468")
    assert dialog.unlock() and dialog.body.isEnabled()
    dialog.set_text("receiving_bin", "   ")
    assert not dialog.save()
    assert "must not be empty" in dialog.errors["receiving_bin"].text()
    dialog.set_text("receiving_bin", "RECEIVING")
    dialog.set_text("serial_length", "12")
    dialog.set_text("sounds", "false")
    assert dialog.save(), dialog.banner.text()
    assert dialog.banner.state == "good"
    assert stations.load(engine, "DOCK-1")["serial_length"] == 12
    assert window.services.sounds.enabled is False
    assert sorted(_audit(engine, "DOCK-1")) == [
        ("serial_length", None, "12", "sue"),
        ("sounds", None, "false", "sue"),
    ]
    assert dialog.audit_model.rowCount() == 2
    assert {row[4] for row in dialog.audit_model.rows} == {"sue"}
    assert dialog.ports.text().startswith("Serial ports:")

    printer = f"opt-{uuid.uuid4().hex[:6]}"
    dialog.set_text("label_printer", "lpt://nowhere")
    dialog.test_print("label_printer")
    assert "printer URLs look like" in dialog.errors["label_printer"].text()
    dialog.set_text("label_printer", f"zpl+memory://{printer}")
    dialog.test_print("label_printer")  # one click: a test label on that printer
    qtbot.waitUntil(lambda: len(MemoryPrinter.jobs.get(printer, [])) == 1)
    assert dialog.errors["label_printer"].text() == ""


def test_supervisor_adds_a_user_and_resets_a_pin(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    add_user(engine, "sue", "supervisor", "2468")
    window = make_window()
    dialog = window.users_dialog()
    qtbot.addWidget(dialog)
    dialog.user_field.setText("sue")
    dialog.pin_field.setText("2468")
    assert dialog.unlock()
    dialog.name_field.setText("pat")
    dialog.role_box.setCurrentText("packer")
    dialog.new_pin.setText("12")
    assert not dialog.add() and dialog.banner.state == "bad"
    dialog.new_pin.setText("1234")
    assert dialog.add(), dialog.banner.text()
    assert role_of(engine, "pat") == "packer"
    assert [row[0] for row in dialog.model.rows] == ["pat", "sue"]
    dialog.view.selectRow(0)
    dialog.reset_pin_field.setText("5678")
    assert dialog.reset()
    add_user(engine, "boss", "supervisor", "9999", by="sue", by_pin="2468")
    authorize_supervisor(engine, "boss", "9999")


def test_first_run_setup_names_the_station_and_loads_the_demo(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window(station=None)
    setup = window.setup
    assert setup is not None and window.current_page() is setup
    setup.name_field.setText("DOCK-7")
    setup.kind_box.setCurrentText("receive")
    setup.user_field.setText("sue")
    setup.pin_field.setText("12")
    assert not setup.finish() and setup.banner.state == "bad"
    setup.pin_field.setText("2468")
    assert setup.demo_box.isChecked()
    assert setup.finish(), setup.banner.text()
    assert window.current_page() is window.home
    assert window.home.title.text() == "Station DOCK-7 · receive"
    assert not window.home.ship_button.isVisibleTo(window)
    assert role_of(engine, "sue") == "supervisor"
    assert stations.load(engine, "DOCK-7").warehouse == "MAIN"
    keyboard(window).scan("PO-9001")
    assert window.scan_page is not None
    assert window.scan_page.session.document.number == "PO-9001"


def test_lookup_shows_a_serial_and_lists_a_documents_serials(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    seed(engine)
    window = make_window()
    keys = keyboard(window)
    window.do("lookup")
    page = window.lookup
    keys.scan("ws-gone")
    assert page.banner.state == "good"
    assert "Widget One (W1)" in page.details.text() and "shipped" in page.details.text()
    assert page.table.model() is page.events_model
    keys.scan("NOPE-1")
    assert (page.banner.state, page.banner.code) == ("bad", Code.SERIAL_UNKNOWN)
    keys.scan("PO-0")
    assert page.table.model() is page.units_model
    serials = [row[0] for row in page.units_model.rows]
    assert "WS-1" in serials and "WS-GONE" in serials
    out = tmp_path / "po.xlsx"
    assert page.export_to(out) == len(serials) + 1
    cells = [row[0] for row in load_workbook(out).active.iter_rows(values_only=True)]
    assert cells[0] == "Serial" and set(serials) <= set(cells)


def test_missing_xcb_libraries_are_named() -> None:
    missing = missing_xcb_packages(lambda name: None if name == "xcb-cursor" else "lib.so")
    assert missing == ["libxcb-cursor0"]
    message = problem_message(missing)
    assert "libxcb-cursor0" in message and "apt-get install" in message
    assert not uses_xcb({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb"}, "linux")
    assert not uses_xcb({}, "win32")
    assert check({"QT_QPA_PLATFORM": "offscreen"}) is None
    if sys.platform == "linux" and not missing_xcb_packages():
        assert check({"QT_QPA_PLATFORM": "xcb"}) == NO_DISPLAY
        assert check({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0"}) is None


def test_the_installed_qt_binding_keeps_references() -> None:
    """pyproject pins PySide6 below 6.12; the app refuses a binding that loses references
    to None (it would crash a station after some thousands of scans)."""
    from ui.app import qt_binding_problem

    assert qt_binding_problem() is None
    from PySide6.QtWidgets import QLabel

    before = sys.getrefcount(None)
    label = QLabel()
    for _ in range(1000):
        label.setText("x")
    assert sys.getrefcount(None) >= before - 10
