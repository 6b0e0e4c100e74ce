"""The products import (catalog): SKUs, names, barcodes and serial rules, checked so
that no code a scan reads would name two products (SPEC §3.0 step 4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from station.codes import Code
from station.db import bulk, lookup
from station.db.models import Barcode, Product
from station.imports import checks, files
from station.imports.checks import ImportInvalid, RowError, Rows
from station.imports.writing import ImportSummary, write
from station.scanning import gtin14

#: The columns of the file (SPEC §7); they may come in any order.
HEADER = ("sku", "name", "barcodes", "serialized", "serial_length", "serial_pattern")
#: The tables the import fills: analyzed once it committed (bulk.analyze).
FILLS = ("products", "barcodes")


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
    rows = Rows(path)
    products: list[_ProductRow] = []
    skus: dict[str, int] = {}
    codes: dict[str, tuple[int, str]] = {}  # code or GTIN-14 -> (line, sku)
    for line, (sku, name, barcodes, serialized, length, pattern) in files.rows(path, HEADER):
        rows.count += 1
        problems: list[str] = []
        checks.text(problems, "sku", sku, 64)
        checks.text(problems, "name", name, 200)
        is_serialized = checks.boolean(problems, "serialized", serialized)
        serial_length = checks.whole_number(problems, "serial_length", length, 1, 64)
        serial_pattern = checks.serial_pattern(problems, pattern)
        if not is_serialized and (serial_length or serial_pattern):
            problems.append("serial_length and serial_pattern need serialized true")
        if sku in skus:
            problems.append(f"SKU {sku!r} is also on line {skus[sku]}")
        skus.setdefault(sku, line)
        row_codes: list[str] = []
        for code in (part.strip() for part in barcodes.split(";")):
            if not code:
                continue
            checks.text(problems, "barcode", code, 64)
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
        prefixes = checks.command_prefixes(connection)
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
            prefix = checks.command_prefix(code, prefixes)
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

    return write(path, engine, FILLS, work)


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
