"""Workflows on units that exist, each named by its serial scanned alone, with no
document of lines (SPEC §3.3): scrap, release, bin moves, transfers. The lines come as
units are scanned, one per product; the rules are the unit's status and warehouse; the
posting changes each unit (what it becomes is the workflow's) and takes non-serialized
quantities by item scans, never below zero.

Used at scan time and again inside the posting, on the units as they are locked there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from station.codes import Code
from station.db import catalog, company
from station.documents import Document, DocumentLine, Product, UnitInfo
from station.grid import Entry
from station.movement import Movement, UnitChange
from station.rules import Problem, check_once, check_serial_text
from station.scanning import serial_key, show
from station.workflow import (
    Draft,
    Session,
    Workflow,
    locked_units,
    refused_whole,
    take_stock,
    warehouse_of,
)


def unit_product(session: Session, connection: Connection, serial: str) -> Product:
    """The product of the unit a serial scanned alone names (its line comes from it)."""
    found = session.units_with_serial(connection, serial_key(serial))
    if not found:
        raise Problem(Code.SERIAL_UNKNOWN, f"Serial {show(serial)} is not in the ledger.", "serial")
    for line in session.document.lines:
        if line.product.id == found[0].product_id:
            return line.product
    return catalog.products_by_id(connection, [found[0].product_id])[found[0].product_id]


def check_unit(
    line: DocumentLine,
    serial: str,
    found: list[UnitInfo],
    *,
    statuses: tuple[str, ...],
    code: Code,
    warehouse: tuple[int, str],
) -> UnitInfo:
    """The unit `serial` names for this line, in one of `statuses` (else `code`) and in
    the station's warehouse (SERIAL_WRONG_WAREHOUSE)."""
    unit = next((u for u in found if u.product_id == line.product.id), None)
    if unit is None:
        if found:
            raise Problem(
                Code.SERIAL_WRONG_PRODUCT,
                f"Serial {found[0].serial} is a {found[0].sku}, not {line.product.name}"
                f" ({line.product.sku}).",
                "serial",
            )
        raise Problem(Code.SERIAL_UNKNOWN, f"Serial {show(serial)} is not in the ledger.", "serial")
    if unit.status not in statuses:
        wanted = " or ".join(s.replace("_", " ") for s in statuses)
        raise Problem(
            code,
            f"Serial {unit.serial} is {unit.status.replace('_', ' ')}, not {wanted}.",
            "serial",
        )
    if unit.warehouse_id != warehouse[0]:
        raise Problem(
            Code.SERIAL_WRONG_WAREHOUSE,
            f"Serial {unit.serial} is in warehouse {unit.warehouse} ({unit.bin}),"
            f" not in {warehouse[1]}.",
            "serial",
        )
    return unit


class ScannedAlone(Workflow):
    """A serial scanned alone names its unit; the lines come as units are scanned."""

    serial_alone = True
    open_lines = True
    #: The statuses a unit may have to be taken, and the code when it has another.
    statuses: tuple[str, ...] = ("in_stock",)
    status_code = Code.SERIAL_NOT_IN_STOCK

    def line_of_serial(self, session: Session, connection: Connection, serial: str) -> int:
        return session.line_of_product(unit_product(session, connection, serial))

    def check_serial(self, session: Session, index: int, serial: str, *, room: bool) -> int | None:
        connection = session.lookup_connection()
        key = serial_key(serial)
        unit = check_unit(
            session.document.lines[index],
            serial,
            session.units_with_serial(connection, key),
            statuses=self.statuses,
            code=self.status_code,
            warehouse=warehouse_of(session.station, session.document),
        )
        session.check_duplicate(connection, index, serial, key)
        return unit.id

    def changes(
        self, unit: UnitInfo, document: Document, entry: Entry
    ) -> tuple[tuple[str, Any], ...]:
        """What the unit becomes (`entry`: its grid row, with the bin it goes to)."""
        raise NotImplementedError

    def stock(self, draft: Draft, movement: Movement, warehouse_id: int) -> None:
        """The non-serialized quantities the posting takes (off the station's warehouse,
        never below zero)."""
        take_stock(draft, movement, warehouse_id, self.kind)

    def plan(self, draft: Draft) -> Movement:
        """The units locked (in key order) and checked again, then what they become."""
        connection, lines = draft.connection, draft.lines
        warehouse = warehouse_of(draft.station, draft.document)
        found = locked_units(draft)
        scope = company.serial_scope(connection)
        charset = company.serial_charset(connection)
        movement = Movement(
            datetime.now(UTC),
            posted_units=[(e.line, e.serial, e.qty) for e in draft.posting.entries],
        )
        nothing = self.words.nothing_done.capitalize()
        seen: set[tuple[int, str]] = set()
        for entry in draft.posting.entries:
            if entry.serial is None:
                continue
            line = lines[entry.line]
            key = serial_key(entry.serial)
            with refused_whole(nothing, entry.serial):
                check_serial_text(entry.serial, charset)
                unit = check_unit(
                    line,
                    entry.serial,
                    found.get(key, []),
                    statuses=self.statuses,
                    code=self.status_code,
                    warehouse=warehouse,
                )
            check_once(seen, (company.scope_id(scope, line.product.id), key), entry.serial)
            change = UnitChange(
                unit.id,
                unit.warehouse_id,
                unit.bin,
                self.changes(unit, draft.document, entry),
                expect_status=unit.status,
            )
            movement.changed.append(change)
        self.stock(draft, movement, warehouse[0])
        return movement
