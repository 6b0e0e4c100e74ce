"""Rules every workflow shares: the refusal a rule raises (`Problem`, with its stable
code), the serial text rule and the room left on a document line. Plain functions, no
session: scan time and posting call the same ones (STYLE §3)."""

from __future__ import annotations

from station.codes import Code, StationError
from station.documents import DocumentLine
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
