"""Supplier returns (RTV, SPEC §3.3): units sent back to one vendor. A serial scanned on
its own names its unit, which must be in stock in this station's warehouse and have come
in on a PO of that vendor; non-serialized products go back by quantity, never more than
on hand. The lines come as units and items are scanned (`Workflow.open_lines`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from station.codes import Code
from station.db import catalog, company, documents
from station.documents import Document, DocumentLine, Product, UnitInfo
from station.movement import Movement, UnitChange
from station.rules import Problem, check_once, check_serial_text
from station.scanning import serial_key, show
from station.stations import StationConfig
from station.workflow import (
    Draft,
    Session,
    Workflow,
    locked_units,
    on_hand_line,
    refused_whole,
    stock_problem,
    take_stock,
    warehouse_of,
)


class SupplierReturn(Workflow):
    kind = "supplier_return"
    serial_alone = True
    open_lines = True

    def load(
        self,
        connection: Connection,
        number: str,
        *,
        lock: bool = False,
        station: StationConfig | None = None,
    ) -> Document | None:
        return documents.vendor(connection, number, lock=lock)

    def choices(
        self, connection: Connection, search: str = "", *, station: StationConfig | None = None
    ) -> list[dict[str, Any]]:
        return documents.vendors(connection, search)

    def open_line(self, session: Session, product: Product) -> DocumentLine:
        return on_hand_line(session, super().open_line(session, product))

    def room_problem(self, line: DocumentLine, scanned: int, extra: int = 1) -> Problem | None:
        return stock_problem(line, scanned, extra, "return to the vendor")

    def line_of_serial(self, session: Session, connection: Connection, serial: str) -> int:
        found = session.units_with_serial(connection, serial_key(serial))
        if not found:
            raise Problem(
                Code.SERIAL_UNKNOWN, f"Serial {show(serial)} is not in the ledger.", "serial"
            )
        warehouse_id = warehouse_of(session.station, session.document)[0]
        unit = next(
            (u for u in found if u.status == "in_stock" and u.warehouse_id == warehouse_id),
            found[0],
        )
        return session.line_of_product(_product(session, connection, unit))

    def check_serial(self, session: Session, index: int, serial: str, *, room: bool) -> int | None:
        """SERIAL_UNKNOWN, SERIAL_WRONG_PRODUCT, SERIAL_NOT_IN_STOCK,
        SERIAL_WRONG_WAREHOUSE, SERIAL_NOT_FROM_VENDOR, SERIAL_DUPLICATE_IN_SESSION."""
        connection = session.lookup_connection()
        key = serial_key(serial)
        line = session.document.lines[index]
        warehouse_id, warehouse = warehouse_of(session.station, session.document)
        unit = check_unit(
            session.document,
            line,
            serial,
            session.units_with_serial(connection, key),
            warehouse_id=warehouse_id,
            warehouse=warehouse,
        )
        session.check_duplicate(connection, index, serial, key)
        return unit.id

    def plan(self, draft: Draft) -> Movement:
        """The units locked (in key order) and checked again; quantities on hand locked
        and checked: never below zero."""
        connection, lines, vendor = draft.connection, draft.lines, draft.document
        warehouse_id, warehouse = warehouse_of(draft.station, vendor)
        found = locked_units(draft)
        scope = company.serial_scope(connection)
        charset = company.serial_charset(connection)
        movement = Movement(
            datetime.now(UTC),
            posted_units=[(e.line, e.serial, e.qty) for e in draft.posting.entries],
        )
        gone = (("status", "returned_to_vendor"),)
        seen: set[tuple[int, str]] = set()
        for entry in draft.posting.entries:
            line = lines[entry.line]
            if entry.serial is None:
                continue
            key = serial_key(entry.serial)
            with refused_whole("Nothing returned to the vendor", entry.serial):
                check_serial_text(entry.serial, charset)
                unit = check_unit(
                    vendor,
                    line,
                    entry.serial,
                    found.get(key, []),
                    warehouse_id=warehouse_id,
                    warehouse=warehouse,
                )
            check_once(seen, (company.scope_id(scope, line.product.id), key), entry.serial)
            movement.changed.append(UnitChange(unit.id, unit.warehouse_id, unit.bin, gone))
        take_stock(draft, movement, warehouse_id, "return to the vendor")
        return movement


def check_unit(
    vendor: Document,
    line: DocumentLine,
    serial: str,
    found: list[UnitInfo],
    *,
    warehouse_id: int,
    warehouse: str,
) -> UnitInfo:
    """The unit `serial` names for this line: in stock here and bought from the vendor."""
    unit = next((u for u in found if u.product_id == line.product.id), None)
    if unit is None:
        if found:
            other = found[0]
            raise Problem(
                Code.SERIAL_WRONG_PRODUCT,
                f"Serial {other.serial} is a {other.sku}, not {line.product.name}"
                f" ({line.product.sku}).",
                "serial",
            )
        raise Problem(
            Code.SERIAL_UNKNOWN,
            f"Serial {show(serial)} is not in the ledger: no such {line.product.sku} unit.",
            "serial",
        )
    if unit.status != "in_stock":
        raise Problem(
            Code.SERIAL_NOT_IN_STOCK,
            f"Serial {unit.serial} is {unit.status.replace('_', ' ')}, not in stock.",
            "serial",
        )
    if unit.warehouse_id != warehouse_id:
        raise Problem(
            Code.SERIAL_WRONG_WAREHOUSE,
            f"Serial {unit.serial} is in warehouse {unit.warehouse} ({unit.bin}),"
            f" not in {warehouse}.",
            "serial",
        )
    if unit.vendor_id != vendor.id:
        source = (
            f"it came from {unit.vendor} on {unit.po_number}"
            if unit.vendor
            else f"it was not bought on a PO (it came from {unit.origin})"
        )
        raise Problem(
            Code.SERIAL_NOT_FROM_VENDOR,
            f"Serial {unit.serial} was not received from {vendor.party}: {source}.",
            "serial",
        )
    return unit


def _product(session: Session, connection: Connection, unit: UnitInfo) -> Product:
    for line in session.document.lines:
        if line.product.id == unit.product_id:
            return line.product
    return catalog.products_by_id(connection, [unit.product_id])[unit.product_id]


WORKFLOW = SupplierReturn()
