"""Reading one scan (SPEC §3.0, §5): terminators, AIM identifiers, prefix/suffix,
command barcodes, GS1 element strings, and text that cannot be a scan.

`read_scan` never raises: whatever bytes arrive, it returns a `Scan` whose kind says
how the sessions should treat it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_SCAN_LENGTH = 512
GS = "\x1d"
#: Characters a scanner ends a scan with; stripped from both ends.
TERMINATORS = "\r\n\t\x04"
COMMANDS = ("SAVE", "UNDO", "RESCAN", "CANCEL", "NOTFOUND", "NOLABEL")

# AIM symbology identifier: "]" + code character + modifier character.
_AIM = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
# AIM identifiers whose modifier announces GS1 data (GS1-128, GS1 DataMatrix, GS1 QR, …).
_AIM_GS1 = {"]C1", "]d2", "]Q3", "]e0", "]J1"}
_HRI = re.compile(r"^\(\d{2,4}\)")


@dataclass(frozen=True, slots=True)
class Scan:
    """One scan as read: `kind` is command, gs1, text, unreadable or gs1_invalid."""

    raw: str
    text: str
    kind: str
    command: str | None = None
    gtin: str | None = None
    serial: str | None = None
    problem: str | None = None

    @property
    def key(self) -> str:
        return serial_key(self.text)


def serial_key(serial: str) -> str:
    """The one key a serial is stored, checked and looked up by (SPEC §2), whatever the
    company's serial_charset: Unicode NFKC, case-folded then upper-cased (so "ß" and "SS",
    "ﬁ" and "FI" are one key), NFKC again, whitespace runs collapsed to one space and
    trimmed. For printable ASCII that is the text trimmed and upper-cased, its inner
    whitespace runs collapsed. Idempotent: serial_key(serial_key(s)) == serial_key(s)."""
    if serial.isascii():  # the same result, without the Unicode tables
        return " ".join(serial.upper().split())
    folded = unicodedata.normalize("NFKC", serial).casefold().upper()
    return " ".join(unicodedata.normalize("NFKC", folded).split())


def printable(text: str) -> bool:
    """True when every character is a visible character or a plain space."""
    return all(ch == " " or unicodedata.category(ch)[0] not in "CZ" for ch in text)


def show(text: str, limit: int = 40) -> str:
    """Text safe to put in a message: control characters escaped, long text cut."""
    shown = text.encode("unicode_escape").decode("ascii") if not printable(text) else text
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def read_scan(
    raw: str | bytes,
    *,
    command_prefix: str = "CMD-",
    prefix: str = "",
    suffix: str = "",
) -> Scan:
    """Classify one scan. Bytes that are not UTF-8 text are `unreadable`."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            shown = raw[:40].decode("utf-8", "backslashreplace")
            return Scan(shown, shown, "unreadable", problem="it is not valid text (UTF-8)")
    text = raw.strip(TERMINATORS + " ")
    if len(text) > MAX_SCAN_LENGTH:
        return Scan(
            raw[:64],
            text[:64],
            "unreadable",
            problem=f"it is {len(text)} characters long (at most {MAX_SCAN_LENGTH})",
        )
    if prefix and text.startswith(prefix):
        text = text[len(prefix) :]
    if suffix and text.endswith(suffix):
        text = text[: -len(suffix)]
    aim = _AIM.match(text)
    symbology = aim.group(0) if aim else None
    if symbology:
        text = text[3:]
    command = command_in(text, command_prefix)
    if command is not None:
        return Scan(raw, text, "command", command=command)
    if symbology in _AIM_GS1 or (GS in text) or _HRI.match(text):
        return _read_gs1(raw, text, symbology)
    if not text:
        return Scan(raw, text, "unreadable", problem="it is empty")
    control = next((ch for ch in text if unicodedata.category(ch) == "Cc"), None)
    if control is not None:  # no label carries one; a database cannot hold NUL
        return Scan(raw, text, "unreadable", problem=f"it holds a control character ({control!a})")
    return Scan(raw, text, "text")


def command_in(text: str, command_prefix: str) -> str | None:
    """The command a text with the command prefix names (compared as NFKC, so a fullwidth
    or composed look-alike is one too), else None."""
    if not command_prefix:
        return None
    folded = unicodedata.normalize("NFKC", text).upper()
    prefix = unicodedata.normalize("NFKC", command_prefix).upper()
    return folded[len(prefix) :] if folded.startswith(prefix) else None


def location_in(text: str, bin_prefix: str) -> str | None:
    """The bin a location barcode names (SPEC §5: `LOC-A-01` names A-01), its prefix
    compared as NFKC like the command prefix, whitespace runs collapsed; None when the
    text is no location barcode."""
    if not bin_prefix:
        return None
    folded = unicodedata.normalize("NFKC", text)
    prefix = unicodedata.normalize("NFKC", bin_prefix)
    if not folded.upper().startswith(prefix.upper()):
        return None
    return " ".join(folded[len(prefix) :].split())


def _read_gs1(raw: str, text: str, symbology: str | None) -> Scan:
    import biip  # on the first GS1 scan: most scans are plain text, and biip loads slowly
    from biip.gs1_messages import GS1Message

    try:
        if _HRI.match(text):
            message = GS1Message.parse_hri(text)
        else:
            result = biip.parse((symbology or "]C1") + text.lstrip(GS))
            if result.gs1_message is None:
                raise ValueError(result.gs1_message_error or "no GS1 data")
            message = result.gs1_message
    except Exception as error:  # biip raises its own ParseError and ValueError
        return Scan(raw, text, "gs1_invalid", problem=str(error))
    gtin = message.element_strings.get(ai="01")
    serial = message.element_strings.get(ai="21")
    if gtin is None:
        return Scan(raw, text, "gs1_invalid", problem="it carries no GTIN (01)")
    return Scan(
        raw,
        text,
        "gs1",
        gtin=gtin.value,
        serial=serial.value if serial is not None else None,
    )


def gtin14(code: str) -> str | None:
    """The GTIN-14 form of a numeric UPC-A, EAN-8, EAN-13 or GTIN-14, else None."""
    if code.isdigit() and len(code) in (8, 12, 13, 14):
        return code.zfill(14)
    return None
