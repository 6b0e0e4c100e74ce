"""Scanners and printers for the window: the devices layer's threads bridged to Qt signals.

`SerialScanners` runs one `SerialScanner` reader thread per configured port and emits
`scanned` on the GUI thread; `Printing` keeps one `PrintQueue` per printer URL and emits
`job_done` when a job is printed or failed. Nothing opens until `configure()`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from station.codes import StationError
from station.devices import labels
from station.devices.errors import DeviceError
from station.devices.print_queue import PrintQueue, PrintTicket
from station.devices.printers import Printer, open_printer
from station.devices.serial_scanner import SerialScanner, parse_scanner_setting
from station.printing import PrintJob, render_job
from ui.worker import DatabaseWorker

log = logging.getLogger(__name__)


class SerialScanners(QObject):
    """Serial scanners named by the `scanner` option; `scanned(scan)` arrives on the GUI
    thread (a str, or bytes that are not UTF-8), `state_changed(port, state, detail)` too."""

    scanned = Signal(object)
    state_changed = Signal(str, str, str)

    def __init__(self) -> None:
        super().__init__()
        self.scanners: list[SerialScanner] = []
        self.settings: list[str] = ["keyboard"]
        self.problem = ""

    def configure(self, settings: Sequence[str]) -> None:
        self.stop()
        self.settings = list(settings) or ["keyboard"]
        self.problem = ""
        for setting in self.settings:
            try:
                config = parse_scanner_setting(setting)
            except DeviceError as error:
                self.problem = str(error)
                continue
            if config is None:
                continue
            port = config.port
            scanner = SerialScanner(
                config,
                self.scanned.emit,
                lambda state, detail, port=port: self.state_changed.emit(port, state, detail),
            )
            self.scanners.append(scanner)
            scanner.start()

    def describe(self) -> str:
        parts = []
        for setting in self.settings:
            if setting == "keyboard":
                parts.append("keyboard")
        for scanner in self.scanners:
            parts.append(f"{scanner.config.port} {scanner.state}")
        if self.problem:
            parts.append(self.problem)
        return ", ".join(parts) or "none"

    def healthy(self) -> bool:
        return not self.problem and all(s.state == "connected" for s in self.scanners)

    def stop(self) -> None:
        for scanner in self.scanners:
            scanner.stop(timeout=1.0)
        self.scanners = []


def _resume(queue: PrintQueue, url: str) -> None:
    """Send the jobs the ledger still holds queued for this printer (reads the database)."""
    try:
        queue.resume()
    except (SQLAlchemyError, OSError, StationError):
        log.warning("could not resume the jobs queued for %s", url, exc_info=True)


class Printing(QObject):
    """Label printer (ZPL) and receipt printer (ESC/POS) queues of the station."""

    job_done = Signal(object)  # PrintTicket

    def __init__(self, engine: Engine | None, worker: DatabaseWorker | None = None) -> None:
        super().__init__()
        self.engine = engine
        #: Where the database reads of a queue that opens run (the jobs it still has
        #: queued in the ledger): the window's worker, never the GUI thread. None: here.
        self.worker = worker
        self.queues: dict[str, PrintQueue] = {}
        self.label_url = ""
        self.receipt_url = ""
        self.problem = ""
        self.last: PrintTicket | None = None
        #: The last `submit` had something to print and no printer set for it.
        self.unprinted = False
        self.station: str | None = None
        self.job_done.connect(self._remember)

    def configure(self, label_url: str, receipt_url: str, station: str | None = None) -> None:
        if station != self.station:  # another station on this machine: its own queues
            self.stop()
            self.station = station
        self.label_url, self.receipt_url = label_url.strip(), receipt_url.strip()
        self.problem = ""
        for url in [url for url in self.queues if url not in (self.label_url, self.receipt_url)]:
            old = self.queues.pop(url)  # a printer no longer set: its worker ends
            with contextlib.suppress(Exception):
                old.stop(timeout=2.0)
        for url, protocol in ((self.label_url, "zpl"), (self.receipt_url, "escpos")):
            if url and url not in self.queues:
                try:
                    self._queue(url, protocol)
                except DeviceError as error:
                    self.problem = str(error)

    def _queue(self, url: str, protocol: str) -> PrintQueue:
        found = self.queues.get(url)
        if found is None:
            printer = open_printer(url, default_protocol=protocol)
            found = PrintQueue(
                printer, self.engine, on_job=self.job_done.emit, station=self.station
            )
            found.start()
            self.queues[url] = found
            if self.engine is not None:  # jobs a closed or crashed station left queued
                if self.worker is None:
                    _resume(found, url)
                else:
                    self.worker.submit(lambda: _resume(found, url))
        return found

    def _remember(self, ticket: PrintTicket) -> None:
        self.last = ticket

    def describe(self) -> str:
        if self.problem:
            return self.problem
        parts = []
        if self.label_url:
            parts.append(f"labels {self.label_url}")
        if self.receipt_url:
            parts.append(f"receipts {self.receipt_url}")
        if not parts:
            return "no printer"
        if self.last is not None and self.last.status == "failed":
            parts.append(f"last job failed: {self.last.error}")
        return ", ".join(parts)

    def healthy(self) -> bool:
        return not self.problem and not (self.last is not None and self.last.status == "failed")

    @property
    def label_printer(self) -> Printer | None:
        queue = self.queues.get(self.label_url) if self.label_url else None
        return None if queue is None else queue.printer

    def submit(self, jobs: Sequence[PrintJob]) -> str:
        """Queue what a posting prints (station.printing); returns a note for the user.
        A job that cannot be rendered (a template missing, a serial the printer cannot
        print) raises StationError with its code once the others are queued."""
        urls = {"label_printer": self.label_url, "receipt_printer": self.receipt_url}
        labels_sent = labels_missing = 0
        slip_note = label_note = ""
        slip_missing = False
        refused: list[StationError] = []
        batches: dict[str, list[tuple[str, str, str, bytes]]] = {}
        for job in jobs:
            url = urls[job.printer]
            queue = self.queues.get(url)
            is_label = isinstance(job.item, labels.SerialLabel)
            if queue is None:  # none set, or the one set cannot be opened (self.problem)
                broken = f"the printer {url} cannot be used ({self.problem or 'not open'})"
                if is_label:
                    labels_missing += 1
                    label_note = label_note or (
                        f"not printed: {broken}." if url else "no label printer is set."
                    )
                else:
                    slip_missing = True
                    slip_note = slip_note or (
                        f"Packing slip not printed: {broken}."
                        if url
                        else "No printer is set for the packing slip."
                    )
                continue
            try:
                payload = render_job(job, queue.printer)
            except StationError as error:
                refused.append(error)
                continue
            batches.setdefault(url, []).append(
                (job.document_kind, job.document_number, job.label, payload)
            )
            labels_sent += is_label
            slip_note = slip_note or ("" if is_label else "Packing slip sent to the printer.")
        self.unprinted = bool(labels_missing or slip_missing)
        for url, documents in batches.items():  # each batch recorded in one transaction
            self.queues[url].submit_all(documents)
        if refused:
            first = refused[0]
            more = f" ({len(refused) - 1} more like it)" if len(refused) > 1 else ""
            raise StationError(first.code, first.message + more)
        if labels_sent:
            return f"{labels_sent} labels sent to the label printer."
        if labels_missing:
            if label_note.startswith("no label"):
                return f"{labels_missing} labels to print, but {label_note}"
            return f"{labels_missing} labels {label_note}"
        return slip_note

    def test_print(self, url: str, protocol: str) -> PrintTicket:
        """One test label on the printer at `url` (raises DeviceError for a bad URL).

        A printer the station uses prints it in its queue; any other URL (typed in the
        options, not saved yet) gets a queue of its own that ends after the label."""
        url = url.strip()
        found = self.queues.get(url)
        if found is not None:
            return found.submit("test", "TEST", "test", found.printer.test_label())
        printer = open_printer(url, default_protocol=protocol)
        throwaway = PrintQueue(printer, None, on_job=self.job_done.emit)
        throwaway.start()
        ticket = throwaway.submit("test", "TEST", "test", printer.test_label())
        # stop() waits for the label to print: on a thread of its own, not the GUI's
        threading.Thread(
            target=throwaway.stop, kwargs={"timeout": 30.0}, name="test print", daemon=True
        ).start()
        return ticket

    def stop(self) -> None:
        for queue in self.queues.values():
            with contextlib.suppress(Exception):
                queue.stop(timeout=2.0)
        self.queues = {}


def serial_ports() -> list[str]:
    """Serial ports this machine has now (for the device settings)."""
    from serial.tools import list_ports

    return [
        f"{port.device} — {port.description}" if port.description else port.device
        for port in sorted(list_ports.comports(), key=lambda p: p.device)
    ]
