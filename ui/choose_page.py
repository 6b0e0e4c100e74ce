"""Step one of both wizards: choose the PO (receive) or the order (ship).

Scan its number from anywhere, type it, or pick it from the open documents, filtered as
you type by number, vendor/customer, SKU or barcode on it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QTableView, QVBoxLayout, QWidget
from sqlalchemy.exc import OperationalError

from station.db.engine import reading
from station.workflow import workflow
from station.workflows import facts
from ui.models import DocumentsModel
from ui.services import Services
from ui.sounds import BAD
from ui.widgets import VerdictBanner, button, label, read_number_scan, setup_table
from ui.worker import Job

_NAVIGATION = {
    Qt.Key.Key_Up,
    Qt.Key.Key_Down,
    Qt.Key.Key_PageUp,
    Qt.Key.Key_PageDown,
}


class ChoosePage(QWidget):
    """`chosen(number)` when the operator picks or scans a document; `cancelled` on Esc."""

    chosen = Signal(str)
    cancelled = Signal()

    def __init__(self, services: Services, kind: str) -> None:
        super().__init__()
        self.services = services
        self.kind = kind
        known = facts(kind)
        words = known.words
        self.title = label(words.choose, "title")
        self.prompt = label(
            f"Scan the {words.document} number, or type to filter and press Enter.",
            "prompt",
            wrap=True,
        )
        self.banner = VerdictBanner()
        self.search = QLineEdit()
        self.search.setPlaceholderText(words.filter_hint)
        self.search.textChanged.connect(self._schedule)
        self.search.returnPressed.connect(self.open_selected)
        self.search.installEventFilter(self)
        self.model = DocumentsModel(words.party)
        self.view = QTableView()
        self.view.setModel(self.model)
        setup_table(self.view, stretch=1)
        self.view.setColumnWidth(0, 200)
        self.view.doubleClicked.connect(lambda _index: self.open_selected())
        self.open_button = button("Open (Enter)", primary=True)
        self.open_button.clicked.connect(self.open_selected)
        self.back_button = button("Back (Esc)")
        self.back_button.clicked.connect(self.cancelled.emit)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self._filter)
        self._asked: Job | None = None  # the filter's query on the worker, not answered yet
        self._again = False  # typed since it was asked: ask again when it answers

        search_row = QHBoxLayout()
        search_row.addWidget(label("Find:"))
        search_row.addWidget(self.search, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(self.title)
        layout.addWidget(self.prompt)
        layout.addWidget(self.banner)
        layout.addLayout(search_row)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        QShortcut(QKeySequence("Escape"), self, self.cancelled.emit)
        self.banner.show_info(f"Open {words.document}s are listed below.")

    def focus_default(self) -> None:
        self.search.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Up/Down in the filter field move through the list."""
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in _NAVIGATION
        ):
            self.view.setFocus()
            self.view.keyPressEvent(event)
            self.search.setFocus()
            return True
        return False

    def _schedule(self) -> None:
        self._timer.start()

    def _matching(self) -> Callable[[], list[dict[str, Any]]]:
        """The query for the open documents the filter matches now (for the worker)."""
        engine, flow, typed = reading(self.services.engine), workflow(self.kind), self.search.text()
        station = self.services.config

        def matching() -> list[dict[str, Any]]:
            with engine.connect() as connection:
                return flow.choices(connection, typed.strip(), station=station)

        return matching

    def _filter(self) -> None:
        """The list for what is typed, without holding the keyboard: the answer comes back
        by signal; typing meanwhile asks once more when it is in (never a query a key)."""
        if self._asked is not None:
            self._again = True
            return
        self._asked = self.services.worker.submit(self._matching(), self._filtered)

    def _filtered(self, job: Job) -> None:
        self._asked = None
        if self._again:  # the text changed while this one ran: its answer is stale
            self._again = False
            self._filter()
            return
        if isinstance(job.error, OperationalError):
            self.banner.show_bad(*self.services.database_refused(job.error))
        elif job.error is not None:
            raise job.error
        else:
            self._show_rows(job.result)

    def reload(self) -> None:
        """The open documents the filter matches, looked up on the database worker (the
        window waits for the list: it is what the operator opens from next)."""
        try:
            found = self.services.worker.run(
                self._matching(),
                partial(self.banner.show_working, "Looking for documents"),
            )
        except OperationalError as error:
            self.banner.show_bad(*self.services.database_refused(error))
            return
        self._show_rows(found)

    def _show_rows(self, found: list[dict[str, Any]]) -> None:
        self.model.set_rows([(d["number"], d["party"], d["status"]) for d in found])
        if found:
            self.view.selectRow(0)

    def open_selected(self) -> None:
        """Open what the filter shows for the text typed now: the document whose number is
        exactly that text, else the selected row, else the text itself."""
        typed = self.search.text().strip()
        if self._timer.isActive() or self._asked is not None:  # Enter before the list
            self._timer.stop()  # caught up with the typing
            self.reload()
        exact = [row[0] for row in self.model.rows if str(row[0]).upper() == typed.upper()]
        if typed and exact:
            self.chosen.emit(exact[0])
            return
        rows = self.view.selectionModel().selectedRows()
        if rows:
            self.chosen.emit(self.model.rows[rows[0].row()][0])
        elif typed:
            self.chosen.emit(typed)

    def scan(self, raw: str | bytes) -> None:
        read = read_number_scan(
            raw,
            command_prefix=self.services.command_prefix(),
            banner=self.banner,
            refuse=lambda: self.services.sounds.play(BAD),
            cancel=self.cancelled.emit,
            wanted="scan a document number",
        )
        if read is None:
            return
        self.chosen.emit(read.text)
