"""Location barcodes, known bins, bin moves and warehouse transfers (SPEC §3.3), on SQLite
and PostgreSQL: a location scanned in a session sends the units after it to that bin; an
unknown bin is refused until a supervisor makes it; a move or transfer posts one TRF
document and a `moved` / `transferred` event per unit with where it was and where it
went. The verdict codes are in tests/test_workflows.py's table."""

from __future__ import annotations

import io
import json
import signal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from station.app import open_session
from station.cli import main
from station.codes import StationError
from tests.seed import SUPERVISOR, SUPERVISOR_PIN, add_operators, add_supervisor, seed
from tests.workflow import ask, run_scan, start_scan


def _rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as c:
        return [tuple(row) for row in c.execute(text(sql))]


def _stock(engine: Engine, **by_warehouse: int) -> None:
    with engine.begin() as c:
        for warehouse_id, qty in enumerate(by_warehouse.values(), 1):
            c.execute(
                text("INSERT INTO stock_levels (product_id, warehouse_id, qty) VALUES (3, :w, :q)"),
                {"w": warehouse_id, "q": qty},
            )


def test_a_move_sends_each_unit_to_the_bin_scanned_before_it(
    db_url: str, engine: Engine, monkeypatch: Any, capsys: Any
) -> None:
    seed(engine)
    _stock(engine, main=5)
    status, out = run_scan(
        monkeypatch,
        capsys,
        db_url,
        ["--station", "DOCK-1", "--move", "a-02"],
        ["WS-1", "LOC-B-07", "LOC-qc-ok", "ws-2", "CABLE3", "CMD-SAVE"],
    )
    assert [line["code"] for line in out[:-1]] == ["OK", "BIN_UNKNOWN", "OK", "OK", "OK"]
    assert out[1]["message"] == "MAIN has no bin B-07: a supervisor makes bins (station bins add)."
    assert out[2] == {**out[2], "ok": True, "kind": "location"}
    assert out[2]["message"] == "Units scanned next go to MAIN bin QC-OK."
    assert status == 0 and out[-1]["document"] == "TRF-000001", out[-1]
    assert out[-1]["message"] == "Moved 3 unit(s) to A-02: transfer TRF-000001."
    assert _rows(
        engine,
        "SELECT serial, status, warehouse_id, bin FROM units"
        " WHERE serial IN ('WS-1', 'WS-2') ORDER BY serial",
    ) == [
        ("WS-1", "in_stock", 1, "A-02"),
        ("WS-2", "in_stock", 1, "QC-OK"),
    ]
    assert _rows(
        engine,
        "SELECT u.serial, e.kind, e.from_warehouse_id, e.from_bin, e.to_warehouse_id, e.to_bin,"
        " e.station, e.document_kind, e.document_number FROM events e"
        " JOIN units u ON u.id = e.unit_id WHERE e.kind = 'moved' ORDER BY u.serial",
    ) == [
        ("WS-1", "moved", 1, "A-01", 1, "A-02", "DOCK-1", "transfer", "TRF-000001"),
        ("WS-2", "moved", 1, "A-01", 1, "QC-OK", "DOCK-1", "transfer", "TRF-000001"),
    ]
    assert _rows(
        engine, "SELECT number, warehouse_id, to_warehouse_id, to_bin, units FROM transfers"
    ) == [("TRF-000001", 1, 1, "A-02", 3)]
    # a move within the warehouse changes no quantity (they are counted per warehouse)
    assert _rows(engine, "SELECT warehouse_id, qty FROM stock_levels WHERE product_id = 3") == [
        (1, 5)
    ]


def test_a_transfer_takes_units_and_quantities_to_another_warehouse(
    db_url: str, engine: Engine, monkeypatch: Any, capsys: Any
) -> None:
    seed(engine)
    _stock(engine, main=2)
    _status, out = run_scan(
        monkeypatch,
        capsys,
        db_url,
        ["--station", "DOCK-1", "--transfer", "EAST/b-07"],
        ["WS-3", "CABLE3", "CABLE3", "CABLE3", "CMD-SAVE"],
    )
    assert [line["code"] for line in out[:-1]] == ["OK", "OK", "OK", "NOT_ENOUGH_STOCK"]
    assert out[-1]["posted"] is True
    assert out[3]["message"] == (
        "Cable Three (C3): 2 on hand, 2 in this session — 0 left to transfer."
    )
    assert out[-1]["message"] == "Transferred 3 unit(s) to EAST/B-07: transfer TRF-000001."
    assert _rows(engine, "SELECT status, warehouse_id, bin FROM units WHERE serial = 'WS-3'") == [
        ("in_stock", 2, "B-07")
    ]
    assert _rows(
        engine,
        "SELECT e.kind, e.from_warehouse_id, e.from_bin, e.to_warehouse_id, e.to_bin FROM events e"
        " JOIN units u ON u.id = e.unit_id WHERE u.serial = 'WS-3' ORDER BY e.id",
    )[-1] == ("transferred", 1, "A-01", 2, "B-07")
    assert _rows(
        engine, "SELECT warehouse_id, qty FROM stock_levels WHERE product_id = 3 ORDER BY 1"
    ) == [(1, 0), (2, 2)]
    # the unit is in EAST now: a station of MAIN cannot move it
    _status, out = run_scan(
        monkeypatch, capsys, db_url, ["--station", "DOCK-1", "--move", "A-01"], ["WS-3"]
    )
    assert out[0]["code"] == "SERIAL_WRONG_WAREHOUSE", out


def test_a_transfer_names_a_warehouse_and_a_known_bin_of_it(
    db_url: str, engine: Engine, monkeypatch: Any, capsys: Any
) -> None:
    seed(engine)
    for target, said in (
        ("NOWHERE", "station: WAREHOUSE_NOT_FOUND: No warehouse NOWHERE.\n"),
        (
            "EAST/Z-1",
            "station: BIN_UNKNOWN: EAST has no bin Z-1: a supervisor makes bins"
            " (station bins add).\n",
        ),
    ):
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        capsys.readouterr()
        status = main(["--db", db_url, "scan", "--station", "DOCK-1", "--transfer", target])
        assert (status, capsys.readouterr().err) == (1, said)
    # without a bin: the station's receiving bin there
    status, out = run_scan(
        monkeypatch,
        capsys,
        db_url,
        ["--station", "DOCK-1", "--transfer", "EAST"],
        ["WS-4", "CMD-SAVE"],
    )
    assert status == 0 and out[-1]["posted"], out
    assert out[-1]["message"].startswith("Transferred 1 unit(s) to EAST/RECEIVING")
    assert _rows(engine, "SELECT warehouse_id, bin FROM units WHERE serial = 'WS-4'") == [
        (2, "RECEIVING")
    ]


def test_a_receipt_puts_each_unit_in_its_scanned_bin_and_a_kill_keeps_the_bins(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    """W1 SN-A goes to the receiving bin; after LOC-A-02, SN-B and SN-C go to A-02; the
    process killed and started again restores the rows with their bins and the
    location it had, so SN-C (scanned after the restart) goes to A-02 as well."""
    seed(engine)
    data = tmp_path / "data"
    process = start_scan(db_url, data, "--station", "DOCK-1", "--receive", "PO-1")
    for scan in ("W1", "SN-A", "ＬＯＣ-a-02", "W1", "SN-B"):
        verdict = ask(process, scan)
        assert verdict["ok"], verdict
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    again = start_scan(db_url, data, "--station", "DOCK-1", "--receive", "PO-1")
    out, err = again.communicate(b"W1\nSN-C\nCMD-SAVE\n", timeout=60)
    assert again.returncode == 0 and err == b"", err.decode()
    lines = [json.loads(line) for line in out.decode().splitlines()]
    assert lines[0] == {"restored": 5} and lines[-1]["posted"], lines
    assert _rows(
        engine, "SELECT serial, bin FROM units WHERE serial LIKE 'SN-%' ORDER BY serial"
    ) == [("SN-A", "RECEIVING"), ("SN-B", "A-02"), ("SN-C", "A-02")]
    assert _rows(
        engine,
        "SELECT u.serial, e.to_bin FROM events e JOIN units u ON u.id = e.unit_id"
        " WHERE u.serial LIKE 'SN-%' ORDER BY u.serial",
    ) == [("SN-A", "RECEIVING"), ("SN-B", "A-02"), ("SN-C", "A-02")]


def test_a_supervisor_makes_an_unknown_bin_by_scanning_it_twice_a_clerk_cannot(
    engine: Engine,
) -> None:
    seed(engine)
    add_supervisor(engine)
    add_operators(engine)
    clerk = open_session(engine, "DOCK-1", "receive", "PO-1", user="kim", journal=False).session
    for _ in range(2):
        refused = clerk.scan("LOC-NEW-1")
        assert (refused.ok, refused.code) == (False, "BIN_UNKNOWN")
        assert (
            refused.message == "MAIN has no bin NEW-1: a supervisor makes bins (station bins add)."
        )
    boss = open_session(engine, "DOCK-2", "receive", "PO-1", user=SUPERVISOR, journal=False).session
    first = boss.scan("LOC-NEW-1")
    assert (first.code, first.message) == (
        "BIN_UNKNOWN",
        "MAIN has no bin NEW-1: scan LOC-NEW-1 again now to make it.",
    )
    # another scan between: the offer is gone
    assert boss.scan("W1").ok
    assert boss.scan("SN-Z1").ok
    assert boss.scan("LOC-NEW-1").code == "BIN_UNKNOWN"
    made = boss.scan(" LOC-NEW-1")
    assert (made.ok, made.message) == (
        True,
        "Bin MAIN bin NEW-1 made. Units scanned next go to MAIN bin NEW-1.",
    )
    assert _rows(engine, "SELECT code, created_by FROM bins WHERE code = 'NEW-1'") == [
        ("NEW-1", SUPERVISOR)
    ]
    assert clerk.scan("LOC-NEW-1").ok  # known now, to every station


def test_station_bins_add_and_list(
    db_url: str, engine: Engine, monkeypatch: Any, capsys: Any
) -> None:
    seed(engine)
    add_supervisor(engine)
    add_operators(engine)
    monkeypatch.setenv("STATION_PIN", SUPERVISOR_PIN)
    capsys.readouterr()
    args = ["--db", db_url, "bins", "add", "MAIN", "C-01", " c-01", "A-01", "--user", SUPERVISOR]
    assert main(args) == 0
    assert capsys.readouterr().out == (
        "Bin C-01 made in MAIN.\nBin A-01 is known already in MAIN.\n"
    )
    assert main(["--db", db_url, "bins", "list", "--warehouse", "MAIN"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "MAIN         A-01",
        "MAIN         A-02",
        f"MAIN         C-01  made by {SUPERVISOR}",
        "MAIN         QC-OK",
    ]
    for argv, said in (
        (["bins", "add", "MAIN", "D-01"], "station: NOT_AUTHORIZED:"),
        (["bins", "add", "MAIN", "D-01", "--user", "kim"], "station: NOT_AUTHORIZED:"),
        (["bins", "add", "NOPE", "D-01", "--user", SUPERVISOR], "station: WAREHOUSE_NOT_FOUND:"),
        (["bins", "add", "MAIN", "D\x1b-1", "--user", SUPERVISOR], "station: BIN_UNKNOWN:"),
        (["bins", "add", "MAIN", "E" * 65, "--user", SUPERVISOR], "station: BIN_UNKNOWN:"),
        (["bins", "add", "MAIN", "\u0415-01", "--user", SUPERVISOR], "station: BIN_UNKNOWN:"),
    ):
        if "kim" in argv:
            monkeypatch.setenv("STATION_PIN", "1357")
        assert main(["--db", db_url, *argv]) == 1
        err = capsys.readouterr().err
        assert err.startswith(said) and "\x1b" not in err, err
        monkeypatch.setenv("STATION_PIN", SUPERVISOR_PIN)
    assert _rows(engine, "SELECT count(*) FROM bins WHERE code LIKE 'D%' OR code LIKE 'E%'") == [
        (0,)
    ]


def test_a_bin_move_is_refused_whole_when_a_unit_left_meanwhile(engine: Engine) -> None:
    """Two sessions hold WS-1; the shipment posts first; the move then posts nothing."""
    seed(engine)
    move = open_session(engine, "DOCK-1", "move", "A-02", journal=False).session
    assert move.scan("WS-1").ok and move.scan("WS-2").ok
    ship = open_session(engine, "PACK-1", "ship", "SO-1", journal=False).session
    for scan in ("W1", "WS-1", "WS-3", "CABLE3"):
        assert ship.scan(scan).ok, scan
    assert ship.save().posted
    result = move.save()
    assert (result.posted, result.code) == (False, "SERIAL_NOT_IN_STOCK")
    assert result.message.startswith("Nothing moved: Serial WS-1 is shipped")
    assert _rows(engine, "SELECT bin FROM units WHERE serial = 'WS-2'") == [("A-01",)]
    assert _rows(engine, "SELECT count(*) FROM transfers") == [(0,)]


def test_a_move_to_an_unknown_bin_is_refused_before_any_scan(engine: Engine) -> None:
    seed(engine)
    with pytest.raises(StationError) as refused:
        open_session(engine, "DOCK-1", "move", "Z-99", journal=False)
    assert refused.value.code == "BIN_UNKNOWN"


def test_a_unit_moved_after_a_packer_scanned_it_is_refused_once_then_posts_as_it_is(
    engine: Engine,
) -> None:
    """The packer scanned WS-1 in A-01; a move posts it to A-02; the shipment is refused
    and says what happened (two people held one label, or the unit went on); saved again,
    it ships the unit as it is now. A unit nobody touched meanwhile is never refused."""
    seed(engine)
    ship = open_session(engine, "PACK-1", "ship", "SO-1", journal=False).session
    for scan in ("W1", "WS-1", "WS-3", "CABLE3"):
        assert ship.scan(scan).ok, scan
    move = open_session(engine, "DOCK-1", "move", "A-02", journal=False).session
    assert move.scan("WS-1").ok and move.save().posted
    refused = ship.save()
    assert (refused.posted, refused.code) == (False, "UNIT_CHANGED_MEANWHILE")
    assert refused.message == (
        "Nothing shipped: WS-1 was moved by TRF-000001 at DOCK-1 after it was scanned here"
        " (it is in A-02 now) — make sure the unit in hand carries that label, then save"
        " again to post it as it is now."
    )
    assert refused.serials == ["WS-1"]
    assert _rows(engine, "SELECT status FROM units WHERE serial = 'WS-1'") == [("in_stock",)]
    again = ship.save()
    assert again.posted, again.message
    assert _rows(
        engine, "SELECT serial, status FROM units WHERE serial IN ('WS-1', 'WS-3') ORDER BY serial"
    ) == [("WS-1", "shipped"), ("WS-3", "shipped")]
