"""The stock import (an opening balance): units of serialized products, pieces of the
others. It streams: a first pass checks every row with in-memory sets and chunked serial
look-ups, a second inserts units and their events in chunks, so a million rows take
about a minute and little memory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from station.db import bulk, lookup
from station.db.company import scope_id, serial_charset, serial_scope
from station.imports import checks, files
from station.imports.checks import RowError, Rows, file_error
from station.imports.writing import ImportSummary, write
from station.scanning import gtin14, serial_key, show
from station.serials import fits_format, serial_problem

#: The columns of the file (SPEC §7); they may come in any order.
HEADER = ("sku", "serial", "warehouse", "bin", "unit_cost")
#: The tables the import fills: analyzed once it committed (bulk.analyze).
FILLS = ("units", "events", "stock_levels", "warehouses")
#: The bin of opening-balance units whose row leaves `bin` empty.
DEFAULT_BIN = "RECEIVING"


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
        self.prefixes = checks.command_prefixes(connection)

    def check(
        self, values: list[str], problems: list[str]
    ) -> tuple[lookup.CatalogProduct | None, str, Decimal | None]:
        """The row's product, serial key and cost; problems appended."""
        sku, serial, warehouse, bin_, cost_text = values
        checks.text(problems, "sku", sku, 64)
        checks.text(problems, "warehouse", warehouse, 64)
        checks.text(problems, "bin", bin_, 64, required=False)
        cost = checks.cost(problems, cost_text)
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
        prefix = checks.command_prefix(serial, self.prefixes)
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
    rows = Rows(path)
    seen: dict[tuple[int, str], int] = {}
    pending: list[tuple[int, int, str, str]] = []
    warehouses: dict[str, None] = {}  # in the order named: the first may become the default
    for line, values in files.rows(path, HEADER):
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
        for _line, values in files.rows(path, HEADER):
            problems: list[str] = []
            product, key, cost = rules.check(values, problems)
            if product is None or problems:  # the first pass found it good
                raise file_error(path, "changed while it was imported; nothing was imported")
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

    return write(path, engine, FILLS, work)
