"""The scanning page of both wizards: the document's lines, the units scanned so far, a big
prompt, the verdict banner, and Undo / Remove / Rescan / Save (or Ship).

The page only shows a `ScanSession` (receive or ship): every rule is the session's, every
scan goes to `session.scan()`, and posting is `session.save_verdict()` — each on the
database worker (ui.worker), in order, while the window keeps painting; a scan that
arrives while an answer is awaited is judged after it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QIntValidator, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMessageBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from station import printing
from station.app import JournalDamage
from station.codes import DESCRIPTIONS, Code, StationError, Verdict
from station.devices import labels
from station.posting import PostingResult
from station.scanning import read_scan
from station.session import ScanSession
from ui.models import LinesModel, entries_model
from ui.preview import PreviewDialog
from ui.services import Services, first_line
from ui.sounds import BAD, GOOD
from ui.widgets import VerdictBanner, button, label, setup_table, take_keyboard

T = TypeVar("T")

#: A posting of this many units or more takes longer than a blink: the event loop runs
#: from its start (`DatabaseWorker.run`'s `long`), the banner counting the units.
LONG_POSTING = 1000


class ScanPage(QWidget):
    """One open session. `closed` when the operator leaves it (the journal keeps any scans);
    `posted(result, note)` after a successful Save receive data / Ship."""

    closed = Signal()
    posted = Signal(object, str)

    def __init__(
        self,
        services: Services,
        session: ScanSession,
        restored: int = 0,
        damaged: JournalDamage | None = None,
    ) -> None:
        super().__init__()
        self.services = services
        self.session = session
        self.kind = session.kind
        self._rescan_armed = False
        self.print_error = ""  # why the last posting's labels or slip were not printed
        self.unprinted = False  # the posting had a slip or labels and no printer for them
        document = session.document
        self.words = words = session.workflow.words
        flow = session.workflow
        #: Lines come as items are scanned (free, supplier return): nothing is ordered,
        #: nothing is left, the document is never "done".
        self.open_lines = flow.open_lines
        # a workflow on no document (free return) has no number to show; a vendor is
        # the document and the party both: named once
        named = "" if document.number == flow.facts.fixed_number else f" {document.number}"
        party = "" if document.party in ("", document.number) else f" · {document.party}"
        title = f"{words.doing}{named}{party} · {document.warehouse}"
        self.opened = f"{words.title}{named}" if not named or self.open_lines else document.number
        self.title = label(title, "document")
        self.progress = label("", "progress")
        self.prompt = label("", "prompt", wrap=True)
        self.banner = VerdictBanner()
        # Fixed sizes: a new text never relayouts the window (a scan repaints only these).
        self.banner.setFixedHeight(100)
        self.prompt.setFixedHeight(48)
        self.prompt.setWordWrap(False)
        self.progress.setFixedWidth(230)

        self.lines_model = LinesModel(
            self.kind,
            open_lines=self.open_lines,
            limited=self.open_lines and not flow.allow_over(session.station.options),
        )
        self.lines_view = QTableView()
        self.lines_view.setModel(self.lines_model)
        setup_table(self.lines_view, stretch=2)
        self.lines_view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.entries_model = entries_model(session)
        self.entries_view = QTableView()
        self.entries_view.setModel(self.entries_model)
        setup_table(self.entries_view, stretch=2)
        # a handful of lines: their numbers fit their contents; the grid keeps fixed widths
        lines_header = self.lines_view.horizontalHeader()
        for column in (0, 1, *range(3, self.lines_model.columnCount())):
            lines_header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        widths = (64, 100, 0, 230, 56)
        if self.entries_model.columnCount() == 6:  # a Bin column before Qty
            widths = (64, 100, 0, 230, 120, 56)
        for column, width in enumerate(widths):
            if width:
                self.entries_view.setColumnWidth(column, width)

        self.manual = QLineEdit()
        self.manual.setPlaceholderText("Type a code and press Enter (scans work anywhere)")
        self.manual.returnPressed.connect(self._manual_entry)
        self.manual.installEventFilter(self)  # Ctrl+Z undoes the last scan, not the text
        self.qty = QLineEdit("1")
        self.qty.setValidator(QIntValidator(1, 99999, self.qty))
        self.qty.setFixedWidth(90)
        self.qty.setToolTip("Quantity for the current non-serialized line")
        self.qty.returnPressed.connect(self.add_quantity)
        self.qty_button = button("Add qty (F7)")
        self.qty_button.clicked.connect(self.add_quantity)
        self.undo_button = button("Undo (Ctrl+Z)")
        self.remove_button = button("Remove selected (Del)")
        self.rescan_button = button("Rescan… (Ctrl+R)")
        self.preview_button = button(f"{words.preview} (F6)")
        self.save_button = button(f"{words.save} (F12)", primary=True)
        self.close_button = button("Close (Esc)")
        self.save_hint = label("", "hint", wrap=True)  # "2 left that may come back": whole
        self.save_hint.setFixedWidth(190)

        self.undo_button.clicked.connect(self.undo)
        self.remove_button.clicked.connect(self.remove_selected)
        self.rescan_button.clicked.connect(self.ask_rescan)
        self.preview_button.clicked.connect(self.preview)
        self.save_button.clicked.connect(self.save)
        self.close_button.clicked.connect(self.closed.emit)

        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.progress)
        tables = QSplitter(Qt.Orientation.Horizontal)
        tables.addWidget(self._titled("Lines", self.lines_view))
        tables.addWidget(self._titled("Scanned units", self.entries_view))
        tables.setSizes([640, 700])
        entry_row = QHBoxLayout()
        entry_row.addWidget(label("Manual entry:"))
        entry_row.addWidget(self.manual, 1)
        entry_row.addWidget(self.qty)
        entry_row.addWidget(self.qty_button)
        entry_row.addWidget(self.save_hint)
        entry_row.addWidget(self.save_button)
        buttons = QHBoxLayout()
        for widget in (self.undo_button, self.remove_button, self.rescan_button):
            buttons.addWidget(widget)
        buttons.addWidget(self.preview_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addLayout(top)
        layout.addWidget(self.prompt)
        layout.addWidget(self.banner)
        layout.addWidget(tables, 1)
        layout.addLayout(entry_row)
        layout.addLayout(buttons)

        for keys, slot in (
            ("Ctrl+Z", self.undo),
            ("Ctrl+R", self.ask_rescan),
            ("F6", self.preview),
            ("F12", self.save),
            ("Ctrl+S", self.save),
            ("Escape", self.closed.emit),
            ("F8", self.manual.setFocus),
            ("F7", self.add_quantity),
        ):
            QShortcut(QKeySequence(keys), self, slot)
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.entries_view)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.remove_selected)

        self.entries_model.reset_to(session.entries)
        self._refresh(scroll=True)
        if damaged is not None:
            self.banner.show_bad(damaged.message, str(damaged.code))
        elif restored:
            self.banner.show_info(
                f"Resumed {document.number}: {restored} scans restored from the journal."
            )
        else:
            self.banner.show_info(f"{self.opened} open — {self.session.prompt()}.")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.manual
            and event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.matches(QKeySequence.StandardKey.Undo)
        ):
            event.ignore()  # not the field's own undo: the page's Undo shortcut takes it
            return True
        return False

    @staticmethod
    def _titled(title: str, view: QWidget) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label(title, "hint"))
        layout.addWidget(view)
        return box

    def focus_default(self) -> None:
        self.manual.setFocus()

    # --- scans ----------------------------------------------------------------------

    def _core(
        self,
        call: Callable[[], T],
        doing: str = "Waiting for the database",
        *,
        long: bool = False,
    ) -> T:
        """`call` (the session's) on the database worker; the banner says what runs when
        it takes longer than a blink (`long`: see `DatabaseWorker.run`)."""
        return self.services.worker.run(call, partial(self.banner.show_working, doing), long=long)

    def scan(self, raw: str | bytes) -> Verdict | None:
        """One scan from the wedge, a serial scanner or the manual field. A scan while
        an answer is awaited (a posting) is judged after it, in order (None: held)."""
        if self.services.worker.busy:  # judged by the page on show when its turn comes
            route = getattr(self.window(), "route_scan", self.scan)
            self.services.worker.later(lambda: route(raw))
            return None
        if not self.services.database.connected:
            return self._database_down(raw)
        read = read_scan(raw, command_prefix=self.session.station["command_prefix"])
        if read.kind == "command" and read.command == "SAVE":
            return self.save()
        if read.kind == "command" and read.command == "RESCAN":
            return self._scanned_rescan(read.raw if isinstance(read.raw, str) else "")
        self._rescan_armed = False
        verdict = self._core(lambda: self.session.scan(raw))
        self.show(verdict)
        return verdict

    def _database_down(self, raw: str | bytes) -> Verdict:
        text = raw if isinstance(raw, str) else ""
        verdict = Verdict(
            text,
            False,
            Code.DATABASE_UNAVAILABLE,
            "document",
            "The database cannot be reached: scan refused. The session is kept;"
            " scan again when the status bar shows it connected.",
        )
        self.show(verdict)
        return verdict

    def show(self, verdict: Verdict) -> None:
        """Banner, sound, prompt and tables after a verdict.

        The banner and the prompt are painted at once (`repaint`); the tables are updated
        in their models and painted with the rest of the window right after."""
        self.banner.show_verdict(verdict)
        self.prompt.setText(self.session.prompt())
        self.banner.repaint()
        self.prompt.repaint()
        self.services.sounds.play(GOOD if verdict.ok else BAD)
        if verdict.code == Code.DATABASE_UNAVAILABLE:
            self.services.database.mark(False, DESCRIPTIONS[Code.DATABASE_UNAVAILABLE])
            self.services.database.check()
        self._refresh(scroll=True, prompt=False)

    def _refresh(self, *, scroll: bool = False, prompt: bool = True) -> None:
        session = self.session
        before = self.entries_model.rowCount()
        self.entries_model.sync(session.entries)
        lines = session.lines
        self.lines_model.show_lines(lines, session.current)
        if prompt:
            self.prompt.setText(session.prompt())
        done = sum(line.session for line in lines)
        if self.open_lines:  # nothing wanted, nothing left: what this session has
            self.progress.setText(f"{done} unit{'' if done == 1 else 's'} scanned")
            self.save_hint.setText("")
        else:
            wanted = sum(line.ordered - line.before for line in lines)
            self.progress.setText(f"{done} of {wanted} units")
            left = sum(line.remaining for line in lines)
            self.save_hint.setText(self.words.left.format(n=left) if left else self.words.done)
        if scroll and self.entries_model.rowCount() > before:
            self.entries_view.scrollToBottom()

    def _manual_entry(self) -> None:
        text = self.manual.text()
        if not text.strip():
            return
        self.manual.clear()
        self.scan(text)

    # --- buttons ------------------------------------------------------------------

    def undo(self) -> Verdict:
        verdict = self._core(self.session.undo)
        self.show(verdict)
        return verdict

    def add_quantity(self) -> Verdict:
        """The typed quantity for the current non-serialized line (after its item scan)."""
        text = self.qty.text().strip()
        qty = int(text) if text.isdigit() else 0
        verdict = self._core(lambda: self.session.add_quantity(qty))
        self.show(verdict)
        if verdict.ok:
            self.qty.setText("1")
        return verdict

    def remove_selected(self) -> None:
        rows = self.entries_view.selectionModel().selectedRows()
        if not rows:
            self.banner.show_info("Select a row of scanned units first (Tab, arrows), then Del.")
            return
        index = rows[0].row()
        try:
            entry = self._core(lambda: self.session.remove(index))
        except StationError as refused:  # the journal cannot record it: the row stays
            self.show(Verdict("", False, refused.code, "command", refused.message))
            return
        self.entries_model.remove(index)
        product = self.session.document.lines[entry.line].product
        what = f"serial {entry.serial}" if entry.serial else f"{entry.qty} × {product.sku}"
        self.banner.show_info(f"Removed {product.name} {what}.")
        self._refresh()

    def ask_rescan(self) -> None:
        count = len(self.session.entries)
        if count and not self.confirm(f"Clear all {count} scanned rows and start again?"):
            return
        self.rescan()

    def confirm(self, question: str) -> bool:
        answer = QMessageBox.question(
            self,
            "Rescan",
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        take_keyboard(self)
        return answer == QMessageBox.StandardButton.Yes

    def _scanned_rescan(self, raw: str) -> Verdict:
        """CMD-RESCAN from a scanner: a second scan confirms (no dialog at the bench)."""
        if self.session.entries and not self._rescan_armed:
            self._rescan_armed = True
            verdict = Verdict(
                raw,
                True,
                Code.OK,
                "command",
                f"Scan CMD-RESCAN again to clear all {len(self.session.entries)} rows.",
            )
            self.banner.show_info(f"⚠ {verdict.message}")
            return verdict
        return self.rescan(raw)

    def rescan(self, raw: str = "CMD-RESCAN") -> Verdict:
        self._rescan_armed = False
        try:
            self._core(self.session.rescan)
        except StationError as refused:  # the journal cannot be cleared: the rows stay
            verdict = Verdict(raw, False, refused.code, "command", refused.message)
            self.show(verdict)
            return verdict
        self.entries_model.reset_to(self.session.entries)
        verdict = Verdict(raw, True, Code.OK, "command", "Session cleared: start again.")
        self.show(verdict)
        return verdict

    def selected_or_last(self) -> int | None:
        rows = self.entries_view.selectionModel().selectedRows()
        if rows:
            return rows[0].row()
        return len(self.session.entries) - 1 if self.session.entries else None

    def preview(self) -> None:
        if self.session.workflow.prints == "labels":
            index = self.selected_or_last()
            if index is None:
                self.banner.show_info("Scan a unit first: the preview shows its label.")
                return
            entry = self.session.entries[index]
            product = self.session.document.lines[entry.line].product
            unit = printing.unit_label(product, entry.serial)
            if unit is None:  # counted, never labeled: nothing to preview
                self.banner.show_info(printing.no_label(product))
                return
            title, render = f"Label {unit.serial}", lambda: labels.serial_label_png(unit)
        elif self.session.workflow.prints == "slip":
            slip = self.packing_slip()
            title, render = f"Packing slip {slip.order}", lambda: labels.packing_slip_png(slip)
        else:
            self.banner.show_info("This workflow prints nothing: there is nothing to preview.")
            return
        try:
            png = render()
        except StationError as error:  # a label template missing or not usable
            self.banner.show_bad(error.message, error.code)
            return
        PreviewDialog(title, png, self).open()

    # --- posting ------------------------------------------------------------------

    def packing_slip(self) -> labels.PackingSlip:
        units = [(e.line, e.serial, e.qty) for e in self.session.entries]
        return printing.packing_slip(self.session.document, units)

    def save(self) -> Verdict:
        if not self.services.database.connected:
            return self._database_down("CMD-SAVE")
        units = self.session.units_scanned()
        report = self.services.worker.report  # units written, told between the steps
        verdict = self._core(
            lambda: self.session.save_verdict(progress=report),
            f"Posting {units:,} unit(s)",
            long=units >= LONG_POSTING,
        )
        self.show(verdict)
        result = verdict.posting
        if not verdict.ok or not isinstance(result, PostingResult):
            return verdict
        note = ""

        def print_jobs() -> tuple[str, bool]:  # renders and records the jobs: the worker's
            session = self.session
            jobs = session.workflow.print_jobs(session.document, result, session.station)
            sent = self.services.printing.submit(jobs) if jobs else ""
            return sent, bool(jobs) and self.services.printing.unprinted

        try:
            note, self.unprinted = self._core(print_jobs, "Sending it to the printer")
        except Exception as error:  # never a crash after a posting committed
            # posted all the same: the stock moved; the labels can be printed again
            code = error.code if isinstance(error, StationError) else Code.PRINT_FAILED
            self.print_error = note = f"Printing failed: {first_line(error)}"
            self.banner.show_bad(f"{result.message} {note}", code)
        finally:
            # after this call returns, before any scan that arrived during the posting
            self.services.worker.later(lambda n=note: self.posted.emit(result, n), first=True)
        return verdict

    def select_row(self, row: int) -> None:
        self.entries_view.selectRow(row)
        self.entries_view.setCurrentIndex(self.entries_model.index(row, 0, QModelIndex()))
