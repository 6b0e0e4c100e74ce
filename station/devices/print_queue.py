"""One print queue per printer, on a worker thread (SPEC §6).

`submit()` never blocks: it hands the document to the worker and returns a `PrintTicket`.
The worker records every job in `print_jobs` (a batch of waiting jobs in one transaction)
before sending it, sends it, and records `printed` or `failed` with the error. A failing
or unplugged printer never loses a job: the record keeps the exact bytes, and `retry()`
or `reprint()` sends them again. `resume()` re-sends jobs a stopped station left queued.
Without an engine (a test print from the command line) jobs are only kept in memory.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from station.db import print_jobs
from station.devices.errors import DeviceError
from station.devices.printers.base import Printer, wrap_error

log = logging.getLogger(__name__)

BATCH = 200


@dataclass(slots=True)
class PrintTicket:
    """A job's progress: `status` queued → printed | failed (with `error`)."""

    document_kind: str
    document_number: str
    label: str
    payload: bytes
    job_id: int | None = None
    status: str = "queued"
    error: str | None = None
    _done: threading.Event = field(default_factory=threading.Event, repr=False)

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    @property
    def done(self) -> bool:
        return self._done.is_set()


_STOP = object()


class PrintQueue:
    """Jobs for one printer, printed in order by one worker thread.

    `on_job(ticket)` is called on the worker thread after each job is printed or failed
    (the GUI turns that into a status-bar message).
    """

    def __init__(
        self,
        printer: Printer,
        engine: Engine | None = None,
        on_job: Callable[[PrintTicket], None] | None = None,
    ) -> None:
        self.printer = printer
        self.engine = engine
        self.on_job = on_job
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"print {self.printer.url}", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float | None = 10.0) -> None:
        """Finish the jobs already submitted, then end the worker."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> PrintQueue:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def submit(
        self, document_kind: str, document_number: str, label: str, payload: bytes
    ) -> PrintTicket:
        """Queue one document's bytes for printing; returns at once."""
        ticket = PrintTicket(document_kind, document_number, label, payload)
        self._queue.put(ticket)
        return ticket

    def retry(self, job_id: int) -> PrintTicket:
        """Send a recorded job again (failed or not), from its stored bytes."""
        job = self._require_engine_job(job_id)
        ticket = PrintTicket(job.document_kind, job.document_number, job.label, job.payload, job.id)
        self._queue.put(ticket)
        return ticket

    def reprint(self, document_kind: str, document_number: str) -> list[PrintTicket]:
        """Send every job recorded for a document again."""
        jobs = print_jobs.jobs_for_document(self._engine(), document_kind, document_number)
        return [self.retry(job.id) for job in jobs]

    def resume(self) -> list[PrintTicket]:
        """Send the jobs this printer still has queued in the ledger."""
        jobs = print_jobs.queued_jobs(self._engine(), self.printer.url)
        return [self.retry(job.id) for job in jobs]

    def _engine(self) -> Engine:
        if self.engine is None:
            raise ValueError("this print queue keeps no job records (no database)")
        return self.engine

    def _require_engine_job(self, job_id: int) -> print_jobs.JobRecord:
        job = print_jobs.get_job(self._engine(), job_id)
        if job is None:
            raise ValueError(f"no print job {job_id}")
        return job

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch: list[PrintTicket] = []
            item = self._queue.get()
            while True:
                if item is _STOP:
                    stopping = True
                    break
                assert isinstance(item, PrintTicket)
                batch.append(item)
                if len(batch) >= BATCH:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._print(batch)

    def _print(self, batch: list[PrintTicket]) -> None:
        self._record(batch)
        for ticket in batch:
            try:
                self.printer.send(ticket.payload)
                ticket.status, ticket.error = "printed", None
            except DeviceError as error:
                ticket.status, ticket.error = "failed", str(error)
            except Exception as error:  # a bug in a transport must not kill the queue
                log.exception("printer %s", self.printer.url)
                ticket.status, ticket.error = "failed", str(wrap_error(self.printer.url, error))
        self._finish(batch)
        for ticket in batch:
            ticket._done.set()
            if self.on_job is not None:
                try:
                    self.on_job(ticket)
                except Exception:
                    log.exception("print job callback failed")

    def _record(self, batch: list[PrintTicket]) -> None:
        new = [ticket for ticket in batch if ticket.job_id is None]
        if self.engine is None or not new:
            return
        jobs = [
            print_jobs.NewJob(
                self.printer.url, t.document_kind, t.document_number, t.label, t.payload
            )
            for t in new
        ]
        try:
            for ticket, job_id in zip(new, print_jobs.add_jobs(self.engine, jobs), strict=True):
                ticket.job_id = job_id
        except Exception:  # the database is down: still print, and say so in the log
            log.exception("could not record %d print jobs", len(new))

    def _finish(self, batch: list[PrintTicket]) -> None:
        results = [print_jobs.JobResult(t.job_id, t.error) for t in batch if t.job_id is not None]
        if self.engine is None or not results:
            return
        try:
            print_jobs.finish_jobs(self.engine, results)
        except Exception:
            log.exception("could not record the outcome of %d print jobs", len(results))
