"""`trace`: a serial's unit, documents and event timeline, as text and as JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from station.cli import main
from station.codes import Code, StationError
from station.db import bulk
from station.demo import load_demo
from station.imports import import_stock
from station.trace import as_json_ready, as_text, trace
from tests.seed import seed
from tests.test_exports import SHIPPED_SERIAL, ship_demo_unit
from tests.workflow import run_scan


def test_in_stock_unit_from_the_demo(engine: Engine) -> None:
    load_demo(engine)
    (unit,) = trace(engine, " ws-0001 ")
    data = unit.as_dict()
    assert {k: v for k, v in data.items() if k not in ("received_at", "events")} == {
        "sku": "W-100",
        "product": "Widget One",
        "serial": "WS-0001",
        "status": "in_stock",
        "warehouse": "MAIN",
        "bin": "A-01",
        "origin": "po",
        "po": "PO-9000",
        "vendor": "Acme Supply",
        "unit_cost": "12.5",
        "received_by": "demo",
        "receipt": "RCV-DEMO-1",
        "order": None,
        "customer": None,
        "shipped_at": None,
        "shipped_by": None,
        "shipment": None,
    }
    assert data["received_at"].endswith("Z")
    (event,) = data["events"]
    assert event["kind"] == "received" and event["at"].endswith("Z")
    assert (event["station"], event["user"], event["to_warehouse"], event["to_bin"]) == (
        "DEMO",
        "demo",
        "MAIN",
        "A-01",
    )
    assert (event["document_kind"], event["document_number"]) == ("receipt", "RCV-DEMO-1")
    text = unit.as_text()
    assert "Serial:    WS-0001" in text
    assert "Product:   W-100  Widget One" in text
    assert "Location:  MAIN/A-01" in text
    assert "Origin:    PO-9000 from Acme Supply" in text
    assert "Events (1):" in text
    assert "received" in text and "to MAIN/A-01  receipt RCV-DEMO-1  by DEMO / demo" in text


def test_shipped_unit_has_its_order_and_full_timeline(engine: Engine) -> None:
    ship_demo_unit(engine)
    (unit,) = trace(engine, SHIPPED_SERIAL)
    data = json.loads(json.dumps(as_json_ready([unit])))[0]
    assert (data["status"], data["order"], data["customer"]) == (
        "shipped",
        "SO-5001",
        "Northwind Traders",
    )
    assert (data["shipment"], data["shipped_by"]) == ("SHP-1", "pat")
    assert data["received_at"] == "2024-03-01T10:00:00Z"
    assert data["shipped_at"] == "2024-03-05T15:30:00Z"
    assert [(e["kind"], e["at"], e["station"], e["user"]) for e in data["events"]] == [
        ("received", "2024-03-01T10:00:00Z", "DOCK-1", "demo"),
        ("shipped", "2024-03-05T15:30:00Z", "PACK-1", "pat"),
    ]
    shipped = data["events"][1]
    assert (shipped["from_warehouse"], shipped["from_bin"], shipped["to_warehouse"]) == (
        "MAIN",
        "A-01",
        None,
    )
    text = as_text([unit])
    assert "Shipped:   2024-03-05 15:30:00 UTC on SHP-1 by pat" in text
    assert "Order:     SO-5001  Northwind Traders" in text
    assert "2024-03-01 10:00:00 UTC  received" in text
    assert "2024-03-05 15:30:00 UTC  shipped" in text
    assert "from MAIN/A-01  shipment SHP-1  by PACK-1 / pat" in text
    assert text.index("received ") < text.index("shipped ")


def test_same_serial_on_two_products_and_sku_narrows(engine: Engine, tmp_path: Path) -> None:
    load_demo(engine)
    path = tmp_path / "stock.csv"
    path.write_text("sku,serial,warehouse,bin,unit_cost\nS-500,WS-0001,EAST,X-9,\n")
    import_stock(engine, path, user="sam")
    both = trace(engine, "WS-0001")
    assert [(u.sku, u.warehouse, u.origin) for u in both] == [
        ("S-500", "EAST", "opening"),
        ("W-100", "MAIN", "po"),
    ]
    (opening,) = trace(engine, "WS-0001", sku="S-500")
    assert opening.po is None and opening.vendor is None and opening.unit_cost is None
    (event,) = opening.events
    assert (event.kind, event.document_kind, event.station, event.user) == (
        "adjusted",
        "opening",
        "IMPORT",
        "sam",
    )
    assert "Origin:    opening" in opening.as_text()
    assert as_text(both).count("Serial:    WS-0001") == 2
    with pytest.raises(StationError) as caught:
        trace(engine, "WS-0001", sku="G-200")
    assert caught.value.code is Code.SERIAL_UNKNOWN
    assert caught.value.message == "Serial WS-0001 exists for S-500, W-100, not for G-200."


@pytest.mark.parametrize("serial", ["NOPE-1", "", "   "])
def test_unknown_serial(engine: Engine, serial: str) -> None:
    load_demo(engine)
    with pytest.raises(StationError) as caught:
        trace(engine, serial)
    assert caught.value.code is Code.SERIAL_UNKNOWN
    assert caught.value.message.startswith("No unit has serial")


def test_a_documents_units_are_found_by_any_of_its_numbers(engine: Engine) -> None:
    from station.db.search import units_of_document

    seed(engine)
    on_po = ["GSN0000001", "WS-1", "WS-2", "WS-3", "WS-4", "WS-EAST", "WS-GONE"]  # not WS-OPEN
    with engine.connect() as connection:
        serials = {
            number: [row.serial for row in units_of_document(connection, f" {number} ")]
            for number in ("PO-0", "RCV-OLD", "SO-0", "SHP-OLD", "PO-1", "SO-1", "NOTHING", "")
        }
    assert serials == {
        "PO-0": on_po,
        "RCV-OLD": on_po,
        "SO-0": ["WS-GONE"],
        "SHP-OLD": ["WS-GONE"],
        "PO-1": [],
        "SO-1": [],
        "NOTHING": [],
        "": [],
    }


# --- a lookup reads by index (issue 10) --------------------------------------------------


def _statements(engine: Engine, look_up: Callable[[], object]) -> list[tuple[str, Any]]:
    """The statements `look_up()` runs, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        look_up()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def _rows_read(engine: Engine, statement: str, parameters: Any) -> dict[str, int | None]:
    """The rows of units and of events a statement reads: on PostgreSQL from its plan as
    run (EXPLAIN ANALYZE: the rows each scan of the table passed on and those its filter
    removed); on SQLite (EXPLAIN QUERY PLAN) 0 when every step on the table searches it
    by what is looked up (a serial key, a document reference, a unit's id), else None:
    a SCAN, an index walked end to end, or a search by something else (a warehouse)."""
    read: dict[str, int | None] = {"units": 0, "events": 0}
    with engine.connect() as c:
        driver: Any = c.connection.driver_connection
        if c.dialect.name == "sqlite":
            plan = driver.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
            for *_, detail in plan:
                step = _STEP.match(detail)
                if step and not _BY.search(step["how"] or ""):
                    read[step["table"]] = None
            return read
        with driver.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
            (((found,),),) = [cursor.fetchall()]
        rows_of = {"units": 0, "events": 0}
        nodes = [found[0]["Plan"]]
        while nodes:
            node = nodes.pop()
            nodes.extend(node.get("Plans", []))
            if node.get("Relation Name") in rows_of:
                rows = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
                rows += node.get("Rows Removed by Index Recheck", 0)
                rows_of[node["Relation Name"]] += rows * node["Actual Loops"]
        return {**rows_of}


#: A step of a SQLite plan on units or events, and what a search of them may go by.
_STEP = re.compile(r"^(SCAN|SEARCH) (TABLE )?(?P<table>units|events)\b(?P<how>.*)")
_BY = re.compile(
    r"^ USING \S*\s?(INDEX \w+|INTEGER PRIMARY KEY) \(.*\b(serial_key|po_line_id|receipt_id"
    r"|order_line_id|shipment_id|rowid|unit_id)="
)


def test_a_lookup_reads_only_the_units_and_events_it_shows(engine: Engine) -> None:
    """With 3,000 more units in stock: looking up an order that holds no unit (its
    number, then as a serial), a serial, and a receipt reads the units and events shown
    and no others, by their indexes (no statement of it scans either table; the order's
    units were found by walking the serial-key index end to end, about 2 s at 1,000,000
    units on PostgreSQL)."""
    from station.db.search import units_of_document

    seed(engine)
    now = datetime.now(UTC)
    with engine.begin() as c:
        bulk.insert_units(
            c,
            (
                {
                    "product_id": 1,
                    "scope_id": 1,
                    "serial": f"L-{i:05d}",
                    "serial_key": f"L-{i:05d}",
                    "status": "in_stock",
                    "warehouse_id": 1,
                    "bin": "A-01",
                    "origin": "opening",
                    "received_at": now,
                }
                for i in range(3000)
            ),
            {"kind": "adjusted", "at": now, "document_kind": "opening"},
        )
    assert bulk.analyze(engine, ["units", "events"])
    if engine.dialect.name == "sqlite":  # every row counted: NULL is most units' order
        with engine.begin() as c:
            c.exec_driver_sql("PRAGMA analysis_limit = 0")
            c.exec_driver_sql("ANALYZE")

    def on_document(number: str) -> list[str]:
        with engine.connect() as connection:
            return [unit.serial for unit in units_of_document(connection, number)]

    def as_serial(serial: str) -> int:
        try:
            return sum(len(unit.events) for unit in trace(engine, serial))
        except StationError:
            return 0

    shown: dict[str, tuple[int, int]] = {}  # units, events
    looked_up = {
        "SO-1 (no units)": lambda: shown.update({"SO-1": (len(on_document("SO-1")), 0)}),
        "SO-1 as a serial": lambda: shown.update({"SO-1 as a serial": (0, as_serial("SO-1"))}),
        "L-01500": lambda: shown.update({"L-01500": (1, as_serial("L-01500"))}),
        "RCV-OLD": lambda: shown.update({"RCV-OLD": (len(on_document("RCV-OLD")), 0)}),
    }
    for what, look_up in looked_up.items():
        statements = _statements(engine, look_up)
        units, events = shown[what.split(" (")[0]]
        assert statements, what
        for statement, parameters in statements:
            read = _rows_read(engine, statement, parameters)
            assert read["units"] is not None and read["units"] <= units, (what, read, statement)
            assert read["events"] is not None and read["events"] <= events, (what, read)
    assert shown == {
        "SO-1": (0, 0),
        "SO-1 as a serial": (0, 0),
        "L-01500": (1, 1),
        "RCV-OLD": (7, 0),
    }


# --- where a unit that left went (SPEC §3.3) --------------------------------------------


def receive_and_ship(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    """Through `station scan`: RX-1..3 received on PO-1, RX-1 and RX-2 shipped on SO-1
    (Northwind), WS-4 marked not found while packing SO-2; the shipment's number."""
    receive = ["--station", "DOCK-1", "--receive", "PO-1"]
    status, out = run_scan(
        monkeypatch, capsys, db_url, receive, ["W1", "RX-1", "RX-2", "RX-3", "CMD-SAVE"]
    )
    assert status == 0 and out[-1]["posted"] is True
    ship = ["--station", "PACK-1", "--ship", "SO-1"]
    status, out = run_scan(
        monkeypatch, capsys, db_url, ship, ["W1", "RX-1", "RX-2", "CABLE3", "CMD-SAVE"]
    )
    assert status == 0 and out[-1]["posted"] is True
    shipment = str(out[-1]["document"])
    missing = ["--station", "PACK-1", "--ship", "SO-2"]
    status, out = run_scan(monkeypatch, capsys, db_url, missing, ["CMD-NOTFOUND", "WS-4"])
    assert out[-1]["ok"] is True
    return shipment


def _trace_text(capsys: pytest.CaptureFixture[str], db_url: str, serial: str) -> str:
    capsys.readouterr()
    assert main(["--db", db_url, "trace", serial]) == 0
    return capsys.readouterr().out


def test_trace_of_a_unit_that_left_says_where_it_went(
    db_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed(engine)
    shipment = receive_and_ship(db_url, monkeypatch, capsys)

    page = _trace_text(capsys, db_url, "rx-1")
    location = f"Location:  Shipped on order SO-1 to Northwind, shipment {shipment}\n"
    assert location in page
    (received_bin,) = [e.to_bin for e in trace(engine, "RX-1")[0].events if e.to_bin]
    assert f"Location:  MAIN/{received_bin}" not in page  # the bin it left
    assert f"from MAIN/{received_bin}  shipment {shipment}" in page  # ... is in its history
    assert "Order:     SO-1  Northwind" in page

    capsys.readouterr()
    assert main(["--db", db_url, "trace", "RX-1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["status"], data["order"], data["customer"], data["shipment"]) == (
        "shipped",
        "SO-1",
        "Northwind",
        shipment,
    )
    assert (data["warehouse"], data["bin"]) == ("MAIN", received_bin)  # the fields stay
    assert "location" not in data

    assert f"Location:  MAIN/{received_bin}\n" in _trace_text(capsys, db_url, "RX-3")
    assert "Location:  Not found at MAIN/A-01\n" in _trace_text(capsys, db_url, "WS-4")

    # There is no supplier-return workflow yet (SPEC §3.3 RTV): the status is set here.
    with engine.begin() as c:
        c.execute(text("UPDATE units SET status = 'returned_to_vendor' WHERE serial = 'RX-3'"))
    assert "Location:  Returned to vendor Acme Supply\n" in _trace_text(capsys, db_url, "RX-3")
