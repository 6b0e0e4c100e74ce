"""Rules every workflow shares: the refusal a rule raises (`Problem`, with its stable
code), the serial text rule and the room left on a document line. Plain functions, no
session: scan time and posting call the same ones (STYLE §3)."""

from __future__ import annotations

from station.codes import Code, StationError
from station.documents import DocumentLine, Product, UnitInfo
from station.scanning import serial_key, show
from station.serials import serial_problem


class Problem(StationError):
    """A rule that refused a scan or a posting: its code and the message built from the
    facts; `kind` says how the refused scan was read, when not the default."""

    def __init__(
        self,
        code: Code,
        message: str,
        kind: str | None = None,
        *,
        serials: list[str] | None = None,
    ) -> None:
        super().__init__(code, message, serials)
        self.kind = kind


def check_serial_text(serial: str, charset: str) -> None:
    """SERIAL_INVALID: a serial is non-empty, at most 64 characters, printable ASCII
    (serial_charset = ascii) or printable text of one look-alike-free script (unicode);
    the message names the offending character (station.serials)."""
    problem = serial_problem(serial, charset)
    if problem is not None:
        raise Problem(Code.SERIAL_INVALID, problem)


def check_once(seen: set[tuple[int, str]], pair: tuple[int, str], serial: str) -> None:
    """SERIAL_DUPLICATE_IN_SESSION at posting: a (scope id, serial key) pair the posting
    holds twice; `seen` collects the pairs met so far."""
    if pair in seen:
        raise Problem(
            Code.SERIAL_DUPLICATE_IN_SESSION,
            f"Serial {serial} is in this session twice.",
            serials=[serial],
        )
    seen.add(pair)


def no_room(
    line: DocumentLine, scanned: int, extra: int, code: Code, words: tuple[str, str, str]
) -> Problem | None:
    """OVER_RECEIPT / OVER_PACK when `extra` more units (at posting: 0) would take the
    line past its quantity; the message states the facts: what was done before, what
    this session holds. `words`: ("ordered", "received", "scanned") or the ship words."""
    taken = line.done + scanned
    if taken + extra <= line.qty:
        return None
    wanted, done, now = words
    facts = f"{line.qty} {wanted}, {line.done or 'none'} {done} before"
    if scanned:
        facts += f", {scanned} {now} in this session"
    left = line.qty - taken
    if extra == 0:
        tail = f"{taken - line.qty} more than {wanted}"
    elif left <= 0:
        tail = "no unit left on this line"
    else:
        tail = f"only {left} left, not {extra}"
    return Problem(code, f"{line.product.name} ({line.product.sku}): {facts} — {tail}.")


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
            f"{serial} is a barcode or SKU on this document, not a serial"
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
