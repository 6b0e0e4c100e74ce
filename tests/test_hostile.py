"""Defects found by attacking the issue 7 work as a hostile and a clumsy user would:
each test is one defect, through the session and through `station scan`, on SQLite
and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from station.codes import Code
from station.db import company
from station.journal import local_name
from tests.seed import GTIN_W1, UPC_OTHER, seed
from tests.test_scan_reading import _open, _units
from tests.workflow import run_scan

# --- an invisible character makes a second unit for one label ------------------------

INVISIBLE = ["\ufe0f", "\u034f", "\u3164", "\uffa0", "\u2800", "\U000e0100", "\u180b"]


@pytest.mark.parametrize("char", INVISIBLE)
def test_an_invisible_character_is_not_a_second_unit(engine: Engine, char: str) -> None:
    seed(engine)
    with engine.begin() as connection:
        company.set_serial_charset(connection, "unicode")
    session = _open(engine, "receive", "PO-1")
    assert session.scan("W1").ok and session.scan("AB-1").ok
    assert session.scan("W1").ok
    verdict = session.scan("AB-1" + char)
    assert verdict.code == Code.SERIAL_INVALID, verdict.message
    assert f"U+{ord(char):04X}" in verdict.message and "invisible" in verdict.message
    assert session.scan("CMD-CANCEL").ok and session.save().posted
    assert _units(engine, "serial LIKE 'AB-1%'") == [("AB-1", "in_stock")]


def test_an_invisible_character_through_station_scan(
    engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(engine)
    with engine.begin() as connection:
        company.set_serial_charset(connection, "unicode")
    args = ["--station", "DOCK-1", "--receive", "PO-1"]
    scans = ["W1", "AB-1", "W1", "AB-1\ufe0f", "CMD-CANCEL", "CMD-SAVE"]
    status, out = run_scan(monkeypatch, capsys, db_url, args, scans)
    assert status == 0, out
    assert out[3]["code"] == "SERIAL_INVALID" and "U+FE0F" in out[3]["message"], out[3]
    assert out[-1]["posted"] is True and out[-1]["units"] == 1
    assert _units(engine, "serial LIKE 'AB-1%'") == [("AB-1", "in_stock")]


# --- CMD-NOTFOUND then a GS1 scan of another product ----------------------------------


def _second_product_on_so1(engine: Engine) -> None:
    """X9 on SO-1 too, with an in-stock unit whose serial WS-1 is also a W1's (product
    scope allows it)."""
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO order_lines (id, order_id, line_no, product_id, qty, qty_shipped)"
                " VALUES (10, 1, 3, 5, 1, 0)"
            )
        )
        c.execute(
            text(
                "INSERT INTO units (product_id, scope_id, serial, serial_key, warehouse_id, bin,"
                " origin, po_line_id, receipt_id, received_at, status) SELECT 5, 5, serial,"
                " serial_key, warehouse_id, bin, origin, po_line_id, receipt_id, received_at,"
                " status FROM units WHERE serial = 'WS-1'"
            )
        )


def test_not_found_with_a_gs1_scan_of_an_item_not_on_the_order(engine: Engine) -> None:
    seed(engine)
    session = _open(engine, "ship", "SO-1")
    assert session.scan("CMD-NOTFOUND").ok
    verdict = session.scan(f"(01)00{UPC_OTHER}(21)WS-1")  # an Other Thing label
    assert verdict.code == Code.ITEM_NOT_ON_ORDER and "Other Thing" in verdict.message, verdict
    assert session.mode is None
    assert session.scan("CMD-NOTFOUND").ok
    verdict = session.scan("(01)00000000000017(21)WS-1")  # a GTIN of no product
    assert verdict.code == Code.UNKNOWN_ITEM, verdict.message
    assert _units(engine, "serial = 'WS-1'") == [("WS-1", "in_stock")]


def test_not_found_with_a_gs1_scan_marks_that_products_unit_only(engine: Engine) -> None:
    seed(engine)
    _second_product_on_so1(engine)
    session = _open(engine, "ship", "SO-1")
    assert session.scan(UPC_OTHER).ok and session.scan("WS-1").ok  # the X9 unit, packed
    assert session.scan("CMD-NOTFOUND").ok
    verdict = session.scan(f"(01){GTIN_W1}(21)WS-1")  # the W1 unit is not there
    assert verdict.ok and verdict.sku == "W1", verdict.message
    assert "left this session" not in verdict.message
    assert [(e.line, e.serial) for e in session.entries] == [(2, "WS-1")]
    with engine.connect() as c:
        rows = c.execute(
            text("SELECT product_id, status FROM units WHERE serial = 'WS-1' ORDER BY 1")
        ).all()
    assert [tuple(r) for r in rows] == [(1, "not_found"), (5, "in_stock")]


def test_not_found_with_a_gs1_scan_through_station_scan(
    engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(engine)
    args = ["--station", "PACK-1", "--ship", "SO-1"]
    scans = ["CMD-NOTFOUND", f"(01)00{UPC_OTHER}(21)WS-1", "CMD-NOTFOUND", "WS-2"]
    status, out = run_scan(monkeypatch, capsys, db_url, args, scans)
    assert status == 0
    assert out[1]["ok"] is False and out[1]["code"] == "ITEM_NOT_ON_ORDER", out[1]
    assert out[3]["ok"] is True and out[3]["serial"] == "WS-2", out[3]
    assert _units(engine, "serial IN ('WS-1', 'WS-2')") == [
        ("WS-1", "in_stock"),
        ("WS-2", "not_found"),
    ]


# --- a named pipe or a device in the journal's place -----------------------------------


def _scan_process(db_url: str, data: Path, *args: str, stdin: bytes) -> list[dict[str, Any]]:
    env = {**os.environ, "STATION_DATA_DIR": str(data)}
    done = subprocess.run(
        [sys.executable, "-m", "station", "--db", db_url, "scan", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=60,  # a station that waits on the pipe never answers: the test fails
    )
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize("what", ["pipe", "device"])
def test_a_pipe_or_a_device_in_the_journals_place_is_damage_not_a_hang(
    engine: Engine, db_url: str, tmp_path: Path, what: str
) -> None:
    seed(engine)
    data = tmp_path / "data"
    path = data / "journal" / f"{local_name('receive', 'DOCK-P', 'PO-1')}.jsonl"
    path.parent.mkdir(parents=True)
    if what == "pipe":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    args = ["--station", "DOCK-P", "--receive", "PO-1"]
    out = _scan_process(db_url, data, *args, stdin=b"W1\nSN-P1\nCMD-SAVE\n")
    assert out[0]["code"] == "JOURNAL_DAMAGED" and out[0]["restored"] == 0, out[0]
    assert "not a file" in out[0]["message"]
    assert out[2]["ok"] and out[3]["posted"] is True, out
    assert _units(engine, "serial = 'SN-P1'") == [("SN-P1", "in_stock")]
