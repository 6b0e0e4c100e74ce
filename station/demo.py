"""The demo ledger behind `station demo`: a small catalog, open POs and orders, and
stock received on an earlier PO, so a new user can receive and ship at once.

Loading is idempotent: whatever exists already (by warehouse code, vendor name, SKU,
barcode, document number, serial) is left alone, so running it twice adds nothing.
The constants here are public: tests and docs use them to drive the demo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine

from station.codes import Code, StationError
from station.db import bulk, lookup
from station.db.company import scope_id, serial_scope
from station.db.models import (
    AllocatedSerial,
    OrderLine,
    POLine,
    PurchaseOrder,
    Receipt,
    SalesOrder,
)
from station.scanning import serial_key

DEMO_WAREHOUSE = "MAIN"
DEMO_EAST = "EAST"
WAREHOUSES = {DEMO_WAREHOUSE: "Main warehouse", DEMO_EAST: "East warehouse"}
ACME = "Acme Supply"
GLOBEX = "Globex"

#: Open purchase orders to receive against.
DEMO_PO = "PO-9001"
DEMO_PO_2 = "PO-9002"
#: The fully received PO whose units are in stock, and its receipt.
DEMO_RECEIVED_PO = "PO-9000"
DEMO_RECEIPT = "RCV-DEMO-1"
DEMO_RECEIPT_SESSION = "demo-receipt"
DEMO_STATION = "DEMO"
DEMO_USER = "demo"
DEMO_BIN = "A-01"
#: More known bins of the demo warehouse (SPEC §3.3 location barcodes: LOC-A-02 …).
DEMO_BINS = ("A-02", "B-01", "QC")
#: Open sales orders to ship.
DEMO_ORDER = "SO-5001"
DEMO_ORDER_2 = "SO-5002"
#: The serial pre-allocated to the S-500 line of DEMO_ORDER_2.
DEMO_ALLOCATED_SERIAL = "SS-0003"


@dataclass(frozen=True, slots=True)
class DemoProduct:
    sku: str
    name: str
    serialized: bool
    barcodes: tuple[str, ...]
    serial_length: int | None = None
    serial_pattern: str | None = None


PRODUCTS = (
    DemoProduct("W-100", "Widget One", True, ("012345678905", "W100")),
    DemoProduct("G-200", "Gadget Two", True, ("4006381333931",), serial_length=10),
    DemoProduct("C-300", "Cable Three", False, ("0705632441947",)),
    DemoProduct("P-400", "Printer Four", True, ("PR400",), serial_pattern="^PR[0-9]{6}$"),
    DemoProduct("S-500", "Scanner Five", True, ("036000291452",)),
)
#: Serials in stock in MAIN/A-01, received on DEMO_RECEIVED_PO.
DEMO_SERIALS: dict[str, tuple[str, ...]] = {
    "W-100": tuple(f"WS-{n:04d}" for n in range(1, 11)),
    "S-500": tuple(f"SS-{n:04d}" for n in range(1, 6)),
}
#: Pieces of the non-serialized C-300 received on DEMO_RECEIVED_PO.
DEMO_CABLES = 50

# PO number -> (vendor, warehouse, [(sku, qty ordered, qty received, unit cost)])
PURCHASE_ORDERS: dict[str, tuple[str, str, list[tuple[str, int, int, Decimal]]]] = {
    DEMO_RECEIVED_PO: (
        ACME,
        DEMO_WAREHOUSE,
        [
            ("W-100", 10, 10, Decimal("12.50")),
            ("S-500", 5, 5, Decimal("89.00")),
            ("C-300", DEMO_CABLES, DEMO_CABLES, Decimal("2.25")),
        ],
    ),
    DEMO_PO: (
        ACME,
        DEMO_WAREHOUSE,
        [
            ("W-100", 3, 0, Decimal("12.50")),
            ("G-200", 2, 0, Decimal("45.00")),
            ("C-300", 5, 0, Decimal("2.25")),
        ],
    ),
    DEMO_PO_2: (
        GLOBEX,
        DEMO_WAREHOUSE,
        [("P-400", 2, 0, Decimal("310.00")), ("S-500", 4, 0, Decimal("89.00"))],
    ),
}
# order number -> (customer, warehouse, [(sku, qty, allocated serials)])
SALES_ORDERS: dict[str, tuple[str, str, list[tuple[str, int, tuple[str, ...]]]]] = {
    DEMO_ORDER: ("Northwind Traders", DEMO_WAREHOUSE, [("W-100", 2, ()), ("C-300", 1, ())]),
    DEMO_ORDER_2: (
        "Contoso",
        DEMO_WAREHOUSE,
        [("S-500", 1, (DEMO_ALLOCATED_SERIAL,)), ("W-100", 1, ())],
    ),
}


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What this run added (zero everywhere when the demo was loaded already)."""

    created: dict[str, int] = field(default_factory=dict)

    @property
    def already_loaded(self) -> bool:
        return not any(self.created.values())

    def as_dict(self) -> dict[str, int]:
        return dict(self.created)

    def __str__(self) -> str:
        if self.already_loaded:
            return "already loaded; nothing added"
        return ", ".join(f"{count} {what}" for what, count in self.created.items() if count)


def _products(connection: Connection) -> tuple[dict[str, int], int, int]:
    from station.imports import write_products

    ids, new, _, barcodes = write_products(connection, PRODUCTS, update_existing=False)
    return ids, new, barcodes


def _purchase_orders(
    connection: Connection,
    products: dict[str, int],
    warehouses: dict[str, int],
    vendors: dict[str, int],
) -> int:
    existing = lookup.document_ids(connection, "po", PURCHASE_ORDERS)
    new = [number for number in PURCHASE_ORDERS if number not in existing]
    ids = bulk.insert_returning_ids(
        connection,
        PurchaseOrder,
        [
            {
                "number": number,
                "vendor_id": vendors[PURCHASE_ORDERS[number][0]],
                "warehouse_id": warehouses[PURCHASE_ORDERS[number][1]],
                "status": "received" if number == DEMO_RECEIVED_PO else "open",
            }
            for number in new
        ],
    )
    lines = [
        {
            "po_id": po_id,
            "line_no": line_no,
            "product_id": products[sku],
            "qty_ordered": ordered,
            "qty_received": received,
            "unit_cost": cost,
        }
        for po_id, number in zip(ids, new, strict=True)
        for line_no, (sku, ordered, received, cost) in enumerate(PURCHASE_ORDERS[number][2], 1)
    ]
    bulk.insert_rows(connection, POLine, lines)
    return len(new)


def _received_stock(
    connection: Connection, products: dict[str, int], warehouses: dict[str, int]
) -> tuple[int, int]:
    """The receipt of DEMO_RECEIVED_PO, its units with their events, and the cables."""
    if lookup.receipt_id(connection, DEMO_RECEIPT) is not None:
        return 0, 0
    po_id = lookup.document_ids(connection, "po", [DEMO_RECEIVED_PO])[DEMO_RECEIVED_PO]
    now = datetime.now(UTC)
    lines = PURCHASE_ORDERS[DEMO_RECEIVED_PO][2]
    (receipt,) = bulk.insert_returning_ids(
        connection,
        Receipt,
        [
            {
                "number": DEMO_RECEIPT,
                "session_id": DEMO_RECEIPT_SESSION,
                "po_id": po_id,
                "station": DEMO_STATION,
                "user_name": DEMO_USER,
                "units": sum(received for _sku, _ordered, received, _cost in lines),
                "posted_at": now,
            }
        ],
    )
    line_ids = lookup.document_line_ids(connection, "po", DEMO_RECEIVED_PO)
    costs = {sku: cost for sku, _ordered, _received, cost in lines}
    scope = serial_scope(connection)
    keys = [serial_key(s) for serials in DEMO_SERIALS.values() for s in serials]
    held = {(u.scope_id, u.serial_key) for u in lookup.existing_units(connection, keys)}
    main = warehouses[DEMO_WAREHOUSE]
    units: list[dict[str, Any]] = [
        {
            "product_id": products[sku],
            "scope_id": scope_id(scope, products[sku]),
            "serial": serial,
            "serial_key": serial_key(serial),
            "status": "in_stock",
            "warehouse_id": main,
            "bin": DEMO_BIN,
            "origin": "po",
            "po_line_id": line_ids[sku],
            "receipt_id": receipt,
            "unit_cost": costs[sku],
            "received_at": now,
        }
        for sku, serials in DEMO_SERIALS.items()
        for serial in serials
        if (scope_id(scope, products[sku]), serial_key(serial)) not in held
    ]
    event = {
        "kind": "received",
        "at": now,
        "station": DEMO_STATION,
        "user_name": DEMO_USER,
        "document_kind": "receipt",
        "document_number": DEMO_RECEIPT,
    }
    count = bulk.insert_units(connection, units, event)
    bulk.ensure_bins(connection, main, DEMO_BINS)
    bulk.add_stock(connection, {(products["C-300"], main): DEMO_CABLES})
    return 1, count


def _sales_orders(
    connection: Connection, products: dict[str, int], warehouses: dict[str, int]
) -> int:
    existing = lookup.document_ids(connection, "order", SALES_ORDERS)
    new = [number for number in SALES_ORDERS if number not in existing]
    ids = bulk.insert_returning_ids(
        connection,
        SalesOrder,
        [
            {
                "number": number,
                "customer": SALES_ORDERS[number][0],
                "warehouse_id": warehouses[SALES_ORDERS[number][1]],
                "status": "open",
            }
            for number in new
        ],
    )
    lines = [
        {
            "order_id": order_id,
            "line_no": line_no,
            "product_id": products[sku],
            "qty": qty,
            "qty_shipped": 0,
        }
        for order_id, number in zip(ids, new, strict=True)
        for line_no, (sku, qty, _serials) in enumerate(SALES_ORDERS[number][2], 1)
    ]
    bulk.insert_rows(connection, OrderLine, lines)
    allocated = []
    for number in new:
        line_ids = lookup.document_line_ids(connection, "order", number)
        allocated.extend(
            {"order_line_id": line_ids[sku], "serial_key": serial_key(serial)}
            for sku, _qty, serials in SALES_ORDERS[number][2]
            for serial in serials
        )
    bulk.insert_rows(connection, AllocatedSerial, allocated)
    return len(new)


def load_demo(engine: Engine, *, into_data: bool = True) -> DemoSummary:
    """Load the demo catalog, POs, orders and stock in one transaction; idempotent.
    `into_data` False (the command line without a supervisor): NOT_AUTHORIZED when the
    ledger holds any catalog, document or stock, judged in the same transaction."""
    with engine.begin() as connection:
        held = {} if into_data else lookup.ledger_contents(connection)
        if held:
            what = ", ".join(f"{count} {name}" for name, count in held.items())
            raise StationError(
                Code.NOT_AUTHORIZED,
                f"The ledger holds data ({what}): only a supervisor may load the demo into"
                " it (station demo --user NAME, PIN from STATION_PIN).",
            )
        warehouses, new_warehouses = bulk.ensure_warehouses(connection, WAREHOUSES, WAREHOUSES)
        vendors, new_vendors = bulk.ensure_vendors(connection, (ACME, GLOBEX))
        products, new_products, new_barcodes = _products(connection)
        new_pos = _purchase_orders(connection, products, warehouses, vendors)
        receipts, units = _received_stock(connection, products, warehouses)
        orders = _sales_orders(connection, products, warehouses)
    return DemoSummary(
        {
            "warehouses": new_warehouses,
            "vendors": new_vendors,
            "products": new_products,
            "barcodes": new_barcodes,
            "purchase_orders": new_pos,
            "receipts": receipts,
            "units": units,
            "sales_orders": orders,
        }
    )
