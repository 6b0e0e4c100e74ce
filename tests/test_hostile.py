"""Defects found by attacking the issue 7 work as a hostile and a clumsy user would:
each test is one defect, through the session and through `station scan`, on SQLite
and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, text

from station.app import open_session
from station.codes import Code
from station.db import ledger
from station.session import ScanSession
from tests.seed import seed
from tests.workflow import run_scan


def _open(engine: Engine, kind: str, document: str, station: str = "ST-1") -> ScanSession:
    return open_session(engine, station, kind, document, journal=False).session


def _units(engine: Engine, where: str = "1=1") -> list[tuple[Any, ...]]:
    with engine.connect() as c:
        rows = c.execute(text(f"SELECT serial, status FROM units WHERE {where} ORDER BY serial"))
        return [tuple(row) for row in rows]


# --- an invisible character makes a second unit for one label ------------------------

INVISIBLE = ["\ufe0f", "\u034f", "\u3164", "\uffa0", "\u2800", "\U000e0100", "\u180b"]


@pytest.mark.parametrize("char", INVISIBLE)
def test_an_invisible_character_is_not_a_second_unit(engine: Engine, char: str) -> None:
    seed(engine)
    with engine.begin() as connection:
        ledger.set_serial_charset(connection, "unicode")
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
        ledger.set_serial_charset(connection, "unicode")
    args = ["--station", "DOCK-1", "--receive", "PO-1"]
    scans = ["W1", "AB-1", "W1", "AB-1\ufe0f", "CMD-CANCEL", "CMD-SAVE"]
    status, out = run_scan(monkeypatch, capsys, db_url, args, scans)
    assert status == 0, out
    assert out[3]["code"] == "SERIAL_INVALID" and "U+FE0F" in out[3]["message"], out[3]
    assert out[-1]["posted"] is True and out[-1]["units"] == 1
    assert _units(engine, "serial LIKE 'AB-1%'") == [("AB-1", "in_stock")]
