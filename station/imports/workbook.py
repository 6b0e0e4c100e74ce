"""Reading an XLSX workbook's first worksheet, with bounds: the zip's directory, each
part's unpacked size and packing ratio, entity declarations and the longest text and row
are checked before openpyxl parses anything, so a hostile or damaged workbook is refused
with a reason instead of exhausting memory."""

from __future__ import annotations

import math
import struct
import zipfile
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO
from xml.etree import ElementTree

import openpyxl

from station.imports.checks import ImportInvalid, file_error

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
                        raise file_error(
                            path,
                            f"is too large to import: {what} ({name}) unpacks to"
                            f" {_megabytes(size)}, more than {_megabytes(limit)}; split the"
                            " file or save it as CSV",
                        )
                    if size > _MB and size > MAX_XLSX_RATIO * part.compress_size:
                        raise file_error(
                            path,
                            f"is not a workbook Station reads: {name} unpacks"
                            f" {size // max(part.compress_size, 1):,} times larger than it is"
                            f" packed (at most {MAX_XLSX_RATIO}; a zip bomb?)",
                        )
                if total > MAX_XLSX_TOTAL:
                    raise file_error(
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
        raise file_error(path, f"is not a readable XLSX workbook ({error})") from None


def _check_directory(path: Path, file: BinaryIO) -> None:
    """The zip's end record: its directory must be small (ZipFile builds an object per
    part it lists)."""
    file.seek(0, 2)
    size = file.tell()
    file.seek(max(0, size - 65_557))  # the end record and its longest comment
    tail = file.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise file_error(path, "is not a readable XLSX workbook (no zip directory)")
    entries, directory = struct.unpack_from("<HL", tail, at + 10)
    if entries == 0xFFFF or directory > MAX_XLSX_DIRECTORY:
        raise file_error(
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
        raise file_error(path, "is not a readable XLSX workbook (it has no [Content_Types].xml)")
    if manifest.file_size > MAX_XLSX_MANIFEST:
        raise file_error(
            path,
            f"is not a workbook Station reads: its [Content_Types].xml unpacks to"
            f" {_megabytes(manifest.file_size)}, more than {_megabytes(MAX_XLSX_MANIFEST)}",
        )
    data = archive.read(manifest)
    if b"<!DOCTYPE" in data:
        raise file_error(
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
            raise file_error(
                path,
                f"is not a workbook Station reads: {part.filename} declares a DOCTYPE"
                " (entities), which spreadsheets never do",
            )
        while chunk and kind != "part":
            text, ended = _run(chunk, b"<", text)
            if max(text, ended) > MAX_XLSX_TEXT:
                raise file_error(
                    path,
                    f"is not a workbook Station reads: {part.filename} holds a text of more"
                    f" than {_megabytes(MAX_XLSX_TEXT)} (a cell holds at most 32,767"
                    " characters)",
                )
            row, ended = _run(chunk, b"row", row) if kind == "sheet" else (0, 0)
            if max(row, ended) > MAX_XLSX_ROW:
                raise file_error(
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


def xlsx_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    _check_workbook(path)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises zip, XML and key errors for bad files
        raise file_error(path, f"is not a readable XLSX workbook ({_first(error)})") from None
    try:
        if not workbook.worksheets:
            raise file_error(path, "has no worksheet")
        sheet = workbook.worksheets[0]
        try:
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, [_cell(value) for value in row]
        except ImportInvalid:
            raise
        except Exception as error:  # a damaged sheet inside a readable zip
            raise file_error(path, f"is a damaged XLSX workbook ({_first(error)})") from None
    finally:
        workbook.close()


def _first(error: BaseException) -> str:
    """An error's first line, with the error it was raised from (openpyxl wraps XML
    errors in a ValueError of several lines)."""
    cause = error.__cause__
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"{text}: {cause}" if cause is not None else text
