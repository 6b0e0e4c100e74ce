"""Helpers for driving sessions and `station scan` in tests."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from station import options as opts
from station.cli import main
from station.db import admin


def configure(engine: Engine, station: str, **values: Any) -> None:
    """Store options for a station directly (authorization is tested on its own)."""
    from station.stations import register

    station_id = register(engine, station)
    with engine.begin() as connection:
        stored = admin.stored_options(connection, station_id)
        for key, value in values.items():
            opts.check_value(key, value)
            admin.write_option(
                connection, station_id, key, stored.get(key), opts.encode(value), "test"
            )


def run_scan(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    db_url: str,
    args: list[str],
    scans: list[str | bytes],
) -> tuple[int, list[dict[str, Any]]]:
    """Run `station scan` in-process with `scans` as its stdin lines."""
    data = b"".join((s if isinstance(s, bytes) else s.encode()) + b"\n" for s in scans)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    capsys.readouterr()
    status = main(["--db", db_url, "scan", *args])
    out = capsys.readouterr().out
    return status, [json.loads(line) for line in out.splitlines()]


def start_scan(db_url: str, data_dir: Path, *args: str) -> subprocess.Popen[bytes]:
    """`station scan` as a real process, its journals in `data_dir`."""
    env = {**os.environ, "STATION_DATA_DIR": str(data_dir)}
    return subprocess.Popen(
        [sys.executable, "-m", "station", "--db", db_url, "scan", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def ask(process: subprocess.Popen[bytes], scan: str | bytes) -> dict[str, Any]:
    """Send one scan to a running `station scan` and read its verdict line."""
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write((scan if isinstance(scan, bytes) else scan.encode()) + b"\n")
    process.stdin.flush()
    return json.loads(process.stdout.readline())
