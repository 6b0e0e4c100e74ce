"""Cycle counts of a bin by serial (SPEC §3.3), on SQLite and PostgreSQL: expected,
missing, misplaced and found units, the lists a posting answers with, the ledger after,
two counts of one bin, and the count sheet. The verdict codes are in
tests/test_workflows.py's table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import Engine, text

from station.app import open_session
from station.cli import main
from station.trace import trace
from tests.seed import add_operators, seed
from tests.workflow import run_scan


def _rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as c:
        return [tuple(row) for row in c.execute(text(sql))]


def _scenario(engine: Engine) -> None:
    """A-01 holds WS-1..4, WS-OPEN, GSN0000001 (and WS-GONE, shipped); WS-4 is marked
    not found; WS-EAST is in EAST's B-07; cables: 5 on hand in MAIN."""
    seed(engine)
    add_operators(engine)
    with engine.begin() as c:
        c.execute(text("UPDATE units SET status = 'not_found' WHERE serial = 'WS-4'"))
        c.execute(text("INSERT INTO stock_levels (product_id, warehouse_id, qty) VALUES (3, 1, 5)"))


def test_a_count_gives_the_missing_misplaced_and_found_lists_and_the_ledger_after(
    db_url: str, engine: Engine, monkeypatch: Any, capsys: Any
) -> None:
    _scenario(engine)
    scans = [
        "WS-1",  # expected
        "ws-2",  # expected (its key)
        "WS-EAST",  # misplaced: the ledger has it in EAST bin B-07
        "WS-4",  # found: it was marked not found
        "NOPE-1",  # unknown: refused
        "WS-GONE",  # shipped: refused
        "WS-1",  # counted already: refused
        "CABLE3",
        "CABLE3",
        "CMD-SAVE",
    ]
    status, out = run_scan(
        monkeypatch,
        capsys,
        db_url,
        ["--station", "DOCK-1", "--count", "A-01", "--user", "kim"],
        scans,
    )
    verdicts = out[:-1]
    assert [v["code"] for v in verdicts] == [
        "OK",
        "OK",
        "OK",
        "OK",
        "SERIAL_UNKNOWN",
        "SERIAL_NOT_IN_STOCK",
        "SERIAL_DUPLICATE_IN_SESSION",
        "OK",
        "OK",
    ]
    assert verdicts[2]["message"].endswith("misplaced: the ledger has it in EAST bin B-07")
    assert verdicts[3]["message"].endswith("found: it was marked not found")
    posted = out[-1]
    assert status == 0 and posted["posted"] is True, posted
    assert posted["document"] == "CNT-000001" and posted["units"] == 6
    assert posted["missing"] == ["GSN0000001", "WS-3", "WS-OPEN"]
    assert posted["misplaced"] == ["WS-EAST"]
    assert posted["found"] == ["WS-4"]
    assert posted["message"] == (
        "Counted 6 unit(s) in A-01: count CNT-000001. Missing: 3 (GSN0000001, WS-3, WS-OPEN)."
        " Misplaced: 1 (WS-EAST). Found: 1 (WS-4). Cable Three: counted 2, on hand 5 (-3 posted)."
    )
    assert _rows(engine, "SELECT serial, status, warehouse_id, bin FROM units ORDER BY serial") == [
        ("GSN0000001", "not_found", 1, "A-01"),
        ("WS-1", "in_stock", 1, "A-01"),
        ("WS-2", "in_stock", 1, "A-01"),
        ("WS-3", "not_found", 1, "A-01"),
        ("WS-4", "in_stock", 1, "A-01"),
        ("WS-EAST", "in_stock", 1, "A-01"),
        ("WS-GONE", "shipped", 1, "A-01"),
        ("WS-OPEN", "not_found", 1, "A-01"),
    ]
    assert _rows(engine, "SELECT qty FROM stock_levels WHERE product_id = 3") == [(2,)]
    assert _rows(
        engine, "SELECT number, bin, missing, misplaced, found, units, user_name FROM counts"
    ) == [("CNT-000001", "A-01", 3, 1, 1, 6, "kim")]
    # every unit's timeline shows the count with its document, station and user
    for serial, kind in (
        ("WS-1", "counted"),
        ("WS-3", "not_found"),
        ("WS-EAST", "moved"),
        ("WS-4", "found"),
    ):
        (unit,) = trace(engine, serial)
        last = unit.as_dict()["events"][-1]
        assert (last["kind"], last["document_number"], last["station"], last["user"]) == (
            kind,
            "CNT-000001",
            "DOCK-1",
            "kim",
        ), (serial, last)
    (east,) = trace(engine, "WS-EAST")
    moved = east.as_dict()["events"][-1]
    assert (moved["from_warehouse"], moved["from_bin"], moved["to_warehouse"], moved["to_bin"]) == (
        "EAST",
        "B-07",
        "MAIN",
        "A-01",
    )


def test_two_counts_of_one_bin_never_mark_a_unit_twice_and_the_second_is_told(
    engine: Engine,
) -> None:
    _scenario(engine)
    first = open_session(engine, "DOCK-1", "count", "A-01", journal=False).session
    second = open_session(engine, "DOCK-2", "count", "A-01", journal=False).session
    for serial in ("WS-1", "WS-2", "WS-3", "WS-OPEN", "GSN0000001"):
        assert first.scan(serial).ok
    for serial in ("WS-1", "WS-2"):
        assert second.scan(serial).ok
    done = first.save()
    assert done.posted and done.lists["missing"] == [], done.message
    told = second.save()
    assert told.posted, told.message
    # the second count marks what it did not see, once: WS-3, WS-OPEN, GSN0000001
    assert told.lists["missing"] == ["GSN0000001", "WS-3", "WS-OPEN"]
    assert "The bin was counted meanwhile (CNT-000001, DOCK-1)" in told.message
    marked = _rows(
        engine,
        "SELECT u.serial, count(*) FROM events e JOIN units u ON u.id = e.unit_id"
        " WHERE e.kind = 'not_found' GROUP BY u.serial ORDER BY u.serial",
    )
    assert marked == [("GSN0000001", 1), ("WS-3", 1), ("WS-OPEN", 1)]


def test_the_count_sheet_lists_the_serials_a_bin_should_hold(
    db_url: str, engine: Engine, tmp_path: Path, capsys: Any
) -> None:
    _scenario(engine)
    with engine.begin() as c:
        c.execute(text("UPDATE units SET serial = '=HYPERLINK(1)' WHERE serial = 'WS-3'"))
        c.execute(text("UPDATE units SET status = 'quarantined' WHERE serial = 'WS-2'"))
    capsys.readouterr()
    assert main(["--db", db_url, "count-sheet", "a-01"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "MAIN         A-01                 G2             GSN0000001",
        "MAIN         A-01                 W1             =HYPERLINK(1)",
        "MAIN         A-01                 W1             WS-1",
        "MAIN         A-01                 W1             WS-2  (quarantined)",
        "MAIN         A-01                 W1             WS-OPEN",
        "5 serial(s) expected in a-01.",
    ]
    out = tmp_path / "sheet.xlsx"
    assert main(["--db", db_url, "count-sheet", "A-01", "--out", str(out)]) == 0
    sheet = load_workbook(out).active
    rows = [tuple(cell.value for cell in row) for row in sheet.iter_rows()]
    assert rows[0] == ("SKU", "Product", "Serial", "Status", "Warehouse", "Bin")
    assert ("W1", "Widget One", "=HYPERLINK(1)", "in_stock", "MAIN", "A-01") in rows
    assert sheet["C3"].data_type == "s"  # text, never a formula
    assert len(rows) == 6
    assert main(["--db", db_url, "count-sheet", "NOWHERE"]) == 1
    assert capsys.readouterr().err.startswith("station: BIN_UNKNOWN: NOWHERE is no bin")
