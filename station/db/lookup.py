"""Read queries for imports, exports, trace and the demo.

Large reads stream: `unit_rows` yields rows from a server-side cursor on PostgreSQL
(and SQLite's own incremental cursor), never a whole result in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Connection, Row, Select, bindparam, func, select
from sqlalchemy.orm import aliased

from station.db.bulk import IN_CHUNK, chunked
from station.db.models import (
    DOCUMENT_TABLES,
    Barcode,
    Event,
    OrderLine,
    POLine,
    Product,
    PurchaseOrder,
    Receipt,
    Rma,
    Rtv,
    SalesOrder,
    Shipment,
    StationOption,
    StockLevel,
    Unit,
    Vendor,
    Warehouse,
)


@dataclass(frozen=True, slots=True)
class CatalogProduct:
    id: int
    sku: str
    name: str
    serialized: bool
    serial_length: int | None
    serial_min_length: int | None
    serial_max_length: int | None
    serial_pattern: str | None


def catalog(connection: Connection) -> dict[str, CatalogProduct]:
    """Every product by SKU."""
    rows = connection.execute(
        select(
            Product.id,
            Product.sku,
            Product.name,
            Product.serialized,
            Product.serial_length,
            Product.serial_min_length,
            Product.serial_max_length,
            Product.serial_pattern,
        )
    )
    return {row.sku: CatalogProduct(*row) for row in rows}


def warehouses(connection: Connection) -> dict[str, int]:
    """Warehouse ids by code."""
    return dict(connection.execute(select(Warehouse.code, Warehouse.id)).all())


def barcode_owners(
    connection: Connection, codes: Iterable[str], gtins: Iterable[str]
) -> dict[str, str]:
    """SKU of the product holding each of these codes or GTIN-14 forms, by code/GTIN."""
    owners: dict[str, str] = {}
    for part in chunked(sorted(set(codes)), IN_CHUNK):
        query = (
            select(Barcode.code, Product.sku)
            .join(Product, Product.id == Barcode.product_id)
            .where(Barcode.code.in_(part))
        )
        owners.update((code, sku) for code, sku in connection.execute(query))
    for part in chunked(sorted(set(gtins)), IN_CHUNK):
        query = (
            select(Barcode.gtin, Product.sku)
            .join(Product, Product.id == Barcode.product_id)
            .where(Barcode.gtin.in_(part))
        )
        owners.update((gtin, sku) for gtin, sku in connection.execute(query) if gtin)
    return owners


def skus_among(connection: Connection, texts: Iterable[str]) -> set[str]:
    """The SKUs in the catalog equal to any of these texts."""
    found: set[str] = set()
    for part in chunked(sorted(set(texts)), IN_CHUNK):
        found.update(connection.scalars(select(Product.sku).where(Product.sku.in_(part))))
    return found


def item_codes(connection: Connection) -> Iterator[tuple[str, str, str]]:
    """Every text a scan resolves to an item by, as (text, what it is, SKU): each
    product's SKU, barcodes and their GTIN-14 forms."""
    for (sku,) in connection.execute(select(Product.sku)):
        yield sku, "SKU", sku
    query = select(Barcode.code, Barcode.gtin, Product.sku).join(
        Product, Product.id == Barcode.product_id
    )
    for code, gtin, sku in connection.execute(query):
        yield code, "barcode", sku
        if gtin:
            yield gtin, "barcode", sku


def option_values(connection: Connection, key: str) -> set[str]:
    """The JSON-encoded values stations hold for option `key` (absent: the default)."""
    return set(
        connection.scalars(select(StationOption.value).where(StationOption.key == key).distinct())
    )


def product_barcodes(connection: Connection, product_ids: Iterable[int]) -> set[tuple[int, str]]:
    """(product_id, code) of every barcode of these products."""
    found: set[tuple[int, str]] = set()
    for part in chunked(sorted(set(product_ids)), IN_CHUNK):
        query = select(Barcode.product_id, Barcode.code).where(Barcode.product_id.in_(part))
        found.update((pid, code) for pid, code in connection.execute(query))
    return found


def document_ids(connection: Connection, kind: str, numbers: Iterable[str]) -> dict[str, int]:
    """Ids of the documents of `kind` ('po' or 'order') with these numbers, by number
    (missing ones left out)."""
    table = DOCUMENT_TABLES[kind].header
    found: dict[str, int] = {}
    for part in chunked(sorted(set(numbers)), IN_CHUNK):
        query = select(table.number, table.id).where(table.number.in_(part))
        found.update((number, id_) for number, id_ in connection.execute(query))
    return found


@dataclass(frozen=True, slots=True)
class ExistingUnit:
    scope_id: int
    serial_key: str
    sku: str
    status: str
    warehouse: str
    bin: str
    received_at: datetime


def existing_units(connection: Connection, keys: Sequence[str]) -> list[ExistingUnit]:
    """Units holding any of these serial keys (the caller filters by scope)."""
    found: list[ExistingUnit] = []
    for part in chunked(sorted(set(keys)), IN_CHUNK):
        query = (
            select(
                Unit.scope_id,
                Unit.serial_key,
                Product.sku,
                Unit.status,
                Warehouse.code,
                Unit.bin,
                Unit.received_at,
            )
            .join(Product, Product.id == Unit.product_id)
            .join(Warehouse, Warehouse.id == Unit.warehouse_id)
            .where(Unit.serial_key.in_(part))
        )
        found.extend(ExistingUnit(*row) for row in connection.execute(query))
    return found


def receipt_id(connection: Connection, number: str) -> int | None:
    return connection.scalar(select(Receipt.id).where(Receipt.number == number))


def document_line_ids(connection: Connection, kind: str, number: str) -> dict[str, int]:
    """Line ids of the document of `kind` ('po' or 'order') with this number, by SKU."""
    tables = DOCUMENT_TABLES[kind]
    query = (
        select(Product.sku, tables.lines.id)
        .join(Product, Product.id == tables.lines.product_id)
        .join(tables.header, tables.header.id == tables.link)
        .where(tables.header.number == number)
    )
    return dict(connection.execute(query).all())


# --- units with their documents (export, trace) ---------------------------------------


@dataclass(frozen=True, slots=True)
class UnitRecord:
    """One unit with its product, place, PO, vendor, receipt, order and shipment: what an
    export row, a trace and a document's list of units show (a row of `unit_query`)."""

    sku: str
    product: str
    serial: str
    status: str
    warehouse: str
    bin: str
    po: str | None
    vendor: str | None
    unit_cost: Decimal | None
    received_at: datetime | None
    received_by: str | None
    order: str | None
    customer: str | None
    shipped_at: datetime | None
    shipped_by: str | None
    rma: str | None  # the customer return that last brought it back
    rtv: str | None  # the supplier return that sent it back to its vendor
    receipt: str | None
    shipment: str | None
    origin: str
    unit_id: int


#: The names of `unit_query`'s columns (its labels), in order: `UnitRecord`'s fields.
UNIT_FIELDS = tuple(field.name for field in fields(UnitRecord))


def unit_query(*, few: bool = False) -> Select[Any]:
    """Every unit with its product, place, PO, vendor, receipt, order and shipment, each
    column labelled with its `UnitRecord` field name.

    `few`: the documents' columns as subqueries of each unit's references, not joins,
    for a statement that reads a few units (a serial's): PostgreSQL then plans no join
    order over seven more tables, a few milliseconds per statement it has not cached."""
    columns: dict[str, Any] = {
        "sku": Product.sku,
        "product": Product.name,
        "serial": Unit.serial,
        "status": Unit.status,
        "warehouse": Warehouse.code,
        "bin": Unit.bin,
        "po": PurchaseOrder.number,
        "vendor": Vendor.name,
        "unit_cost": Unit.unit_cost,
        "received_at": Unit.received_at,
        "received_by": func.coalesce(Receipt.user_name, Receipt.station),
        "order": SalesOrder.number,
        "customer": SalesOrder.customer,
        "shipped_at": Unit.shipped_at,
        "shipped_by": func.coalesce(Shipment.user_name, Shipment.station),
        "rma": Rma.number,
        "rtv": Rtv.number,
        "receipt": Receipt.number,
        "shipment": Shipment.number,
        "origin": Unit.origin,
        "unit_id": Unit.id,
    }
    query = (
        select()
        .select_from(Unit)
        .join(Product, Product.id == Unit.product_id)
        .join(Warehouse, Warehouse.id == Unit.warehouse_id)
    )
    if few:
        of_po = POLine.id == Unit.po_line_id
        of_order = OrderLine.id == Unit.order_line_id
        by: dict[str, Select[Any]] = {
            "po": select(PurchaseOrder.number).join(POLine, POLine.po_id == PurchaseOrder.id),
            "vendor": select(Vendor.name)
            .join(PurchaseOrder, PurchaseOrder.vendor_id == Vendor.id)
            .join(POLine, POLine.po_id == PurchaseOrder.id),
            "received_by": select(columns["received_by"]),
            "order": select(SalesOrder.number).join(OrderLine, OrderLine.order_id == SalesOrder.id),
            "customer": select(SalesOrder.customer).join(
                OrderLine, OrderLine.order_id == SalesOrder.id
            ),
            "shipped_by": select(columns["shipped_by"]),
            "receipt": select(Receipt.number),
            "shipment": select(Shipment.number),
            "rma": select(Rma.number),
            "rtv": select(Rtv.number),
        }
        where = {
            "po": of_po,
            "vendor": of_po,
            "received_by": Receipt.id == Unit.receipt_id,
            "order": of_order,
            "customer": of_order,
            "shipped_by": Shipment.id == Unit.shipment_id,
            "receipt": Receipt.id == Unit.receipt_id,
            "shipment": Shipment.id == Unit.shipment_id,
            "rma": Rma.id == Unit.rma_id,
            "rtv": Rtv.id == Unit.rtv_id,
        }
        for name, subquery in by.items():
            columns[name] = subquery.where(where[name]).scalar_subquery()
    else:
        query = (
            query.outerjoin(POLine, POLine.id == Unit.po_line_id)
            .outerjoin(PurchaseOrder, PurchaseOrder.id == POLine.po_id)
            .outerjoin(Vendor, Vendor.id == PurchaseOrder.vendor_id)
            .outerjoin(Receipt, Receipt.id == Unit.receipt_id)
            .outerjoin(OrderLine, OrderLine.id == Unit.order_line_id)
            .outerjoin(SalesOrder, SalesOrder.id == OrderLine.order_id)
            .outerjoin(Shipment, Shipment.id == Unit.shipment_id)
            .outerjoin(Rma, Rma.id == Unit.rma_id)
            .outerjoin(Rtv, Rtv.id == Unit.rtv_id)
        )
    return query.add_columns(*(columns[name].label(name) for name in UNIT_FIELDS))


def unit_records(rows: Iterable[Row[Any]]) -> list[UnitRecord]:
    """`UnitRecord`s of rows of `unit_query` (its labels are the record's fields, in order)."""
    return [UnitRecord(*row) for row in rows]


def unit_rows(
    connection: Connection,
    kind: str,
    *,
    sku: str | None = None,
    warehouse: str | None = None,
    status: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    batch: int = 5000,
) -> Iterator[Row[Any]]:
    """Stream rows of `unit_query` for an export of `kind` (serials, arrivals or
    shipments); each names its columns as `UnitRecord` does (`row.serial`, `row.bin`).

    arrivals are units received on a receipt, shipments units shipped; `start`
    (inclusive) and `end` (exclusive) bound received_at, or shipped_at for shipments.
    """
    query = unit_query()
    moment = Unit.received_at
    if kind == "arrivals":
        query = query.where(Unit.receipt_id.is_not(None))
    elif kind == "shipments":
        query = query.where(Unit.status == "shipped", Unit.shipped_at.is_not(None))
        moment = Unit.shipped_at
    if sku is not None:
        query = query.where(Product.sku == sku)
    if warehouse is not None:
        query = query.where(Warehouse.code == warehouse)
    if status is not None:
        query = query.where(Unit.status == status)
    if start is not None:
        query = query.where(moment >= start)
    if end is not None:
        query = query.where(moment < end)
    query = query.order_by(moment, Unit.id)
    result = connection.execution_options(stream_results=True, yield_per=batch).execute(query)
    try:
        for partition in result.partitions():
            yield from partition
    finally:
        result.close()


@cache
def _units_by_serial(of_sku: bool) -> Select[Any]:
    """`unit_query` for one serial key (bound as `key`; `sku` too when `of_sku`), by
    SKU: built once, as the statement is the same for every look-up."""
    query = unit_query(few=True).where(Unit.serial_key == bindparam("key"))
    if of_sku:
        query = query.where(Product.sku == bindparam("sku"))
    return query.order_by(Product.sku)


def units_by_serial(connection: Connection, key: str, sku: str | None = None) -> list[UnitRecord]:
    """The units with this serial key (optionally of one SKU), by SKU (one statement,
    by the serial-key index)."""
    values = {"key": key} if sku is None else {"key": key, "sku": sku}
    return unit_records(connection.execute(_units_by_serial(sku is not None), values))


#: The columns of an event in a unit's history (`unit_histories`), named as
#: `TraceEvent`'s fields.
EVENT_FIELDS = (
    "kind",
    "at",
    "station",
    "user",
    "from_warehouse",
    "from_bin",
    "to_warehouse",
    "to_bin",
    "document_kind",
    "document_number",
)


@cache
def _histories(of_sku: bool) -> Select[Any]:
    """`_units_by_serial` with each unit's events (none: one row of NULL event columns),
    oldest first: built once."""
    source = aliased(Warehouse)
    target = aliased(Warehouse)
    columns = {
        "kind": Event.kind,
        "at": Event.at,
        "station": Event.station,
        "user": Event.user_name,
        "from_warehouse": source.code,
        "from_bin": Event.from_bin,
        "to_warehouse": target.code,
        "to_bin": Event.to_bin,
        "document_kind": Event.document_kind,
        "document_number": Event.document_number,
    }
    return (
        _units_by_serial(of_sku)
        .add_columns(Event.id.label("event_id"))
        .add_columns(*(columns[name].label(name) for name in EVENT_FIELDS))
        .outerjoin(Event, Event.unit_id == Unit.id)
        .outerjoin(source, source.id == Event.from_warehouse_id)
        .outerjoin(target, target.id == Event.to_warehouse_id)
        .order_by(Unit.id, Event.at, Event.id)
    )


def unit_histories(
    connection: Connection, key: str, sku: str | None = None
) -> list[tuple[UnitRecord, list[Row[Any]]]]:
    """The units with this serial key (optionally of one SKU), by SKU, each with its
    events oldest first: one statement (by the serial-key index, then the events' unit
    index), one round trip to the server. An event row names its columns as
    `EVENT_FIELDS` (warehouse codes, not ids)."""
    values = {"key": key} if sku is None else {"key": key, "sku": sku}
    found: dict[int, tuple[UnitRecord, list[Row[Any]]]] = {}
    width = len(UNIT_FIELDS)
    for row in connection.execute(_histories(sku is not None), values):
        if row.unit_id not in found:
            found[row.unit_id] = (UnitRecord(*row[:width]), [])
        if row.event_id is not None:
            found[row.unit_id][1].append(row)
    return list(found.values())


def relabels(connection: Connection, unit_id: int) -> tuple[str | None, list[str]]:
    """A unit's relabel links (CMD-NOLABEL): the serial of the unit it was made to
    replace, and the serials of the units made to replace it."""
    replaced = aliased(Unit)
    made_from = connection.execute(
        select(replaced.serial)
        .join(Unit, Unit.relabels_id == replaced.id)
        .where(Unit.id == unit_id)
    ).scalar()
    made_as = connection.execute(
        select(Unit.serial).where(Unit.relabels_id == unit_id).order_by(Unit.id)
    ).scalars()
    return made_from, list(made_as)


@dataclass(frozen=True, slots=True)
class ProductUse:
    """What ties a product to its `serialized` flag: its units (any status), its pieces
    on hand, and its lines on open or partial POs and sales orders."""

    units: int = 0
    on_hand: int = 0
    po_lines: int = 0
    order_lines: int = 0

    def __bool__(self) -> bool:
        return bool(self.units or self.on_hand or self.po_lines or self.order_lines)


def product_use(connection: Connection, product_ids: Iterable[int]) -> dict[int, ProductUse]:
    """`ProductUse` of each product that has any, by product id."""
    counts: dict[int, dict[str, int]] = {}
    for chunk in chunked(list(product_ids), IN_CHUNK):
        queries = {
            "units": select(Unit.product_id, func.count())
            .where(Unit.product_id.in_(chunk))
            .group_by(Unit.product_id),
            "on_hand": select(StockLevel.product_id, func.sum(StockLevel.qty))
            .where(StockLevel.product_id.in_(chunk), StockLevel.qty > 0)
            .group_by(StockLevel.product_id),
            "po_lines": select(POLine.product_id, func.count())
            .join(PurchaseOrder, PurchaseOrder.id == POLine.po_id)
            .where(POLine.product_id.in_(chunk), PurchaseOrder.status.in_(("open", "partial")))
            .group_by(POLine.product_id),
            "order_lines": select(OrderLine.product_id, func.count())
            .join(SalesOrder, SalesOrder.id == OrderLine.order_id)
            .where(OrderLine.product_id.in_(chunk), SalesOrder.status.in_(("open", "partial")))
            .group_by(OrderLine.product_id),
        }
        for what, query in queries.items():
            for product_id, count in connection.execute(query):
                counts.setdefault(product_id, {})[what] = int(count or 0)
    return {product_id: ProductUse(**found) for product_id, found in counts.items()}


def ledger_contents(connection: Connection) -> dict[str, int]:
    """How many warehouses, vendors, products, documents and units the ledger holds (the
    kinds it holds any of); empty for a new ledger (users and stations do not count)."""
    found = {}
    for name, model in (
        ("warehouses", Warehouse),
        ("vendors", Vendor),
        ("products", Product),
        ("purchase orders", PurchaseOrder),
        ("sales orders", SalesOrder),
        ("units", Unit),
    ):
        count = connection.scalar(select(func.count()).select_from(model)) or 0
        if count:
            found[name] = count
    return found
