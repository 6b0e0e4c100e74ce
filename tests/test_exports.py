"""Excel exports read back with openpyxl, cell by cell."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine

from station.codes import Code
from station.db import bulk, lookup
from station.db.models import Event, Shipment, Unit
from station.demo import DEMO_ORDER, DEMO_RECEIPT, DEMO_RECEIVED_PO, load_demo
from station.exports import COLUMNS, ExportFilterInvalid, ExportFilters, export
from station.imports import import_stock

RECEIVED = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
SHIPPED = datetime(2024, 3, 5, 15, 30, tzinfo=UTC)
SHIPPED_SERIAL = "WS-SHIP-1"


def ship_demo_unit(engine: Engine) -> None:
    """The demo plus one W-100 unit received on PO-9000 and shipped on SO-5001 by pat,
    written straight through the bulk layer (the posting services are not needed)."""
    load_demo(engine)
    with engine.begin() as c:
        main = lookup.warehouses(c)["MAIN"]
        product = lookup.catalog(c)["W-100"]
        order_id = lookup.document_ids(c, "order", [DEMO_ORDER])[DEMO_ORDER]
        (shipment,) = bulk.insert_returning_ids(
            c,
            Shipment,
            [
                {
                    "number": "SHP-1",
                    "session_id": "ship-session-1",
                    "order_id": order_id,
                    "station": "PACK-1",
                    "user_name": "pat",
                    "units": 1,
                    "posted_at": SHIPPED,
                }
            ],
        )
        unit = {
            "product_id": product.id,
            "scope_id": product.id,
            "serial": SHIPPED_SERIAL,
            "serial_key": SHIPPED_SERIAL,
            "status": "shipped",
            "warehouse_id": main,
            "bin": "A-01",
            "origin": "po",
            "po_line_id": lookup.document_line_ids(c, "po", DEMO_RECEIVED_PO)["W-100"],
            "receipt_id": lookup.receipt_id(c, DEMO_RECEIPT),
            "unit_cost": "12.5",
            "received_at": RECEIVED,
            "order_line_id": lookup.document_line_ids(c, "order", DEMO_ORDER)["W-100"],
            "shipment_id": shipment,
            "shipped_at": SHIPPED,
        }
        (unit_id,) = bulk.insert_returning_ids(c, Unit, [unit])
        common = {
            "unit_id": unit_id,
            "from_warehouse_id": None,
            "from_bin": None,
            "to_warehouse_id": None,
            "to_bin": None,
        }
        bulk.insert_rows(
            c,
            Event,
            [
                {
                    **common,
                    "kind": "received",
                    "at": RECEIVED,
                    "station": "DOCK-1",
                    "user_name": "demo",
                    "to_warehouse_id": main,
                    "to_bin": "A-01",
                    "document_kind": "receipt",
                    "document_number": DEMO_RECEIPT,
                },
                {
                    **common,
                    "kind": "shipped",
                    "at": SHIPPED,
                    "station": "PACK-1",
                    "user_name": "pat",
                    "from_warehouse_id": main,
                    "from_bin": "A-01",
                    "document_kind": "shipment",
                    "document_number": "SHP-1",
                },
            ],
        )


def opening_unit(engine: Engine, tmp_path: Path) -> None:
    """A G-200 unit from an opening balance in EAST (no PO, no receipt)."""
    path = tmp_path / "stock.csv"
    path.write_text("sku,serial,warehouse,bin,unit_cost\nG-200,GS00000001,EAST,B-1,100\n")
    import_stock(engine, path)


def read_back(path: Path) -> list[list[Any]]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        # read-only mode leaves out trailing empty cells: pad to the header's width
        return [[*row, *([None] * (len(COLUMNS) - len(row)))] for row in rows]
    finally:
        workbook.close()


def by_serial(rows: list[list[Any]]) -> dict[str, list[Any]]:
    return {row[2]: row for row in rows[1:]}


@pytest.fixture
def ledger(engine: Engine, tmp_path: Path) -> Engine:
    ship_demo_unit(engine)
    opening_unit(engine, tmp_path)
    return engine


def test_serials_export_every_unit_cell_by_cell(ledger: Engine, tmp_path: Path) -> None:
    out = tmp_path / "serials.xlsx"
    assert export(ledger, "serials", out) == 17
    rows = read_back(out)
    assert rows[0] == list(COLUMNS)
    assert len(rows) == 18
    units = by_serial(rows)
    shipped = units[SHIPPED_SERIAL]
    assert shipped == [
        "W-100",
        "Widget One",
        SHIPPED_SERIAL,
        "shipped",
        "MAIN",
        "A-01",
        "PO-9000",
        "Acme Supply",
        12.5,
        datetime(2024, 3, 1, 10, 0),
        "demo",
        "SO-5001",
        "Northwind Traders",
        datetime(2024, 3, 5, 15, 30),
        "pat",
        None,
        None,
    ]
    in_stock = units["SS-0003"]
    assert in_stock[:9] == [
        "S-500",
        "Scanner Five",
        "SS-0003",
        "in_stock",
        "MAIN",
        "A-01",
        "PO-9000",
        "Acme Supply",
        89,
    ]
    received_at = in_stock[9]
    assert isinstance(received_at, datetime)
    assert abs(received_at - datetime.now(UTC).replace(tzinfo=None)) < timedelta(minutes=5)
    assert in_stock[10:] == ["demo", None, None, None, None, None, None]
    opening = units["GS00000001"]
    opening_cells = ["G-200", "Gadget Two", "GS00000001", "in_stock", "EAST", "B-1"]
    assert opening[:9] == [*opening_cells, None, None, 100]
    assert opening[10:] == [None, None, None, None, None, None, None]


def test_arrivals_are_units_received_on_receipts(ledger: Engine, tmp_path: Path) -> None:
    out = tmp_path / "arrivals.xlsx"
    assert export(ledger, "arrivals", out) == 16
    assert "GS00000001" not in by_serial(read_back(out))


def test_shipments_export_and_its_date_filter(ledger: Engine, tmp_path: Path) -> None:
    out = tmp_path / "shipments.xlsx"
    assert export(ledger, "shipments", out) == 1
    assert read_back(out)[1][2] == SHIPPED_SERIAL
    on_the_day = ExportFilters(date_from="2024-03-05", date_to="2024-03-05")
    assert export(ledger, "shipments", out, on_the_day) == 1
    assert export(ledger, "shipments", out, {"date_from": "2024-03-06"}) == 0
    assert read_back(out) == [list(COLUMNS)]
    assert export(ledger, "shipments", out, {"date_to": "2024-03-04"}) == 0


@pytest.mark.parametrize(
    ("filters", "serials"),
    [
        ({"sku": "G-200"}, {"GS00000001"}),
        ({"warehouse": "EAST"}, {"GS00000001"}),
        ({"status": "shipped"}, {SHIPPED_SERIAL}),
        ({"date_to": "2024-03-01"}, {SHIPPED_SERIAL}),
        (
            {"sku": "S-500", "warehouse": "MAIN", "status": "in_stock"},
            {f"SS-000{n}" for n in range(1, 6)},
        ),
        ({"sku": "S-500", "warehouse": "EAST"}, set()),
    ],
)
def test_filters(
    ledger: Engine, tmp_path: Path, filters: dict[str, str], serials: set[str]
) -> None:
    out = tmp_path / "filtered.xlsx"
    assert export(ledger, "serials", out, filters) == len(serials)
    assert set(by_serial(read_back(out))) == serials


@pytest.mark.parametrize(
    ("kind", "filters", "message"),
    [
        ("units", None, "unknown export 'units'"),
        ("serials", {"status": "lost"}, "unknown status 'lost'"),
        ("serials", {"date_from": "03/05/2024"}, "'03/05/2024' is not a date"),
        ("serials", {"colour": "red"}, "unknown export filter(s): colour"),
    ],
)
def test_bad_filters_are_refused_and_no_file_is_written(
    engine: Engine, tmp_path: Path, kind: str, filters: dict[str, str] | None, message: str
) -> None:
    out = tmp_path / "bad.xlsx"
    with pytest.raises(ExportFilterInvalid) as caught:
        export(engine, kind, out, filters)
    assert message in caught.value.message
    assert caught.value.code is Code.EXPORT_INVALID
    assert not out.exists()


def test_thousands_of_rows_stream_into_the_workbook(engine: Engine, tmp_path: Path) -> None:
    load_demo(engine)
    path = tmp_path / "stock.csv"
    lines = [f"W-100,BULK-{n:05d},EAST,B-{n % 9},1.5" for n in range(6000)]
    path.write_text("sku,serial,warehouse,bin,unit_cost\n" + "\n".join(lines) + "\n")
    import_stock(engine, path)
    out = tmp_path / "east.xlsx"
    assert export(engine, "serials", out, {"warehouse": "EAST"}) == 6000
    rows = read_back(out)
    assert len(rows) == 6001
    assert rows[1][:6] == ["W-100", "Widget One", "BULK-00000", "in_stock", "EAST", "B-0"]
    assert rows[-1][2] == "BULK-05999"


def test_a_serial_that_looks_like_a_formula_is_exported_as_text(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from station.exports import write_rows_xlsx

    out = tmp_path / "hostile.xlsx"
    rows = [["W-100", '=HYPERLINK("http://evil","click")', 3, "=1+1"]]
    assert write_rows_xlsx(out, ["SKU", "Serial", "Qty", "Note"], rows) == 1
    sheet = load_workbook(out).active
    (cells,) = sheet.iter_rows(min_row=2)
    assert [c.value for c in cells] == ["W-100", '=HYPERLINK("http://evil","click")', 3, "=1+1"]
    assert [c.data_type for c in cells] == ["s", "s", "n", "s"]
