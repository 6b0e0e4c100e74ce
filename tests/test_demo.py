"""`load_demo`: the documented demo ledger, loaded once however often it runs."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select

from station.db.models import (
    AllocatedSerial,
    Barcode,
    Event,
    OrderLine,
    POLine,
    Product,
    PurchaseOrder,
    Receipt,
    SalesOrder,
    StockLevel,
    Unit,
    Vendor,
    Warehouse,
)
from station.demo import (
    DEMO_ALLOCATED_SERIAL,
    DEMO_ORDER,
    DEMO_ORDER_2,
    DEMO_PO,
    DEMO_PO_2,
    DEMO_RECEIPT,
    DEMO_RECEIVED_PO,
    load_demo,
)
from station.imports import import_products

MODELS = (
    Warehouse,
    Vendor,
    Product,
    Barcode,
    PurchaseOrder,
    POLine,
    SalesOrder,
    OrderLine,
    AllocatedSerial,
    Receipt,
    Unit,
    Event,
    StockLevel,
)


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as c:
        return {m.__tablename__: c.scalar(select(func.count()).select_from(m)) or 0 for m in MODELS}


def po_lines(engine: Engine, number: str) -> list[tuple[object, ...]]:
    with engine.connect() as c:
        rows = c.execute(
            select(
                Vendor.name,
                Warehouse.code,
                PurchaseOrder.status,
                Product.sku,
                POLine.qty_ordered,
                POLine.qty_received,
            )
            .join(Vendor, Vendor.id == PurchaseOrder.vendor_id)
            .join(Warehouse, Warehouse.id == PurchaseOrder.warehouse_id)
            .join(POLine, POLine.po_id == PurchaseOrder.id)
            .join(Product, Product.id == POLine.product_id)
            .where(PurchaseOrder.number == number)
            .order_by(POLine.line_no)
        ).all()
    return [tuple(row) for row in rows]


def order_lines(engine: Engine, number: str) -> list[tuple[object, ...]]:
    with engine.connect() as c:
        rows = c.execute(
            select(
                SalesOrder.customer, Warehouse.code, SalesOrder.status, Product.sku, OrderLine.qty
            )
            .join(Warehouse, Warehouse.id == SalesOrder.warehouse_id)
            .join(OrderLine, OrderLine.order_id == SalesOrder.id)
            .join(Product, Product.id == OrderLine.product_id)
            .where(SalesOrder.number == number)
            .order_by(OrderLine.line_no)
        ).all()
    return [tuple(row) for row in rows]


def test_demo_catalog_documents_and_stock(engine: Engine) -> None:
    summary = load_demo(engine)
    assert not summary.already_loaded
    assert summary.as_dict() == {
        "warehouses": 2,
        "vendors": 2,
        "products": 5,
        "barcodes": 6,
        "purchase_orders": 3,
        "receipts": 1,
        "units": 15,
        "sales_orders": 2,
    }
    with engine.connect() as c:
        warehouses = dict(
            c.execute(select(Warehouse.code, Warehouse.name).order_by(Warehouse.id)).all()
        )
        products = c.execute(
            select(
                Product.sku,
                Product.name,
                Product.serialized,
                Product.serial_length,
                Product.serial_pattern,
            ).order_by(Product.sku)
        ).all()
        barcodes = dict(
            c.execute(
                select(Barcode.code, Product.sku).join(Product, Product.id == Barcode.product_id)
            ).all()
        )
        gtins = set(c.execute(select(Barcode.gtin)).scalars())
    # MAIN first: a new station's default warehouse is the first one
    assert list(warehouses.items()) == [("MAIN", "Main warehouse"), ("EAST", "East warehouse")]
    assert [tuple(p) for p in products] == [
        ("C-300", "Cable Three", False, None, None),
        ("G-200", "Gadget Two", True, 10, None),
        ("P-400", "Printer Four", True, None, "^PR[0-9]{6}$"),
        ("S-500", "Scanner Five", True, None, None),
        ("W-100", "Widget One", True, None, None),
    ]
    assert barcodes == {
        "012345678905": "W-100",
        "W100": "W-100",
        "4006381333931": "G-200",
        "0705632441947": "C-300",
        "PR400": "P-400",
        "036000291452": "S-500",
    }
    assert {"00012345678905", "04006381333931", "00036000291452"} <= gtins
    assert po_lines(engine, DEMO_PO) == [
        ("Acme Supply", "MAIN", "open", "W-100", 3, 0),
        ("Acme Supply", "MAIN", "open", "G-200", 2, 0),
        ("Acme Supply", "MAIN", "open", "C-300", 5, 0),
    ]
    assert po_lines(engine, DEMO_PO_2) == [
        ("Globex", "MAIN", "open", "P-400", 2, 0),
        ("Globex", "MAIN", "open", "S-500", 4, 0),
    ]
    assert po_lines(engine, DEMO_RECEIVED_PO) == [
        ("Acme Supply", "MAIN", "received", "W-100", 10, 10),
        ("Acme Supply", "MAIN", "received", "S-500", 5, 5),
        ("Acme Supply", "MAIN", "received", "C-300", 50, 50),
    ]
    assert order_lines(engine, DEMO_ORDER) == [
        ("Northwind Traders", "MAIN", "open", "W-100", 2),
        ("Northwind Traders", "MAIN", "open", "C-300", 1),
    ]
    assert order_lines(engine, DEMO_ORDER_2) == [
        ("Contoso", "MAIN", "open", "S-500", 1),
        ("Contoso", "MAIN", "open", "W-100", 1),
    ]
    with engine.connect() as c:
        allocated = c.execute(
            select(Product.sku, AllocatedSerial.serial_key)
            .join(OrderLine, OrderLine.id == AllocatedSerial.order_line_id)
            .join(Product, Product.id == OrderLine.product_id)
        ).all()
        receipt = c.execute(
            select(Receipt.number, Receipt.session_id, Receipt.station, Receipt.user_name)
        ).one()
        units = c.execute(
            select(
                Product.sku,
                Unit.serial,
                Unit.status,
                Warehouse.code,
                Unit.bin,
                Unit.origin,
                Unit.po_line_id.is_not(None),
                Unit.receipt_id.is_not(None),
            )
            .join(Product, Product.id == Unit.product_id)
            .join(Warehouse, Warehouse.id == Unit.warehouse_id)
            .order_by(Unit.id)
        ).all()
        events = c.execute(select(Event.kind, Event.document_number)).all()
        stock = c.execute(
            select(Product.sku, StockLevel.qty).join(Product, Product.id == StockLevel.product_id)
        ).all()
    assert [tuple(a) for a in allocated] == [("S-500", DEMO_ALLOCATED_SERIAL)]
    assert tuple(receipt) == (DEMO_RECEIPT, "demo-receipt", "DEMO", "demo")
    expected = [("W-100", f"WS-{n:04d}") for n in range(1, 11)]
    expected += [("S-500", f"SS-{n:04d}") for n in range(1, 6)]
    assert [tuple(u) for u in units] == [
        (sku, serial, "in_stock", "MAIN", "A-01", "po", True, True) for sku, serial in expected
    ]
    assert {tuple(e) for e in events} == {("received", DEMO_RECEIPT)} and len(events) == 15
    assert [tuple(s) for s in stock] == [("C-300", 50)]


def test_demo_twice_adds_nothing(engine: Engine) -> None:
    load_demo(engine)
    before = counts(engine)
    again = load_demo(engine)
    assert again.already_loaded
    assert str(again) == "already loaded; nothing added"
    assert counts(engine) == before


def test_demo_on_a_ledger_that_has_some_of_its_products(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "products.csv"
    path.write_text(
        "sku,name,barcodes,serialized,serial_length,serial_pattern\n"
        "W-100,My widget,012345678905,true,,\nX-1,Other,W100,false,,\n"
    )
    import_products(engine, path)
    summary = load_demo(engine)
    assert summary.as_dict()["products"] == 4
    assert summary.as_dict()["barcodes"] == 4  # W-100's UPC is there; W100 belongs to X-1
    assert "4 products" in str(summary)
    with engine.connect() as c:
        assert c.scalar(select(Product.name).where(Product.sku == "W-100")) == "My widget"
    assert load_demo(engine).already_loaded
