"""The catalog: products with their barcodes and serial rules, and warehouses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    literal,
    or_,
    select,
    union_all,
)

from station.db.bulk import IN_CHUNK, chunked
from station.db.models import (
    Barcode,
    Warehouse,
)
from station.db.models import Product as ProductRow
from station.documents import Product

# --- products -----------------------------------------------------------------------


def products_by_id(connection: Connection, ids: Iterable[int]) -> dict[int, Product]:
    ids = list(set(ids))
    if not ids:
        return {}
    codes: dict[int, list[tuple[str, str | None]]] = {i: [] for i in ids}
    for product_id, code, gtin in connection.execute(
        select(Barcode.product_id, Barcode.code, Barcode.gtin)
        .where(Barcode.product_id.in_(ids))
        .order_by(Barcode.id)
    ):
        codes[product_id].append((code, gtin))
    rows = connection.execute(select(ProductRow.__table__).where(ProductRow.id.in_(ids))).all()
    return {
        row.id: Product(
            id=row.id,
            sku=row.sku,
            name=row.name,
            serialized=row.serialized,
            serial_length=row.serial_length,
            serial_min_length=row.serial_min_length,
            serial_max_length=row.serial_max_length,
            serial_pattern=row.serial_pattern,
            barcodes=tuple(code for code, _ in codes[row.id]),
            gtins=tuple(gtin for _, gtin in codes[row.id] if gtin),
        )
        for row in rows
    }


def serialized_products(connection: Connection) -> list[Product]:
    """Every serialized product with its serial rules (no barcodes), in SKU order."""
    rows = connection.execute(
        select(
            ProductRow.id,
            ProductRow.sku,
            ProductRow.name,
            ProductRow.serialized,
            ProductRow.serial_length,
            ProductRow.serial_min_length,
            ProductRow.serial_max_length,
            ProductRow.serial_pattern,
        )
        .where(ProductRow.serialized)
        .order_by(ProductRow.sku)
    )
    return [Product(*row) for row in rows]


_PRODUCT_BY_CODE: dict[bool, Any] = {}


def _product_by_code(gtin: bool) -> Any:
    """The look-up `product_by_code` runs, built once (a scan only binds its values)."""
    if gtin not in _PRODUCT_BY_CODE:
        code = Barcode.code == bindparam("code")
        condition = or_(code, Barcode.gtin == bindparam("gtin")) if gtin else code
        by_barcode = select(Barcode.product_id).where(condition)
        by_sku = select(ProductRow.id).where(ProductRow.sku == bindparam("code"))
        _PRODUCT_BY_CODE[gtin] = union_all(by_barcode, by_sku).limit(1)
    return _PRODUCT_BY_CODE[gtin]


def product_by_code(connection: Connection, code: str, gtin: str | None) -> Product | None:
    """The product whose SKU, barcode or GTIN-14 is `code` (any product in the catalog)."""
    values = {"code": code, "gtin": gtin} if gtin else {"code": code}
    product_id = connection.scalar(_product_by_code(bool(gtin)), values)
    if product_id is None:
        return None
    return products_by_id(connection, [product_id])[product_id]


_PRODUCTS_BY_CODES: Any = None


def products_by_codes(
    connection: Connection, codes: Iterable[str], gtins: Mapping[str, str]
) -> dict[str, Product | None]:
    """`product_by_code` for many codes in one query: each code's product, or None.
    `gtins` maps a code to its GTIN-14 form where it has one."""
    global _PRODUCTS_BY_CODES
    if _PRODUCTS_BY_CODES is None:
        codes_in = bindparam("codes", expanding=True)
        _PRODUCTS_BY_CODES = union_all(
            select(literal(0), Barcode.code, Barcode.product_id).where(Barcode.code.in_(codes_in)),
            select(literal(1), Barcode.gtin, Barcode.product_id).where(
                Barcode.gtin.in_(bindparam("gtins", expanding=True))
            ),
            select(literal(2), ProductRow.sku, ProductRow.id).where(ProductRow.sku.in_(codes_in)),
        )
    codes = sorted(set(codes))
    found: dict[str, int] = {}
    by_gtin: dict[str, list[str]] = {}
    for code in codes:
        if code in gtins:
            by_gtin.setdefault(gtins[code], []).append(code)
    for part in chunked(codes, IN_CHUNK):
        wanted = sorted({gtins[code] for code in part if code in gtins})
        rows = connection.execute(_PRODUCTS_BY_CODES, {"codes": part, "gtins": wanted}).all()
        for rank, value, product_id in sorted(rows, key=lambda row: row[0]):  # barcodes first
            for code in by_gtin.get(value, []) if rank == 1 else [value]:
                found.setdefault(code, product_id)
    products = products_by_id(connection, set(found.values())) if found else {}
    return {code: products[found[code]] if code in found else None for code in codes}


def warehouse_by_code(connection: Connection, code: str) -> int | None:
    return connection.scalar(select(Warehouse.id).where(Warehouse.code == code))


def warehouses(connection: Connection) -> list[str]:
    """Every warehouse's code, in code order."""
    return list(connection.scalars(select(Warehouse.code).order_by(Warehouse.code)))


def first_warehouse(connection: Connection) -> tuple[int, str] | None:
    row = connection.execute(select(Warehouse.id, Warehouse.code).order_by(Warehouse.id)).first()
    return None if row is None else (row[0], row[1])
