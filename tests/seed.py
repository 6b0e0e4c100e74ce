"""A small, exact ledger for the workflow tests (the demo data is for people)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine, insert, text

from station.db import admin
from station.db.models import (
    AllocatedSerial,
    Barcode,
    Base,
    Bin,
    OrderLine,
    POLine,
    Product,
    PurchaseOrder,
    Receipt,
    SalesOrder,
    Shipment,
    Unit,
    Vendor,
    Warehouse,
)
from station.scanning import gtin14
from station.users import hash_pin

UPC_W1 = "012345678905"
GTIN_W1 = "00012345678905"
UPC_OTHER = "036000291452"
WHEN = datetime(2026, 11, 20, 14, 3, tzinfo=UTC)
#: The supervisor of the tests that run supervisor commands, and the PIN.
SUPERVISOR, SUPERVISOR_PIN = "sue", "2468"
#: The operators the workflow tests name (`station scan --user`), and their PIN.
OPERATORS = {"kim": "clerk", "alice": "clerk", "bob": "clerk", "ann": "clerk", "pat": "packer"}
OPERATOR_PIN = "1357"


@cache
def _pin_hash(pin: str) -> str:
    return hash_pin(pin)


def add_supervisor(engine: Engine, name: str = SUPERVISOR, pin: str = SUPERVISOR_PIN) -> str:
    """A supervisor, written directly (adding users is tested on its own); the first user
    claims the first-supervisor row as `station users add` does."""
    with engine.begin() as c:
        if admin.user_count(c) == 0:
            admin.claim_first_user(c, name)
        admin.add_user(c, name, "supervisor", _pin_hash(pin))
    return name


def add_operators(engine: Engine, **roles: str) -> None:
    """The test operators (OPERATORS, or the name=role given) as users, written directly."""
    with engine.begin() as c:
        for name, role in (roles or OPERATORS).items():
            admin.add_user(c, name, role, _pin_hash(OPERATOR_PIN))


def put(connection: Connection, model: type, rows: list[dict[str, Any]]) -> None:
    """Insert rows one by one: each row may leave other columns to their defaults."""
    for row in rows:
        connection.execute(insert(model).values(**row))


def reset_sequences(engine: Engine) -> None:
    """After inserting explicit ids on PostgreSQL, move the id sequences past them."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as c:
        for table in Base.metadata.sorted_tables:
            if c.scalar(text("SELECT to_regclass(:t)"), {"t": table.name}) is None:
                continue  # a table of a later revision than the ledger's
            if "id" in table.c and table.c.id.autoincrement is not False:
                c.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"
                        f" COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                    )
                )


def seed(engine: Engine) -> None:
    with engine.begin() as c:
        put(
            c,
            Warehouse,
            [{"id": 1, "code": "MAIN", "name": "Main"}, {"id": 2, "code": "EAST", "name": "East"}],
        )
        put(c, Vendor, [{"id": 1, "name": "Acme Supply"}])
        put(
            c,
            Product,
            [
                {"id": 1, "sku": "W1", "name": "Widget One", "serialized": True},
                {
                    "id": 2,
                    "sku": "G2",
                    "name": "Gadget Two",
                    "serialized": True,
                    "serial_length": 10,
                },
                {"id": 3, "sku": "C3", "name": "Cable Three", "serialized": False},
                {
                    "id": 4,
                    "sku": "P4",
                    "name": "Printer Four",
                    "serialized": True,
                    "serial_pattern": "PR[0-9]{6}",
                },
                {"id": 5, "sku": "X9", "name": "Other Thing", "serialized": True},
            ],
        )
        put(
            c,
            Barcode,
            [
                {"product_id": p, "code": code, "gtin": gtin14(code)}
                for p, code in [
                    (1, UPC_W1),
                    (1, "W1-BOX"),
                    (3, "CABLE3"),
                    (4, "PR400"),
                    (5, UPC_OTHER),
                ]
            ],
        )
        put(
            c,
            PurchaseOrder,
            [
                {"id": 1, "number": "PO-1", "vendor_id": 1, "warehouse_id": 1, "status": "open"},
                {
                    "id": 2,
                    "number": "PO-0",
                    "vendor_id": 1,
                    "warehouse_id": 1,
                    "status": "received",
                },
            ],
        )
        put(
            c,
            POLine,
            [
                {
                    "id": 1,
                    "po_id": 1,
                    "line_no": 1,
                    "product_id": 1,
                    "qty_ordered": 3,
                    "unit_cost": Decimal("12.50"),
                },
                {"id": 2, "po_id": 1, "line_no": 2, "product_id": 2, "qty_ordered": 2},
                {"id": 3, "po_id": 1, "line_no": 3, "product_id": 3, "qty_ordered": 2},
                {"id": 4, "po_id": 1, "line_no": 4, "product_id": 4, "qty_ordered": 1},
                {
                    "id": 5,
                    "po_id": 2,
                    "line_no": 1,
                    "product_id": 1,
                    "qty_ordered": 6,
                    "qty_received": 6,
                },
            ],
        )
        put(
            c,
            Receipt,
            [
                {
                    "id": 1,
                    "number": "RCV-OLD",
                    "session_id": "old",
                    "po_id": 2,
                    "station": "DOCK-0",
                    "user_name": "olga",
                    "units": 6,
                    "posted_at": WHEN,
                }
            ],
        )
        put(
            c,
            SalesOrder,
            [
                {
                    "id": 1,
                    "number": "SO-1",
                    "customer": "Northwind",
                    "warehouse_id": 1,
                    "status": "open",
                },
                {
                    "id": 2,
                    "number": "SO-2",
                    "customer": "Contoso",
                    "warehouse_id": 1,
                    "status": "open",
                },
                {
                    "id": 3,
                    "number": "SO-0",
                    "customer": "Earlier",
                    "warehouse_id": 1,
                    "status": "shipped",
                },
            ],
        )
        put(
            c,
            OrderLine,
            [
                {"id": 1, "order_id": 1, "line_no": 1, "product_id": 1, "qty": 2, "qty_shipped": 0},
                {"id": 2, "order_id": 1, "line_no": 2, "product_id": 3, "qty": 1, "qty_shipped": 0},
                {"id": 3, "order_id": 2, "line_no": 1, "product_id": 1, "qty": 1, "qty_shipped": 0},
                {"id": 4, "order_id": 3, "line_no": 1, "product_id": 1, "qty": 1, "qty_shipped": 1},
            ],
        )
        put(c, AllocatedSerial, [{"order_line_id": 3, "serial_key": "WS-4"}])
        put(
            c,
            Shipment,
            [
                {
                    "id": 1,
                    "number": "SHP-OLD",
                    "session_id": "old",
                    "order_id": 3,
                    "station": "PACK-0",
                    "units": 1,
                    "posted_at": WHEN,
                }
            ],
        )

        def unit(serial: str, **extra: object) -> dict[str, object]:
            row: dict[str, object] = {
                "product_id": 1,
                "scope_id": 1,
                "serial": serial,
                "serial_key": serial.upper(),
                "warehouse_id": 1,
                "bin": "A-01",
                "origin": "po",
                "po_line_id": 5,
                "receipt_id": 1,
                "received_at": WHEN,
                "status": "in_stock",
            }
            row.update(extra)
            return row

        put(
            c,
            Unit,
            [
                unit("WS-1"),
                unit("WS-2"),
                unit("WS-3"),
                unit("WS-4"),
                unit("WS-EAST", warehouse_id=2, bin="B-07"),
                unit("WS-OPEN", origin="opening", po_line_id=None, receipt_id=None),
                unit("WS-GONE", status="shipped", order_line_id=4, shipment_id=1, shipped_at=WHEN),
                unit("GSN0000001", product_id=2, scope_id=2),
            ],
        )
        # the known bins (SPEC §3.3 location barcodes): where the units are, and two more
        put(
            c,
            Bin,
            [
                {"warehouse_id": 1, "code": "A-01", "key": "A-01"},
                {"warehouse_id": 1, "code": "A-02", "key": "A-02"},
                {"warehouse_id": 1, "code": "QC-OK", "key": "QC-OK"},
                {"warehouse_id": 2, "code": "B-07", "key": "B-07"},
            ],
        )
    reset_sequences(engine)


def seed_returns(engine: Engine) -> None:
    """On top of `seed`: SO-3 (Fabrikam) shipped whole — W1 ×2 (WS-OUT still out,
    WS-BACK returned already), G2 ×2 (GSNOUT0001, GSNOUT0002 out), Cable Three ×2; and
    WS-QC, a W1 quarantined in MAIN/RETURNS."""
    with engine.begin() as c:
        put(
            c,
            SalesOrder,
            [
                {
                    "id": 4,
                    "number": "SO-3",
                    "customer": "Fabrikam",
                    "warehouse_id": 1,
                    "status": "shipped",
                }
            ],
        )
        put(
            c,
            OrderLine,
            [
                {
                    "id": 5,
                    "order_id": 4,
                    "line_no": 1,
                    "product_id": 1,
                    "qty": 2,
                    "qty_shipped": 2,
                    "qty_returned": 1,
                },
                {"id": 6, "order_id": 4, "line_no": 2, "product_id": 2, "qty": 2, "qty_shipped": 2},
                {"id": 7, "order_id": 4, "line_no": 3, "product_id": 3, "qty": 2, "qty_shipped": 2},
            ],
        )
        put(
            c,
            Shipment,
            [
                {
                    "id": 2,
                    "number": "SHP-3",
                    "session_id": "old-3",
                    "order_id": 4,
                    "station": "PACK-0",
                    "units": 6,
                    "posted_at": WHEN,
                }
            ],
        )
        out = {
            "status": "shipped",
            "shipment_id": 2,
            "shipped_at": WHEN,
            "origin": "po",
            "po_line_id": 5,
            "receipt_id": 1,
            "received_at": WHEN,
            "warehouse_id": 1,
            "bin": "A-01",
        }
        put(
            c,
            Unit,
            [
                {
                    **out,
                    "product_id": 1,
                    "scope_id": 1,
                    "serial": "WS-OUT",
                    "serial_key": "WS-OUT",
                    "order_line_id": 5,
                },
                {
                    **out,
                    "product_id": 1,
                    "scope_id": 1,
                    "serial": "WS-BACK",
                    "serial_key": "WS-BACK",
                    "order_line_id": 5,
                    "status": "in_stock",
                    "bin": "RETURNS",
                },
                {
                    **out,
                    "product_id": 2,
                    "scope_id": 2,
                    "serial": "GSNOUT0001",
                    "serial_key": "GSNOUT0001",
                    "order_line_id": 6,
                },
                {
                    **out,
                    "product_id": 2,
                    "scope_id": 2,
                    "serial": "GSNOUT0002",
                    "serial_key": "GSNOUT0002",
                    "order_line_id": 6,
                },
                {
                    **out,
                    "product_id": 1,
                    "scope_id": 1,
                    "serial": "WS-QC",
                    "serial_key": "WS-QC",
                    "status": "quarantined",
                    "bin": "RETURNS",
                    "shipment_id": None,
                    "shipped_at": None,
                },
            ],
        )
    reset_sequences(engine)
