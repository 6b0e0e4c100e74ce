"""The customer-return rules for one serial (SPEC §3.3), used at scan time and again
inside the posting's transaction on the units as they are locked there; and which
shipped unit a unit whose label was lost (CMD-NOLABEL) replaces."""

from __future__ import annotations

from station.codes import Code
from station.documents import Document, DocumentLine, Product, UnitInfo
from station.rules import Problem
from station.scanning import show


def shipped_here(document: Document, units: list[UnitInfo]) -> UnitInfo | None:
    """Of the units a serial names, the one that shipped on this order (any status)."""
    line_ids = {line.id for line in document.lines}
    return next((u for u in units if u.order_line_id in line_ids), None)


def not_on_order(document: Document, serial: str, units: list[UnitInfo]) -> Problem:
    """SERIAL_NOT_ON_ORDER, saying where the serial's unit is or went instead."""
    number = document.number
    if not units:
        return Problem(
            Code.SERIAL_NOT_ON_ORDER,
            f"Serial {show(serial)} is not in the ledger: it did not ship on {number}"
            " (a unit with no record comes back as a free return).",
            "serial",
        )
    unit = units[0]
    if unit.order is not None and unit.status == "shipped":
        where = f"it shipped on order {unit.order} ({unit.shipment})"
    elif unit.order is not None:
        where = f"it last shipped on order {unit.order} and is {_status(unit)} now"
    else:
        where = f"it never shipped and is {_status(unit)} in {unit.warehouse} ({unit.bin})"
    return Problem(
        Code.SERIAL_NOT_ON_ORDER,
        f"Serial {unit.serial} ({unit.sku}) did not ship on {number} — {where}.",
        "serial",
    )


def check_unit(
    document: Document, line: DocumentLine, serial: str, units: list[UnitInfo]
) -> UnitInfo:
    """The unit `serial` names, shipped on this order as this line's product and still
    out: SERIAL_NOT_ON_ORDER, SERIAL_WRONG_PRODUCT, SERIAL_NOT_SHIPPED."""
    unit = shipped_here(document, units)
    if unit is None:
        raise not_on_order(document, serial, units)
    if unit.product_id != line.product.id:
        raise Problem(
            Code.SERIAL_WRONG_PRODUCT,
            f"Serial {unit.serial} is a {unit.sku}, not {line.product.name} ({line.product.sku}).",
            "serial",
        )
    if unit.status != "shipped":
        back = f" on {unit.rma}" if unit.rma else ""
        raise Problem(
            Code.SERIAL_NOT_SHIPPED,
            f"Serial {unit.serial} shipped on {document.number} but came back already{back}:"
            f" it is {_status(unit)} in {unit.warehouse} ({unit.bin}).",
            "serial",
        )
    return unit


#: How many serials of the units still out a "which one is unknown" reason names.
OUT_NAMED = 3


def not_relabeled(product: Product) -> Problem:
    """CMD-NOLABEL then an item whose units carry no serial label (NO_ITEM_SELECTED:
    the scan selects no unit a new serial could be made for)."""
    return Problem(
        Code.NO_ITEM_SELECTED,
        f"{product.name} ({product.sku}) is not serialized: its units carry no serial label"
        " to replace — scan it without CMD-NOLABEL.",
        "item",
    )


def relabel_candidate(
    document: Document, product: Product, out: list[UnitInfo], without_label: int
) -> tuple[UnitInfo | None, str]:
    """The unit a new serial replaces: the one unit of `product` still out on the order
    (`out`: shipped on it, still `shipped`, not scanned back in the same session), when
    exactly one unit of the product comes back without its label (`without_label`);
    else None. With it, why: "the only Widget One still out on SO-3", or why none is
    linked."""
    number, name = show(document.number, 64), product.name
    if len(out) == 1 and without_label == 1:
        return out[0], f"the only {name} still out on {number}"
    if not out:
        return None, f"no {name} with a serial is still out on {number}: it replaces none"
    serials = ", ".join(u.serial for u in out[:OUT_NAMED]) + (", …" if len(out) > OUT_NAMED else "")
    if len(out) > 1:
        return None, (
            f"{len(out)} {name} units are still out on {number} ({serials}): which one came"
            " back is unknown, so it replaces none"
        )
    return None, (
        f"{without_label} {name} units come back without a label for 1 still out on"
        f" {number} ({serials}): which is which is unknown, so none is replaced"
    )


def _status(unit: UnitInfo) -> str:
    return unit.status.replace("_", " ")
