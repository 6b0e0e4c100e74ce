"""What prints after a posting (SPEC §3.1 step 5, §3.2 step 5, §6): serial labels for
received units when the station says so (always for serials it generated), the packing
slip after a shipment. The GUI and `station scan` both print through here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from station.devices import labels
from station.devices.errors import DeviceError
from station.documents import Document
from station.posting import PostingResult
from station.stations import StationConfig

if TYPE_CHECKING:  # the printers come in when something prints (`station scan` starts fast)
    from sqlalchemy import Engine

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

    def render(self, printer: Printer) -> bytes:
        if isinstance(self.item, labels.SerialLabel):
            return printer.serial_label(self.item)
        return printer.packing_slip(self.item)


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
        if serial is not None and product.serialized and (every or serial in generated):
            found.append(labels.SerialLabel(product.sku, product.name, serial, product.gtin))
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


def jobs_after_posting(
    kind: str, document: Document, result: PostingResult, station: StationConfig
) -> list[PrintJob]:
    """The print jobs a successful posting calls for: serial labels after a receipt,
    the packing slip (receipt printer, else label printer) after a shipment."""
    if not result.posted or result.already_posted or result.document is None:
        return []
    if kind == "receive":
        return [
            PrintJob("label_printer", "receipt", result.document, label)
            for label in receipt_labels(document, result, station)
        ]
    if not station["print_packing_slip"]:
        return []
    setting = "receipt_printer" if station["receipt_printer"] else "label_printer"
    slip = packing_slip(document, result.posted_units)
    return [PrintJob(setting, "shipment", result.document, slip)]


def protocol_of(setting: str) -> str:
    """The protocol a bare file:// URL in this printer setting speaks."""
    return "escpos" if setting == "receipt_printer" else "zpl"


def print_jobs_now(
    engine: Engine, station: StationConfig, jobs: list[PrintJob], *, timeout: float = 30.0
) -> tuple[int, list[str]]:
    """Print jobs through a queue per printer and wait for them (the headless station):
    the number printed and the errors. Failed jobs stay recorded for a reprint."""
    from station.devices.print_queue import PrintQueue
    from station.devices.printers import open_printer

    printed, errors = 0, []
    by_printer: dict[str, list[PrintJob]] = {}
    for job in jobs:
        by_printer.setdefault(job.printer, []).append(job)
    for setting, batch in by_printer.items():
        url = str(station[setting])
        if not url:
            errors.append(f"{len(batch)} job(s) not printed: no {setting} is set")
            continue
        try:
            printer = open_printer(url, default_protocol=protocol_of(setting))
        except DeviceError as error:
            errors.append(str(error))
            continue
        with PrintQueue(printer, engine, station=station.name) as queue:
            tickets = queue.submit_all(
                [(j.document_kind, j.document_number, j.label, j.render(printer)) for j in batch]
            )
            for ticket in tickets:
                ticket.wait(timeout)
        printed += sum(1 for t in tickets if t.status == "printed")
        errors += sorted({t.error for t in tickets if t.status != "printed" and t.error})
    return printed, errors
