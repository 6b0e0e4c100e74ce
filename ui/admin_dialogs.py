"""Supervisor dialogs: station options (with device settings) and users.

Both open locked: a supervisor's name and PIN unlock them (`station.users`), and every
change is made through the core (`stations.set_options`, `users.add_user`,
`users.reset_pin`), which checks the PIN again and writes the audit record.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from station import options as opts
from station import stations, users
from station.codes import Code, StationError
from station.db import admin, search
from station.db.models import ROLES
from station.devices.errors import DeviceError
from station.stations import StationConfig
from ui.devices import serial_ports
from ui.models import RowsModel
from ui.services import Services, first_line
from ui.widgets import VerdictBanner, button, fit_columns, label, name_and_pin, setup_table

DEVICE_OPTIONS = ("label_printer", "receipt_printer", "scanner")
FAILURES = (StationError, SQLAlchemyError, OSError)  # what a database call can raise here
T = TypeVar("T")


def _attempt(call: Callable[[], T]) -> T | Exception:
    """`call()`, or the database failure it raised (to be shown, not raised)."""
    try:
        return call()
    except FAILURES as error:
        return error


class _Locked(QDialog):
    """A dialog whose content is enabled once a supervisor signs in."""

    def __init__(self, services: Services, title: str) -> None:
        super().__init__()
        self.services = services
        self.setWindowTitle(title)
        self.supervisor: tuple[str, str] | None = None
        self.banner = VerdictBanner("A supervisor's name and PIN unlock this page.")
        self.user_field, self.pin_field = name_and_pin("Supervisor name")
        self.pin_field.returnPressed.connect(self.unlock)
        self.unlock_button = button("Unlock", primary=True)
        self.unlock_button.clicked.connect(self.unlock)
        self.unlock_button.setDefault(True)  # Enter in the PIN field never closes the dialog
        sign_in = QHBoxLayout()
        sign_in.addWidget(label("Supervisor:"))
        sign_in.addWidget(self.user_field, 1)
        sign_in.addWidget(self.pin_field)
        sign_in.addWidget(self.unlock_button)
        self.body = QWidget()
        self.body.setEnabled(False)
        self.close_button = button("Close (Esc)")
        self.close_button.clicked.connect(self.reject)
        self.layout_ = QVBoxLayout(self)
        self.layout_.addWidget(self.banner)
        self.layout_.addLayout(sign_in)
        self.layout_.addWidget(self.body, 1)
        # below the locked part: Close works (and looks it) before anyone unlocks
        self.bottom = QHBoxLayout()
        self.bottom.addStretch(1)
        self.bottom.addWidget(self.close_button)
        self.layout_.addLayout(self.bottom)

    def db(self, call: Callable[[], T], doing: str = "Waiting for the database") -> T:
        """`call` on the database worker (the dialog paints meanwhile; its banner says what
        runs when it takes longer than a blink); its error is raised here."""
        return self.services.worker.run(call, partial(self.banner.show_working, doing))

    def failed(self, error: Exception) -> None:
        """Show why a call failed in the banner (the database down, a refusal)."""
        if isinstance(error, StationError):
            self.banner.show_bad(error.message, str(error.code))
        else:
            self.banner.show_bad(
                f"The database cannot be reached: {first_line(getattr(error, 'orig', error))}",
                str(Code.DATABASE_UNAVAILABLE),
            )

    def unlock(self) -> bool:
        name, pin = self.user_field.text().strip(), self.pin_field.text()
        engine, station = self.services.engine, self.services.station_name
        try:
            self.db(lambda: users.authorize_supervisor(engine, name, pin, station=station))
        except FAILURES as error:
            self.failed(error)
            self.pin_field.clear()
            return False
        self.supervisor = (name, pin)
        self.body.setEnabled(True)
        self.banner.show_good(f"Unlocked by {name}.")
        self.unlocked()
        return True

    def unlocked(self) -> None:
        pass


class OptionsDialog(_Locked):
    """Every station option with its explanation; device settings with a test print and
    the serial ports detected; the audit record of changes. Built without the database;
    `load` fills it."""

    def __init__(self, services: Services) -> None:
        super().__init__(services, f"Options — {services.station_name}")
        self.resize(1000, 720)
        self.config: StationConfig | None = None  # the options as stored, once loaded
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.names: dict[str, QLabel] = {}  # each option's row label: plain name, then key
        self._tests: list[tuple[Any, str]] = []  # test prints sent, awaiting their result
        services.printing.job_done.connect(self._test_done)
        form_box = QWidget()
        form = QFormLayout(form_box)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        devices = QGroupBox("Devices")
        device_form = QFormLayout(devices)
        for key, option in opts.OPTIONS.items():
            editor = self._editor(key, option, option.default)
            self.editors[key] = editor
            error = label("", "error", wrap=True)
            self.errors[key] = error
            cell = QWidget()
            column = QVBoxLayout(cell)
            column.setContentsMargins(0, 0, 0, 4)
            row = QHBoxLayout()
            row.addWidget(editor, 1)
            if key in ("label_printer", "receipt_printer"):
                test = button("Test print")
                test.clicked.connect(lambda _=False, k=key: self.test_print(k))
                row.addWidget(test)
            column.addLayout(row)
            column.addWidget(label(option.help, "hint", wrap=True))
            column.addWidget(error)
            name = label(f"{option.label or key}\n{key}", "option")  # the name, the key below
            name.setToolTip(f"{key}: {option.help}")
            self.names[key] = name
            (device_form if key in DEVICE_OPTIONS else form).addRow(name, cell)
        self.ports = label("", "hint", wrap=True)
        refresh = button("Detect serial ports")
        refresh.clicked.connect(self.detect_ports)
        device_form.addRow(refresh, self.ports)
        self.audit_model = RowsModel()
        self.audit_model.columns = ("When (UTC)", "Option", "Old", "New", "By")
        self.audit_view = QTableView()
        self.audit_view.setModel(self.audit_model)
        setup_table(self.audit_view, stretch=3)
        self.audit_view.setMinimumHeight(160)
        inner = QWidget()
        inner_layout = QVBoxLayout(inner)
        inner_layout.addWidget(form_box)
        inner_layout.addWidget(devices)
        inner_layout.addWidget(label("Changes (audit record)", "hint"))
        inner_layout.addWidget(self.audit_view)
        scroll = QScrollArea()
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        self.scroll = scroll
        self.save_button = button("Save options", primary=True)
        self.save_button.clicked.connect(self.save)
        self.save_button.setEnabled(False)  # until a supervisor unlocks: looks it, too
        self.bottom.addWidget(self.save_button)
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(scroll, 1)
        self.detect_ports()

    def load(self) -> None:
        """Read what the dialog shows in one call on the database worker and show it: the
        options (FAILURES raised: the dialog cannot open without them), the warehouses and
        the audit record (a failure of either is said in the banner)."""
        config, codes, changes = self.db(self._loading, "Loading the options")
        self.config = config
        for key, option in opts.OPTIONS.items():
            editor, value = self.editors[key], config[key]
            if isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QComboBox):
                editor.clear()
                if isinstance(codes, Exception):
                    self.failed(codes)
                else:
                    editor.addItems(codes)
                editor.setCurrentText(config.warehouse or str(value))
            elif isinstance(editor, QLineEdit):
                editor.setText(", ".join(value) if option.kind is list else str(value))
        self._show_audit(changes)

    def _loading(self) -> tuple[StationConfig, list[str] | Exception, list[Any] | Exception]:
        """On the database worker."""
        engine = self.services.engine

        def codes() -> list[str]:
            with engine.connect() as connection:
                return [code for code, _name in search.warehouse_codes(connection)]

        return self.services.station(), _attempt(codes), _attempt(self._audit())

    def unlocked(self) -> None:
        self.save_button.setEnabled(True)

    def _editor(self, key: str, option: opts.Option, value: Any) -> QWidget:
        if option.kind is bool:
            box = QCheckBox()
            box.setChecked(bool(value))
            return box
        if option.kind is int:
            number = QLineEdit(str(value))
            number.setFixedWidth(120)
            return number
        if key == "warehouse":
            combo = QComboBox()
            combo.setEditable(True)  # the warehouses are listed by `load`
            return combo
        field = QLineEdit(", ".join(value) if option.kind is list else str(value))
        return field

    def text_of(self, key: str) -> str:
        editor = self.editors[key]
        if isinstance(editor, QCheckBox):
            return "true" if editor.isChecked() else "false"
        if isinstance(editor, QComboBox):
            return editor.currentText()
        assert isinstance(editor, QLineEdit)
        return editor.text()

    def set_text(self, key: str, text: str) -> None:
        editor = self.editors[key]
        if isinstance(editor, QCheckBox):
            editor.setChecked(text.strip().lower() in ("true", "yes", "on", "1"))
        elif isinstance(editor, QComboBox):
            editor.setCurrentText(text)
        elif isinstance(editor, QLineEdit):
            editor.setText(text)

    def changes(self) -> dict[str, str]:
        """Options whose editor differs from the stored value."""
        changed: dict[str, str] = {}
        if self.config is None:  # not loaded: nothing to compare with
            return changed
        for key, option in opts.OPTIONS.items():
            text = self.text_of(key)
            current = self.config.warehouse if key == "warehouse" else self.config[key]
            if option.kind is bool:
                same = (text == "true") == bool(current)
            elif option.kind is list:
                same = [x.strip() for x in text.split(",") if x.strip()] == list(current)
            else:
                same = text.strip() == str(current)
            if not same:
                changed[key] = text
        return changed

    def save(self) -> bool:
        for error in self.errors.values():
            error.setText("")
        changed = self.changes()
        if not changed:
            self.banner.show_info("Nothing changed.")
            return False
        bad: list[str] = []
        for key, text in changed.items():
            try:
                opts.parse_value(key, text)
            except StationError as error:
                self.errors[key].setText(error.message)
                bad.append(key)
        if bad:
            self.banner.show_bad(f"{', '.join(bad)}: see the red note.", "BAD_OPTION_VALUE")
            self.scroll.ensureWidgetVisible(self.errors[bad[0]])
            self.editors[bad[0]].setFocus()
            return False
        name, pin = self.supervisor or (self.user_field.text().strip(), self.pin_field.text())
        engine, station = self.services.engine, self.services.station_name or ""

        def saving() -> list[tuple[str, Any, Any]]:
            return list(stations.set_options(engine, station, changed, user=name, pin=pin))

        try:
            done = self.db(saving, "Saving the options")
            self.config = self.db(self.services.station, "Loading the options")
        except FAILURES as error:
            self.failed(error)
            return False
        self.services.apply_station(self.config)
        self.load_audit()
        what = ", ".join(f"{key} {old!r} → {new!r}" for key, old, new in done)
        self.banner.show_good(f"Saved: {what}.")
        return True

    def _audit(self) -> Callable[[], list[Any]]:
        """The query of this station's option changes (for the worker)."""
        engine, station = self.services.engine, self.services.station_name or ""

        def audit() -> list[Any]:
            with engine.connect() as connection:
                station_id = admin.station_id(connection, station)
                return list(admin.option_changes(connection, station_id)) if station_id else []

        return audit

    def load_audit(self) -> None:
        self._show_audit(_attempt(lambda: self.db(self._audit(), "Loading the audit record")))

    def _show_audit(self, changes: list[Any] | Exception) -> None:
        if isinstance(changes, Exception):
            self.failed(changes)
            return
        self.audit_model.set_rows(
            [
                (str(c["at"])[:19], c["key"], c["old"] or "(default)", c["new"], c["user"])
                for c in reversed(changes)
            ]
        )
        fit_columns(self.audit_view)

    def detect_ports(self) -> None:
        found = serial_ports()
        self.ports.setText(
            "Serial ports: " + ("; ".join(found) if found else "none found on this machine")
        )

    def test_print(self, key: str) -> None:
        url = self.text_of(key).strip()
        if not url:
            self.errors[key].setText("Enter a printer URL first.")
            return
        try:
            ticket = self.services.printing.test_print(
                url, "zpl" if key == "label_printer" else "escpos"
            )
        except DeviceError as error:
            self.errors[key].setText(str(error))
            return
        except StationError as error:  # the label template is missing or not usable
            self.errors[key].setText(f"{error.code}: {error.message}")
            return
        self.errors[key].setText("")
        self.banner.show_info(f"Test label sent to {url}: waiting for the printer…")
        self.last_test = ticket
        self._tests.append((ticket, url))

    def _test_done(self, ticket: Any) -> None:
        """The result of a test print, in this dialog's banner (the status bar is behind)."""
        found = next((item for item in self._tests if item[0] is ticket), None)
        if found is None:
            return
        self._tests.remove(found)
        url = found[1]
        if ticket.status == "printed":
            self.banner.show_good(f"Test label printed on {url}.")
        else:
            self.banner.show_bad(
                f"Test label to {url} failed: {ticket.error or 'no answer'}.", Code.PRINT_FAILED
            )


class UsersDialog(_Locked):
    """Users and roles; add a user, reset a PIN (supervisors only)."""

    def __init__(self, services: Services) -> None:
        super().__init__(services, "Users")
        self.resize(760, 560)
        self.model = RowsModel()
        self.model.columns = ("Name", "Role")
        self.view = QTableView()
        self.view.setModel(self.model)
        setup_table(self.view, stretch=0)
        self.name_field = QLineEdit()
        self.name_field.setPlaceholderText("New user's name")
        self.role_box = QComboBox()
        self.role_box.addItems(list(ROLES))
        self.new_pin = QLineEdit()
        self.new_pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.new_pin.setPlaceholderText("PIN (4–12 digits)")
        self.add_button = button("Add user", primary=True)
        self.add_button.clicked.connect(self.add)
        self.reset_pin_field = QLineEdit()
        self.reset_pin_field.setEchoMode(QLineEdit.EchoMode.Password)
        self.reset_pin_field.setPlaceholderText("New PIN for the selected user")
        self.reset_button = button("Reset PIN")
        self.reset_button.clicked.connect(self.reset)
        add_row = QHBoxLayout()
        add_row.addWidget(self.name_field, 1)
        add_row.addWidget(self.role_box)
        add_row.addWidget(self.new_pin)
        add_row.addWidget(self.add_button)
        reset_row = QHBoxLayout()
        reset_row.addWidget(self.reset_pin_field, 1)
        reset_row.addWidget(self.reset_button)
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.view, 1)
        body.addLayout(add_row)
        body.addLayout(reset_row)

    def load(self) -> None:
        """The users, from the database worker (a failure is said in the banner)."""
        self.reload()

    def reload(self) -> None:
        engine = self.services.engine

        def listed() -> list[Any]:
            with engine.connect() as connection:
                return list(admin.users(connection))

        try:
            self.model.set_rows(self.db(listed, "Loading the users"))
        except FAILURES as error:
            self.failed(error)

    def add(self) -> bool:
        assert self.supervisor is not None
        name, pin = self.supervisor
        engine, station = self.services.engine, self.services.station_name
        new, role = self.name_field.text(), self.role_box.currentText()
        new_pin = self.new_pin.text()
        try:
            self.db(
                lambda: users.add_user(
                    engine, new, role, new_pin, by=name, by_pin=pin, station=station
                ),
                "Adding the user",
            )
        except FAILURES as error:
            self.failed(error)
            return False
        self.banner.show_good(
            f"Added {self.name_field.text().strip()} ({self.role_box.currentText()})."
        )
        self.name_field.clear()
        self.new_pin.clear()
        self.reload()
        return True

    def reset(self) -> bool:
        assert self.supervisor is not None
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            self.banner.show_info("Select a user first.")
            return False
        who = str(self.model.rows[rows[0].row()][0])
        name, pin = self.supervisor
        engine, station, new_pin = (
            self.services.engine,
            self.services.station_name,
            self.reset_pin_field.text(),
        )
        try:
            self.db(
                lambda: users.reset_pin(engine, who, new_pin, by=name, by_pin=pin, station=station),
                "Setting the PIN",
            )
        except FAILURES as error:
            self.failed(error)
            return False
        self.reset_pin_field.clear()
        self.banner.show_good(f"New PIN set for {who}.")
        return True
