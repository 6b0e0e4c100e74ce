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

import csv
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from station.codes import Code, StationError
from station.db import bulk, lookup
from station.db.ledger import scope_id, serial_charset, serial_scope
from station.db.models import Barcode, OrderLine, POLine, Product, PurchaseOrder, SalesOrder
from station.scanning import gtin14, serial_key, show
from station.serials import serial_problem

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


def _file_error(path: Path, problem: str) -> ImportInvalid:
    return ImportInvalid(path, [], problem)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises zip, XML and key errors for bad files
        raise _file_error(path, f"is not a readable XLSX workbook ({error})") from None
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
            raise _file_error(path, f"is a damaged XLSX workbook ({error})") from None
    finally:
        workbook.close()


def _csv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        try:
            first = file.readline()
            counts = {sep: first.count(sep) for sep in ",;\t"}
            delimiter = max(counts, key=lambda sep: counts[sep])
            file.seek(0)
            reader = csv.reader(file, delimiter=delimiter if counts[delimiter] else ",")
            for row in reader:
                yield reader.line_num, row
        except UnicodeDecodeError:
            raise _file_error(
                path, "is not UTF-8 text; save it as CSV UTF-8 or as an XLSX workbook"
            ) from None
        except csv.Error as error:
            raise _file_error(path, f"is not a readable CSV file ({error})") from None


def _rows(path: Path, kind: str) -> Iterator[tuple[int, list[str]]]:
    """The data rows of an import file as (line, values in HEADERS order), stripped.

    Blank rows are skipped. A file that is missing, not CSV/XLSX, not UTF-8, empty
    or has the wrong header raises `ImportInvalid` with a clear reason.
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
    elif b"\x00" in head:
        raise _file_error(path, "is not a CSV or XLSX file (it holds binary data)")
    else:
        source = _csv_rows(path)
    wanted = ",".join(expected)
    for line, cells in source:
        names = [cell.strip().lower() for cell in cells]
        while names and not names[-1]:
            names.pop()
        if not names:
            continue
        missing = [name for name in expected if name not in names]
        unexpected = [name for name in names if name not in expected]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if missing or unexpected or duplicated:
            found = ",".join(show(name, 30) for name in names[:12])
            raise _file_error(path, f"line {line}: the header must be {wanted} (found {found})")
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
        problems.append(f"{name} {show(value)!r} holds control characters")


def _bool(problems: list[str], name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered not in _FALSE:
        problems.append(f"{name} must be true/false/yes/no/1/0, not {show(value)!r}")
    return False


def _int(problems: list[str], name: str, value: str, low: int, high: int) -> int | None:
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        problems.append(f"{name} must be a whole number, not {show(value)!r}")
        return None
    if not low <= number <= high:
        problems.append(f"{name} must be between {low} and {high}, not {number}")
        return None
    return number


def _cost(problems: list[str], value: str) -> Decimal | None:
    if not value:
        return None
    try:
        cost = Decimal(value)
    except InvalidOperation:
        problems.append(f"unit_cost must be a number, not {show(value)!r}")
        return None
    if not cost.is_finite() or not 0 <= cost <= MAX_COST:
        problems.append(f"unit_cost must be between 0 and {MAX_COST}, not {show(value)!r}")
        return None
    return cost.quantize(Decimal("0.0001")) if cost.as_tuple().exponent < -4 else cost  # type: ignore[operator]


def _pattern(problems: list[str], value: str) -> str | None:
    if not value:
        return None
    if len(value) > 400:
        problems.append("serial_pattern is longer than 400 characters")
        return None
    try:
        re.compile(value)
    except re.error as error:
        problems.append(f"serial_pattern {show(value)!r} is not a regular expression ({error})")
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


def _write(path: Path, engine: Engine, work: Callable[[Any], ImportSummary]) -> ImportSummary:
    """Run `work` in one transaction; a constraint hit (the ledger changed meanwhile)
    becomes `ImportInvalid` and leaves nothing written."""
    try:
        with engine.begin() as connection:
            return work(connection)
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
        taken = (
            lookup.po_ids(connection, documents)
            if kind == "pos"
            else lookup.order_ids(connection, documents)
        )
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


class _StockRules:
    """Per-product serial rules, compiled once, and the company's serial_charset."""

    def __init__(
        self, products: dict[str, lookup.CatalogProduct], scope: str, charset: str
    ) -> None:
        self.products = products
        self.scope = scope
        self.charset = charset
        self.patterns = {
            p.sku: re.compile(p.serial_pattern) for p in products.values() if p.serial_pattern
        }

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
        pattern = self.patterns.get(sku)
        if pattern is not None and not pattern.fullmatch(serial):
            problems.append(
                f"serial {serial!r} does not fit {sku}'s serial format ({product.serial_pattern})"
            )
        return product, serial_key(serial), cost


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
        scope = serial_scope(connection)
        rules = _StockRules(lookup.catalog(connection), scope, serial_charset(connection))
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
