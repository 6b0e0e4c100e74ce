"""The receive rules for one serial (SPEC §3.1), used at scan time and again, with the
same words, inside the posting transaction."""

from __future__ import annotations

from station.codes import Code
from station.documents import Document, DocumentLine, Product, UnitInfo
from station.rules import Problem, check_serial_text, no_room
from station.scanning import serial_key, show


def check_serial_rules(
    product: Product,
    serial: str,
    *,
    doc_keys: frozenset[str],
    options: dict[str, object],
    charset: str,
) -> None:
    """SERIAL_INVALID (under the company's serial_charset), SERIAL_EQUALS_ITEM_CODE,
    SERIAL_BAD_LENGTH, SERIAL_BAD_FORMAT."""
    check_serial_text(serial, charset)
    if options["require_unique_serial"] and serial_key(serial) in doc_keys:
        raise Problem(
            Code.SERIAL_EQUALS_ITEM_CODE,
            f"{serial} is a barcode or SKU on this PO, not a serial"
            f" — scan the serial of {product.name}.",
        )
    check_length(product, serial, int(options["serial_length"]))  # type: ignore[call-overload]
    try:
        pattern = product.pattern()
    except ValueError as error:  # stored before formats were checked by RE2
        raise Problem(
            Code.SERIAL_BAD_FORMAT,
            f"{product.sku}'s serial format ({show(product.serial_pattern or '', 80)}) {error}."
            f" Import {product.sku} again with a pattern in RE2 syntax.",
        ) from None
    if pattern is not None and not pattern.fullmatch(serial):
        raise Problem(
            Code.SERIAL_BAD_FORMAT,
            f"Serial {show(serial)} does not fit {product.sku}'s serial format"
            f" ({product.serial_pattern}).",
        )


def check_length(product: Product, serial: str, station_length: int) -> None:
    """The product's exact or min/max length; else the station's exact length."""
    size = len(serial)
    exact = product.serial_length or (
        station_length if not (product.serial_min_length or product.serial_max_length) else None
    )
    if exact and size != exact:
        raise Problem(
            Code.SERIAL_BAD_LENGTH,
            f"Serial {show(serial)} has {size} characters; {product.sku} serials have {exact}.",
        )
    low, high = product.serial_min_length, product.serial_max_length
    if (low and size < low) or (high and size > high):
        raise Problem(
            Code.SERIAL_BAD_LENGTH,
            f"Serial {show(serial)} has {size} characters; {product.sku} serials have"
            f" {low or 1} to {high or 64}.",
        )


def room_problem(line: DocumentLine, scanned: int, extra: int = 1) -> Problem | None:
    """OVER_RECEIPT when `extra` more units would exceed the line's ordered quantity."""
    return no_room(line, scanned, extra, Code.OVER_RECEIPT, ("ordered", "received", "scanned"))


def already_exists(serial: str, unit: UnitInfo) -> Problem:
    """SERIAL_ALREADY_EXISTS, naming where and when the unit came in."""
    when = unit.received_at.strftime("%Y-%m-%d %H:%M UTC") if unit.received_at else "earlier"
    source = f" on {unit.po_number}" if unit.po_number else f" ({unit.origin})"
    by = f" by {unit.received_by}" if unit.received_by else ""
    return Problem(
        Code.SERIAL_ALREADY_EXISTS,
        f"Serial {unit.serial} already exists: {unit.sku}, {unit.status} at"
        f" {unit.warehouse}/{unit.bin}, received {when}{source}{by}.",
    )


def po_not_open(po: Document, options: dict[str, object]) -> Problem | None:
    """PO_NOT_OPEN: a closed PO takes nothing; a fully received one takes more only
    with allow_over_receipt."""
    if po.status == "closed":
        return Problem(Code.PO_NOT_OPEN, f"PO {po.number} is closed.", "document")
    if po.status == "received" and not options["allow_over_receipt"]:
        return Problem(
            Code.PO_NOT_OPEN,
            f"PO {po.number} is fully received (allow_over_receipt is off).",
            "document",
        )
    return None
