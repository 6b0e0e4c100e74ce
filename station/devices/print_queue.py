"""One print queue per printer, on a worker thread (SPEC §6).

`submit()` records the job in `print_jobs` as `queued` before it returns (one short
transaction; the ticket carries the `job_id`), then hands it to the worker and never waits
for the printer. The worker only sends and records `printed` or `failed` with the error, so
a job is never lost: not when the printer fails (the record keeps the exact bytes, and
`retry()` or `reprint()` sends them again), and not when the app closes or crashes before
the worker got to it (`resume()` re-sends the jobs a stopped station left queued). If the
database is down at `submit()` the worker tries to record the job again before sending it.
Without an engine (a test print from the command line) jobs are only kept in memory.

A printer that is offline, refuses the connection or does not answer fails the rest of
the batch the worker holds at once, with the same error (each still recorded, for a
retry), instead of waiting a full timeout per job.

`stop()` lets the worker finish the jobs already submitted; if it cannot within its
timeout (a hung printer), the worker is abandoned: it sends nothing more and records
nothing more, so the jobs it had not finished stay queued for `resume()` — exactly as
after a crash. (A job cut off while being sent may print twice; none is lost.)
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine

from station.db import print_jobs
from station.devices.errors import DeviceError, DeviceOffline, DeviceRefused, DeviceTimeout
from station.devices.printers.base import Printer, wrap_error

log = logging.getLogger(__name__)

BATCH = 200
#: Errors that say the printer is not there at all: the rest of a batch fails at once.
PRINTER_DOWN = (DeviceOffline, DeviceRefused, DeviceTimeout)


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
        *,
        station: str | None = None,
    ) -> None:
        self.printer = printer
        self.engine = engine
        self.on_job = on_job
        self.station = station  # jobs are recorded as this station's; resume() takes only them
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._abandoned = threading.Event()
        self._lock = threading.Lock()
        self._unfinished: set[int] = set()  # job ids handed to this queue, not yet finished

    def start(self) -> None:
        if self._thread is None:
            self._abandoned = threading.Event()
            self._thread = threading.Thread(
                target=self._run,
                args=(self._queue, self._abandoned),
                name=f"print {self.printer.url}",
                daemon=True,
            )
            self._thread.start()

    def stop(self, timeout: float | None = 10.0) -> None:
        """Finish the jobs already submitted, then end the worker. If that takes longer
        than `timeout` the worker is abandoned and its unfinished jobs stay queued."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            if self._thread.is_alive():
                self._abandoned.set()
                self._queue = queue.Queue()  # a restarted queue gets a worker of its own
                with self._lock:
                    self._unfinished.clear()
            self._thread = None

    def __enter__(self) -> PrintQueue:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def submit(
        self, document_kind: str, document_number: str, label: str, payload: bytes
    ) -> PrintTicket:
        """Record one document's bytes as a queued job (with an engine) and hand it to the
        worker; returns without waiting for the printer."""
        ticket = PrintTicket(document_kind, document_number, label, payload)
        if self.engine is not None:
            try:
                [ticket.job_id] = print_jobs.add_jobs(self.engine, [self._new_job(ticket)])
            except Exception:  # the database is down: still print; the worker tries again
                log.exception("could not record a print job for %s", document_number)
        self._put(ticket)
        return ticket

    def submit_all(self, documents: Sequence[tuple[str, str, str, bytes]]) -> list[PrintTicket]:
        """`submit()` for many `(kind, number, label, payload)` at once: one transaction
        records them all (a receipt's labels), so the caller waits far less per job."""
        try:
            tickets = self.record_all(documents)
        except Exception:  # the database is down: still print; the worker tries again
            log.exception("could not record %d print jobs", len(documents))
            tickets = [PrintTicket(*document) for document in documents]
        self.enqueue(tickets)
        return tickets

    def record_all(self, documents: Sequence[tuple[str, str, str, bytes]]) -> list[PrintTicket]:
        """Tickets for `(kind, number, label, payload)`, recorded as queued jobs in one
        transaction (with an engine) but not sent: `enqueue()` sends them. Raises what
        the database raises."""
        tickets = [PrintTicket(*document) for document in documents]
        if self.engine is not None and tickets:
            ids = print_jobs.add_jobs(self.engine, [self._new_job(t) for t in tickets])
            for ticket, job_id in zip(tickets, ids, strict=True):
                ticket.job_id = job_id
        return tickets

    def enqueue(self, tickets: Sequence[PrintTicket]) -> None:
        """Hand tickets (from `record_all()`) to the worker, in order."""
        for ticket in tickets:
            self._put(ticket)

    def retry(self, job_id: int) -> PrintTicket:
        """Send a recorded job again (failed or not), from its stored bytes."""
        job = self._require_engine_job(job_id)
        ticket = PrintTicket(job.document_kind, job.document_number, job.label, job.payload, job.id)
        self._put(ticket)
        return ticket

    def reprint(self, document_kind: str, document_number: str) -> list[PrintTicket]:
        """Send every job recorded for a document again."""
        jobs = print_jobs.jobs_for_document(self._engine(), document_kind, document_number)
        return [self.retry(job.id) for job in jobs]

    def resume(self) -> list[PrintTicket]:
        """Send the jobs this printer still has queued in the ledger (left by a station
        that stopped or crashed); jobs this queue already holds are not sent twice."""
        jobs = print_jobs.queued_jobs(self._engine(), self.printer.url, self.station)
        with self._lock:
            mine = set(self._unfinished)
        return [self.retry(job.id) for job in jobs if job.id not in mine]

    def _put(self, ticket: PrintTicket) -> None:
        if ticket.job_id is not None:
            with self._lock:
                self._unfinished.add(ticket.job_id)
        self._queue.put(ticket)

    def _new_job(self, ticket: PrintTicket) -> print_jobs.NewJob:
        return print_jobs.NewJob(
            self.printer.url,
            ticket.document_kind,
            ticket.document_number,
            ticket.label,
            ticket.payload,
            self.station,
        )

    def _engine(self) -> Engine:
        if self.engine is None:
            raise ValueError("this print queue keeps no job records (no database)")
        return self.engine

    def _require_engine_job(self, job_id: int) -> print_jobs.JobRecord:
        job = print_jobs.get_job(self._engine(), job_id)
        if job is None:
            raise ValueError(f"no print job {job_id}")
        return job

    def _run(self, jobs: queue.Queue[object], abandoned: threading.Event) -> None:
        stopping = False
        while not stopping and not abandoned.is_set():
            batch: list[PrintTicket] = []
            item = jobs.get()
            while True:
                if item is _STOP:
                    stopping = True
                    break
                assert isinstance(item, PrintTicket)
                batch.append(item)
                if len(batch) >= BATCH:
                    break
                try:
                    item = jobs.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._print(batch, abandoned)

    def _print(self, batch: list[PrintTicket], abandoned: threading.Event) -> None:
        self._record(batch)
        down: str | None = None  # the error of a printer that is not there
        for ticket in batch:
            if abandoned.is_set():
                return  # stopped: what is left stays queued in the ledger
            if down is not None:
                ticket.status, ticket.error = "failed", down
                continue
            try:
                self.printer.send(ticket.payload)
                ticket.status, ticket.error = "printed", None
            except PRINTER_DOWN as error:
                ticket.status, ticket.error = "failed", str(error)
                down = ticket.error
            except DeviceError as error:
                ticket.status, ticket.error = "failed", str(error)
            except Exception as error:  # a bug in a transport must not kill the queue
                log.exception("printer %s", self.printer.url)
                ticket.status, ticket.error = "failed", str(wrap_error(self.printer.url, error))
        if abandoned.is_set():
            return
        self._finish(batch)
        with self._lock:
            self._unfinished.difference_update(t.job_id for t in batch if t.job_id is not None)
        for ticket in batch:
            ticket._done.set()
            if self.on_job is not None:
                try:
                    self.on_job(ticket)
                except Exception:
                    log.exception("print job callback failed")

    def _record(self, batch: list[PrintTicket]) -> None:
        """Record jobs `submit()` could not (the database was down then), in one go."""
        new = [ticket for ticket in batch if ticket.job_id is None]
        if self.engine is None or not new:
            return
        jobs = [self._new_job(t) for t in new]
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
