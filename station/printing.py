"""What prints after a posting (SPEC §3.1 step 5, §3.2 step 5, §3.3, §6): serial labels
for received units when the station says so (always for serials it generated), the
packing slip after a shipment, the labels of the serials a return generated for units
whose label was lost. The GUI and `station scan` both print through here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from station.codes import Code, StationError
from station.devices import labels
from station.devices.errors import DeviceError
from station.documents import Document, Product
from station.posting import PostingResult
from station.stations import StationConfig

if TYPE_CHECKING:  # the printers come in when something prints (`station scan` starts fast)
    from sqlalchemy import Engine

    from station.devices.print_queue import PrintQueue, PrintTicket
    from station.devices.printers.base import Printer


@dataclass(frozen=True, slots=True)
class PrintJob:
    """One document to print: the station option naming its printer, what it is for,
    and the label or slip, rendered in the printer's own protocol when sent."""

    printer: str  # label_printer | receipt_printer
    document_kind: str
    document_number: str
    item: labels.SerialLabel | labels.PackingSlip

    @property
    def label(self) -> str:
        return self.item.serial if isinstance(self.item, labels.SerialLabel) else self.item.order

    @property
    def item_name(self) -> str:
        return "label" if isinstance(self.item, labels.SerialLabel) else "packing slip"

    def render(self, printer: Printer) -> bytes:
        if isinstance(self.item, labels.SerialLabel):
            return printer.serial_label(self.item)
        return printer.packing_slip(self.item)


#: What a preview shows for a serial the station generates when the receipt posts.
GENERATED_SERIAL = "(generated)"


def unit_label(product: Product, serial: str | None) -> labels.SerialLabel | None:
    """The serial label a received unit of `product` gets: None for a product that is not
    serialized (its units get no label, whatever was scanned); `serial` None is one the
    station generates at posting, shown as GENERATED_SERIAL (for the preview)."""
    if not product.serialized:
        return None
    return labels.SerialLabel(product.sku, product.name, serial or GENERATED_SERIAL, product.gtin)


def no_label(product: Product) -> str:
    """Why a unit of `product` has no label to preview or print."""
    return (
        f"{product.name} ({product.sku}) is not serialized: its units are counted and get no"
        " serial label, so there is no label to preview."
    )


def receipt_labels(
    document: Document, result: PostingResult, station: StationConfig
) -> list[labels.SerialLabel]:
    """Labels of the units a receipt posted: all of them with print_label_on_receive,
    else only the serials the station generated (those units carry no label yet)."""
    generated = set(result.generated)
    every = bool(station["print_label_on_receive"])
    found = []
    for index, serial, _qty in result.posted_units:
        product = document.lines[index].product
        label = unit_label(product, serial) if serial is not None else None
        if label is not None and (every or serial in generated):
            found.append(label)
    return found


def packing_slip(
    document: Document, units: list[tuple[int, str | None, int]]
) -> labels.PackingSlip:
    """The slip of an order's scanned or shipped units, line by line with every serial."""
    per_line: dict[int, tuple[int, list[str]]] = {}
    for index, serial, qty in units:
        count, serials = per_line.get(index, (0, []))
        if serial:
            serials.append(serial)
        per_line[index] = (count + qty, serials)
    lines = [
        labels.SlipLine(
            document.lines[index].product.sku, document.lines[index].product.name, qty, serials
        )
        for index, (qty, serials) in sorted(per_line.items())
    ]
    return labels.PackingSlip(document.number, document.party, lines)


def receipt_jobs(
    document: Document, result: PostingResult, station: StationConfig
) -> list[PrintJob]:
    """The serial labels after a receipt (refused when no label printer is set: the
    labels are asked for)."""
    if not _printable(result):
        return []
    assert result.document is not None
    return [
        PrintJob("label_printer", "receipt", result.document, label)
        for label in receipt_labels(document, result, station)
    ]


def return_jobs(
    document: Document, result: PostingResult, station: StationConfig
) -> list[PrintJob]:
    """The labels of the serials a customer return generated (units whose label was
    lost, CMD-NOLABEL); refused, like a receipt's, when no label printer is set."""
    if not _printable(result):
        return []
    assert result.document is not None
    made = set(result.generated)
    found = [
        label
        for index, serial, _qty in result.posted_units
        if serial in made and (label := unit_label(document.lines[index].product, serial))
    ]
    return [PrintJob("label_printer", "rma", result.document, label) for label in found]


def shipment_jobs(
    document: Document, result: PostingResult, station: StationConfig
) -> list[PrintJob]:
    """The packing slip after a shipment (receipt printer, else label printer; none when
    the station has no printer)."""
    if not _printable(result):
        return []
    assert result.document is not None
    if not station["print_packing_slip"] or not (
        station["receipt_printer"] or station["label_printer"]
    ):  # no printer set at this station: no slip to print, nothing to report
        return []
    setting = "receipt_printer" if station["receipt_printer"] else "label_printer"
    slip = packing_slip(document, result.posted_units)
    return [PrintJob(setting, "shipment", result.document, slip)]


def _printable(result: PostingResult) -> bool:
    """A posting that wrote something now (a retry's answer prints nothing again)."""
    return result.posted and not result.already_posted and result.document is not None


def protocol_of(setting: str) -> str:
    """The protocol a bare file:// URL in this printer setting speaks."""
    return "escpos" if setting == "receipt_printer" else "zpl"


@dataclass(frozen=True, slots=True)
class PrintFailure:
    """A print job that did not print: its stable code and what happened."""

    code: Code
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": str(self.code), "message": self.message}


@dataclass(slots=True)
class PreparedPrint:
    """A posting's print jobs, rendered and recorded `queued` in `print_jobs` (so a
    reprint finds them) but not sent yet; and the jobs that could not get that far."""

    document: str
    station: str
    batches: list[tuple[PrintQueue, list[PrintTicket]]] = field(default_factory=list)
    failures: list[PrintFailure] = field(default_factory=list)

    @property
    def queued(self) -> int:
        return sum(len(tickets) for _queue, tickets in self.batches)

    def as_dict(self) -> dict[str, Any]:
        """The posting result's print fields: `printing` queued or failed (some job could
        not be prepared), `print_jobs` (how many are queued) and `print_errors`."""
        if not self.batches and not self.failures:
            return {}
        found: dict[str, Any] = {
            "printing": "failed" if self.failures else "queued",
            "print_jobs": self.queued,
        }
        if self.failures:
            found["print_errors"] = [failure.as_dict() for failure in self.failures]
        return found

    def fail(self, code: Code, message: str) -> None:
        failure = PrintFailure(code, message)
        if failure not in self.failures:  # one line for a template every label lacks
            self.failures.append(failure)


def render_job(job: PrintJob, printer: Printer) -> bytes:
    """A job's bytes in the printer's protocol. Every failure is a StationError with a
    stable code (LABEL_TEMPLATE_MISSING, LABEL_TEMPLATE_INVALID, LABEL_UNPRINTABLE, or
    PRINT_FAILED for anything else), never another exception."""
    try:
        return job.render(printer)
    except StationError:
        raise
    except Exception as error:
        raise StationError(
            Code.PRINT_FAILED,
            f"The {job.item_name} {job.label} of {job.document_number} cannot be rendered"
            f" for {printer.url} ({type(error).__name__}: {error}).",
        ) from error


def prepare_print(engine: Engine, station: StationConfig, jobs: list[PrintJob]) -> PreparedPrint:
    """Render a posting's jobs and record them as queued, one transaction per printer,
    before its result is shown; `send_prepared()` prints them after. Raises nothing: a
    job that cannot be rendered or recorded is a failure in the result."""
    from station.devices.print_queue import PrintQueue, PrintTicket
    from station.devices.printers import open_printer

    prepared = PreparedPrint(jobs[0].document_number if jobs else "", station.name)
    by_printer: dict[str, list[PrintJob]] = {}
    for job in jobs:
        by_printer.setdefault(job.printer, []).append(job)
    for setting, batch in by_printer.items():
        url = str(station[setting] or "").strip()
        what = _count(batch)
        if not url:
            prepared.fail(
                Code.PRINT_FAILED,
                f"{what} not printed: station {station.name} has no {setting} set.",
            )
            continue
        try:
            printer = open_printer(url, default_protocol=protocol_of(setting))
        except DeviceError as error:
            prepared.fail(Code.PRINT_FAILED, f"{what} not printed: {error}")
            continue
        documents = []
        for job in batch:
            try:
                payload = render_job(job, printer)
            except StationError as error:
                prepared.fail(error.code, error.message)
                continue
            documents.append((job.document_kind, job.document_number, job.label, payload))
        if not documents:
            continue
        queue = PrintQueue(printer, engine, station=station.name)
        try:
            tickets = queue.record_all(documents)
        except Exception as error:  # the database is down: still print; the worker retries
            tickets = [PrintTicket(*document) for document in documents]
            prepared.fail(
                Code.PRINT_FAILED,
                f"{_count(tickets)} not recorded ({_first_line(error)}): they are sent, and"
                " recorded when the database answers.",
            )
        prepared.batches.append((queue, tickets))
    return prepared


def send_prepared(prepared: PreparedPrint, *, timeout: float = 30.0) -> list[PrintFailure]:
    """Print what `prepare_print()` recorded, each printer's jobs in order, and wait for
    them: the failures (each job stays recorded, failed or queued, for a reprint)."""
    failures: list[PrintFailure] = []
    again = f"station reprint {prepared.document} --station {prepared.station}"
    for queue, tickets in prepared.batches:
        try:
            with queue:
                queue.enqueue(tickets)
                for ticket in tickets:
                    ticket.wait(timeout)
        except Exception as error:  # a bug in a transport never ends the session
            failures.append(
                PrintFailure(
                    Code.PRINT_FAILED,
                    f"{queue.printer.url}: {type(error).__name__}: {_first_line(error)}."
                    f" The jobs are kept: {again}",
                )
            )
            continue
        failed = [ticket for ticket in tickets if ticket.status != "printed"]
        if failed:
            errors = sorted({t.error or "the printer did not answer in time" for t in failed})
            failures.append(
                PrintFailure(
                    Code.PRINT_FAILED,
                    f"{len(failed)} of {_count(tickets)} for {prepared.document} not printed:"
                    f" {'; '.join(errors)}. They are kept: {again}",
                )
            )
    return failures


def _count(items: list[Any]) -> str:
    return f"{len(items)} print job" + ("" if len(items) == 1 else "s")


def _first_line(error: BaseException) -> str:
    return (str(getattr(error, "orig", error)).strip().splitlines() or [type(error).__name__])[0]
