"""Lookup: scan or type a serial to see the unit and its timeline, or a PO / order /
receipt / shipment number to list its serials; Export writes what is shown to XLSX."""

from __future__ import annotations

from functools import partial
from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import OperationalError

from station.codes import Code, StationError
from station.db import search
from station.db.engine import ledger_files, reading_briefly
from station.db.lookup import UnitRecord
from station.exports import write_rows_xlsx
from station.trace import UnitTrace, location, trace_on
from ui.models import EventsModel, RowsModel
from ui.services import Services
from ui.sounds import BAD
from ui.widgets import (
    VerdictBanner,
    button,
    fit_columns,
    label,
    read_number_scan,
    setup_table,
    take_keyboard,
)

#: An export of this many rows or more takes longer than a blink: the event loop runs
#: from its start (`DatabaseWorker.run`'s `long`), the banner counting the rows.
LONG_EXPORT = 1000


class UnitsModel(RowsModel):
    columns = ("Serial", "SKU", "Product", "Status", "Location", "PO", "Order")


def _place(warehouse: str | None, bin_: str | None) -> str:
    return "/".join(part for part in (warehouse, bin_) if part)


def _unit_row(unit: UnitRecord) -> tuple[str, ...]:
    """A unit as a row of UnitsModel's columns."""
    return (
        unit.serial,
        unit.sku,
        unit.product,
        unit.status,
        location(unit),
        unit.po or "",
        unit.order or "",
    )


class LookupPage(QWidget):
    closed = Signal()

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.traces: list[UnitTrace] = []
        self.units: list[UnitRecord] = []
        self.title = label("Lookup", "title")
        self.prompt = label(
            "Scan or type a serial — or a PO, order, receipt or shipment number.",
            "prompt",
            wrap=True,
        )
        self.banner = VerdictBanner()
        self.field = QLineEdit()
        self.field.setPlaceholderText("Serial or document number, then Enter")
        self.field.returnPressed.connect(lambda: self.look_up(self.field.text()))
        self.find_button = button("Look up (Enter)", primary=True)
        self.find_button.clicked.connect(lambda: self.look_up(self.field.text()))
        self.export_button = button("Export… (Ctrl+E)")
        self.export_button.clicked.connect(self.ask_export)
        self.export_button.setEnabled(False)
        self.back_button = button("Back (Esc)")
        self.back_button.clicked.connect(self.closed.emit)
        self.details = QLabel()
        self.details.setObjectName("details")
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setWordWrap(True)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.events_model = EventsModel()
        self.units_model = UnitsModel()
        self.table = QTableView()
        self.table.setModel(self.events_model)
        setup_table(self.table)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(self._open_unit)
        row = QHBoxLayout()
        row.addWidget(self.field, 1)
        row.addWidget(self.find_button)
        row.addWidget(self.export_button)
        row.addWidget(self.back_button)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.details)
        split.addWidget(self.table)
        split.setSizes([420, 840])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(self.title)
        layout.addWidget(self.prompt)
        layout.addWidget(self.banner)
        layout.addLayout(row)
        layout.addWidget(split, 1)
        QShortcut(QKeySequence("Escape"), self, self.closed.emit)
        QShortcut(QKeySequence("Ctrl+E"), self, self.ask_export)
        enter = QShortcut(QKeySequence("Return"), self.table)
        enter.setContext(Qt.ShortcutContext.WidgetShortcut)
        enter.activated.connect(self._open_unit)
        self.banner.show_info("Nothing looked up yet.")

    def focus_default(self) -> None:
        self.field.setFocus()

    def scan(self, raw: str | bytes) -> None:
        read = read_number_scan(
            raw,
            command_prefix=self.services.command_prefix(),
            banner=self.banner,
            refuse=lambda: self.services.sounds.play(BAD),
            cancel=self.closed.emit,
            wanted="scan a serial or a document number",
        )
        if read is None:
            return
        text = read.serial if read.kind == "gs1" and read.serial else read.text
        self.field.setText(text)
        self.look_up(text)

    def look_up(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        engine = self.services.engine

        def finding() -> tuple[list[UnitRecord], list[UnitTrace]]:  # on the database worker
            with reading_briefly(engine).connect() as connection:  # one for both
                units = search.units_of_document(connection, text)
                return (units, []) if units else ([], trace_on(connection, text))

        try:
            units, traces = self.services.worker.run(
                finding, partial(self.banner.show_working, f"Looking up {text}")
            )
            if units:
                self._show_units(text, units)
                return
            self._show_traces(traces)
        except StationError as error:
            self.traces, self.units = [], []
            self.details.setText("")
            self.events_model.set_rows([])
            self.export_button.setEnabled(False)
            self.banner.show_bad(error.message, str(error.code))
        except OperationalError as error:
            self.banner.show_bad(*self.services.database_refused(error))

    def _show_units(self, number: str, units: list[UnitRecord]) -> None:
        self.traces, self.units = [], units
        self.table.setModel(self.units_model)
        self.units_model.set_rows([_unit_row(unit) for unit in units])
        fit_columns(self.table)
        self.details.setText(
            f"<h2>{escape(number)}</h2><p>{len(units)} units. Double-click or select and"
            " press Enter on a serial for its history.</p>"
        )
        self.export_button.setEnabled(True)
        self.banner.show_good(f"{number}: {len(units)} serials.")

    def _open_unit(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if self.table.model() is self.units_model and rows:
            serial = self.units[rows[0].row()].serial
            self.field.setText(serial)
            self.look_up(serial)

    def _show_traces(self, traces: list[UnitTrace]) -> None:
        self.traces, self.units = traces, []
        parts = []
        for unit in traces:
            facts = [
                ("Product", f"{unit.product} ({unit.sku})"),
                ("Status", unit.status),
                ("Location", location(unit)),
                ("PO", f"{unit.po or '—'} {('· ' + unit.vendor) if unit.vendor else ''}"),
                ("Unit cost", str(unit.unit_cost) if unit.unit_cost is not None else "—"),
                ("Received", f"{_when(unit.received_at)} {unit.receipt or ''}"),
                ("Order", f"{unit.order or '—'} {('· ' + unit.customer) if unit.customer else ''}"),
                ("Shipped", f"{_when(unit.shipped_at)} {unit.shipment or ''}"),
            ]
            rows = "".join(
                f"<tr><td><b>{escape(k)}</b>&nbsp;&nbsp;</td><td>{escape(v)}</td></tr>"
                for k, v in facts
            )
            parts.append(f"<h2>{escape(unit.serial)}</h2><table>{rows}</table>")
        self.details.setText("".join(parts))
        events = [
            (
                _when(event.at),
                event.kind,
                " ".join(x for x in (event.document_kind, event.document_number) if x),
                event.station or "",
                event.user or "",
                _place(event.from_warehouse, event.from_bin),
                _place(event.to_warehouse, event.to_bin),
            )
            for unit in traces
            for event in unit.events
        ]
        self.table.setModel(self.events_model)
        self.events_model.set_rows(events)
        fit_columns(self.table)
        self.export_button.setEnabled(True)
        first = traces[0]
        self.banner.show_good(f"{first.serial}: {first.product}, {first.status}.")

    def ask_export(self) -> None:
        if not (self.traces or self.units):
            return
        path, _filter = QFileDialog.getSaveFileName(
            self, "Export", str(Path.home() / "lookup.xlsx"), "Excel (*.xlsx)"
        )
        take_keyboard(self)
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> int:
        """Write what is shown: the units of a document, or each unit's facts and events.
        Returns the rows written with the header (0 when the file cannot be written)."""
        header: list[str] = list(UnitsModel.columns) if self.units else ["Field", "Value"]
        rows: list[list[object]] = (
            [list(row) for row in self.units_model.rows] if self.units else []
        )
        for unit in self.traces:
            data = unit.as_dict()
            events = data.pop("events", [])
            rows.extend([[key, value] for key, value in data.items()])
            rows.append([])
            if events:
                header = list(events[0])
                rows.append(header)
                rows.extend([[event.get(key) for key in header] for event in events])
            rows.append([])
        engine = self.services.engine
        report = self.services.worker.report  # rows written, told as the export goes

        def writing() -> int:  # on the database worker: a big export never freezes the window
            protected = ledger_files(engine)
            return write_rows_xlsx(
                path, header, rows, title="Lookup", protected=protected, progress=report
            )

        try:
            written = self.services.worker.run(
                writing,
                partial(self.banner.show_working, f"Exporting to {path}"),
                long=len(rows) >= LONG_EXPORT,
            )
        except StationError as refused:  # the ledger, the data folder, a device, no folder
            self.banner.show_bad(refused.message, refused.code)
            return 0
        except PermissionError:
            self.banner.show_bad(
                f"Cannot write {path}: it is open in another program (Excel?) or the folder is"
                " read-only. Close it, or export under another name.",
                Code.EXPORT_FAILED,
            )
            return 0
        except OSError as error:
            self.banner.show_bad(
                f"Cannot write {path}: {error.strerror or error}.", Code.EXPORT_FAILED
            )
            return 0
        self.banner.show_good(f"Exported to {path}.")
        return written + 1


def _when(moment: object) -> str:
    if moment is None:
        return "—"
    text = str(moment)
    return text[:19].replace("T", " ")
