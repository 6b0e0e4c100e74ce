"""Station options (SPEC §4): names, defaults, explanations and typed validation.

Values live per station in the database (`station_options`); this module knows what
each option means and refuses unknown keys and bad values with a clear message.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from station.codes import Code, StationError


class OptionError(StationError):
    pass


@dataclass(frozen=True, slots=True)
class Option:
    key: str
    default: Any
    kind: type
    help: str
    check: Callable[[Any], str | None] = field(default=lambda _value: None)
    #: A plain name for people (the options dialog shows it with the key beside it).
    label: str = ""


def _length(value: int) -> str | None:
    return None if 0 <= value <= 64 else "must be between 0 (off) and 64"


#: The fields a serial_pattern may name (SPEC §4): the product's SKU, the date (6 or 8
#: digits), the station's name and the sequence number.
PATTERN_FIELDS = ("sku", "yymmdd", "yyyymmdd", "station", "seq")
#: The largest sequence number a pattern must have room for (its digits count in the
#: worst-case length of a generated serial).
SEQ_MAX = 10**12
#: The longest serial Station accepts (SPEC §2).
SERIAL_MAX = 64
#: An integer format for {seq}: nothing, `d`, or a zero-padded width (`06`, `06d`).
_SEQ_FORMAT = re.compile(r"(0[1-9][0-9]?)?d?")
_FIELDS = " ".join(f"{{{name}}}" for name in PATTERN_FIELDS)


@dataclass(frozen=True, slots=True)
class SerialPattern:
    """A checked serial_pattern: the text around its one {seq} field and that field's
    format. Build it with `parse_pattern`."""

    text: str
    parts: tuple[tuple[str, str | None], ...]  # (literal text, field name or None)
    seq_format: str

    def around(self, fields: Mapping[str, str]) -> tuple[str, str]:
        """The text before and after {seq}; `fields` holds every other field's value."""
        out: list[str] = []
        head = ""
        for literal, name in self.parts:
            out.append(literal)
            if name == "seq":
                head, out = "".join(out), []
            elif name is not None:
                out.append(fields[name])
        return head, "".join(out)

    def render(self, seq: int, fields: Mapping[str, str]) -> str:
        """The serial for sequence number `seq`."""
        head, tail = self.around(fields)
        return head + format(seq, self.seq_format) + tail

    def longest(self, fields: Mapping[str, str]) -> int:
        """The length of the longest serial it can make with these fields."""
        return len(self.render(SEQ_MAX, fields))


def parse_pattern(value: str) -> SerialPattern:
    """Parse a serial_pattern with string.Formatter; a ValueError names what is wrong:
    exactly one {seq} with an integer format, only the documented fields, no attribute
    or index access, no conversion, literal text of printable ASCII."""
    try:
        parsed = list(string.Formatter().parse(value))
    except ValueError as error:
        raise ValueError(f"is not a valid pattern ({error}); fields: {_FIELDS}") from None
    parts: list[tuple[str, str | None]] = []
    seq_formats: list[str] = []
    for literal, name, spec, conversion in parsed:
        bad = next((ch for ch in literal if not " " <= ch <= "~"), None)
        if bad is not None:
            raise ValueError(
                f"has the character {bad!r}; a serial is printable ASCII"
                " (letters, digits, punctuation, spaces)"
            )
        if name is None:
            parts.append((literal, None))
            continue
        shown = f"{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}"
        if not name or name.isdigit():
            raise ValueError(f"has a positional field {shown}; name a field: {_FIELDS}")
        if "." in name or "[" in name:
            raise ValueError(
                f"uses attribute or index access in {shown}; fields are plain names: {_FIELDS}"
            )
        if name not in PATTERN_FIELDS:
            raise ValueError(f"has an unknown field {shown}; fields: {_FIELDS}")
        if conversion is not None:
            raise ValueError(f"converts a field ({shown}); fields take no !r, !s or !a")
        if "{" in spec or "}" in spec:
            raise ValueError(f"nests a field in a format ({shown})")
        if name == "seq":
            if not _SEQ_FORMAT.fullmatch(spec):
                raise ValueError(
                    f"formats {{seq}} as {shown}; use an integer format:"
                    " {seq}, {seq:06} or {seq:06d}"
                )
            seq_formats.append(spec)
        elif spec:
            raise ValueError(f"formats {{{name}}} as {shown}; only {{seq}} takes a format")
        parts.append((literal, name))
    if not seq_formats:
        raise ValueError("must contain {seq} (or {seq:06}) so generated serials never repeat")
    if len(seq_formats) > 1:
        raise ValueError(f"has {{seq}} {len(seq_formats)} times; it must appear exactly once")
    if value != value.strip():
        raise ValueError("starts or ends with a space; a serial is compared without them")
    return SerialPattern(value, tuple(parts), seq_formats[0])


def pattern_length_problem(
    pattern: SerialPattern, fields: Mapping[str, str], where: str = ""
) -> str | None:
    """Why serials of `pattern` can be too long with these field values, or None."""
    longest = pattern.longest(fields)
    if longest <= SERIAL_MAX:
        return None
    return (
        f"makes serials of up to {longest} characters{where} ({{seq}} up to"
        f" {len(format(SEQ_MAX, pattern.seq_format))} digits); a serial has at most"
        f" {SERIAL_MAX}"
    )


def pattern_fields(sku: str, station: str, when: datetime) -> dict[str, str]:
    """The values of a pattern's fields other than {seq}, for one product and day."""
    return {
        "sku": sku,
        "yymmdd": when.strftime("%y%m%d"),
        "yyyymmdd": when.strftime("%Y%m%d"),
        "station": station,
    }


#: Field values of the shortest kind, for checking a pattern without a catalog.
_SHORTEST = pattern_fields("", "", datetime(2000, 1, 1))


def _pattern(value: str) -> str | None:
    """The checks that need no database; `stations.set_options` adds the catalog's."""
    try:
        pattern = parse_pattern(value)
    except ValueError as error:
        return str(error)
    return pattern_length_problem(pattern, _SHORTEST, " even with no SKU and station name")


_SCANNER = re.compile(r"^(keyboard|serial:[^@?\s]+(@\d{3,7})?(\?\S*)?)$")


def _scanners(value: list[str]) -> str | None:
    bad = [item for item in value if not _SCANNER.match(item)]
    if bad or not value:
        return (
            "must be 'keyboard' or 'serial:PORT[@BAUD][?term=…&prefix=…&suffix=…]'"
            " (several separated by commas)"
        )
    return None


def _nonempty(value: str) -> str | None:
    return None if value.strip() else "must not be empty"


#: Plain names of the options (SPEC §4 keys stay the interface; these are for people).
LABELS = {
    "warehouse": "Warehouse",
    "receiving_bin": "Receiving bin",
    "require_serial": "Require a serial",
    "require_unique_serial": "Serials differ from item codes",
    "serial_length": "Serial length",
    "allow_over_receipt": "Allow over-receipt",
    "generate_serials": "Generate serials",
    "serial_pattern": "Generated serial pattern",
    "print_label_on_receive": "Print labels on receive",
    "require_serial_validation": "Ship only known serials",
    "match_serial_to_po": "Ship only units received on a PO",
    "allow_partial_ship": "Allow partial shipments",
    "print_packing_slip": "Print packing slip",
    "label_printer": "Label printer",
    "receipt_printer": "Receipt printer",
    "scanner": "Scanners",
    "command_prefix": "Command barcode prefix",
    "bin_prefix": "Location barcode prefix",
    "returns_bin": "Returns bin",
    "quarantine_returns": "Quarantine returns",
    "sounds": "Scan sounds",
}


def _option(key: str, *args: Any) -> Option:
    return Option(key, *args, label=LABELS[key])


OPTIONS: dict[str, Option] = {
    option.key: option
    for option in (
        _option("warehouse", "", str, "Warehouse this station receives into and ships from."),
        _option("receiving_bin", "RECEIVING", str, "Bin for newly received units.", _nonempty),
        _option("require_serial", True, bool, "Serialized products need a serial per unit."),
        _option(
            "require_unique_serial",
            True,
            bool,
            "Refuse a serial equal to a barcode or SKU on the document.",
        ),
        _option(
            "serial_length",
            0,
            int,
            "Station-wide exact serial length when the product sets none (0 = off).",
            _length,
        ),
        _option("allow_over_receipt", False, bool, "Accept more units than ordered."),
        _option("generate_serials", False, bool, "Generate serials for units without one."),
        _option(
            "serial_pattern",
            "{sku}-{yymmdd}-{seq:06}",
            str,
            "Pattern for generated serials.",
            _pattern,
        ),
        _option("print_label_on_receive", False, bool, "Print a serial label per received unit."),
        _option("require_serial_validation", True, bool, "Ship: the serial must exist as a unit."),
        _option("match_serial_to_po", True, bool, "Ship: the unit must have come in on a PO."),
        _option("allow_partial_ship", False, bool, "Ship an order before every line is packed."),
        _option("print_packing_slip", True, bool, "Print the packing slip after shipping."),
        _option("label_printer", "", str, "Label printer URL (zpl+tcp://HOST:9100, …)."),
        _option("receipt_printer", "", str, "Receipt printer URL (escpos+tcp://HOST:9100, …)."),
        _option(
            "scanner",
            ["keyboard"],
            list,
            "keyboard or serial:PORT[@BAUD]; several allowed.",
            _scanners,
        ),
        _option("command_prefix", "CMD-", str, "Prefix of command barcodes.", _nonempty),
        _option("bin_prefix", "LOC-", str, "Prefix of location (bin) barcodes.", _nonempty),
        _option("returns_bin", "RETURNS", str, "Bin for returned units.", _nonempty),
        _option(
            "quarantine_returns",
            False,
            bool,
            "Returned units come back quarantined (not shippable) instead of in stock.",
        ),
        _option("sounds", True, bool, "Good/bad scan sounds."),
    )
}

_TRUE = {"true", "yes", "on", "1"}
#: A whole number as a supervisor types it: the digits 0-9, perhaps a minus sign.
_WHOLE = re.compile("-?[0-9]{1,18}")
_FALSE = {"false", "no", "off", "0"}


def parse_value(key: str, text: str) -> Any:
    """Turn the text a supervisor typed (`KEY=VALUE`) into a checked value."""
    option = OPTIONS.get(key)
    if option is None:
        raise _unknown(key)
    value: Any
    if option.kind is bool:
        word = text.strip().lower()
        if word not in _TRUE | _FALSE:
            raise bad_value(key, text, "must be true or false")
        value = word in _TRUE
    elif option.kind is int:
        word = text.strip()
        if not _WHOLE.fullmatch(word):  # int() would take 1_0, ٦ and ６
            raise bad_value(key, text, "must be a whole number written with the digits 0-9")
        value = int(word)
    elif option.kind is list:
        value = [item.strip() for item in text.split(",") if item.strip()]
    else:
        value = text.strip()
    return check_value(key, value)


def check_value(key: str, value: Any) -> Any:
    option = OPTIONS.get(key)
    if option is None:
        raise _unknown(key)
    if (option.kind is int and isinstance(value, bool)) or not isinstance(value, option.kind):
        raise bad_value(key, value, f"must be a {option.kind.__name__}")
    problem = option.check(value)
    if problem:
        raise bad_value(key, value, problem)
    return value


def _unknown(key: str) -> OptionError:
    known = ", ".join(OPTIONS)
    return OptionError(Code.UNKNOWN_OPTION, f"Unknown option '{key}'. Options: {known}.")


def bad_value(key: str, value: Any, problem: str) -> OptionError:
    """BAD_OPTION_VALUE: `Option KEY=VALUE {problem}.`"""
    return OptionError(Code.BAD_OPTION_VALUE, f"Option {key}={value!r} {problem}.")


def encode(value: Any) -> str:
    return json.dumps(value)


def decode(key: str, text: str) -> Any:
    try:
        return check_value(key, json.loads(text))
    except (ValueError, OptionError):
        return OPTIONS[key].default


def with_defaults(stored: Mapping[str, Any]) -> dict[str, Any]:
    return {key: stored.get(key, option.default) for key, option in OPTIONS.items()}
