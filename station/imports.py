"""Imports from CSV or XLSX (SPEC §7): products, purchase orders, sales orders, stock.

Every import reads the whole file and checks every row first (types, required
fields, unknown SKUs, duplicates in the file and against the ledger). When any row
is bad, nothing is written and `ImportInvalid` lists each bad row with its line
number. Good files are written in one transaction with chunked Core inserts.

The stock (opening balance) import streams: a first pass validates with in-memory
sets and chunked serial look-ups, a second pass inserts units and their events in
chunks, so a million rows take about a minute and little memory.
"""

from __future__ import annotations

import codecs
import csv
import math
import re
import struct
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, TextIO
from xml.etree import ElementTree

import openpyxl
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from station.codes import Code, StationError
from station.db import bulk, lookup
from station.db.company import scope_id, serial_charset, serial_scope
from station.db.models import Barcode, OrderLine, POLine, Product, PurchaseOrder, SalesOrder
from station.options import OPTIONS, decode
from station.scanning import command_in, gtin14, serial_key, show
from station.serials import fits_format, format_problem, serial_problem

#: The exact header of each import (SPEC §7); columns may come in any order.
HEADERS: dict[str, tuple[str, ...]] = {
    "products": ("sku", "name", "barcodes", "serialized", "serial_length", "serial_pattern"),
    "pos": ("po_number", "vendor", "warehouse", "sku", "qty", "unit_cost"),
    "orders": ("order_number", "customer", "warehouse", "sku", "qty"),
    "stock": ("sku", "serial", "warehouse", "bin", "unit_cost"),
}
#: The bin of opening-balance units whose row leaves `bin` empty.
DEFAULT_BIN = "RECEIVING"
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


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import wrote: rows read and what was created (or updated) per kind."""

    kind: str
    rows: int
    created: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"import": self.kind, "rows": self.rows, **self.created}

    def as_text(self) -> str:
        done = ", ".join(f"{count} {what}" for what, count in self.created.items())
        return f"{self.rows} rows read; {done}"

    def __str__(self) -> str:
        return self.as_text()


# --- reading files -------------------------------------------------------------------

#: A CSV line (its physical line: a quoted field may span several) or field longer than
#: this is refused with its line number, before it is held in memory.
MAX_LINE = 1 << 20
#: csv's own limit on one field (its default): far above any column's limit.
MAX_FIELD = 131_072
#: What an XLSX workbook may unpack to, checked from its zip directory before any part
#: is parsed: openpyxl holds the shared string table (and the small parts) whole in
#: memory and streams the worksheets.
MAX_XLSX_SHEET = 512 << 20
MAX_XLSX_STRINGS = 64 << 20
MAX_XLSX_PART = 16 << 20
MAX_XLSX_TOTAL = 1 << 30
MAX_XLSX_MANIFEST = 1 << 20
#: An unpacked part larger than a megabyte may be at most this many times its packed size.
MAX_XLSX_RATIO = 200
#: A zip directory larger than this lists far more parts than a workbook has.
MAX_XLSX_DIRECTORY = 1 << 20
#: No text (a cell, an attribute) in a worksheet or the shared strings may be longer
#: than about this (Excel's own limit is 32,767 characters a cell), nor a worksheet row.
MAX_XLSX_TEXT = 1 << 20
MAX_XLSX_ROW = 16 << 20
_SHARED_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_MB = 1 << 20


def _file_error(path: Path, problem: str) -> ImportInvalid:
    return ImportInvalid(path, [], problem)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        if math.isfinite(value):  # 1e-05 reads 0.00001: a number, written plainly
            return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _megabytes(size: int) -> str:
    return f"{size / _MB:,.0f} MB" if size >= _MB else f"{size:,} bytes"


def _check_workbook(path: Path) -> None:
    """Refuse, before openpyxl reads it, a workbook whose parts unpack beyond the
    limits above (checked on the sizes its zip directory declares: zipfile never
    returns more than a part declares), a zip bomb, or a part holding an oversized
    text or row."""
    try:
        with path.open("rb") as file:
            _check_directory(path, file)
            with zipfile.ZipFile(file) as archive:
                parts = archive.infolist()
                strings = _shared_strings(path, archive, parts)
                total = 0
                for part in parts:
                    size, name = part.file_size, part.filename
                    total += size
                    if name in strings:
                        limit, what = MAX_XLSX_STRINGS, "the shared string table"
                    elif _is_sheet(name):
                        limit, what = MAX_XLSX_SHEET, "a worksheet"
                    else:
                        limit, what = MAX_XLSX_PART, "a part"
                    if size > limit:
                        raise _file_error(
                            path,
                            f"is too large to import: {what} ({name}) unpacks to"
                            f" {_megabytes(size)}, more than {_megabytes(limit)}; split the"
                            " file or save it as CSV",
                        )
                    if size > _MB and size > MAX_XLSX_RATIO * part.compress_size:
                        raise _file_error(
                            path,
                            f"is not a workbook Station reads: {name} unpacks"
                            f" {size // max(part.compress_size, 1):,} times larger than it is"
                            f" packed (at most {MAX_XLSX_RATIO}; a zip bomb?)",
                        )
                if total > MAX_XLSX_TOTAL:
                    raise _file_error(
                        path,
                        f"is too large to import: it unpacks to {_megabytes(total)}, more"
                        f" than {_megabytes(MAX_XLSX_TOTAL)}; split the file or save it as CSV",
                    )
                for part in parts:
                    name = part.filename
                    kind = "strings" if name in strings else "sheet" if _is_sheet(name) else "part"
                    if kind != "part" or name.endswith((".xml", ".rels")):
                        _check_part(path, archive, part, kind)
    except ImportInvalid:
        raise
    except Exception as error:  # zipfile raises BadZipFile, zlib and OS errors
        raise _file_error(path, f"is not a readable XLSX workbook ({error})") from None


def _check_directory(path: Path, file: BinaryIO) -> None:
    """The zip's end record: its directory must be small (ZipFile builds an object per
    part it lists)."""
    file.seek(0, 2)
    size = file.tell()
    file.seek(max(0, size - 65_557))  # the end record and its longest comment
    tail = file.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise _file_error(path, "is not a readable XLSX workbook (no zip directory)")
    entries, directory = struct.unpack_from("<HL", tail, at + 10)
    if entries == 0xFFFF or directory > MAX_XLSX_DIRECTORY:
        raise _file_error(
            path,
            f"is not a workbook Station reads: its zip directory lists"
            f" {'too many' if entries == 0xFFFF else f'{entries:,}'} parts"
            f" ({_megabytes(directory)})",
        )
    file.seek(0)


def _shared_strings(path: Path, archive: zipfile.ZipFile, parts: list[zipfile.ZipInfo]) -> set[str]:
    """The parts the manifest names as shared string tables (openpyxl reads them whole)."""
    names = {part.filename: part for part in parts}
    manifest = names.get("[Content_Types].xml")
    if manifest is None:
        raise _file_error(path, "is not a readable XLSX workbook (it has no [Content_Types].xml)")
    if manifest.file_size > MAX_XLSX_MANIFEST:
        raise _file_error(
            path,
            f"is not a workbook Station reads: its [Content_Types].xml unpacks to"
            f" {_megabytes(manifest.file_size)}, more than {_megabytes(MAX_XLSX_MANIFEST)}",
        )
    data = archive.read(manifest)
    if b"<!DOCTYPE" in data:
        raise _file_error(
            path,
            "is not a workbook Station reads: [Content_Types].xml declares a DOCTYPE"
            " (entities), which spreadsheets never do",
        )
    root = ElementTree.fromstring(data)
    return {
        element.get("PartName", "").lstrip("/")
        for element in root
        if element.tag.endswith("Override") and element.get("ContentType") == _SHARED_STRINGS
    } | {"xl/sharedStrings.xml"}


def _check_part(path: Path, archive: zipfile.ZipFile, part: zipfile.ZipInfo, kind: str) -> None:
    """Refuse an XML part declaring entities (a DOCTYPE: a "billion laughs"); a shared
    string table or worksheet (`kind` "strings" or "sheet", read whole) holding a text
    (the bytes between two '<') longer than MAX_XLSX_TEXT; a worksheet with a stretch
    without a row longer than MAX_XLSX_ROW: XML parsers hold either whole. Read in
    chunks at zlib's speed; runs are measured to within a chunk."""
    text = row = 0
    with archive.open(part) as stream:
        chunk = stream.read(_MB // 4)
        if b"<!DOCTYPE" in chunk:
            raise _file_error(
                path,
                f"is not a workbook Station reads: {part.filename} declares a DOCTYPE"
                " (entities), which spreadsheets never do",
            )
        while chunk and kind != "part":
            text, ended = _run(chunk, b"<", text)
            if max(text, ended) > MAX_XLSX_TEXT:
                raise _file_error(
                    path,
                    f"is not a workbook Station reads: {part.filename} holds a text of more"
                    f" than {_megabytes(MAX_XLSX_TEXT)} (a cell holds at most 32,767"
                    " characters)",
                )
            row, ended = _run(chunk, b"row", row) if kind == "sheet" else (0, 0)
            if max(row, ended) > MAX_XLSX_ROW:
                raise _file_error(
                    path,
                    f"is not a workbook Station reads: {part.filename} holds a row of more"
                    f" than {_megabytes(MAX_XLSX_ROW)}",
                )
            chunk = stream.read(_MB // 4)


def _run(chunk: bytes, marker: bytes, run: int) -> tuple[int, int]:
    """The run of bytes without `marker` at the end of `chunk`, continuing `run`, and
    the run that ended in it (0 when none did). Runs between two markers of the chunk
    are shorter than the chunk and not measured; a marker cut by the chunk's edge is
    missed."""
    first = chunk.find(marker)
    if first < 0:
        return run + len(chunk), 0
    return len(chunk) - chunk.rfind(marker) - len(marker), run + first


def _is_sheet(name: str) -> bool:
    """A worksheet part (streamed by openpyxl), not its relationships."""
    folder, _, file = name.rpartition("/")
    return folder == "xl/worksheets" and file.endswith(".xml")


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    _check_workbook(path)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises zip, XML and key errors for bad files
        raise _file_error(path, f"is not a readable XLSX workbook ({_first(error)})") from None
    try:
        if not workbook.worksheets:
            raise _file_error(path, "has no worksheet")
        sheet = workbook.worksheets[0]
        try:
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, [_cell(value) for value in row]
        except ImportInvalid:
            raise
        except Exception as error:  # a damaged sheet inside a readable zip
            raise _file_error(path, f"is a damaged XLSX workbook ({_first(error)})") from None
    finally:
        workbook.close()


def _first(error: BaseException) -> str:
    """An error's first line, with the error it was raised from (openpyxl wraps XML
    errors in a ValueError of several lines)."""
    cause = error.__cause__
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"{text}: {cause}" if cause is not None else text


def _lines(path: Path, file: TextIO) -> Iterator[str]:
    """The physical lines of a CSV file, each at most MAX_LINE characters and without NUL."""
    number = 0
    while line := file.readline(MAX_LINE):
        number += 1
        if len(line) == MAX_LINE and not line.endswith(("\n", "\r")):
            raise _file_error(
                path,
                f"is not a readable CSV file: line {number} is longer than {MAX_LINE:,} characters",
            )
        if "\x00" in line:
            raise _file_error(
                path,
                f"is not a CSV or XLSX file: line {number} holds a NUL byte (binary data);"
                " save it as CSV UTF-8 or as an XLSX workbook",
            )
        yield line


def _csv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = None
        try:
            first = file.readline(MAX_LINE)
            counts = {sep: first.count(sep) for sep in ",;\t"}
            delimiter = max(counts, key=lambda sep: counts[sep])
            file.seek(0)
            reader = csv.reader(
                _lines(path, file), delimiter=delimiter if counts[delimiter] else ","
            )
            for row in reader:
                yield reader.line_num, row
        except UnicodeDecodeError:
            line, byte = _bad_utf8(path)
            which = f"the byte 0x{byte:02X}" if byte is not None else "a byte that is not UTF-8"
            raise _file_error(
                path,
                f"is not UTF-8 text (line {line} holds {which}); save it as CSV UTF-8 or as an"
                " XLSX workbook",
            ) from None
        except csv.Error as error:
            line = reader.line_num if reader is not None else 1
            reason = str(error)
            if "field larger than field limit" in reason:
                reason = f"a field is longer than {MAX_FIELD:,} characters"
            raise _file_error(path, f"is not a readable CSV file (line {line}: {reason})") from None


def _bad_utf8(path: Path) -> tuple[int, int | None]:
    """The line of the first byte of `path` that is not UTF-8, and that byte."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with path.open("rb") as file:
        try:
            while chunk := file.read(_MB):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as error:  # its object: the bytes held back + chunk
                    data = error.object
                    return line + data.count(b"\n", 0, error.start), data[error.start]
                line += chunk.count(b"\n")
            decoder.decode(b"", final=True)  # a sequence cut by the end of the file
        except UnicodeDecodeError as error:
            return line, error.object[error.start]
    return line, None


def _encoding_problem(head: bytes) -> str | None:
    """Why the first bytes of a file say it is not a CSV in UTF-8, or None."""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "is UTF-32 text; save it as CSV UTF-8 or as an XLSX workbook"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "is UTF-16 text; save it as CSV UTF-8 or as an XLSX workbook"
    if b"\x00" not in head:
        return None
    even, odd = head[0::2], head[1::2]
    if len(head) >= 8 and (
        (odd.count(0) > 0.8 * len(odd) and not even.count(0))
        or (even.count(0) > 0.8 * len(even) and not odd.count(0))
    ):
        return "is UTF-16 text; save it as CSV UTF-8 or as an XLSX workbook"
    return "is not a CSV or XLSX file (it holds binary data)"


def _rows(path: Path, kind: str) -> Iterator[tuple[int, list[str]]]:
    """The data rows of an import file as (line, values in HEADERS order), stripped.

    Blank rows are skipped. A file that is missing, not CSV/XLSX, not UTF-8, empty,
    too large or has the wrong header raises `ImportInvalid` with a clear reason.
    """
    expected = HEADERS[kind]
    try:
        with path.open("rb") as file:
            head = file.read(4096)
    except OSError as error:
        raise _file_error(path, f"cannot be read ({error.strerror or error})") from None
    if head.startswith(b"PK\x03\x04"):
        source = _xlsx_rows(path)
    elif head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _file_error(path, "is an old Excel .xls workbook; save it as .xlsx or CSV")
    elif (problem := _encoding_problem(head)) is not None:
        raise _file_error(path, problem)
    else:
        source = _csv_rows(path)
    wanted = ",".join(expected)
    for line, cells in source:
        names = [cell.strip().lower() for cell in cells]
        while names and not names[-1]:
            names.pop()
        if not names:
            continue
        if len(names) != len(expected) or set(names) != set(expected):  # linear in columns
            found = ",".join(show(name, 30) for name in names[:12])
            more = f",… ({len(names):,} columns)" if len(names) > 12 else ""
            raise _file_error(
                path, f"line {line}: the header must be {wanted} (found {found}{more})"
            )
        positions = [names.index(name) for name in expected]
        break
    else:
        raise _file_error(path, f"is empty; the first line must be the header {wanted}")
    for line, cells in source:
        values = [cells[i].strip() if i < len(cells) else "" for i in positions]
        if any(values) or any(cell.strip() for cell in cells):
            yield line, values


# --- checking values -----------------------------------------------------------------


def _text(problems: list[str], name: str, value: str, limit: int, required: bool = True) -> None:
    if not value:
        if required:
            problems.append(f"{name} is empty")
    elif len(value) > limit:
        problems.append(f"{name} is longer than {limit} characters")
    elif not value.isprintable():  # same rule as scanning.printable, at C speed
        problems.append(f"{name} '{show(value)}' holds control characters")


def _bool(problems: list[str], name: str, value: str) -> bool:
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


def _int(problems: list[str], name: str, value: str, low: int, high: int) -> int | None:
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


def _cost(problems: list[str], value: str) -> Decimal | None:
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


def _pattern(problems: list[str], value: str) -> str | None:
    if not value:
        return None
    problem = format_problem(value)
    if problem is not None:
        problems.append(f"serial_pattern '{show(value, 80)}' {problem}")
        return None
    return value


class _Rows:
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
            raise _file_error(self.path, "has a header but no rows")


#: The tables each import fills: analyzed once it committed (bulk.analyze).
_FILLS = {
    "products": ("products", "barcodes"),
    "pos": ("purchase_orders", "po_lines", "vendors", "warehouses"),
    "orders": ("sales_orders", "order_lines", "warehouses"),
    "stock": ("units", "events", "stock_levels", "warehouses"),
}


def _write(path: Path, engine: Engine, work: Callable[[Any], ImportSummary]) -> ImportSummary:
    """Run `work` in one transaction; a constraint hit (the ledger changed meanwhile)
    becomes `ImportInvalid` and leaves nothing written. Once committed, the tables the
    import filled are analyzed, so the next posting is planned on fresh statistics."""
    try:
        with engine.begin() as connection:
            summary = work(connection)
        bulk.analyze(engine, _FILLS[summary.kind])
        return summary
    except IntegrityError as error:
        reason = str(error.orig).splitlines()[0] if error.orig else str(error)
        raise _file_error(
            path, f"the ledger changed while importing ({reason}); nothing was imported"
        ) from None


# --- products --------------------------------------------------------------------------


@dataclass(slots=True)
class _ProductRow:
    line: int
    sku: str
    name: str
    barcodes: list[str]
    serialized: bool
    serial_length: int | None
    serial_pattern: str | None


def write_products(
    connection: Any, products: Sequence[Any], *, update_existing: bool = True
) -> tuple[dict[str, int], int, int, int]:
    """Write catalog records (sku, name, serialized, serial_length, serial_pattern,
    barcodes): new SKUs are inserted, known ones updated (unless `update_existing` is off),
    missing barcodes added. Returns ids by SKU and the counts created, updated, barcodes."""
    known = lookup.catalog(connection)
    new = [p for p in products if p.sku not in known]
    new_ids = bulk.insert_returning_ids(connection, Product, [_product_values(p) for p in new])
    ids = {sku: product.id for sku, product in known.items()}
    ids.update(zip((p.sku for p in new), new_ids, strict=True))
    updated = 0
    if update_existing:
        updated = bulk.update_products(
            connection,
            [{"pid": ids[p.sku], **_product_values(p)} for p in products if p.sku in known],
        )
    held = lookup.product_barcodes(connection, (ids[p.sku] for p in products if p.sku in known))
    owners = lookup.barcode_owners(connection, [c for p in products for c in p.barcodes], [])
    barcodes = [
        {"product_id": ids[p.sku], "code": code, "gtin": gtin14(code)}
        for p in products
        for code in p.barcodes
        if (ids[p.sku], code) not in held and code not in owners
    ]
    bulk.insert_rows(connection, Barcode, barcodes)
    return ids, len(new), updated, len(barcodes)


def _product_values(product: Any) -> dict[str, Any]:
    return {
        "sku": product.sku,
        "name": product.name,
        "serialized": product.serialized,
        "serial_length": product.serial_length,
        "serial_pattern": product.serial_pattern,
    }


def _forms(code: str) -> set[str]:
    """The texts a scan of `code` resolves by: the code itself and its GTIN-14 form (a
    scan of T names the SKU T, the barcode T and the barcode whose GTIN-14 is T's)."""
    gtin = gtin14(code)
    return {code, gtin} if gtin else {code}


def _spellings(form: str) -> set[str]:
    """Every code whose GTIN-14 form is `form` (EAN-8, UPC-A, EAN-13 with the zeros it
    drops), and `form` itself."""
    if gtin14(form) != form:
        return {form}
    return {form[14 - n :] for n in (8, 12, 13, 14) if not form[: 14 - n].strip("0")}


def _code_clashes(
    products: list[_ProductRow],
    skus: dict[str, int],
    ledger: tuple[set[str], set[str], dict[str, str], dict[str, str]],
) -> list[RowError]:
    """Codes this import would make resolve two ways (SPEC §3.0 step 4): a barcode that
    is another product's SKU (in the file or in the ledger), a new SKU that is another
    product's barcode in the ledger. Compared as a scan resolves them: exactly, and by
    GTIN-14 form. A clash already in the ledger (a barcode the product holds, a SKU the
    ledger has) is left to be resolved there: re-importing the catalog still works.
    `ledger`: the SKUs named by the file's barcodes and its own SKUs that the ledger
    holds, the owners of the file's barcodes and of its SKUs' forms."""
    named_skus, known_skus, code_owners, sku_owners = ledger
    named: dict[str, list[tuple[str, str]]] = {}  # form -> (SKU, where it is)
    for sku, line in skus.items():
        for form in _forms(sku) if sku else ():
            named.setdefault(form, []).append((sku, f" on line {line}"))
    for sku in named_skus:
        for form in _forms(sku):
            named.setdefault(form, []).append((sku, " already"))
    errors: list[RowError] = []

    def clash(line: int, what: str) -> None:
        errors.append(RowError(line, f"{what}: a scan of it would name two products"))

    for product in products:
        for code in product.barcodes:
            if code_owners.get(code) == product.sku:
                continue  # held already
            other = next(
                (o for f in _forms(code) for o in named.get(f, ()) if o[0] != product.sku), None
            )
            if other is not None:
                clash(product.line, f"barcode {code!r} is the SKU of {other[0]}{other[1]}")
        if product.sku in known_skus:
            continue
        owners = {sku_owners.get(form, product.sku) for form in _forms(product.sku)}
        owner = min(owners - {product.sku}, default=None)
        if owner is not None:
            clash(product.line, f"SKU {product.sku!r} is a barcode of {owner} already")
    return errors


def import_products(engine: Engine, path: str | Path) -> ImportSummary:
    """Import products (`sku,name,barcodes,serialized,serial_length,serial_pattern`).

    A SKU already in the ledger is updated (name, serialized, rules) and gets the
    barcodes it lacks; a barcode held by another product is a bad row.
    """
    path = Path(path)
    rows = _Rows(path)
    products: list[_ProductRow] = []
    skus: dict[str, int] = {}
    codes: dict[str, tuple[int, str]] = {}  # code or GTIN-14 -> (line, sku)
    for line, (sku, name, barcodes, serialized, length, pattern) in _rows(path, "products"):
        rows.count += 1
        problems: list[str] = []
        _text(problems, "sku", sku, 64)
        _text(problems, "name", name, 200)
        is_serialized = _bool(problems, "serialized", serialized)
        serial_length = _int(problems, "serial_length", length, 1, 64)
        serial_pattern = _pattern(problems, pattern)
        if not is_serialized and (serial_length or serial_pattern):
            problems.append("serial_length and serial_pattern need serialized true")
        if sku in skus:
            problems.append(f"SKU {sku!r} is also on line {skus[sku]}")
        skus.setdefault(sku, line)
        row_codes: list[str] = []
        for code in (part.strip() for part in barcodes.split(";")):
            if not code:
                continue
            _text(problems, "barcode", code, 64)
            for form in {code, gtin14(code) or code}:
                earlier = codes.get(form)
                if earlier and earlier[1] != sku:
                    problems.append(f"barcode {code!r} is also on line {earlier[0]} ({earlier[1]})")
                elif earlier and form == code and code in row_codes:
                    problems.append(f"barcode {code!r} is listed twice")
                codes.setdefault(form, (line, sku))
            row_codes.append(code)
        if not rows.bad(line, problems):
            products.append(
                _ProductRow(
                    line, sku, name, row_codes, is_serialized, serial_length, serial_pattern
                )
            )
    with engine.connect() as connection:
        gtins = [form for form in codes if gtin14(form) == form]
        owners = lookup.barcode_owners(connection, codes, gtins)
        ledger = (
            lookup.skus_among(connection, (s for f in codes for s in _spellings(f))),
            lookup.skus_among(connection, skus),
            owners,
            lookup.barcode_owners(
                connection,
                [form for sku in skus for form in _forms(sku)],
                filter(None, map(gtin14, skus)),
            ),
        )
        prefixes = _command_prefixes(connection)
        flag_changes = _serialized_changes(connection, products)
    rows.errors += flag_changes
    for product in products:
        for code in product.barcodes:
            for form in {code, gtin14(code) or code}:
                owner = owners.get(form)
                if owner is not None and owner != product.sku:
                    rows.errors.append(
                        RowError(product.line, f"barcode {code!r} belongs to {owner} already")
                    )
    rows.errors += _code_clashes(products, skus, ledger)
    for product in products:
        for what, code in [("SKU", product.sku)] + [("barcode", c) for c in product.barcodes]:
            known = code in ledger[1] if what == "SKU" else owners.get(code) == product.sku
            prefix = _command_prefix(code, prefixes)
            if prefix is not None and not known:  # a clash already stored blocks no update
                rows.errors.append(
                    RowError(
                        product.line,
                        f"{what} {code!r} starts with the command prefix {prefix}: a scan of"
                        " it would be read as a command",
                    )
                )
    if flag_changes:
        raise ImportInvalid(path, rows.errors, code=Code.SERIALIZED_IN_USE)
    rows.check()

    def work(connection: Any) -> ImportSummary:
        changes = _serialized_changes(connection, products)  # again, in the transaction
        if changes:
            raise ImportInvalid(path, changes, code=Code.SERIALIZED_IN_USE)
        _, new, updated, barcodes = write_products(connection, products)
        return ImportSummary(
            "products",
            rows.count,
            {"products": new, "updated": updated, "barcodes": barcodes},
        )

    return _write(path, engine, work)


def _serialized_changes(connection: Any, products: list[_ProductRow]) -> list[RowError]:
    """SERIALIZED_IN_USE rows (SPEC §2): a known product whose `serialized` flag the file
    changes while it has units, pieces on hand or lines on open POs or orders (its units
    would be shipped as bare quantities, or its quantities lost from view)."""
    known = lookup.catalog(connection)
    changing = {
        known[p.sku].id: p
        for p in products
        if p.sku in known and known[p.sku].serialized != p.serialized
    }
    if not changing:
        return []
    errors = []
    for product_id, use in lookup.product_use(connection, changing).items():
        row = changing[product_id]
        held = [
            f"{count} {what}"
            for count, what in (
                (use.units, "unit(s)"),
                (use.on_hand, "piece(s) on hand"),
                (use.po_lines, "line(s) on open POs"),
                (use.order_lines, "line(s) on open orders"),
            )
            if count
        ]
        old, new = ("true", "false") if row.serialized is False else ("false", "true")
        errors.append(
            RowError(
                row.line,
                f"{Code.SERIALIZED_IN_USE}: serialized of {row.sku} cannot change from {old}"
                f" to {new} while it has {', '.join(held)}",
            )
        )
    return errors


# --- purchase orders and sales orders --------------------------------------------------


@dataclass(slots=True)
class _Document:
    line: int
    number: str
    party: str
    warehouse: str
    lines: list[tuple[int, int, Decimal | None]] = field(default_factory=list)  # product, qty, cost
    skus: dict[str, int] = field(default_factory=dict)  # sku -> line in the file


def _documents(engine: Engine, path: Path, kind: str) -> tuple[_Rows, dict[str, _Document]]:
    """Read and check the rows of a PO or order file, grouped by document number."""
    rows = _Rows(path)
    party_name, number_name, limit = (
        ("vendor", "po_number", 200) if kind == "pos" else ("customer", "order_number", 200)
    )
    with engine.connect() as connection:
        known = lookup.catalog(connection)
    documents: dict[str, _Document] = {}
    for line, values in _rows(path, kind):
        rows.count += 1
        number, party, warehouse, sku, qty = values[:5]
        problems: list[str] = []
        _text(problems, number_name, number, 64)
        _text(problems, party_name, party, limit)
        _text(problems, "warehouse", warehouse, 64)
        _text(problems, "sku", sku, 64)
        product = known.get(sku)
        if sku and product is None:
            problems.append(f"unknown SKU {sku!r}")
        amount = _int(problems, "qty", qty, 1, MAX_QTY)
        if not qty:
            problems.append("qty is empty")
        cost = _cost(problems, values[5]) if kind == "pos" else None
        document = documents.get(number) if number else None
        if document is not None:
            if party and party != document.party:
                problems.append(
                    f"{party_name} {party!r} differs from {document.party!r} on line "
                    f"{document.line} for {number}"
                )
            if warehouse and warehouse != document.warehouse:
                problems.append(
                    f"warehouse {warehouse!r} differs from {document.warehouse!r} on line "
                    f"{document.line} for {number}"
                )
            if sku and sku in document.skus:
                problems.append(f"{sku} is also on line {document.skus[sku]} of {number}")
        if rows.bad(line, problems) or product is None or amount is None:
            continue
        if document is None:
            document = documents[number] = _Document(line, number, party, warehouse)
        document.skus[sku] = line
        document.lines.append((product.id, amount, cost))
    with engine.connect() as connection:
        taken = lookup.document_ids(connection, "po" if kind == "pos" else "order", documents)
    what = "PO" if kind == "pos" else "order"
    for number in sorted(taken):
        for line in documents[number].skus.values():
            rows.errors.append(RowError(line, f"{what} {number} exists already"))
    rows.check()
    return rows, documents


def import_pos(engine: Engine, path: str | Path) -> ImportSummary:
    """Import purchase orders (`po_number,vendor,warehouse,sku,qty,unit_cost`).

    One row per PO line; rows of one PO share vendor and warehouse. Vendors and
    warehouses named are created; a PO number already in the ledger is a bad row.
    """
    path = Path(path)
    rows, documents = _documents(engine, path, "pos")

    def work(connection: Any) -> ImportSummary:
        warehouses, new_warehouses = bulk.ensure_warehouses(
            connection, (d.warehouse for d in documents.values())
        )
        vendors, new_vendors = bulk.ensure_vendors(
            connection, (d.party for d in documents.values())
        )
        ordered = list(documents.values())
        ids = bulk.insert_returning_ids(
            connection,
            PurchaseOrder,
            [
                {
                    "number": d.number,
                    "vendor_id": vendors[d.party],
                    "warehouse_id": warehouses[d.warehouse],
                    "status": "open",
                }
                for d in ordered
            ],
        )
        lines = [
            {
                "po_id": po_id,
                "line_no": number,
                "product_id": product_id,
                "qty_ordered": qty,
                "qty_received": 0,
                "unit_cost": cost,
            }
            for po_id, d in zip(ids, ordered, strict=True)
            for number, (product_id, qty, cost) in enumerate(d.lines, start=1)
        ]
        bulk.insert_rows(connection, POLine, lines)
        return ImportSummary(
            "pos",
            rows.count,
            {
                "purchase_orders": len(ordered),
                "lines": len(lines),
                "vendors": new_vendors,
                "warehouses": new_warehouses,
            },
        )

    return _write(path, engine, work)


def import_orders(engine: Engine, path: str | Path) -> ImportSummary:
    """Import sales orders (`order_number,customer,warehouse,sku,qty`).

    One row per order line; rows of one order share customer and warehouse.
    Warehouses named are created; an order number already in the ledger is a bad row.
    """
    path = Path(path)
    rows, documents = _documents(engine, path, "orders")

    def work(connection: Any) -> ImportSummary:
        warehouses, new_warehouses = bulk.ensure_warehouses(
            connection, (d.warehouse for d in documents.values())
        )
        ordered = list(documents.values())
        ids = bulk.insert_returning_ids(
            connection,
            SalesOrder,
            [
                {
                    "number": d.number,
                    "customer": d.party,
                    "warehouse_id": warehouses[d.warehouse],
                    "status": "open",
                }
                for d in ordered
            ],
        )
        lines = [
            {
                "order_id": order_id,
                "line_no": number,
                "product_id": product_id,
                "qty": qty,
                "qty_shipped": 0,
            }
            for order_id, d in zip(ids, ordered, strict=True)
            for number, (product_id, qty, _cost) in enumerate(d.lines, start=1)
        ]
        bulk.insert_rows(connection, OrderLine, lines)
        return ImportSummary(
            "orders",
            rows.count,
            {"orders": len(ordered), "lines": len(lines), "warehouses": new_warehouses},
        )

    return _write(path, engine, work)


# --- stock (opening balance) -----------------------------------------------------------


def _command_prefixes(connection: Any) -> list[str]:
    """The default command prefix and every station's own."""
    prefixes = {str(OPTIONS["command_prefix"].default)}
    for value in lookup.option_values(connection, "command_prefix"):
        prefixes.add(str(decode("command_prefix", value)))
    return sorted(prefix for prefix in prefixes if prefix)


def _command_prefix(text: str, prefixes: list[str]) -> str | None:
    """The command prefix a scan of `text` would be read by as a command, or None."""
    return next((p for p in prefixes if command_in(text, p) is not None), None)


class _StockRules:
    """Per-product serial rules, the company's serial_charset, the texts a scan reads as
    an item (by serial key) and the stations' command prefixes."""

    def __init__(self, connection: Any) -> None:
        self.products = lookup.catalog(connection)
        self.scope = serial_scope(connection)
        self.charset = serial_charset(connection)
        #: serial key of every SKU, barcode and GTIN-14 -> "the barcode of W-100"
        self.items: dict[str, str] = {}
        for code, what, sku in lookup.item_codes(connection):
            self.items.setdefault(serial_key(code), f"the {what} of {sku}")
        self.prefixes = _command_prefixes(connection)

    def check(
        self, values: list[str], problems: list[str]
    ) -> tuple[lookup.CatalogProduct | None, str, Decimal | None]:
        """The row's product, serial key and cost; problems appended."""
        sku, serial, warehouse, bin_, cost_text = values
        _text(problems, "sku", sku, 64)
        _text(problems, "warehouse", warehouse, 64)
        _text(problems, "bin", bin_, 64, required=False)
        cost = _cost(problems, cost_text)
        product = self.products.get(sku)
        if sku and product is None:
            problems.append(f"unknown SKU {sku!r}")
            return None, "", cost
        if product is None:
            return None, "", cost
        if not product.serialized:
            if serial:
                problems.append(f"{sku} is not serialized; leave serial empty (one row per piece)")
            return product, "", cost
        if not serial:
            problems.append(f"{sku} is serialized; serial is empty")
            return product, "", cost
        reason = serial_problem(serial, self.charset)
        if reason is not None:
            problems.append(reason[0].lower() + reason[1:].rstrip("."))
            return product, "", cost
        size = len(serial)
        exact = product.serial_length
        low, high = product.serial_min_length, product.serial_max_length
        if exact and size != exact:
            problems.append(f"serial {serial!r} has {size} characters; {sku} serials have {exact}")
        elif (low and size < low) or (high and size > high):
            problems.append(
                f"serial {serial!r} has {size} characters; {sku} serials have"
                f" {low or 1} to {high or 64}"
            )
        if product.serial_pattern:
            try:
                fits = fits_format(serial, product.serial_pattern)
            except ValueError as error:  # stored before formats were checked by RE2
                problems.append(f"{sku}'s serial format ({show(product.serial_pattern)}) {error}")
            else:
                if not fits:
                    problems.append(
                        f"serial {serial!r} does not fit {sku}'s serial format"
                        f" ({product.serial_pattern})"
                    )
        key = serial_key(serial)
        item = self.items.get(key) or self.items.get(gtin14(serial) or key)
        if item is not None:
            problems.append(
                f"serial {serial!r} is {item}: a scan of it would select the item, not this unit"
            )
        prefix = _command_prefix(serial, self.prefixes)
        if prefix is not None:
            problems.append(
                f"serial {serial!r} starts with the command prefix {prefix}: a scan of it"
                " would be read as a command"
            )
        return product, key, cost


def _check_existing(
    engine: Engine,
    pending: list[tuple[int, int, str, str]],
    errors: list[RowError],
) -> None:
    """Report rows whose (scope, serial key) a unit in the ledger holds already."""
    if not pending:
        return
    with engine.connect() as connection:
        units = lookup.existing_units(connection, [key for _, _, key, _ in pending])
    held = {(unit.scope_id, unit.serial_key): unit for unit in units}
    for line, scope, key, serial in pending:
        unit = held.get((scope, key))
        if unit is not None:
            errors.append(
                RowError(
                    line,
                    f"serial {serial!r} exists already: {unit.sku}, {unit.status} at"
                    f" {unit.warehouse}/{unit.bin}, received {unit.received_at:%Y-%m-%d}",
                )
            )
    pending.clear()


def import_stock(
    engine: Engine,
    path: str | Path,
    *,
    station: str = "IMPORT",
    user: str | None = None,
) -> ImportSummary:
    """Import an opening balance (`sku,serial,warehouse,bin,unit_cost`).

    A serialized product's row creates one unit (in_stock, origin 'opening') and one
    'adjusted' event with document kind 'opening'; a non-serialized product's row
    (serial empty) adds one piece to its stock level in that warehouse. An empty bin
    means RECEIVING. A serial already in the ledger (per the company's serial scope)
    or twice in the file is a bad row. Warehouses named are created.
    """
    path = Path(path)
    with engine.connect() as connection:
        rules = _StockRules(connection)
    scope = rules.scope
    rows = _Rows(path)
    seen: dict[tuple[int, str], int] = {}
    pending: list[tuple[int, int, str, str]] = []
    warehouses: dict[str, None] = {}  # in the order named: the first may become the default
    for line, values in _rows(path, "stock"):
        rows.count += 1
        problems: list[str] = []
        product, key, _cost_value = rules.check(values, problems)
        if key and product is not None:
            pair = (scope_id(scope, product.id), key)
            earlier = seen.get(pair)
            if earlier is not None:
                where = "" if scope == "global" else f" for {product.sku}"
                problems.append(f"serial {values[1]!r}{where} is also on line {earlier}")
            else:
                seen[pair] = line
                pending.append((line, pair[0], key, values[1]))
        if not rows.bad(line, problems):
            warehouses.setdefault(values[2])
        if len(pending) >= bulk.CHUNK:
            _check_existing(engine, pending, rows.errors)
    _check_existing(engine, pending, rows.errors)
    del seen
    rows.check()

    now = datetime.now(UTC)
    document = f"OPENING-{now:%Y%m%d-%H%M%S}"

    def units(warehouse_ids: dict[str, int], pieces: dict[tuple[int, int], int]) -> Iterator[dict]:
        for _line, values in _rows(path, "stock"):
            problems: list[str] = []
            product, key, cost = rules.check(values, problems)
            if product is None or problems:  # the first pass found it good
                raise _file_error(path, "changed while it was imported; nothing was imported")
            warehouse_id = warehouse_ids[values[2]]
            if not key:
                place = (product.id, warehouse_id)
                pieces[place] = pieces.get(place, 0) + 1
                continue
            yield {
                "product_id": product.id,
                "scope_id": scope_id(scope, product.id),
                "serial": values[1],
                "serial_key": key,
                "status": "in_stock",
                "warehouse_id": warehouse_id,
                "bin": values[3] or DEFAULT_BIN,
                "origin": "opening",
                "unit_cost": cost,
                "received_at": now,
            }

    def work(connection: Any) -> ImportSummary:
        warehouse_ids, new_warehouses = bulk.ensure_warehouses(connection, warehouses)
        pieces: dict[tuple[int, int], int] = {}
        event = {
            "kind": "adjusted",
            "at": now,
            "station": station,
            "user_name": user,
            "document_kind": "opening",
            "document_number": document,
        }
        count = bulk.insert_units(connection, units(warehouse_ids, pieces), event)
        bulk.add_stock(connection, pieces)
        return ImportSummary(
            "stock",
            rows.count,
            {"units": count, "pieces": sum(pieces.values()), "warehouses": new_warehouses},
        )

    return _write(path, engine, work)
