"""Customer returns against the order the goods shipped on (SPEC §3.3), on SQLite and
PostgreSQL: what a return posts, quarantine, the whole receive → ship → return → ship
cycle, two stations returning one unit at once, and a station killed mid-return. The
return's verdict codes are in the table of tests/test_workflows.py."""

from __future__ import annotations

import io
import json
import signal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, insert, text

from station.app import open_session
from station.cli import main
from station.codes import StationError
from station.db.models import OrderLine, SalesOrder
from tests.seed import SUPERVISOR, add_operators, add_supervisor, seed, seed_returns
from tests.test_concurrency import _run
from tests.workflow import ask, configure, run_scan, start_scan


def _rows(engine: Engine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as c:
        return [tuple(row) for row in c.execute(text(sql), params)]


def test_a_return_brings_units_back_in_the_returns_bin_with_an_rma(engine: Engine) -> None:
    seed(engine)
    seed_returns(engine)
    add_operators(engine)
    session = open_session(engine, "DOCK-1", "return", "SO-3", user="kim").session
    assert session.prompt() == "Scan a serial (or an item first)"
    verdicts = [session.scan(s) for s in ["WS-OUT", "GSNOUT0002", "CABLE3", "CABLE3"]]
    assert all(v.ok for v in verdicts), [v.message for v in verdicts]
    assert verdicts[0].message == "Widget One serial WS-OUT — 1 of 1"
    posting = session.posting()
    result = session.save()
    assert result.posted and result.units == 4, result.message
    assert result.document == "RMA-000001"
    assert result.message == (
        "Returned 4 unit(s) on SO-3: RMA-000001. SO-3: 1 of Gadget Two may still come back."
    )
    units = _rows(
        engine,
        "SELECT u.serial, u.status, u.bin, r.number, r.station, r.user_name FROM units u"
        " JOIN rmas r ON r.id = u.rma_id ORDER BY u.serial",
    )
    assert units == [
        ("GSNOUT0002", "in_stock", "RETURNS", "RMA-000001", "DOCK-1", "kim"),
        ("WS-OUT", "in_stock", "RETURNS", "RMA-000001", "DOCK-1", "kim"),
    ]
    events = _rows(
        engine,
        "SELECT u.serial, e.kind, e.document_kind, e.document_number, e.station, e.user_name,"
        " e.to_bin FROM events e JOIN units u ON u.id = e.unit_id ORDER BY u.serial",
    )
    assert events == [
        ("GSNOUT0002", "returned", "rma", "RMA-000001", "DOCK-1", "kim", "RETURNS"),
        ("WS-OUT", "returned", "rma", "RMA-000001", "DOCK-1", "kim", "RETURNS"),
    ]
    lines = _rows(
        engine,
        "SELECT line_no, qty_shipped, qty_returned FROM order_lines"
        " WHERE order_id = 4 ORDER BY line_no",
    )
    assert lines == [(1, 2, 2), (2, 2, 1), (3, 2, 2)]
    assert _rows(engine, "SELECT status FROM sales_orders WHERE id = 4") == [("shipped",)]
    assert _rows(engine, "SELECT qty FROM stock_levels WHERE product_id = 3") == [(2,)]
    # the same session saved again (a lost answer): the first posting, nothing twice
    again = session.workflow.post(engine, posting)
    assert (again.posted, again.already_posted, again.document) == (True, True, "RMA-000001")
    assert _rows(engine, "SELECT count(*) FROM rmas") == [(1,)]


def test_with_quarantine_returns_on_units_come_back_quarantined_and_cannot_ship(
    engine: Engine,
) -> None:
    seed(engine)
    seed_returns(engine)
    configure(engine, "DOCK-1", quarantine_returns=True, returns_bin="QC-HOLD")
    session = open_session(engine, "DOCK-1", "return", "SO-3", journal=False).session
    assert session.scan("WS-OUT").ok
    assert session.save().posted
    assert _rows(engine, "SELECT status, bin FROM units WHERE serial = 'WS-OUT'") == [
        ("quarantined", "QC-HOLD")
    ]
    packer = open_session(engine, "PACK-1", "ship", "SO-1", journal=False).session
    assert packer.scan("W1").ok
    verdict = packer.scan("WS-OUT")
    assert (verdict.ok, verdict.code) == (False, "SERIAL_NOT_IN_STOCK")
    assert verdict.message.startswith("Serial WS-OUT is quarantined")


def test_an_order_with_nothing_left_to_return_is_not_opened(
    db_url: str, engine: Engine, monkeypatch: Any, capsys: Any
) -> None:
    seed(engine)
    status, out = run_scan(
        monkeypatch,
        capsys,
        db_url,
        ["--station", "DOCK-1", "--return", "SO-0"],
        ["WS-GONE", "CMD-SAVE"],
    )
    assert status == 0 and out[-1]["posted"] and out[-1]["document"] == "RMA-000001"
    for number in ("SO-0", "SO-1"):  # all back already; nothing shipped yet
        with pytest.raises(StationError) as refused:
            open_session(engine, "DOCK-1", "return", number, journal=False)
        assert refused.value.code == "ORDER_NOT_OPEN"
        assert str(refused.value).endswith(f"{number} has no shipped unit left to return.")
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"WS-1\n")))
        capsys.readouterr()
        status = main(["--db", db_url, "scan", "--station", "DOCK-1", "--return", number])
        out, err = capsys.readouterr()
        assert (status, out) == (1, "")
        assert err == (
            f"station: ORDER_NOT_OPEN: Order {number} has no shipped unit left to return.\n"
        )


def test_receive_ship_return_and_ship_again_every_step_on_the_timeline(
    db_url: str, engine: Engine, monkeypatch: Any, capsys: Any, tmp_path: Path
) -> None:
    seed(engine)
    add_operators(engine)
    with engine.begin() as c:
        order = c.execute(
            insert(SalesOrder)
            .values(number="SO-AGAIN", customer="Second Buyer", warehouse_id=1)
            .returning(SalesOrder.id)
        ).scalar_one()
        c.execute(insert(OrderLine).values(order_id=order, line_no=1, product_id=1, qty=1))

    def scan(args: list[str], scans: list[str]) -> dict[str, Any]:
        status, out = run_scan(monkeypatch, capsys, db_url, args, scans)
        assert status == 0 and all(v.get("ok", True) for v in out[:-1]), out
        assert out[-1]["posted"], out[-1]
        return out[-1]

    received = scan(
        ["--station", "DOCK-1", "--receive", "PO-1", "--user", "kim"],
        ["W1", "CYC-1", "CYC-2", "CMD-SAVE"],
    )
    configure(engine, "PACK-1", allow_partial_ship=True)
    shipped = scan(
        ["--station", "PACK-1", "--ship", "SO-1", "--user", "pat"], ["W1", "CYC-1", "CMD-SAVE"]
    )
    returned = scan(
        ["--station", "DOCK-2", "--return", "SO-1", "--user", "alice"], ["CYC-1", "CMD-SAVE"]
    )
    again = scan(
        ["--station", "PACK-2", "--ship", "SO-AGAIN", "--user", "pat"], ["W1", "CYC-1", "CMD-SAVE"]
    )
    assert [received["document"], shipped["document"], returned["document"]] == [
        "RCV-000001",
        "SHP-000001",
        "RMA-000001",
    ]
    assert main(["--db", db_url, "trace", "CYC-1", "--json"]) == 0
    trace = json.loads(capsys.readouterr().out)
    steps = [(e["kind"], e["document_number"], e["station"], e["user"]) for e in trace["events"]]
    assert steps == [
        ("received", "RCV-000001", "DOCK-1", "kim"),
        ("shipped", "SHP-000001", "PACK-1", "pat"),
        ("returned", "RMA-000001", "DOCK-2", "alice"),
        ("shipped", again["document"], "PACK-2", "pat"),
    ]
    assert trace["status"] == "shipped" and trace["order"] == "SO-AGAIN"

    add_supervisor(engine)
    sent = scan(
        ["--station", "DOCK-1", "--supplier-return", "Acme Supply", "--user", SUPERVISOR],
        ["CYC-2", "CMD-SAVE"],
    )
    assert sent["document"] == "RTV-000001"
    assert main(["--db", db_url, "trace", "CYC-2", "--json"]) == 0
    trace = json.loads(capsys.readouterr().out)
    steps = [(e["kind"], e["document_number"], e["station"], e["user"]) for e in trace["events"]]
    assert steps == [
        ("received", "RCV-000001", "DOCK-1", "kim"),
        ("returned_to_vendor", "RTV-000001", "DOCK-1", SUPERVISOR),
    ]
    assert trace["status"] == "returned_to_vendor"

    # the serials export names the return each unit came back on, or left on
    out = tmp_path / "serials.xlsx"
    assert main(["--db", db_url, "export", "serials", "--out", str(out)]) == 0
    rows = list(load_workbook(out, read_only=True).active.iter_rows(values_only=True))
    header = rows[0]
    cells = {row[header.index("Serial")]: row for row in rows[1:]}
    returned = [
        (serial, cells[serial][header.index("Status")], cells[serial][header.index(column)])
        for serial, column in (
            ("CYC-1", "Returned on (RMA)"),
            ("CYC-2", "Returned to vendor on (RTV)"),
        )
    ]
    assert returned == [
        ("CYC-1", "shipped", "RMA-000001"),
        ("CYC-2", "returned_to_vendor", "RTV-000001"),
    ]


def _return_worker(url: str, data_dir: str, worker: int, barrier: Any, results: Any) -> None:
    import os

    os.environ["STATION_DATA_DIR"] = data_dir
    from station.db.engine import make_engine

    engine = make_engine(url)
    session = open_session(engine, f"DOCK-{worker}", "return", "SO-3", journal=False).session
    scanned_ok = session.scan("WS-OUT").ok
    barrier.wait(timeout=60)
    result = session.save()
    results.put((worker, scanned_ok, session.session_id, result.as_dict()))
    engine.dispose()


def test_two_stations_returning_the_same_unit_at_once(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    seed(engine)
    seed_returns(engine)
    results = _run(_return_worker, db_url, str(tmp_path / "data"), 2)
    assert all(scanned for _, scanned, _, _ in results)
    posted = [r[3] for r in results if r[3]["posted"]]
    refused = [r[3] for r in results if not r[3]["posted"]]
    assert len(posted) == 1 and len(refused) == 1, results
    assert refused[0]["code"] == "SERIAL_NOT_SHIPPED"
    assert f"came back already on {posted[0]['document']}" in refused[0]["message"]
    assert _rows(engine, "SELECT qty_returned FROM order_lines WHERE id = 5") == [(2,)]
    assert _rows(engine, "SELECT count(*) FROM events WHERE kind = 'returned'") == [(1,)]


def test_a_station_killed_mid_return_restores_every_acknowledged_scan(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    seed(engine)
    seed_returns(engine)
    data = tmp_path / "data"
    args = ("--station", "DOCK-7", "--return", "SO-3")
    process = start_scan(db_url, data, *args)
    assert [ask(process, s)["ok"] for s in ("WS-OUT", "GSNOUT0001", "CABLE3")] == [True] * 3
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    again = start_scan(db_url, data, *args)
    out, err = again.communicate(b"GSNOUT0002\nCMD-SAVE\n", timeout=60)
    assert again.returncode == 0 and err == b"", err.decode()
    restored, verdict, posted = (json.loads(line) for line in out.decode().splitlines())
    assert restored == {"restored": 3}
    assert verdict["ok"] and posted["posted"] and posted["units"] == 4
    assert _rows(engine, "SELECT count(*) FROM units WHERE rma_id IS NOT NULL") == [(3,)]


def test_a_free_return_creates_units_whose_origin_is_the_return(
    db_url: str, engine: Engine, monkeypatch: Any, capsys: Any
) -> None:
    seed(engine)
    add_operators(engine)
    args = ["--station", "DOCK-1", "--free-return", "--user", "kim"]
    scans = ["W1", "FR-1", "CABLE3", "CABLE3", "G2", "FRG2SER001", "CMD-SAVE"]
    status, out = run_scan(monkeypatch, capsys, db_url, args, scans)
    assert status == 0 and all(v["ok"] for v in out[:-1]), out
    assert out[-1] == {
        "posted": True,
        "document": "RMA-000001",
        "units": 4,
        "message": "Returned 4 unit(s) with no order: RMA-000001.",
    }
    assert _rows(
        engine,
        "SELECT u.serial, u.status, u.bin, u.origin, r.order_id, r.user_name FROM units u"
        " JOIN rmas r ON r.id = u.rma_id ORDER BY u.serial",
    ) == [
        ("FR-1", "in_stock", "RETURNS", "return", None, "kim"),
        ("FRG2SER001", "in_stock", "RETURNS", "return", None, "kim"),
    ]
    assert _rows(
        engine,
        "SELECT e.kind, e.document_number, e.to_bin FROM events e JOIN units u"
        " ON u.id = e.unit_id WHERE u.serial = 'FR-1'",
    ) == [("returned", "RMA-000001", "RETURNS")]
    assert _rows(engine, "SELECT qty FROM stock_levels WHERE product_id = 3") == [(2,)]


def _stock(engine: Engine, qty: int) -> None:
    with engine.begin() as c:
        c.execute(
            text("INSERT INTO stock_levels (product_id, warehouse_id, qty) VALUES (3, 1, :q)"),
            {"q": qty},
        )


def test_a_supplier_return_sends_units_back_and_never_takes_stock_below_zero(
    db_url: str, engine: Engine, monkeypatch: Any, capsys: Any
) -> None:
    seed(engine)
    add_supervisor(engine)
    _stock(engine, 3)
    args = ["--station", "DOCK-1", "--supplier-return", "Acme Supply", "--user", SUPERVISOR]
    scans = ["WS-1", "CABLE3", "WS-2", "CABLE3", "CABLE3", "CABLE3", "CMD-SAVE"]
    status, out = run_scan(monkeypatch, capsys, db_url, args, scans)
    assert status == 0
    assert [v["code"] for v in out[:-1]] == ["OK"] * 5 + ["NOT_ENOUGH_STOCK"]
    assert out[5]["message"] == (
        "Cable Three (C3): 3 on hand, 3 in this session — 0 left to return to the vendor."
    )
    assert out[-1]["posted"] and out[-1]["document"] == "RTV-000001" and out[-1]["units"] == 5
    assert _rows(
        engine,
        "SELECT u.serial, u.status, v.name FROM units u JOIN rtvs r ON r.id = u.rtv_id"
        " JOIN vendors v ON v.id = r.vendor_id ORDER BY u.serial",
    ) == [
        ("WS-1", "returned_to_vendor", "Acme Supply"),
        ("WS-2", "returned_to_vendor", "Acme Supply"),
    ]
    assert _rows(
        engine,
        "SELECT e.kind, e.document_kind, e.document_number, e.user_name, e.from_bin FROM events e"
        " JOIN units u ON u.id = e.unit_id WHERE u.serial = 'WS-1'",
    ) == [("returned_to_vendor", "rtv", "RTV-000001", SUPERVISOR, "A-01")]
    assert _rows(engine, "SELECT qty FROM stock_levels WHERE product_id = 3") == [(0,)]

    # stock taken meanwhile (by a shipment): the posting re-checks it, nothing half-way
    session = open_session(engine, "DOCK-2", "supplier_return", "Acme Supply", journal=False)
    with engine.begin() as c:
        c.execute(text("UPDATE stock_levels SET qty = 2 WHERE product_id = 3"))
    packer = session.session
    assert packer.scan("WS-3").ok and packer.scan("CABLE3").ok and packer.scan("CABLE3").ok
    with engine.begin() as c:
        c.execute(text("UPDATE stock_levels SET qty = 1 WHERE product_id = 3"))
    result = packer.save()
    assert (result.posted, result.code) == (False, "NOT_ENOUGH_STOCK"), result.message
    assert _rows(engine, "SELECT status FROM units WHERE serial = 'WS-3'") == [("in_stock",)]


def test_a_serial_bought_from_another_vendor_names_where_it_came_from(engine: Engine) -> None:
    seed(engine)
    with engine.begin() as c:
        c.execute(text("INSERT INTO vendors (id, name) VALUES (2, 'Globex')"))
    session = open_session(engine, "DOCK-1", "supplier_return", "globex", journal=False).session
    assert session.document.number == "Globex"  # the vendor's own spelling
    verdict = session.scan("WS-1")
    assert (verdict.ok, verdict.code) == (False, "SERIAL_NOT_FROM_VENDOR")
    assert verdict.message == (
        "Serial WS-1 was not received from Globex: it came from Acme Supply on PO-0."
    )


def test_a_vendor_nobody_knows_is_refused_before_any_scan(
    db_url: str, engine: Engine, monkeypatch: Any, capsys: Any
) -> None:
    seed(engine)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"WS-1\n")))
    status = main(["--db", db_url, "scan", "--station", "D", "--supplier-return", "Nobody Inc"])
    out, err = capsys.readouterr()
    assert (status, out) == (1, "")
    assert err == "station: VENDOR_NOT_FOUND: No vendor Nobody Inc.\n"


@pytest.mark.parametrize(
    ("args", "before", "after", "units"),
    [
        (("--free-return",), ["W1", "FR-1", "CABLE3", "G2"], ["FRG2SER001", "CMD-SAVE"], 3),
        (("--supplier-return", "Acme Supply"), ["WS-1", "GSN0000001", "WS-2"], ["CMD-SAVE"], 3),
    ],
    ids=["free_return", "supplier_return"],
)
def test_a_station_killed_mid_session_restores_the_lines_it_had_added(
    engine: Engine,
    db_url: str,
    tmp_path: Path,
    args: tuple[str, ...],
    before: list[str],
    after: list[str],
    units: int,
) -> None:
    """Lines that came as items were scanned come back in their order with the scans."""
    seed(engine)
    data = tmp_path / "data"
    process = start_scan(db_url, data, "--station", "DOCK-7", *args)
    assert [ask(process, s)["ok"] for s in before] == [True] * len(before)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    again = start_scan(db_url, data, "--station", "DOCK-7", *args)
    out, err = again.communicate("".join(f"{s}\n" for s in after).encode(), timeout=60)
    assert again.returncode == 0 and err == b"", err.decode()
    restored, *verdicts, posted = (json.loads(line) for line in out.decode().splitlines())
    assert restored == {"restored": len(before)}
    assert all(v["ok"] for v in verdicts), verdicts
    assert posted["posted"] and posted["units"] == units, posted
    serials = _rows(
        engine,
        "SELECT p.sku, u.serial FROM units u JOIN products p ON p.id = u.product_id"
        " WHERE u.rma_id IS NOT NULL OR u.rtv_id IS NOT NULL ORDER BY u.serial",
    )
    expected = {
        "free_return": [("W1", "FR-1"), ("G2", "FRG2SER001")],
        "supplier_return": [("G2", "GSN0000001"), ("W1", "WS-1"), ("W1", "WS-2")],
    }
    assert serials == expected["free_return" if "--free-return" in args else "supplier_return"]


# --- a unit whose label was lost (CMD-NOLABEL, then the item) ---------------------------

NOLABEL_VIA = ["session", "station scan"]


def _return(
    via: str,
    db_url: str,
    engine: Engine,
    monkeypatch: Any,
    capsys: Any,
    scans: list[str],
    station: str = "DOCK-1",
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Scans on SO-3 then CMD-SAVE, through a session or `station scan`: every scan's
    verdict and the posting's result, as `station scan` prints them."""
    if via == "session":
        session = open_session(engine, station, "return", "SO-3", journal=False).session
        verdicts = [session.scan(s).as_dict() for s in scans]
        return verdicts, session.save_verdict().posting.as_dict()  # type: ignore[union-attr]
    status, out = run_scan(
        monkeypatch, capsys, db_url, ["--station", station, "--return", "SO-3"],
        [*scans, "CMD-SAVE"],
    )  # fmt: skip
    *verdicts, posted = out
    assert status == 0 or not posted["posted"], out
    return verdicts, posted


@pytest.mark.parametrize("via", NOLABEL_VIA)
def test_a_unit_without_its_label_gets_a_new_serial_that_replaces_the_one_still_out(
    via: str, db_url: str, engine: Engine, monkeypatch: Any, capsys: Any
) -> None:
    seed(engine)
    seed_returns(engine)
    configure(engine, "DOCK-1", serial_pattern="{sku}-{seq:06}")
    verdicts, posted = _return(via, db_url, engine, monkeypatch, capsys, ["CMD-NOLABEL", "W1"])
    command, item = verdicts
    assert command["ok"] and command["message"].startswith(
        "Missing label: scan the item of the unit without a label"
    )
    assert (item["ok"], item["kind"], item["sku"], item["serial"]) == (True, "item", "W1", None)
    assert item["message"] == (
        "Widget One without a label — 1 of 1: a new serial is made at save; it replaces"
        " WS-OUT, the only Widget One still out on SO-3."
    )
    assert posted["posted"] and posted["generated"] == ["W1-000001"], posted
    assert posted["message"] == (
        "Returned 1 unit(s) on SO-3: RMA-000001. New serial W1-000001 for Widget One replaces"
        " WS-OUT (the only Widget One still out on SO-3); WS-OUT is retired (scrapped)."
        " SO-3: 2 of Gadget Two, 2 of Cable Three may still come back."
    )
    units = _rows(
        engine,
        "SELECT u.serial, u.status, u.bin, u.origin, o.serial, r.number FROM units u"
        " LEFT JOIN units o ON o.id = u.relabels_id LEFT JOIN rmas r ON r.id = u.rma_id"
        " WHERE u.serial IN ('W1-000001', 'WS-OUT') ORDER BY u.serial",
    )
    assert units == [
        ("W1-000001", "in_stock", "RETURNS", "return", "WS-OUT", "RMA-000001"),
        ("WS-OUT", "scrapped", "A-01", "po", None, "RMA-000001"),
    ]
    events = _rows(
        engine,
        "SELECT u.serial, e.kind, e.document_kind, e.document_number, e.to_bin FROM events e"
        " JOIN units u ON u.id = e.unit_id ORDER BY e.id",
    )
    assert sorted(events) == [
        ("W1-000001", "relabeled", "rma", "RMA-000001", None),
        ("W1-000001", "returned", "rma", "RMA-000001", "RETURNS"),
        ("WS-OUT", "relabeled", "rma", "RMA-000001", None),
    ]
    assert _rows(engine, "SELECT qty_returned FROM order_lines WHERE id = 5") == [(2,)]
    # the trace of either unit names the other
    assert main(["--db", db_url, "trace", "WS-OUT"]) == 0
    old = capsys.readouterr().out
    assert "Status:    scrapped" in old and "Relabeled: as W1-000001" in old
    assert "relabeled           as W1-000001" in old and "rma RMA-000001" in old
    assert main(["--db", db_url, "trace", "W1-000001", "--json"]) == 0
    new = json.loads(capsys.readouterr().out)
    assert (new["status"], new["origin"], new["bin"], new["order"]) == (
        "in_stock",
        "return",
        "RETURNS",
        "SO-3",
    )
    assert new["relabeled_from"] == "WS-OUT"
    assert [(e["kind"], e["document_number"], e.get("note")) for e in new["events"]] == [
        ("returned", "RMA-000001", None),
        ("relabeled", "RMA-000001", "from WS-OUT"),
    ]
    # the old serial is retired: it never ships nor comes back again
    again = open_session(engine, "DOCK-2", "return", "SO-3", journal=False).session
    verdict = again.scan("WS-OUT")
    assert (verdict.ok, verdict.code) == (False, "SERIAL_NOT_SHIPPED")
    assert "it is scrapped" in verdict.message
    packer = open_session(engine, "PACK-1", "ship", "SO-1", journal=False).session
    assert packer.scan("W1").ok
    assert packer.scan("WS-OUT").code == "SERIAL_NOT_IN_STOCK"


def test_quarantined_the_new_unit_comes_back_quarantined(engine: Engine) -> None:
    seed(engine)
    seed_returns(engine)
    configure(engine, "DOCK-1", quarantine_returns=True, returns_bin="QC-HOLD")
    session = open_session(engine, "DOCK-1", "return", "SO-3", journal=False).session
    assert [session.scan(s).ok for s in ("CMD-NOLABEL", "W1")] == [True, True]
    result = session.save()
    assert result.posted, result.message
    (serial,) = result.generated
    assert _rows(
        engine, "SELECT status, bin FROM units WHERE serial = :s OR serial = 'WS-OUT'", s=serial
    ) == [("scrapped", "A-01"), ("quarantined", "QC-HOLD")]
    assert _rows(
        engine,
        "SELECT e.to_bin FROM events e JOIN units u ON u.id = e.unit_id"
        " WHERE u.serial = :s AND e.kind = 'returned'",
        s=serial,
    ) == [("QC-HOLD",)]


@pytest.mark.parametrize("via", NOLABEL_VIA)
def test_with_several_units_still_out_no_unit_is_replaced(
    via: str, db_url: str, engine: Engine, monkeypatch: Any, capsys: Any
) -> None:
    seed(engine)
    seed_returns(engine)
    configure(engine, "DOCK-1", serial_pattern="{sku}-{seq:07}")
    verdicts, posted = _return(via, db_url, engine, monkeypatch, capsys, ["CMD-NOLABEL", "G2"])
    assert verdicts[1]["message"] == (
        "Gadget Two without a label — 1 of 2: a new serial is made at save; 2 Gadget Two"
        " units are still out on SO-3 (GSNOUT0001, GSNOUT0002): which one came back is"
        " unknown, so it replaces none."
    )
    assert posted["posted"] and posted["generated"] == ["G2-0000001"], posted
    assert (
        "New serial G2-0000001 for Gadget Two: 2 Gadget Two units are still out"
        in (posted["message"])
    )
    assert _rows(
        engine,
        "SELECT serial, status, relabels_id FROM units WHERE product_id = 2 AND order_line_id = 6"
        " ORDER BY serial",
    ) == [
        ("G2-0000001", "in_stock", None),
        ("GSNOUT0001", "shipped", None),
        ("GSNOUT0002", "shipped", None),
    ]
    assert _rows(engine, "SELECT count(*) FROM events WHERE kind = 'relabeled'") == [(0,)]
    assert _rows(engine, "SELECT qty_returned FROM order_lines WHERE id = 6") == [(1,)]


def test_a_unit_scanned_back_in_the_session_is_no_candidate(engine: Engine) -> None:
    """One of two Gadget Two scanned back: the other is the one without a label. Both
    Widget One back (one scanned) on a line shipped with a unit the ledger has no
    serial for: none is left to replace."""
    seed(engine)
    seed_returns(engine)
    configure(engine, "DOCK-1", serial_pattern="{sku}-{seq:07}")  # G2 serials have 10
    with engine.begin() as c:
        c.execute(text("UPDATE order_lines SET qty = 3, qty_shipped = 3 WHERE id = 5"))
    session = open_session(engine, "DOCK-1", "return", "SO-3", journal=False).session
    scans = ["GSNOUT0001", "CMD-NOLABEL", "G2", "WS-OUT", "CMD-NOLABEL", "W1"]
    verdicts = [session.scan(s) for s in scans]
    assert all(v.ok for v in verdicts), [v.message for v in verdicts]
    assert verdicts[2].message.endswith(
        "it replaces GSNOUT0002, the only Gadget Two still out on SO-3."
    )
    assert verdicts[5].message.endswith(
        "no Widget One with a serial is still out on SO-3: it replaces none."
    )
    assert [e.serial for e in session.entries] == ["GSNOUT0001", None, "WS-OUT", None]
    result = session.save()
    assert result.posted and result.units == 4, result.message
    g2, w1 = result.generated
    assert f"New serial {g2} for Gadget Two replaces GSNOUT0002" in result.message
    assert f"New serial {w1} for Widget One: no Widget One with a serial" in result.message
    assert _rows(
        engine,
        "SELECT u.serial, o.serial FROM units u JOIN units o ON o.id = u.relabels_id",
    ) == [(g2, "GSNOUT0002")]
    assert _rows(
        engine, "SELECT serial, status FROM units WHERE order_line_id IN (5, 6) ORDER BY id"
    ) == [
        ("WS-OUT", "in_stock"),
        ("WS-BACK", "in_stock"),
        ("GSNOUT0001", "in_stock"),
        ("GSNOUT0002", "scrapped"),
        (g2, "in_stock"),
        (w1, "in_stock"),
    ]


def test_the_new_serial_label_prints_on_the_network_label_printer(
    db_url: str, engine: Engine, monkeypatch: Any, capsys: Any
) -> None:
    from tests.devices.fake_printers import FakePrinter

    seed(engine)
    seed_returns(engine)
    printer = FakePrinter()
    try:
        configure(
            engine,
            "DOCK-P",
            serial_pattern="{sku}-{seq:07}",
            label_printer=f"zpl+tcp://127.0.0.1:{printer.port}",
        )
        status, out = run_scan(
            monkeypatch, capsys, db_url, ["--station", "DOCK-P", "--return", "SO-3"],
            ["GSNOUT0001", "CMD-NOLABEL", "W1", "CMD-SAVE"],
        )  # fmt: skip
        posted = out[-1]
        assert status == 0 and posted["posted"], out
        assert (posted["printing"], posted["print_jobs"]) == ("queued", 1)
        (label,) = printer.wait_for(1)
    finally:
        printer.close()
    assert b"^XA" in label and b"W1-0000001" in label  # the scanned unit has its label
    assert b"GSNOUT0001" not in label
    assert _rows(
        engine, "SELECT label, status, document_kind, document_number FROM print_jobs"
    ) == [("W1-0000001", "printed", "rma", "RMA-000001")]


def test_a_station_killed_after_cmd_nolabel_restores_the_mode(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    seed(engine)
    seed_returns(engine)
    configure(engine, "DOCK-7", serial_pattern="{sku}-{seq:07}")
    data = tmp_path / "data"
    args = ("--station", "DOCK-7", "--return", "SO-3")
    process = start_scan(db_url, data, *args)
    assert [ask(process, s)["ok"] for s in ("CMD-NOLABEL", "W1", "CMD-NOLABEL")] == [True] * 3
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    again = start_scan(db_url, data, *args)
    out, err = again.communicate(b"G2\nCMD-SAVE\n", timeout=60)
    assert again.returncode == 0 and err == b"", err.decode()
    restored, verdict, posted = (json.loads(line) for line in out.decode().splitlines())
    assert restored == {"restored": 4}  # journal records: mode on, off with W1's row, on
    # G2 is read in the restored mode: a unit without a label, not an item to scan
    assert verdict["ok"] and verdict["message"].startswith("Gadget Two without a label")
    assert posted["posted"] and posted["units"] == 2
    assert posted["generated"] == ["W1-0000001", "G2-0000001"]
    assert _rows(
        engine, "SELECT u.serial, o.serial FROM units u JOIN units o ON o.id = u.relabels_id"
    ) == [("W1-0000001", "WS-OUT")]
