"""Station options (SPEC §4): names, defaults, explanations and typed validation.

Values live per station in the database (`station_options`); this module knows what
each option means and refuses unknown keys and bad values with a clear message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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


def _length(value: int) -> str | None:
    return None if 0 <= value <= 64 else "must be between 0 (off) and 64"


def _pattern(value: str) -> str | None:
    if "{seq" not in value:
        return "must contain {seq} (or {seq:06}) so generated serials never repeat"
    try:
        value.format(sku="SKU", yymmdd="261125", yyyymmdd="20261125", seq=1, station="S")
    except (KeyError, ValueError, IndexError) as error:
        return f"is not a valid pattern ({error}); fields: {{sku}} {{yymmdd}} {{seq:06}}"
    return None


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


OPTIONS: dict[str, Option] = {
    option.key: option
    for option in (
        Option("warehouse", "", str, "Warehouse this station receives into and ships from."),
        Option("receiving_bin", "RECEIVING", str, "Bin for newly received units.", _nonempty),
        Option("require_serial", True, bool, "Serialized products need a serial per unit."),
        Option(
            "require_unique_serial",
            True,
            bool,
            "Refuse a serial equal to a barcode or SKU on the document.",
        ),
        Option(
            "serial_length",
            0,
            int,
            "Station-wide exact serial length when the product sets none (0 = off).",
            _length,
        ),
        Option("allow_over_receipt", False, bool, "Accept more units than ordered."),
        Option("generate_serials", False, bool, "Generate serials for units without one."),
        Option(
            "serial_pattern",
            "{sku}-{yymmdd}-{seq:06}",
            str,
            "Pattern for generated serials.",
            _pattern,
        ),
        Option("print_label_on_receive", False, bool, "Print a serial label per received unit."),
        Option("require_serial_validation", True, bool, "Ship: the serial must exist as a unit."),
        Option("match_serial_to_po", True, bool, "Ship: the unit must have come in on a PO."),
        Option("allow_partial_ship", False, bool, "Ship an order before every line is packed."),
        Option("print_packing_slip", True, bool, "Print the packing slip after shipping."),
        Option("label_printer", "", str, "Label printer URL (zpl+tcp://HOST:9100, …)."),
        Option("receipt_printer", "", str, "Receipt printer URL (escpos+tcp://HOST:9100, …)."),
        Option(
            "scanner",
            ["keyboard"],
            list,
            "keyboard or serial:PORT[@BAUD]; several allowed.",
            _scanners,
        ),
        Option("command_prefix", "CMD-", str, "Prefix of command barcodes.", _nonempty),
        Option("sounds", True, bool, "Good/bad scan sounds."),
    )
}

_TRUE = {"true", "yes", "on", "1"}
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
            raise _bad(key, text, "must be true or false")
        value = word in _TRUE
    elif option.kind is int:
        try:
            value = int(text.strip())
        except ValueError:
            raise _bad(key, text, "must be a whole number") from None
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
        raise _bad(key, value, f"must be a {option.kind.__name__}")
    problem = option.check(value)
    if problem:
        raise _bad(key, value, problem)
    return value


def _unknown(key: str) -> OptionError:
    known = ", ".join(OPTIONS)
    return OptionError(Code.UNKNOWN_OPTION, f"Unknown option '{key}'. Options: {known}.")


def _bad(key: str, value: Any, problem: str) -> OptionError:
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
