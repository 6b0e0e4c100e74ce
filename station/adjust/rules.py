"""What an adjustment may take: a unit of this station's warehouse in one of the statuses
the adjustment changes, named by its serial alone (used at scan time and again inside the
posting, on the units as they are locked there)."""

from __future__ import annotations

from sqlalchemy import Connection

from station.codes import Code
from station.db import catalog
from station.documents import DocumentLine, Product, UnitInfo
from station.rules import Problem
from station.scanning import serial_key, show
from station.workflow import Session


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
