"""The ship rules for one serial (SPEC §3.2), used at scan time and again inside the
posting transaction, on the units as they are locked there."""

from __future__ import annotations

from station.codes import Code
from station.documents import DocumentLine, UnitInfo
from station.rules import Problem
from station.scanning import show


def check_unit(
    line: DocumentLine,
    serial: str,
    key: str,
    units: list[UnitInfo],
    *,
    options: dict[str, object],
    warehouse_id: int,
    warehouse: str,
) -> UnitInfo | None:
    """The unit `serial` names for this line, or None when an unknown serial is
    accepted for non-validated shipping (require_serial_validation off)."""
    product = line.product
    unit = next((u for u in units if u.product_id == product.id), None)
    if unit is None:
        if units:
            other = units[0]
            raise Problem(
                Code.SERIAL_WRONG_PRODUCT,
                f"Serial {other.serial} is a {other.sku}, not {product.name} ({product.sku}).",
            )
        if options["require_serial_validation"]:
            raise Problem(
                Code.SERIAL_UNKNOWN,
                f"Serial {show(serial)} is not in the ledger: no such {product.sku} unit.",
            )
        return None
    if unit.status != "in_stock":
        where = f" on order {unit.order} ({unit.shipment})" if unit.order else ""
        raise Problem(
            Code.SERIAL_NOT_IN_STOCK,
            f"Serial {unit.serial} is {unit.status.replace('_', ' ')}{where}, not in stock.",
        )
    if unit.warehouse_id != warehouse_id:
        raise Problem(
            Code.SERIAL_WRONG_WAREHOUSE,
            f"Serial {unit.serial} is in warehouse {unit.warehouse} ({unit.bin}),"
            f" not in {warehouse}.",
        )
    if options["match_serial_to_po"] and unit.origin != "po":
        raise Problem(
            Code.SERIAL_NOT_FROM_PO,
            f"Serial {unit.serial} was not received on a PO (it came from {unit.origin}).",
        )
    if line.allocated and key not in line.allocated:
        allowed = ", ".join(sorted(line.allocated)[:5])
        raise Problem(
            Code.SERIAL_NOT_ALLOCATED,
            f"Serial {unit.serial} is not allocated to this order line; allocated: {allowed}.",
        )
    return unit


def check_not_found_target(
    units: list[UnitInfo],
    serial: str,
    *,
    product_ids: set[int],
    warehouse_id: int,
    warehouse: str,
    product: str | None = None,
) -> UnitInfo:
    """CMD-NOTFOUND's target: a unit of one of `product_ids` (the order's products, or
    the one a GS1 scan names: `product` in words) that this station may take — in stock,
    in its warehouse."""
    wanted, owner = (product, product) if product else ("an item", "this order's items")
    unit = next((u for u in units if u.product_id in product_ids), None)
    if unit is None:
        if units:
            other = units[0]
            raise Problem(
                Code.SERIAL_WRONG_PRODUCT,
                f"Serial {other.serial} is a {other.sku}, not {wanted} of this order:"
                " nothing marked not found.",
            )
        raise Problem(
            Code.SERIAL_UNKNOWN,
            f"No unit of {owner} has serial {show(serial)}: nothing marked not found.",
        )
    if unit.status != "in_stock":
        raise Problem(
            Code.SERIAL_NOT_IN_STOCK,
            f"Serial {unit.serial} is {unit.status.replace('_', ' ')}, not in stock:"
            " nothing marked not found.",
        )
    if unit.warehouse_id != warehouse_id:
        raise Problem(
            Code.SERIAL_WRONG_WAREHOUSE,
            f"Serial {unit.serial} is in warehouse {unit.warehouse} ({unit.bin}), not in"
            f" {warehouse}: nothing marked not found.",
        )
    return unit
