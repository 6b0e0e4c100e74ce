"""Reading an import file (SPEC §7): CSV in UTF-8 (comma, semicolon or tab) or an XLSX
workbook, told apart by their first bytes, each line and field bounded, then the header
matched to the import's columns in any order."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from station.imports.checks import file_error
from station.imports.workbook import xlsx_rows
from station.scanning import show

#: A CSV line (its physical line: a quoted field may span several) or field longer than
#: this is refused with its line number, before it is held in memory.
MAX_LINE = 1 << 20
#: csv's own limit on one field (its default): far above any column's limit.
MAX_FIELD = 131_072
_MB = 1 << 20


def rows(path: Path, header: tuple[str, ...]) -> Iterator[tuple[int, list[str]]]:
    """The data rows of an import file as (line, values in `header` order), stripped.

    Blank rows are skipped. A file that is missing, not CSV/XLSX, not UTF-8, empty,
    too large or has the wrong header raises `ImportInvalid` with a clear reason.
    """
    try:
        with path.open("rb") as file:
            head = file.read(4096)
    except OSError as error:
        raise file_error(path, f"cannot be read ({error.strerror or error})") from None
    if head.startswith(b"PK\x03\x04"):
        source = xlsx_rows(path)
    elif head.startswith(b"\xd0\xcf\x11\xe0"):
        raise file_error(path, "is an old Excel .xls workbook; save it as .xlsx or CSV")
    elif (problem := _encoding_problem(head)) is not None:
        raise file_error(path, problem)
    else:
        source = _csv_rows(path)
    wanted = ",".join(header)
    for line, cells in source:
        names = [cell.strip().lower() for cell in cells]
        while names and not names[-1]:
            names.pop()
        if not names:
            continue
        if len(names) != len(header) or set(names) != set(header):  # linear in columns
            found = ",".join(show(name, 30) for name in names[:12])
            more = f",… ({len(names):,} columns)" if len(names) > 12 else ""
            raise file_error(
                path, f"line {line}: the header must be {wanted} (found {found}{more})"
            )
        positions = [names.index(name) for name in header]
        break
    else:
        raise file_error(path, f"is empty; the first line must be the header {wanted}")
    for line, cells in source:
        values = [cells[i].strip() if i < len(cells) else "" for i in positions]
        if any(values) or any(cell.strip() for cell in cells):
            yield line, values


def _lines(path: Path, file: TextIO) -> Iterator[str]:
    """The physical lines of a CSV file, each at most MAX_LINE characters and without NUL."""
    number = 0
    while line := file.readline(MAX_LINE):
        number += 1
        if len(line) == MAX_LINE and not line.endswith(("\n", "\r")):
            raise file_error(
                path,
                f"is not a readable CSV file: line {number} is longer than {MAX_LINE:,} characters",
            )
        if "\x00" in line:
            raise file_error(
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
            raise file_error(
                path,
                f"is not UTF-8 text (line {line} holds {which}); save it as CSV UTF-8 or as an"
                " XLSX workbook",
            ) from None
        except csv.Error as error:
            line = reader.line_num if reader is not None else 1
            reason = str(error)
            if "field larger than field limit" in reason:
                reason = f"a field is longer than {MAX_FIELD:,} characters"
            raise file_error(path, f"is not a readable CSV file (line {line}: {reason})") from None


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
