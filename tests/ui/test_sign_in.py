"""Signing the operator in on the desktop app: name and PIN, or a badge scan then the PIN,
through the same throttled check as the command line; every posting names the operator."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, text

from station import users
from station.codes import Code
from station.db import admin
from tests.seed import OPERATOR_PIN, add_operators, add_supervisor, seed
from tests.ui.conftest import keyboard
from ui.main_window import MainWindow
from ui.sign_in import SignInDialog


def _dialog(window: MainWindow) -> SignInDialog:
    dialog = window.sign_in_box
    assert dialog is not None and dialog.isVisible()
    assert QApplication.activeModalWidget() is dialog
    return dialog


def test_the_operator_signs_in_with_name_and_pin_and_the_posting_names_them(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    add_supervisor(engine)
    add_operators(engine, kim="clerk")
    window = make_window()
    home = window.home
    assert home.findChildren(QComboBox) == []  # no operator picked from a list
    assert home.operator_label.text() == "Operator: nobody signed in — scan your badge"
    assert window.operator_label.text() == "Operator: nobody"
    assert not home.sign_out_button.isVisible()

    home.sign_in_button.click()
    dialog = _dialog(window)
    dialog.name_field.setText("kim")
    dialog.pin_field.setText("9999")
    dialog.sign_in_button.click()
    assert dialog.isVisible() and window.services.operator is None
    assert dialog.banner.state == "bad" and dialog.banner.code == Code.NOT_AUTHORIZED
    assert "Wrong user or PIN for 'kim'." in dialog.banner.text()
    assert dialog.pin_field.text() == ""  # a refused PIN is not kept in the field
    assert window.services.sounds.played[-1] == "bad"

    dialog.pin_field.setText(OPERATOR_PIN)
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert (window.services.operator, window.services.operator_role) == ("kim", "clerk")
    assert home.operator_label.text() == "Operator: kim (clerk)"
    assert window.operator_label.text() == "Operator: kim"
    assert home.sign_out_button.isVisible()

    keys = keyboard(window)
    keys.scan("PO-1")
    qtbot.waitUntil(lambda: window.scan_page is not None)
    for scan in ("W1", "SN-KIM"):
        keys.scan(scan)
    keys.scan("CMD-SAVE")
    qtbot.waitUntil(lambda: window.scan_page is None)
    with engine.connect() as c:
        receipt = c.execute(text("SELECT user_name FROM receipts WHERE station = 'DOCK-1'"))
        event = c.execute(
            text(
                "SELECT e.user_name FROM events e JOIN units u ON u.id = e.unit_id"
                " WHERE u.serial = 'SN-KIM'"
            )
        )
        assert (receipt.scalar_one(), event.scalar_one()) == ("kim", "kim")

    # Not remembered: the next start of the app has nobody signed in.
    again = make_window()
    assert again.services.operator is None
    assert again.home.operator_label.text() == "Operator: nobody signed in — scan your badge"


def test_a_badge_scan_then_the_pin_and_a_locked_user_is_told_when(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    add_supervisor(engine)
    add_operators(engine, kim="clerk", pat="packer")
    window = make_window()
    keys = keyboard(window)
    keys.scan("USER-pat")  # a badge on the home page opens the sign-in for that user
    dialog = _dialog(window)
    assert dialog.name_field.text() == "pat"
    keys.scan("USER-kim")  # another badge while the dialog is open: that user instead
    assert dialog.name_field.text() == "kim" and dialog.banner.text() == "kim: type your PIN."
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.pin_field)
    keys.scan("PO-1")  # any other scan is not taken by the dialog
    assert window.scan_page is None and dialog.name_field.text() == "kim"

    for _ in range(users.PIN_TRIES):
        dialog.pin_field.setText("9999")
        dialog.sign_in_button.click()
    assert dialog.banner.code == Code.USER_LOCKED
    with engine.connect() as c:
        found = admin.user(c, "kim")
        failures = admin.pin_failures(c, "kim")
    assert found is not None and found.locked_until is not None
    until = f"{found.locked_until:%Y-%m-%d %H:%M:%S} UTC"
    assert f"Wrong PIN; kim is locked after 5 wrong PINs in a row: try again after {until}" in (
        dialog.banner.text()
    )
    dialog.pin_field.setText(OPERATOR_PIN)  # the right PIN, while locked
    dialog.sign_in_button.click()
    assert dialog.isVisible() and window.services.operator is None
    assert dialog.banner.code == Code.USER_LOCKED
    assert f"kim is locked after 5 wrong PINs in a row: try again after {until}" in (
        dialog.banner.text()
    )
    assert [(f["reason"], f["station"]) for f in failures] == [("wrong_pin", "DOCK-1")] * 5


def test_a_packer_cannot_receive_and_signing_out_leaves_nobody(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    add_supervisor(engine)
    add_operators(engine, pat="packer")
    window = make_window()
    keys = keyboard(window)
    qtbot.keyClick(window, Qt.Key.Key_F11)  # the sign-in from the keyboard
    dialog = _dialog(window)
    assert dialog.name_field.text() == ""
    keys.scan("USER-pat")
    assert dialog.name_field.text() == "pat"
    dialog.pin_field.setText(OPERATOR_PIN)
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: window.services.operator == "pat")

    keys.scan("PO-1")
    assert window.scan_page is None
    assert window.home.banner.code == Code.NOT_AUTHORIZED
    assert "pat is a packer; receive is done by a clerk or a supervisor." in (
        window.home.banner.text()
    )
    keys.scan("SO-1")  # a packer ships
    qtbot.waitUntil(lambda: window.scan_page is not None)
    window.scan_page.close_button.click()  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: window.scan_page is None)
    window.go_home()

    window.home.sign_out_button.click()
    assert window.services.operator is None and window.services.operator_role is None
    assert window.home.operator_label.text() == "Operator: nobody signed in — scan your badge"
    assert "pat signed out" in window.home.banner.text()
    assert not window.home.sign_out_button.isVisible()
