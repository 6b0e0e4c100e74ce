"""A large, known ledger for the benchmarks (and the GUI benchmark): `build_ledger`.

Everything goes in through chunked SQLAlchemy Core `executemany` (no ORM objects,
no COPY), with explicit unit ids so events need no RETURNING.

Layout, for `units` = N and `reserve` = R (default 10,000):

* warehouses MAIN (id 1, the stations' default) and EAST; vendor "Bench Supply";
* products BENCH-00 … BENCH-09, serialized, barcode `BENCH-0x-BOX`, no length rule;
* units 1 … N, serial `SN0000000001` … (`serial(i)`), in stock at MAIN/A-01, received
  on PO-BASE (one line per product, fully received) by receipt RCV-BASE, each with one
  "received" event;
* units 1 … R are BENCH-00 and are what SO-10K ships (the posting benchmark);
  units R+1 … 2R are BENCH-00 too, reserved for the raw executemany shipment;
  units 2R+1 … N cycle over BENCH-01 … BENCH-09;
* open documents: PO-SCAN (BENCH-02, qty 1,000,000: receive-scan latency, never posted),
  PO-10K (BENCH-03, qty R: the receipt posting), SO-SCAN (BENCH-01, qty 1,000,000:
  ship-scan latency), SO-10K (BENCH-00, qty R: the shipment posting) and SO-RAW
  (BENCH-00, qty R: the order line the raw shipment writes against).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text

from station.db.bulk import EVENT_COLUMNS, UNIT_COLUMNS
from station.db.engine import make_engine, upgrade_database
from station.db.models import (
    Barcode,
    Bin,
    Event,
    OrderLine,
    POLine,
    Product,
    PurchaseOrder,
    Receipt,
    SalesOrder,
    Unit,
    Vendor,
    Warehouse,
)

#: Rows per executemany.
CHUNK = 20_000
PRODUCTS = 10
RESERVE = 10_000  # units of the posting benchmarks (see the module docstring)
RECEIVED_AT = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
COST = Decimal("12.5000")


def serial(unit_id: int) -> str:
    """The serial of unit `unit_id` in a benchmark ledger."""
    return f"SN{unit_id:010d}"


def sku(index: int) -> str:
    return f"BENCH-{index:02d}"


def barcode(index: int) -> str:
    return f"BENCH-{index:02d}-BOX"


@dataclass(frozen=True, slots=True)
class LedgerInfo:
    """What `build_ledger` made: documents to open sessions on and serials to scan."""

    url: str
    units: int
    reserve: int
    seconds: float
    warehouse: str = "MAIN"
    products: tuple[str, ...] = tuple(sku(i) for i in range(PRODUCTS))
    scan_po: str = "PO-SCAN"  # BENCH-02: scan new serials, never posted
    scan_po_sku: str = sku(2)
    post_po: str = "PO-10K"  # BENCH-03, qty = reserve
    post_po_sku: str = sku(3)
    scan_order: str = "SO-SCAN"  # BENCH-01: scan in-stock units, never posted
    scan_order_sku: str = sku(1)
    post_order: str = "SO-10K"  # BENCH-00, qty = reserve: units 1..reserve
    post_order_sku: str = sku(0)
    raw_order: str = "SO-RAW"
    ids: dict[str, int] = field(default_factory=dict)  # ids of rows the raw benchmarks use

    def product_of(self, unit_id: int) -> int:
        """The product index (0-9) of unit `unit_id`."""
        if unit_id <= 2 * self.reserve:
            return 0
        return 1 + (unit_id - 2 * self.reserve - 1) % (PRODUCTS - 1)

    def ship_post_units(self) -> range:
        """Unit ids SO-10K ships (BENCH-00, in stock at MAIN)."""
        return range(1, self.reserve + 1)

    def raw_ship_units(self) -> range:
        """Unit ids reserved for the raw executemany shipment."""
        return range(self.reserve + 1, 2 * self.reserve + 1)

    def ship_scan_serials(self, count: int, seed: int = 1) -> list[str]:
        """`count` distinct in-stock BENCH-01 serials spread over the whole ledger."""
        first = 2 * self.reserve + 1  # the first BENCH-01 unit
        available = (self.units - first) // (PRODUCTS - 1) + 1
        if count > available:
            raise ValueError(f"only {available} BENCH-01 units in a {self.units}-unit ledger")
        picks = random.Random(seed).sample(range(available), count)
        return [serial(first + pick * (PRODUCTS - 1)) for pick in picks]


def _chunks(total: int, size: int = CHUNK) -> Iterator[range]:
    for start in range(1, total + 1, size):
        yield range(start, min(start + size, total + 1))


def _one(connection: Connection, model: type, **values: Any) -> int:
    table = model.__table__  # type: ignore[attr-defined]
    return int(
        connection.execute(insert(table).values(**values).returning(table.c.id)).scalar_one()
    )


def _documents(connection: Connection, info_units: int, reserve: int) -> dict[str, int]:
    """Warehouses, vendor, products, PO-BASE with its receipt, and the open documents."""
    ids: dict[str, int] = {}
    ids["MAIN"] = _one(connection, Warehouse, code="MAIN", name="Main warehouse")
    ids["EAST"] = _one(connection, Warehouse, code="EAST", name="East warehouse")
    _one(connection, Bin, warehouse_id=ids["MAIN"], code="A-01", key="A-01")  # the units'
    vendor = _one(connection, Vendor, name="Bench Supply")
    for index in range(PRODUCTS):
        product = _one(
            connection, Product, sku=sku(index), name=f"Bench item {index}", serialized=True
        )
        ids[sku(index)] = product
        connection.execute(
            insert(Barcode.__table__).values(product_id=product, code=barcode(index), gtin=None)
        )
    counts = [0] * PRODUCTS
    counts[0] = min(2 * reserve, info_units)
    rest = max(info_units - 2 * reserve, 0)
    for index in range(1, PRODUCTS):
        counts[index] = rest // (PRODUCTS - 1) + (1 if index - 1 < rest % (PRODUCTS - 1) else 0)

    def po(number: str, status: str, lines: list[tuple[int, int, int]]) -> None:
        po_id = _one(
            connection,
            PurchaseOrder,
            number=number,
            vendor_id=vendor,
            warehouse_id=ids["MAIN"],
            status=status,
            created_at=RECEIVED_AT,
        )
        ids[number] = po_id
        for line_no, (product, qty, received) in enumerate(lines, start=1):
            ids[f"{number}/{line_no}"] = _one(
                connection,
                POLine,
                po_id=po_id,
                line_no=line_no,
                product_id=ids[sku(product)],
                qty_ordered=qty,
                qty_received=received,
                unit_cost=COST,
            )

    def order(number: str, product: int, qty: int) -> None:
        order_id = _one(
            connection,
            SalesOrder,
            number=number,
            customer="Bench Customer",
            warehouse_id=ids["MAIN"],
            status="open",
            created_at=RECEIVED_AT,
        )
        ids[number] = order_id
        ids[f"{number}/1"] = _one(
            connection,
            OrderLine,
            order_id=order_id,
            line_no=1,
            product_id=ids[sku(product)],
            qty=qty,
            qty_shipped=0,
        )

    po("PO-BASE", "received", [(i, max(counts[i], 1), counts[i]) for i in range(PRODUCTS)])
    ids["RCV-BASE"] = _one(
        connection,
        Receipt,
        number="RCV-BASE",
        session_id="bench-base",
        po_id=ids["PO-BASE"],
        station="BENCH-LOADER",
        user_name="loader",
        units=info_units,
        posted_at=RECEIVED_AT,
    )
    po("PO-SCAN", "open", [(2, 1_000_000, 0)])
    po("PO-10K", "open", [(3, reserve, 0)])
    order("SO-SCAN", 1, 1_000_000)
    order("SO-10K", 0, reserve)
    order("SO-RAW", 0, reserve)
    return ids


def _statements(postgres: bool) -> tuple[Any, Any]:
    """Driver-level INSERTs on PostgreSQL (plain psycopg executemany of tuples: Core's
    per-row bind processing costs a third of the time there); Core inserts on SQLite."""
    if not postgres:
        return insert(Unit.__table__), insert(Event.__table__)

    def sql(table: str, columns: tuple[str, ...]) -> str:
        marks = ", ".join(["%s"] * len(columns))
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"

    return sql("units", UNIT_COLUMNS), sql("events", EVENT_COLUMNS)


def _reset_sequences(connection: Connection) -> None:
    for table in ("warehouses", "vendors", "products", "barcodes", "units", "events"):
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
            )
        )


def build_ledger(
    url: str, units: int = 1_000_000, *, reserve: int = RESERVE, engine: Engine | None = None
) -> LedgerInfo:
    """Create the schema at `url` (which must be an empty database) and fill it with
    `units` in-stock units, their events and the benchmark documents (see the module
    docstring). Returns what was made. `reserve` is the size of the posting benchmarks;
    `units` must be at least 2 × reserve + 9 × (the ship scans you plan)."""
    if units < 2 * reserve + PRODUCTS:
        raise ValueError(f"units must be at least {2 * reserve + PRODUCTS} for reserve={reserve}")
    started = time.perf_counter()
    own = engine is None
    if engine is None:  # as `station db upgrade` would (building takes long: patient)
        engine = make_engine(url, patient=True)
        upgrade_database(engine)
    try:
        with engine.begin() as connection:
            if connection.scalar(select(Unit.id).limit(1)) is not None:
                raise RuntimeError(f"{url} holds units already: build_ledger needs an empty one")
            ids = _documents(connection, units, reserve)
        info = LedgerInfo(url, units, reserve, 0.0, ids=ids)
        product_ids = [ids[sku(i)] for i in range(PRODUCTS)]
        line_ids = [ids[f"PO-BASE/{i + 1}"] for i in range(PRODUCTS)]
        main, receipt = ids["MAIN"], ids["RCV-BASE"]
        postgres = engine.dialect.name == "postgresql"
        unit_sql, event_sql = _statements(postgres)
        for part in _chunks(units):
            unit_rows = []
            event_rows = []
            for unit_id in part:
                product = info.product_of(unit_id)
                key = serial(unit_id)
                unit_rows.append(
                    (
                        unit_id,
                        product_ids[product],
                        product_ids[product],
                        key,
                        key,
                        "in_stock",
                        main,
                        "A-01",
                        "po",
                        line_ids[product],
                        receipt,
                        COST,
                        RECEIVED_AT,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                    )
                )
                event_rows.append(
                    (
                        unit_id,
                        "received",
                        RECEIVED_AT,
                        "BENCH-LOADER",
                        "loader",
                        None,
                        None,
                        main,
                        "A-01",
                        "receipt",
                        "RCV-BASE",
                    )
                )
            with engine.begin() as connection:
                if postgres:  # psycopg adapts Decimal and aware datetimes itself
                    connection.exec_driver_sql(unit_sql, unit_rows)  # type: ignore[arg-type]
                    connection.exec_driver_sql(event_sql, event_rows)  # type: ignore[arg-type]
                else:  # SQLAlchemy's own SQLite conversions, as the product writes them
                    connection.execute(
                        unit_sql, [dict(zip(UNIT_COLUMNS, r, strict=True)) for r in unit_rows]
                    )
                    connection.execute(
                        event_sql, [dict(zip(EVENT_COLUMNS, r, strict=True)) for r in event_rows]
                    )
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                _reset_sequences(connection)
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        return LedgerInfo(url, units, reserve, time.perf_counter() - started, ids=ids)
    finally:
        if own:
            engine.dispose()


PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/station_bench"


def fresh_postgres(url: str = PG_URL) -> str:
    """Drop and create the database `url` names (on its server); returns `url`."""
    from sqlalchemy import create_engine, make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()
    return url


def drop_postgres(url: str = PG_URL) -> None:
    from sqlalchemy import create_engine, make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def fresh_sqlite(directory: str) -> str:
    """The URL of a new SQLite file in `directory` (any old one removed)."""
    from pathlib import Path

    path = Path(directory) / "station_bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"
