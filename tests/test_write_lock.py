"""A station starts while another program holds the database's write lock, and "locked"
is said as busy, never as unreachable (SPEC §4, §8).

On SQLite the lock is the file's write lock (`BEGIN IMMEDIATE`, as a long import or
another station's posting holds it); on PostgreSQL the same door is a lock that lets
readers in on the tables a station registers in and a posting locks first.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

from station.cli import EXIT_DATABASE
from station.db.engine import reading
from tests.seed import seed
from tests.workflow import ask, start_scan

#: PostgreSQL: the tables a station's start and posting write or lock first.
LOCKED = "stations, users, purchase_orders, sales_orders"


@contextmanager
def write_lock(db_url: str) -> Iterator[None]:
    """Another program holds the write lock until the block ends."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(str(url.database), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("UPDATE warehouses SET name = name")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as holder:
        holder.execute(text(f"LOCK TABLE {LOCKED} IN EXCLUSIVE MODE"))  # readers read
        try:
            yield
        finally:
            holder.rollback()
    engine.dispose()


def _stations(engine: Engine) -> list[str]:
    with reading(engine).connect() as c:  # a reader: no lock needed
        return list(c.execute(text("SELECT name FROM stations ORDER BY name")).scalars())


def _station(db_url: str, data: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "STATION_DATA_DIR": str(data), "STATION_PIN": "1234"}
    return subprocess.Popen(
        [sys.executable, "-m", "station", "--db", db_url, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def test_a_new_station_starts_and_judges_scans_while_the_write_lock_is_held(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    seed(engine)
    data = tmp_path / "data"
    with write_lock(db_url):
        station = start_scan(db_url, data, "--station", "NEW", "--receive", "PO-1")
        adding = _station(db_url, data, "users", "add", "sue", "--role", "supervisor")
        first, serial = ask(station, "W1"), ask(station, "LOCK-1")
        assert first["ok"] and serial["ok"], (first, serial)
        assert ask(station, "LOCK-1")["code"] == "SERIAL_DUPLICATE_IN_SESSION"
        shown = _station(db_url, data, "options", "show", "--station", "OTHER", "--json")
        out, err = shown.communicate(timeout=60)
        assert shown.returncode == 0 and b'"require_serial": true' in out, err
        # Writing needs the lock: refused as busy, and the session keeps its scans.
        busy = ask(station, "CMD-SAVE")
        assert busy["posted"] is False and busy["code"] == "DATABASE_BUSY", busy
        assert "busy" in busy["message"] and "session is kept" in busy["message"]
        assert "reach" not in busy["message"]
        _, refused = adding.communicate(timeout=60)
        assert adding.returncode == EXIT_DATABASE, refused
        assert b"DATABASE_BUSY" in refused and b"busy" in refused, refused
        assert b"DATABASE_UNAVAILABLE" not in refused and b"cannot reach" not in refused
        assert b"Traceback" not in refused
        assert _stations(engine) == []  # starting registered nothing yet

    posted = ask(station, "CMD-SAVE")  # the lock is gone: the first posting registers it
    assert posted["posted"] is True and posted["units"] == 1, posted
    _, err = station.communicate(b"", timeout=30)
    assert b"Traceback" not in err, err
    assert _stations(engine) == ["NEW"]
    again = start_scan(db_url, data, "--station", "OTHER", "--receive", "PO-1")
    assert again.communicate(b"", timeout=30)[0] == b"" and again.returncode == 0
    assert _stations(engine) == ["NEW", "OTHER"]  # a start without the lock registers


def test_commands_that_only_read_answer_while_the_write_lock_is_held(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    """An export, a trace, the station and user lists read: they never wait for another
    program's write lock (they waited the patient 30 s and failed DATABASE_BUSY)."""
    seed(engine)
    with engine.begin() as c:
        c.execute(text("INSERT INTO stations (name, kind) VALUES ('DOCK-9', 'both')"))
    out = tmp_path / "serials.xlsx"
    commands = {
        "export": (["export", "serials", "--out", str(out)], "Exported 8 serials row(s)"),
        "trace": (["trace", "WS-1"], "WS-1"),
        "stations": (["stations"], "DOCK-9"),
        "users": (["users", "list"], ""),
    }
    with write_lock(db_url):
        for name, (argv, says) in commands.items():
            process = _station(db_url, tmp_path / "data", *argv)
            stdout, stderr = process.communicate(timeout=60)
            assert process.returncode == 0, (name, stderr.decode())
            assert says in stdout.decode(), (name, stdout.decode())
    assert out.stat().st_size > 0
