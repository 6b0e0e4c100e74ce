"""Adjustments by serial (SPEC §3.3), on SQLite and PostgreSQL: scrapping units and
releasing quarantined ones to stock — a supervisor's, always with a reason, one posting
(ADJ-000001) that keeps it. The verdict codes are in tests/test_workflows.py's table."""

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
from tests.seed import SUPERVISOR, add_operators, add_supervisor, seed, seed_returns
from tests.workflow import ask, run_scan, start_scan


def _rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as c:
        return [tuple(row) for row in c.execute(text(sql))]


def test_scrap_and_release_post_one_adjustment_each_with_its_reason(
    db_url: str, engine: Engine, monkeypatch: Any, capsys: Any
) -> None:
    seed(engine)
    seed_returns(engine)
    add_supervisor(engine)
    with engine.begin() as c:
        c.execute(text("INSERT INTO stock_levels (product_id, warehouse_id, qty) VALUES (3, 1, 5)"))
    user = ["--user", SUPERVISOR]
    status, out = run_scan(
        monkeypatch,
        capsys,
        db_url,
        ["--station", "DOCK-1", "--release", "QC-OK", "--reason", " passed\tinspection ", *user],
        ["WS-QC", "CMD-SAVE"],
    )
    assert status == 0 and out[-1]["document"] == "ADJ-000001", out
    status, out = run_scan(
        monkeypatch,
        capsys,
        db_url,
        ["--station", "DOCK-1", "--scrap", "--reason", "water damage", *user],
        ["WS-1", "CABLE3", "CABLE3", "WS-QC", "CMD-SAVE"],
    )
    assert status == 0 and out[-1]["document"] == "ADJ-000002", out
    assert out[-1]["message"] == "Scrapped 4 unit(s): adjustment ADJ-000002."
    assert _rows(
        engine, "SELECT number, kind, reason, bin, user_name FROM adjustments ORDER BY number"
    ) == [
        ("ADJ-000001", "release", "passed inspection", "QC-OK", SUPERVISOR),
        ("ADJ-000002", "scrap", "water damage", None, SUPERVISOR),
    ]
    assert _rows(
        engine,
        "SELECT u.serial, e.kind, e.from_bin, e.to_bin, e.document_number FROM events e"
        " JOIN units u ON u.id = e.unit_id WHERE u.serial IN ('WS-QC', 'WS-1') ORDER BY e.id",
    ) == [
        ("WS-QC", "adjusted", "RETURNS", "QC-OK", "ADJ-000001"),
        ("WS-1", "adjusted", "A-01", None, "ADJ-000002"),
        ("WS-QC", "adjusted", "QC-OK", None, "ADJ-000002"),
    ]
    assert _rows(
        engine,
        "SELECT serial, status, bin FROM units WHERE serial IN ('WS-QC', 'WS-1') ORDER BY serial",
    ) == [
        ("WS-1", "scrapped", "A-01"),
        ("WS-QC", "scrapped", "QC-OK"),
    ]
    assert _rows(engine, "SELECT qty FROM stock_levels WHERE product_id = 3") == [(3,)]


def test_an_adjustment_without_a_reason_is_refused_before_any_scan(
    db_url: str, engine: Engine, monkeypatch: Any, capsys: Any
) -> None:
    seed(engine)
    for reason in (None, "", "   \t "):
        with pytest.raises(StationError) as refused:
            open_session(engine, "DOCK-1", "scrap", "SCRAP", journal=False, reason=reason)
        assert refused.value.code == "REASON_REQUIRED"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"WS-1\n")))
    capsys.readouterr()
    status = main(["--db", db_url, "scan", "--station", "DOCK-1", "--release", "A-01"])
    out, err = capsys.readouterr()
    assert (status, out) == (1, "")
    assert err.startswith("station: REASON_REQUIRED: Release from quarantine needs a reason")


def test_only_a_supervisor_adjusts(
    db_url: str, engine: Engine, monkeypatch: Any, capsys: Any
) -> None:
    seed(engine)
    add_operators(engine)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"WS-1\n")))
    capsys.readouterr()
    args = ["--station", "DOCK-1", "--scrap", "--reason", "broken", "--user", "kim"]
    status = main(["--db", db_url, "scan", *args])
    out, err = capsys.readouterr()
    assert (status, out) == (1, "")
    assert err == "station: NOT_AUTHORIZED: kim is a clerk; scrap is done by a supervisor.\n"
    assert _rows(engine, "SELECT status FROM units WHERE serial = 'WS-1'") == [("in_stock",)]


def test_a_killed_adjustment_comes_back_with_its_reason(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    """The reason is journaled with the session: started again without --reason, the
    restored scans post under the reason they were taken with."""
    seed(engine)
    data = tmp_path / "data"
    process = start_scan(db_url, data, "--station", "DOCK-7", "--scrap", "--reason", "crushed")
    assert ask(process, "WS-2")["ok"]
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    again = start_scan(db_url, data, "--station", "DOCK-7", "--scrap")
    out, err = again.communicate(b"CMD-SAVE\n", timeout=60)
    assert again.returncode == 0 and err == b"", err.decode()
    restored, posted = (json.loads(line) for line in out.decode().splitlines())
    assert restored == {"restored": 1} and posted["posted"], posted
    assert _rows(engine, "SELECT reason, units FROM adjustments") == [("crushed", 1)]
