"""What every import checks: the bad rows it reports (`RowError`, `ImportInvalid`) and
the rules each cell is held to — texts, true/false, whole numbers, costs, serial formats,
command prefixes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from station.codes import Code, StationError
from station.db import lookup
from station.options import OPTIONS, decode
from station.scanning import command_in, show
from station.serials import format_problem

#: Bad rows named in the error message; `ImportInvalid.errors` holds all of them.
SHOWN_ERRORS = 20
MAX_QTY = 1_000_000
MAX_COST = Decimal("9999999999")
_TRUE = {"true", "yes", "1", "y", "t"}
_FALSE = {"false", "no", "0", "n", "f"}


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad row: its line in the file (the header is line 1) and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class ImportInvalid(StationError):
    """The file cannot be imported; nothing was written. `errors` lists the bad rows."""

    def __init__(
        self,
        path: Path,
        errors: list[RowError],
        problem: str | None = None,
        code: Code = Code.IMPORT_INVALID,
    ) -> None:
        self.path = path
        self.errors = sorted(errors, key=lambda error: error.line)
        if problem is None:
            count = len(self.errors)
            lines = [f"  {error}" for error in self.errors[:SHOWN_ERRORS]]
            if count > SHOWN_ERRORS:
                lines.append(f"  … and {count - SHOWN_ERRORS} more")
            rows = "row is" if count == 1 else "rows are"
            problem = f"{count} {rows} bad; nothing was imported:\n" + "\n".join(lines)
        super().__init__(code, f"{path.name}: {problem}")


def file_error(path: Path, problem: str) -> ImportInvalid:
    """The file as a whole cannot be imported (no row is named): `problem` says why."""
    return ImportInvalid(path, [], problem)


def text(problems: list[str], name: str, value: str, limit: int, required: bool = True) -> None:
    if not value:
        if required:
            problems.append(f"{name} is empty")
    elif len(value) > limit:
        problems.append(f"{name} is longer than {limit} characters")
    elif not value.isprintable():  # same rule as scanning.printable, at C speed
        problems.append(f"{name} '{show(value)}' holds control characters")


def boolean(problems: list[str], name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered not in _FALSE:
        problems.append(f"{name} must be true/false/yes/no/1/0, not {show(value)!r}")
    return False


#: Numbers as a warehouse writes them (README, "Imports"): a quantity is digits 0-9, a
#: cost digits 0-9 with an optional decimal point and fraction. No sign, exponent,
#: digit grouping (1,000 1_000 1 000), other scripts' or fullwidth digits, inf or nan.
_WHOLE = re.compile("[0-9]+")
_PLAIN = re.compile("[0-9]+(?:[.][0-9]+)?")
_WHOLE_RULE = "written with the digits 0-9 only, no sign, separator or space (like 1200)"
_PLAIN_RULE = (
    "written with the digits 0-9 and at most one decimal point, no sign, exponent,"
    " separator or space (like 1250.50)"
)


def _has_digits(value: str) -> bool:
    return any(char.isnumeric() for char in value)


def whole_number(problems: list[str], name: str, value: str, low: int, high: int) -> int | None:
    if not value:
        return None
    negative = value.startswith("-") and _WHOLE.fullmatch(value[1:]) is not None
    if not _WHOLE.fullmatch(value) and not negative:
        rule = f" {_WHOLE_RULE}" if _has_digits(value) else ""
        problems.append(f"{name} must be a whole number{rule}, not {show(value)!r}")
        return None
    digits = value.lstrip("-").lstrip("0")
    number = int(value) if len(digits) <= len(str(high)) else None  # int() of 5,000 digits raises
    if number is None or not low <= number <= high:
        problems.append(f"{name} must be between {low} and {high}, not {show(value)}")
        return None
    return number


def cost(problems: list[str], value: str) -> Decimal | None:
    if not value:
        return None
    negative = value.startswith("-") and _PLAIN.fullmatch(value[1:]) is not None
    if negative:
        problems.append(f"unit_cost must be between 0 and {MAX_COST}, not {show(value)!r}")
        return None
    if not _PLAIN.fullmatch(value):
        rule = f" {_PLAIN_RULE}" if _has_digits(value) else ""
        problems.append(f"unit_cost must be a number{rule}, not {show(value)!r}")
        return None
    cost = Decimal(value)
    if cost > MAX_COST:
        problems.append(f"unit_cost must be between 0 and {MAX_COST}, not {show(value)!r}")
        return None
    return cost.quantize(Decimal("0.0001")) if cost.as_tuple().exponent < -4 else cost  # type: ignore[operator]


def serial_pattern(problems: list[str], value: str) -> str | None:
    if not value:
        return None
    problem = format_problem(value)
    if problem is not None:
        problems.append(f"serial_pattern '{show(value, 80)}' {problem}")
        return None
    return value


class Rows:
    """Collects row errors while the rows are read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.errors: list[RowError] = []
        self.count = 0

    def bad(self, line: int, problems: list[str]) -> bool:
        if problems:
            self.errors.append(RowError(line, "; ".join(problems)))
        return bool(problems)

    def check(self) -> None:
        if self.errors:
            raise ImportInvalid(self.path, self.errors)
        if not self.count:
            raise file_error(self.path, "has a header but no rows")


def command_prefixes(connection: Any) -> list[str]:
    """The default command prefix and every station's own."""
    prefixes = {str(OPTIONS["command_prefix"].default)}
    for value in lookup.option_values(connection, "command_prefix"):
        prefixes.add(str(decode("command_prefix", value)))
    return sorted(prefix for prefix in prefixes if prefix)


def command_prefix(text: str, prefixes: list[str]) -> str | None:
    """The command prefix a scan of `text` would be read by as a command, or None."""
    return next((p for p in prefixes if command_in(text, p) is not None), None)
