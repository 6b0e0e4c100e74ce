"""Acceptance: a scan arriving from a serial scanner (a pty) reaches a receive session and
yields the same verdict as `station scan` gives for the same text."""

from __future__ import annotations

import os
import queue
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine

from station.app import open_session
from station.codes import Verdict
from station.devices.serial_scanner import CONNECTED, SerialScanner, SerialScannerConfig
from tests.seed import GTIN_W1, UPC_W1, seed
from tests.workflow import run_scan

SCANS: list[bytes] = [
    UPC_W1.encode(),
    b"SN-PTY-0001",
    b"\xff\xfegarbage",
    b"]C101" + GTIN_W1.encode() + b"\x1d21SN-PTY-0002",
    b"NO-SUCH-ITEM",
    b"SN-PTY-0001",  # a duplicate in the session
    b"CMD-UNDO",
]


def test_pty_scans_get_the_same_verdicts_as_station_scan(
    engine: Engine,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed(engine)
    session = open_session(engine, "PTY-DOCK", "receive", "PO-1", journal=False).session
    verdicts: queue.Queue[Verdict] = queue.Queue()
    connected = threading.Event()
    master, slave = os.openpty()
    port = os.ttyname(slave)
    os.close(slave)
    scanner = SerialScanner(
        SerialScannerConfig(port),
        lambda scan: verdicts.put(session.scan(scan)),
        lambda state, _detail: connected.set() if state == CONNECTED else None,
    )
    scanner.start()
    try:
        assert connected.wait(5)
        os.write(master, b"".join(scan + b"\r\n" for scan in SCANS))
        from_pty = [verdicts.get(timeout=5).as_dict() for _ in SCANS]
    finally:
        scanner.stop()
        os.close(master)

    status, from_cli = run_scan(
        monkeypatch, capsys, db_url, ["--station", "CLI-DOCK", "--receive", "PO-1"], SCANS
    )
    assert status == 0
    assert from_pty == from_cli
    assert [v["ok"] for v in from_pty][:2] == [True, True]
    assert not from_pty[2]["ok"]  # the garbage bytes are refused, not an exception
