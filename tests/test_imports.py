"""Imports from CSV and XLSX: happy paths, every bad row reported, nothing written."""

from __future__ import annotations

import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine, func, select

from station.codes import Code, StationError
from station.db.models import (
    Barcode,
    Event,
    OrderLine,
    POLine,
    Product,
    PurchaseOrder,
    SalesOrder,
    Setting,
    StockLevel,
    Unit,
    Vendor,
    Warehouse,
)
from station.imports import (
    ImportInvalid,
    RowError,
    import_orders,
    import_pos,
    import_products,
    import_stock,
)

HEADER_PRODUCTS = "sku,name,barcodes,serialized,serial_length,serial_pattern\n"
PRODUCTS = """sku,name,barcodes,serialized,serial_length,serial_pattern
W-100,Widget One,012345678905;W100,true,,
G-200,Gadget Two,4006381333931,yes,10,
C-300,Cable Three,0705632441947,no,,
P-400,Printer Four,PR400,1,,^PR[0-9]{6}$
"""


def write_csv(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def write_xlsx(tmp_path: Path, rows: list[list[object]], name: str = "data.xlsx") -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


def count(engine: Engine, model: type) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(model)) or 0


def table_counts(engine: Engine) -> dict[str, int]:
    models = (Product, Barcode, Warehouse, Vendor, PurchaseOrder, POLine, SalesOrder)
    return {m.__tablename__: count(engine, m) for m in (*models, OrderLine, Unit, Event)}


def load_products(engine: Engine, tmp_path: Path) -> None:
    import_products(engine, write_csv(tmp_path, PRODUCTS, "products.csv"))


def reasons(error: ImportInvalid) -> dict[int, str]:
    return {e.line: e.reason for e in error.errors}


# --- products ----------------------------------------------------------------------------


def test_products_from_csv(engine: Engine, tmp_path: Path) -> None:
    summary = import_products(engine, write_csv(tmp_path, PRODUCTS))
    assert (summary.rows, summary.created["products"], summary.created["barcodes"]) == (4, 4, 5)
    with engine.connect() as c:
        rows = c.execute(
            select(
                Product.sku, Product.serialized, Product.serial_length, Product.serial_pattern
            ).order_by(Product.sku)
        ).all()
        codes = dict(c.execute(select(Barcode.code, Barcode.gtin)).all())
    assert [tuple(r) for r in rows] == [
        ("C-300", False, None, None),
        ("G-200", True, 10, None),
        ("P-400", True, None, "^PR[0-9]{6}$"),
        ("W-100", True, None, None),
    ]
    assert codes == {
        "012345678905": "00012345678905",
        "W100": None,
        "4006381333931": "04006381333931",
        "0705632441947": "00705632441947",
        "PR400": None,
    }


def test_products_from_xlsx_update_existing_and_add_barcodes(
    engine: Engine, tmp_path: Path
) -> None:
    load_products(engine, tmp_path)
    path = write_xlsx(
        tmp_path,
        [
            ["SKU", "Name", "Barcodes", "Serialized", "Serial_Length", "Serial_Pattern"],
            ["W-100", "Widget One (v2)", "W100;W-ONE", True, None, None],
            ["S-500", "Scanner Five", 36000291452, "no", None, None],
        ],
    )
    summary = import_products(engine, path)
    assert summary.created == {"products": 1, "updated": 1, "barcodes": 2}
    with engine.connect() as c:
        name = c.scalar(select(Product.name).where(Product.sku == "W-100"))
        codes = c.execute(select(Barcode.code).order_by(Barcode.code)).scalars().all()
    assert name == "Widget One (v2)"
    assert "W-ONE" in codes and "36000291452" in codes and "W100" in codes


def test_products_every_bad_row_is_reported_and_nothing_written(
    engine: Engine, tmp_path: Path
) -> None:
    load_products(engine, tmp_path)
    before = table_counts(engine)
    text = """sku,name,barcodes,serialized,serial_length,serial_pattern
N-1,Good one,N1,true,,
,No SKU,,true,,
N-2,,,true,,
N-3,Bad flag,,maybe,,
N-4,Bad length,,true,99,
N-5,Bad pattern,,true,,[A-
N-1,Twice,,true,,
N-6,Taken code,W100,true,,
N-7,Taken as GTIN,00012345678905,true,,
N-8,Code twice in file,N1,true,,
N-9,Rules but not serialized,,false,5,
"""
    with pytest.raises(ImportInvalid) as caught:
        import_products(engine, write_csv(tmp_path, text))
    error = caught.value
    assert isinstance(error, StationError) and error.code is Code.IMPORT_INVALID
    got = reasons(error)
    assert sorted(got) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert got[3] == "sku is empty"
    assert got[4] == "name is empty"
    assert "serialized must be true/false/yes/no/1/0, not 'maybe'" in got[5]
    assert "serial_length must be between 1 and 64, not 99" in got[6]
    assert "serial_pattern '[A-' is not a regular expression" in got[7]
    assert got[8] == "SKU 'N-1' is also on line 2"
    assert got[9] == "barcode 'W100' belongs to W-100 already"
    assert got[10] == "barcode '00012345678905' belongs to W-100 already"
    assert got[11] == "barcode 'N1' is also on line 2 (N-1)"
    assert "need serialized true" in got[12]
    assert "10 rows are bad; nothing was imported" in error.message
    assert "line 9: barcode 'W100' belongs to W-100 already" in error.message
    assert table_counts(engine) == before


# --- purchase orders and orders ----------------------------------------------------------


def test_pos_create_vendors_warehouses_and_lines(engine: Engine, tmp_path: Path) -> None:
    load_products(engine, tmp_path)
    text = """po_number,vendor,warehouse,sku,qty,unit_cost
PO-1,Acme Supply,MAIN,W-100,3,12.50
PO-1,Acme Supply,MAIN,C-300,10,
PO-2,Globex,EAST,G-200,2,99
"""
    summary = import_pos(engine, write_csv(tmp_path, text))
    assert summary.rows == 3
    assert summary.created == {"purchase_orders": 2, "lines": 3, "vendors": 2, "warehouses": 2}
    with engine.connect() as c:
        lines = c.execute(
            select(
                PurchaseOrder.number,
                Vendor.name,
                Warehouse.code,
                PurchaseOrder.status,
                POLine.line_no,
                Product.sku,
                POLine.qty_ordered,
                POLine.qty_received,
                POLine.unit_cost,
            )
            .join(Vendor, Vendor.id == PurchaseOrder.vendor_id)
            .join(Warehouse, Warehouse.id == PurchaseOrder.warehouse_id)
            .join(POLine, POLine.po_id == PurchaseOrder.id)
            .join(Product, Product.id == POLine.product_id)
            .order_by(PurchaseOrder.number, POLine.line_no)
        ).all()
    assert [tuple(r) for r in lines] == [
        ("PO-1", "Acme Supply", "MAIN", "open", 1, "W-100", 3, 0, Decimal("12.5")),
        ("PO-1", "Acme Supply", "MAIN", "open", 2, "C-300", 10, 0, None),
        ("PO-2", "Globex", "EAST", "open", 1, "G-200", 2, 0, Decimal("99")),
    ]


def test_pos_bad_rows(engine: Engine, tmp_path: Path) -> None:
    load_products(engine, tmp_path)
    import_pos(
        engine,
        write_csv(
            tmp_path,
            "po_number,vendor,warehouse,sku,qty,unit_cost\nPO-OLD,Acme,MAIN,W-100,1,\n",
            "old.csv",
        ),
    )
    before = table_counts(engine)
    text = """po_number,vendor,warehouse,sku,qty,unit_cost
PO-1,Acme,MAIN,W-100,3,1.5
PO-1,Globex,MAIN,C-300,1,
PO-1,Acme,MAIN,W-100,1,
PO-2,Acme,MAIN,NOPE,1,
PO-2,Acme,MAIN,C-300,0,
PO-2,Acme,MAIN,G-200,two,
PO-2,Acme,MAIN,P-400,1,-3
PO-OLD,Acme,MAIN,C-300,1,
"""
    with pytest.raises(ImportInvalid) as caught:
        import_pos(engine, write_csv(tmp_path, text))
    got = reasons(caught.value)
    assert got == {
        3: "vendor 'Globex' differs from 'Acme' on line 2 for PO-1",
        4: "W-100 is also on line 2 of PO-1",
        5: "unknown SKU 'NOPE'",
        6: "qty must be between 1 and 1000000, not 0",
        7: "qty must be a whole number, not 'two'",
        8: "unit_cost must be between 0 and 9999999999, not '-3'",
        9: "PO PO-OLD exists already",
    }
    assert table_counts(engine) == before


def test_orders_from_xlsx(engine: Engine, tmp_path: Path) -> None:
    load_products(engine, tmp_path)
    path = write_xlsx(
        tmp_path,
        [
            ["order_number", "customer", "warehouse", "sku", "qty"],
            ["SO-1", "Northwind Traders", "MAIN", "W-100", 2],
            [None, None, None, None, None],
            ["SO-1", "Northwind Traders", "MAIN", "C-300", 1.0],
            ["SO-2", "Contoso", "MAIN", "G-200", 1],
        ],
    )
    summary = import_orders(engine, path)
    assert summary.created == {"orders": 2, "lines": 3, "warehouses": 1}
    with engine.connect() as c:
        lines = c.execute(
            select(SalesOrder.number, SalesOrder.customer, Product.sku, OrderLine.qty)
            .join(OrderLine, OrderLine.order_id == SalesOrder.id)
            .join(Product, Product.id == OrderLine.product_id)
            .order_by(SalesOrder.number, OrderLine.line_no)
        ).all()
    assert [tuple(r) for r in lines] == [
        ("SO-1", "Northwind Traders", "W-100", 2),
        ("SO-1", "Northwind Traders", "C-300", 1),
        ("SO-2", "Contoso", "G-200", 1),
    ]


def test_orders_existing_number_and_missing_customer(engine: Engine, tmp_path: Path) -> None:
    load_products(engine, tmp_path)
    header = "order_number,customer,warehouse,sku,qty\n"
    import_orders(engine, write_csv(tmp_path, header + "SO-1,Contoso,MAIN,W-100,1\n", "a.csv"))
    with pytest.raises(ImportInvalid) as caught:
        import_orders(
            engine,
            write_csv(tmp_path, header + "SO-1,Contoso,MAIN,C-300,1\nSO-2,,MAIN,W-100,1\n"),
        )
    assert reasons(caught.value) == {2: "order SO-1 exists already", 3: "customer is empty"}
    assert count(engine, SalesOrder) == 1


# --- stock -------------------------------------------------------------------------------


def test_stock_creates_units_events_and_stock_levels(engine: Engine, tmp_path: Path) -> None:
    load_products(engine, tmp_path)
    text = """sku,serial,warehouse,bin,unit_cost
W-100,ws-1 ,MAIN,A-01,12.5
W-100,WS-2,MAIN,,
G-200,GS00000001,EAST,B-02,100
C-300,,MAIN,,
C-300,,MAIN,,
P-400,PR123456,MAIN,A-01,1.25
"""
    summary = import_stock(engine, write_csv(tmp_path, text), user="sam")
    assert summary.created == {"units": 4, "pieces": 2, "warehouses": 2}
    with engine.connect() as c:
        units = c.execute(
            select(
                Product.sku,
                Unit.serial,
                Unit.serial_key,
                Unit.status,
                Warehouse.code,
                Unit.bin,
                Unit.origin,
                Unit.unit_cost,
                Unit.scope_id == Unit.product_id,
            )
            .join(Product, Product.id == Unit.product_id)
            .join(Warehouse, Warehouse.id == Unit.warehouse_id)
            .order_by(Unit.id)
        ).all()
        events = c.execute(
            select(Event.kind, Event.document_kind, Event.user_name, Event.to_bin).order_by(
                Event.id
            )
        ).all()
        stock = c.execute(select(StockLevel.qty)).scalars().all()
    assert [tuple(u) for u in units] == [
        ("W-100", "ws-1", "WS-1", "in_stock", "MAIN", "A-01", "opening", Decimal("12.5"), True),
        ("W-100", "WS-2", "WS-2", "in_stock", "MAIN", "RECEIVING", "opening", None, True),
        (
            "G-200",
            "GS00000001",
            "GS00000001",
            "in_stock",
            "EAST",
            "B-02",
            "opening",
            Decimal("100"),
            True,
        ),
        (
            "P-400",
            "PR123456",
            "PR123456",
            "in_stock",
            "MAIN",
            "A-01",
            "opening",
            Decimal("1.25"),
            True,
        ),
    ]
    assert [tuple(e) for e in events] == [
        ("adjusted", "opening", "sam", "A-01"),
        ("adjusted", "opening", "sam", "RECEIVING"),
        ("adjusted", "opening", "sam", "B-02"),
        ("adjusted", "opening", "sam", "A-01"),
    ]
    assert stock == [2]
    # A second opening balance adds to the quantity on hand.
    import_stock(engine, write_csv(tmp_path, "sku,serial,warehouse,bin,unit_cost\nC-300,,MAIN,,\n"))
    with engine.connect() as c:
        assert c.execute(select(StockLevel.qty)).scalars().all() == [3]


def test_stock_bad_rows_with_line_numbers(engine: Engine, tmp_path: Path) -> None:
    load_products(engine, tmp_path)
    import_stock(
        engine,
        write_csv(
            tmp_path, "sku,serial,warehouse,bin,unit_cost\nW-100,OLD-1,MAIN,A-01,\n", "old.csv"
        ),
    )
    before = table_counts(engine)
    text = """sku,serial,warehouse,bin,unit_cost
W-100,NEW-1,MAIN,A-01,
W-100,new-1,MAIN,A-01,
W-100,old-1,MAIN,A-01,
W-100,,MAIN,A-01,
G-200,SHORT,MAIN,A-01,
P-400,XX123456,MAIN,A-01,
C-300,C1,MAIN,A-01,
NOPE,N1,MAIN,A-01,
W-100,NEW-2,,A-01,abc
"""
    with pytest.raises(ImportInvalid) as caught:
        import_stock(engine, write_csv(tmp_path, text))
    got = reasons(caught.value)
    assert got[3] == "serial 'new-1' for W-100 is also on line 2"
    assert got[4].startswith("serial 'old-1' exists already: W-100, in_stock at MAIN/A-01")
    assert got[5] == "W-100 is serialized; serial is empty"
    assert got[6] == "serial 'SHORT' has 5 characters; G-200 serials have 10"
    assert got[7] == "serial 'XX123456' does not fit P-400's serial format (^PR[0-9]{6}$)"
    assert "C-300 is not serialized" in got[8]
    assert got[9] == "unknown SKU 'NOPE'"
    assert got[10] == "warehouse is empty; unit_cost must be a number, not 'abc'"
    assert sorted(got) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert table_counts(engine) == before


def test_stock_under_global_scope_refuses_a_serial_of_another_product(
    engine: Engine, tmp_path: Path
) -> None:
    load_products(engine, tmp_path)
    with engine.begin() as c:
        c.execute(Setting.__table__.insert(), [{"key": "serial_scope", "value": "global"}])
    header = "sku,serial,warehouse,bin,unit_cost\n"
    import_stock(engine, write_csv(tmp_path, header + "W-100,SN-1,MAIN,A,\n", "a.csv"))
    with pytest.raises(ImportInvalid) as caught:
        import_stock(
            engine,
            write_csv(
                tmp_path,
                header + "S-1,X,MAIN,A,\nP-400,PR000001,MAIN,A,\n"
                "W-100,PR000001,MAIN,A,\nG-200,SN-1AAAAAA,MAIN,A,\n",
            ),
        )
    got = reasons(caught.value)
    assert got[4] == "serial 'PR000001' is also on line 3"
    with pytest.raises(ImportInvalid) as caught:
        import_stock(
            engine, write_csv(tmp_path, header + "P-400,PR000002,MAIN,A,\nW-100,sn-1,MAIN,A,\n")
        )
    assert reasons(caught.value) == {
        3: reasons(caught.value)[3],
    } and reasons(caught.value)[3].startswith("serial 'sn-1' exists already: W-100")


def test_stock_thousands_of_rows_from_xlsx(engine: Engine, tmp_path: Path) -> None:
    load_products(engine, tmp_path)
    rows: list[list[object]] = [["sku", "serial", "warehouse", "bin", "unit_cost"]]
    rows += [["W-100", f"BULK-{n:06d}", "MAIN", f"B-{n % 7}", 3.5] for n in range(5_000)]
    summary = import_stock(engine, write_xlsx(tmp_path, rows))
    assert summary.created["units"] == 5_000
    assert count(engine, Unit) == 5_000 and count(engine, Event) == 5_000
    # Imported twice: every row is a duplicate against the ledger, nothing more written.
    with pytest.raises(ImportInvalid) as caught:
        import_stock(engine, write_xlsx(tmp_path, rows))
    assert len(caught.value.errors) == 5_000
    assert "… and 4980 more" in caught.value.message
    assert count(engine, Unit) == 5_000


# --- files that are not what they claim ----------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty; the first line must be the header sku,name,barcodes"),
        (b"\n\n", "is empty; the first line must be the header"),
        (b"sku,name\nW,Widget\n", "line 1: the header must be sku,name,barcodes,serialized"),
        (
            b"sku,name,barcodes,serialized,serial_length,serial_pattern\n",
            "has a header but no rows",
        ),
        (
            b"sku,name,barcodes,serialized,serial_length,serial_pattern\nW-1,Caf\xe9,,true,,\n",
            "is not UTF-8 text",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not a CSV or XLSX file"),
        (b"PK\x03\x04garbage that is not a zip", "is not a readable XLSX workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "is an old Excel .xls workbook"),
    ],
)
def test_corrupt_files_get_a_clear_message(
    engine: Engine, tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "products.csv"
    path.write_bytes(content)
    with pytest.raises(ImportInvalid) as caught:
        import_products(engine, path)
    assert caught.value.code is Code.IMPORT_INVALID
    assert caught.value.message.startswith("products.csv: ")
    assert expected in caught.value.message
    assert count(engine, Product) == 0


def test_zip_that_is_not_a_workbook_and_an_oversized_field(engine: Engine, tmp_path: Path) -> None:
    archive = tmp_path / "products.xlsx"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", "not a workbook")
    with pytest.raises(ImportInvalid, match="is not a readable XLSX workbook"):
        import_products(engine, archive)
    huge = tmp_path / "huge.csv"
    huge.write_text(HEADER_PRODUCTS + '"' + "x" * 200_000 + '",n,,true,,\n')
    with pytest.raises(ImportInvalid, match="is not a readable CSV file"):
        import_products(engine, huge)


def test_xlsx_line_numbers_count_blank_rows(engine: Engine, tmp_path: Path) -> None:
    load_products(engine, tmp_path)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["sku", "serial", "warehouse", "bin", "unit_cost"])
    sheet.append(["W-100", "OK-1", "MAIN", "A", 1])
    for column, value in zip("ABCDE", ["W-100", "OK-1", "MAIN", "A", 1], strict=True):
        sheet[f"{column}6"] = value
    path = tmp_path / "gap.xlsx"
    workbook.save(path)
    with pytest.raises(ImportInvalid) as caught:
        import_stock(engine, path)
    assert reasons(caught.value) == {6: "serial 'OK-1' for W-100 is also on line 2"}


def test_missing_file(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(ImportInvalid, match=r"nothing\.csv: cannot be read"):
        import_stock(engine, tmp_path / "nothing.csv")


def test_semicolon_csv_with_bom_and_header_in_any_order(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        "\ufeffName;SKU;serialized;barcodes;serial_pattern;serial_length\nWidget;W-1;no;;;\n",
        encoding="utf-8",
    )
    assert import_products(engine, path).created["products"] == 1


def test_row_error_reads_as_a_line() -> None:
    assert str(RowError(7, "unknown SKU 'X'")) == "line 7: unknown SKU 'X'"
