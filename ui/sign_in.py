"""Signing the operator in: name and PIN, or a badge scan (`USER-<name>`) then the PIN.

The PIN is checked by the core (`station.users.sign_in`), throttled per user like every
PIN: a wrong PIN is refused in the banner, and a locked user is told when to try again.
The signed-in operator lives in `Services` for this run of the app only (never saved).
"""

from __future__ import annotations

from functools import partial

from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QVBoxLayout,
    QWidget,
)

from station import users
from station.codes import Code, StationError
from ui.admin_dialogs import FAILURES
from ui.services import Services, first_line
from ui.widgets import VerdictBanner, button, label, name_and_pin

PROMPT = "Scan your badge or type your name, then your PIN."


class SignInDialog(QDialog):
    """On a right PIN: `services.operator` and `operator_role` are set, then accepted."""

    def __init__(self, services: Services, name: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setWindowTitle("Sign in")
        self.banner = VerdictBanner(PROMPT)
        self.name_field, self.pin_field = name_and_pin("Your name")
        self.name_field.setText(name)
        self.pin_field.returnPressed.connect(self.sign_in)
        self.sign_in_button = button("Sign in (Enter)", primary=True)
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(self.sign_in)
        self.cancel_button = button("Cancel (Esc)")
        self.cancel_button.clicked.connect(self.reject)
        form = QFormLayout()
        form.addRow("Name:", self.name_field)
        form.addRow("PIN:", self.pin_field)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.sign_in_button)
        layout = QVBoxLayout(self)
        layout.addWidget(label("Sign in", "title"))
        layout.addWidget(self.banner)
        layout.addLayout(form)
        layout.addLayout(buttons)
        (self.pin_field if name else self.name_field).setFocus()

    def take_badge(self, scan: str | bytes) -> bool:
        """A badge scanned while the dialog is open names the user; False for any other
        scan (the window refuses it as a scan during a dialog)."""
        text = scan.decode("utf-8", "replace") if isinstance(scan, bytes) else scan
        name = users.badge_name(text)
        if name is None:
            return False
        self.name_field.setText(name)
        self.pin_field.clear()
        self.pin_field.setFocus()
        self.banner.show_info(f"{name}: type your PIN.")
        return True

    def sign_in(self) -> bool:
        name, pin = self.name_field.text().strip(), self.pin_field.text()
        self.pin_field.clear()
        if not name or not pin:
            self.banner.show_bad("Give your name and your PIN.", str(Code.NOT_AUTHORIZED))
            return False
        engine, station = self.services.engine, self.services.station_name
        try:
            role = self.services.worker.run(
                lambda: users.sign_in(engine, name, pin, station=station),
                partial(self.banner.show_working, f"Signing {name} in"),
            )
        except FAILURES as error:
            if isinstance(error, StationError):
                self.banner.show_bad(error.message, str(error.code))
            else:
                self.banner.show_bad(
                    f"The database cannot be reached: {first_line(getattr(error, 'orig', error))}",
                    str(Code.DATABASE_UNAVAILABLE),
                )
            self.services.sounds.play("bad")
            self.pin_field.setFocus()
            return False
        self.services.operator, self.services.operator_role = name, role
        self.accept()
        return True
