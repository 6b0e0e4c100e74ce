"""Excel exports, one row per serial (SPEC §7): serials, arrivals and shipments.

Rows stream from the database (a server-side cursor on PostgreSQL) into an openpyxl
write-only workbook, so a million serials never sit in memory at once. The file is
written next to `out_path` and renamed into place only when complete, and never over the
ledger, a journal or anything else of the station's (`station.files.write_atomically`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from operator import itemgetter
from pathlib import Path
from typing import IO, Any
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter
from sqlalchemy import Engine, Row

from station.codes import Code, StationError
from station.db import lookup
from station.db.engine import ledger_files, reading
from station.db.models import UNIT_STATUSES
from station.files import write_atomically

#: What each export holds: serials = every unit, arrivals = units received on a
#: receipt, shipments = shipped units.
EXPORT_KINDS = ("serials", "arrivals", "shipments")
#: The columns of every export, in order: header, and the `lookup.UnitRecord` field shown.
_COLUMNS = (
    ("SKU", "sku"),
    ("Product", "product"),
    ("Serial", "serial"),
    ("Status", "status"),
    ("Warehouse", "warehouse"),
    ("Bin", "bin"),
    ("PO", "po"),
    ("Vendor", "vendor"),
    ("Unit cost", "unit_cost"),
    ("Received at (UTC)", "received_at"),
    ("Received by", "received_by"),
    ("Order", "order"),
    ("Customer", "customer"),
    ("Shipped at (UTC)", "shipped_at"),
    ("Shipped by", "shipped_by"),
    ("Returned on (RMA)", "rma"),
    ("Returned to vendor on (RTV)", "rtv"),
)
COLUMNS = tuple(header for header, _ in _COLUMNS)
_WIDTHS = (14, 30, 22, 12, 11, 10, 12, 22, 10, 20, 14, 12, 24, 20, 14, 14, 14)
#: The shown fields of a `lookup.unit_rows` row, picked by name: the positions of those
#: names among its columns are looked up once, not per row (a million rows).
_PICK = itemgetter(*(lookup.UNIT_FIELDS.index(field) for _, field in _COLUMNS))
_RECEIVED_AT = COLUMNS.index("Received at (UTC)")
_SHIPPED_AT = COLUMNS.index("Shipped at (UTC)")


@dataclass(frozen=True, slots=True)
class ExportFilters:
    """Narrow an export: SKU, warehouse code, unit status, and a date range (UTC days,
    both ends included) on received at — shipped at for shipments."""

    sku: str | None = None
    warehouse: str | None = None
    status: str | None = None
    date_from: date | str | None = None
    date_to: date | str | None = None


class ExportFilterInvalid(StationError, ValueError):
    """A filter value that cannot be used (a bad date, an unknown status or kind)."""

    def __init__(self, message: str) -> None:
        super().__init__(Code.EXPORT_INVALID, message)


def parse_date(value: str | date) -> date:
    """A `--from`/`--to` value: a date or YYYY-MM-DD text."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ExportFilterInvalid(f"{value!r} is not a date; write it as YYYY-MM-DD") from None


def _filters(filters: ExportFilters | Mapping[str, Any] | None) -> ExportFilters:
    if filters is None:
        return ExportFilters()
    if isinstance(filters, ExportFilters):
        given = filters
    else:
        unknown = set(filters) - set(ExportFilters.__dataclass_fields__)
        if unknown:
            raise ExportFilterInvalid(f"unknown export filter(s): {', '.join(sorted(unknown))}")
        given = ExportFilters(**{key: value or None for key, value in filters.items()})
    if given.status is not None and given.status not in UNIT_STATUSES:
        raise ExportFilterInvalid(
            f"unknown status {given.status!r}; choose one of {', '.join(UNIT_STATUSES)}"
        )
    return ExportFilters(
        given.sku,
        given.warehouse,
        given.status,
        parse_date(given.date_from) if given.date_from else None,
        parse_date(given.date_to) if given.date_to else None,
    )


def _naive_utc(moment: datetime | None) -> datetime | None:
    """Excel has no time zones: UTC wall time without tzinfo."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _cells(rows: Iterable[Row[Any]]) -> Iterator[list[Any]]:
    """The cells of each row of `lookup.unit_rows`, in COLUMNS order."""
    for row in rows:
        cells = list(_PICK(row))
        received, shipped = cells[_RECEIVED_AT], cells[_SHIPPED_AT]
        if received is not None and received.tzinfo is not None:
            cells[_RECEIVED_AT] = _naive_utc(received)
        if shipped is not None and shipped.tzinfo is not None:
            cells[_SHIPPED_AT] = _naive_utc(shipped)
        yield cells


def write_xlsx(
    out_path: str | Path,
    title: str,
    rows: Iterable[list[Any]],
    protected: Mapping[Path, str] | None = None,
) -> int:
    """Write `rows` under the COLUMNS header to a write-only workbook; rows written."""
    return write_rows_xlsx(
        out_path, COLUMNS, rows, title=title, widths=_WIDTHS, protected=protected
    )


#: An export tells its progress every this many rows.
PROGRESS_ROWS = 500


def write_rows_xlsx(
    out_path: str | Path,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str = "Serials",
    widths: Sequence[int] = (),
    protected: Mapping[Path, str] | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> int:
    """Write a header and rows to a write-only workbook; returns the rows written.
    `progress(rows written, rows)` is told every `PROGRESS_ROWS` rows (rows: 0 when
    `rows` has no length).

    The file is written whole or not at all, and only where `write_atomically` allows
    (never over `protected` files or the station's data): else EXPORT_FAILED.
    Text that starts with "=" is stored as text, never as a formula: a serial or a
    customer name such as `=HYPERLINK(…)` cannot run in the reader's Excel.
    """

    def write(out: IO[bytes]) -> int:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title)
        for index, width in enumerate(widths):
            sheet.column_dimensions[get_column_letter(index + 1)].width = width
        sheet.freeze_panes = "A2"
        sheet.append(list(header))
        count = 0
        archive = ZipFile(out, "w", ZIP_DEFLATED, allowZip64=True)
        total = len(rows) if isinstance(rows, Sized) else 0
        try:
            for cells in rows:
                sheet.append([_as_text(sheet, value) for value in cells])
                count += 1
                if progress is not None and count % PROGRESS_ROWS == 0:
                    progress(count, total)
            ExcelWriter(workbook, archive).save()  # openpyxl's save_workbook, but
        except BaseException:  # what it leaves open is closed here, quietly
            _discard(sheet, archive)
            raise
        return count

    return write_atomically(out_path, write, protected=protected)


def _discard(sheet: Any, archive: ZipFile) -> None:
    """After a failed write (a full disk, a lost database): end the sheet's row stream,
    remove its temporary file and close the archive now, quietly. Left to the garbage
    collector, each fails again on its closed file and says so on stderr."""
    rows, writer = getattr(sheet, "_rows", None), getattr(sheet, "_writer", None)
    with contextlib.suppress(Exception):
        if rows is not None:
            rows.close()
    with contextlib.suppress(Exception):
        if writer is not None:
            writer.cleanup()
    with contextlib.suppress(Exception):
        archive.close()


def _as_text(sheet: Any, value: Any) -> Any:
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"
        return cell
    return value


def export(
    engine: Engine,
    kind: str,
    out_path: str | Path,
    filters: ExportFilters | Mapping[str, Any] | None = None,
) -> int:
    """Export `kind` (serials, arrivals or shipments) to an XLSX file, one row per
    serial; returns the number of rows written.

    Columns: SKU, product, serial, status, warehouse, bin, PO, vendor, unit cost,
    received at/by, order, customer, shipped at/by (times in UTC). `filters` is an
    ExportFilters or a mapping with its field names (dates as YYYY-MM-DD text or
    dates). A bad kind, status or date raises ExportFilterInvalid (a StationError); a
    file that cannot or may not be written, EXPORT_FAILED.
    """
    if kind not in EXPORT_KINDS:
        raise ExportFilterInvalid(
            f"unknown export {kind!r}; choose one of {', '.join(EXPORT_KINDS)}"
        )
    chosen = _filters(filters)
    start = datetime.combine(chosen.date_from, time(), UTC) if chosen.date_from else None
    end = (
        datetime.combine(chosen.date_to + timedelta(days=1), time(), UTC)
        if chosen.date_to
        else None
    )
    with reading(engine).connect() as connection:  # a reader: never waits for a writer
        rows = lookup.unit_rows(
            connection,
            kind,
            sku=chosen.sku,
            warehouse=chosen.warehouse,
            status=chosen.status,
            start=start,
            end=end,
        )
        return write_xlsx(out_path, kind.capitalize(), _cells(rows), ledger_files(engine))
