"""First run on this machine: name the station, its kind and warehouse, offer the demo
data, and create the first supervisor (or sign in as one when the database has users)."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from station import stations, users
from station.codes import Code, StationError
from station.db import admin, search
from station.demo import load_demo
from ui.services import Services, first_line
from ui.widgets import VerdictBanner, button, label

KINDS = ("both", "receive", "ship")


class SetupPage(QWidget):
    """`finished(station_name)` once the station is registered and remembered."""

    finished = Signal(str)

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        engine = services.engine

        def reading() -> tuple[bool, list[tuple[str, str]]]:  # on the database worker
            with engine.connect() as connection:
                return admin.user_count(connection) > 0, search.warehouse_codes(connection)

        self.has_users, warehouses = services.worker.run(reading)
        self.banner = VerdictBanner(
            "Welcome. Name this station; the options can be changed later by a supervisor."
        )
        self.name_field = QLineEdit()
        self.name_field.setPlaceholderText("e.g. DOCK-1 or PACK-2")
        self.kind_box = QComboBox()
        self.kind_box.addItems(list(KINDS))
        self.warehouse_box = QComboBox()
        self.warehouse_box.setEditable(True)
        self.warehouse_box.addItems([code for code, _name in warehouses] or ["MAIN"])
        self.demo_box = QCheckBox("Load the demo data (products, POs PO-9001/9002, orders)")
        self.demo_box.setChecked(not warehouses)
        self.demo_box.toggled.connect(self._demo_toggled)
        self.user_field = QLineEdit()
        self.pin_field = QLineEdit()
        self.pin_field.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_field.setPlaceholderText("4 to 12 digits")
        self.start_button = button("Start (Enter)", primary=True)
        self.start_button.clicked.connect(self.finish)
        self.pin_field.returnPressed.connect(self.finish)
        form = QFormLayout()
        form.addRow("Station name:", self.name_field)
        form.addRow("Kind:", self.kind_box)
        form.addRow("Warehouse:", self.warehouse_box)
        form.addRow("", self.demo_box)
        who = "Existing supervisor" if self.has_users else "First supervisor's name"
        form.addRow(f"{who}:", self.user_field)
        form.addRow("Supervisor PIN:", self.pin_field)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.start_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 20, 40, 20)
        layout.addWidget(label("Set up this station", "title"))
        layout.addWidget(self.banner)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addStretch(1)

    def focus_default(self) -> None:
        self.name_field.setFocus()

    def _demo_toggled(self, on: bool) -> None:
        if on and not self.warehouse_box.currentText():
            self.warehouse_box.setCurrentText("MAIN")

    def finish(self) -> bool:
        name = self.name_field.text().strip()
        supervisor, pin = self.user_field.text().strip(), self.pin_field.text()
        code = self.warehouse_box.currentText().strip().upper()
        if not name:
            self.banner.show_bad("Give the station a name.", "UNKNOWN_STATION")
            return False
        if not code:
            self.banner.show_bad("Name the warehouse this station works in.", "BAD_OPTION_VALUE")
            return False
        engine = self.services.engine
        kind, demo = self.kind_box.currentText(), self.demo_box.isChecked()

        def setting_up() -> None:  # on the database worker: the demo import takes a while
            # A retry after a later step failed finds the supervisor it created: it signs
            # in with that name and PIN instead of creating the user again. Users created
            # meanwhile (another first run at once) are found too: sign in as one of them.
            if not self.has_users:
                with engine.connect() as connection:
                    self.has_users = admin.user_count(connection) > 0
            if self.has_users or users.role_of(engine, supervisor) is not None:
                users.authorize_supervisor(engine, supervisor, pin, station=name)
            else:
                users.add_user(engine, supervisor, "supervisor", pin)
            if demo:  # the supervisor's PIN was checked just above
                load_demo(engine, into_data=True)
            with engine.begin() as connection:
                if code not in dict(search.warehouse_codes(connection)):
                    search.add_warehouse(connection, code, code.title())
            station_id = stations.register(engine, name, kind)
            with engine.begin() as connection:
                admin.set_station_kind(connection, station_id, kind)
            stations.set_options(engine, name, {"warehouse": code}, user=supervisor, pin=pin)

        doing = "Setting up the station" + (" and loading the demo data" if demo else "")
        try:
            self.services.worker.run(setting_up, partial(self.banner.show_working, doing))
        except StationError as error:
            self.banner.show_bad(error.message, str(error.code))
            return False
        except (SQLAlchemyError, OSError) as error:
            self.banner.show_bad(
                f"Setup stopped: {first_line(getattr(error, 'orig', error))}."
                " Fix it and press Start again.",
                str(Code.DATABASE_UNAVAILABLE),
            )
            return False
        self.services.kind = self.kind_box.currentText()
        self.services.settings.station = name
        self.services.settings.save()
        self.services.operator, self.services.operator_role = supervisor, "supervisor"
        self.finished.emit(name)
        return True
