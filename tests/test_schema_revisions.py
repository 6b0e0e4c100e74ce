"""No command silently migrates a shared PostgreSQL, and code and schema that disagree
are named (SPEC §9): a schema older than the code is refused on PostgreSQL (a
supervisor runs `station db upgrade`) and upgraded on a single-PC SQLite file after a
copy is kept; a schema newer than the code is refused on both, with both revisions."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from station.cli import main
from station.db.engine import make_engine, newest_migration, upgrade
from tests.conftest import PG_URL

HEAD = newest_migration()
OLD = "0002"


@pytest.fixture(params=["sqlite", "postgresql"])
def bare_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own (no schema at all), on SQLite and PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'station.db'}"
        return
    request.getfixturevalue("pg_database")  # skips when PostgreSQL cannot be reached
    name = f"station_rev_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _at(url: str, revision: str) -> None:
    """The schema at `revision`, holding a warehouse (old data to find again)."""
    engine = make_engine(url, patient=True)
    upgrade(engine, revision)
    with engine.begin() as c:
        c.execute(text("INSERT INTO warehouses (code, name) VALUES ('OLD', 'Old data')"))
    engine.dispose()


def _stored(url: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as c:
        revisions = list(c.execute(text("SELECT version_num FROM alembic_version")).scalars())
    engine.dispose()
    return revisions


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _scan(url: str, data: Path, po: str, scans: bytes) -> subprocess.CompletedProcess[bytes]:
    """`station scan` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "station", "--db", url, "scan", "--station", "S", "--receive", po],
        input=scans,
        capture_output=True,
        env={**os.environ, "STATION_DATA_DIR": str(data)},
        timeout=60,
    )


def _backups(url: str) -> list[Path]:
    path = Path(str(make_url(url).database))
    return sorted(path.parent.glob(f"{path.name}.before-*"))


def test_an_older_schema_is_refused_on_postgresql_and_upgraded_after_a_copy_on_sqlite(
    bare_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _at(bare_url, OLD)
    scan = _scan(bare_url, tmp_path / "data", "PO-404", b"")
    err = scan.stderr.decode()
    assert "Traceback" not in err
    if bare_url.startswith("sqlite"):  # one PC: upgraded, the old file kept beside it
        assert scan.returncode == 1 and "PO_NOT_FOUND" in err, err
        assert _stored(bare_url) == [HEAD]
        (kept,) = _backups(bare_url)
        assert kept.name.startswith(f"station.db.before-{OLD}-")
        copy = sqlite3.connect(kept)
        assert copy.execute("SELECT version_num FROM alembic_version").fetchall() == [(OLD,)]
        assert copy.execute("SELECT name FROM warehouses").fetchall() == [("Old data",)]
        copy.close()
        status, out, err = _run(capsys, "--db", bare_url, "trace", "NOPE")
        assert "SCHEMA" not in err and len(_backups(bare_url)) == 1  # current: left alone
        return

    assert scan.returncode == 1, err
    assert f"SCHEMA_OUT_OF_DATE: The database {make_url(bare_url).database}" in err
    assert f"schema revision {OLD}, older than this Station's {HEAD}" in err
    assert "`station db upgrade`" in err and "nothing was changed" in err
    status, _, err = _run(capsys, "--db", bare_url, "trace", "NOPE")
    assert status == 1 and "SCHEMA_OUT_OF_DATE" in err and "`station db upgrade`" in err
    assert _stored(bare_url) == [OLD]  # nothing migrated it

    status, out, _ = _run(capsys, "--db", bare_url, "db", "upgrade")
    assert status == 0 and f"Schema upgraded from revision {OLD} to {HEAD}." in out, out
    assert _stored(bare_url) == [HEAD]
    status, _, err = _run(capsys, "--db", bare_url, "trace", "NOPE")
    assert "SCHEMA" not in err and "Traceback" not in err


def test_station_db_upgrade_keeps_a_copy_of_an_old_sqlite_file(
    bare_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _at(bare_url, OLD)
    status, out, err = _run(capsys, "--db", bare_url, "db", "upgrade")
    assert status == 0, err
    assert f"Schema upgraded from revision {OLD} to {HEAD}." in out
    assert _stored(bare_url) == [HEAD]
    if not bare_url.startswith("sqlite"):
        assert "Kept a copy" not in out
        return
    (kept,) = _backups(bare_url)
    assert f"Kept a copy of the revision {OLD} file as {kept}." in out
    copy = sqlite3.connect(kept)
    assert copy.execute("SELECT name FROM warehouses").fetchall() == [("Old data",)]
    assert copy.execute("SELECT version_num FROM alembic_version").fetchall() == [(OLD,)]
    copy.close()
    status, out, _ = _run(capsys, "--db", bare_url, "db", "upgrade")  # current: no copy
    assert status == 0 and f"Schema is at revision {HEAD}." in out and len(_backups(bare_url)) == 1


def test_a_schema_newer_than_the_code_is_refused_with_both_revisions(
    bare_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _at(bare_url, HEAD)
    engine = create_engine(bare_url)
    with engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    engine.dispose()
    for argv in (["trace", "NOPE"], ["db", "upgrade"], ["db", "rekey"], ["stations"]):
        status, out, err = _run(capsys, "--db", bare_url, *argv)
        assert status == 1 and out == "", (argv, out)
        assert "STATION_OUT_OF_DATE" in err and "Traceback" not in err, (argv, err)
        assert f"schema revision 0999, which this Station (schema revision {HEAD})" in err
    scan = _scan(bare_url, tmp_path / "data", "PO-1", b"W1\n")
    assert scan.returncode == 1 and scan.stdout == b""
    assert b"STATION_OUT_OF_DATE" in scan.stderr and b"0999" in scan.stderr
    assert b"Traceback" not in scan.stderr
    assert _stored(bare_url) == ["0999"] and _backups_if_sqlite(bare_url) == []


def _backups_if_sqlite(url: str) -> list[Path]:
    return _backups(url) if url.startswith("sqlite") else []


def test_a_shared_database_without_a_schema_is_created_by_station_db_upgrade_only(
    bare_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = _run(capsys, "--db", bare_url, "stations")
    if bare_url.startswith("sqlite"):  # a new SQLite file is made on first use
        assert status == 0 and "No stations yet." in out, err
        assert _stored(bare_url) == [HEAD] and _backups(bare_url) == []
        return
    assert status == 1 and "SCHEMA_OUT_OF_DATE" in err and "has no Station schema yet" in err
    assert "`station db upgrade` to create it" in err
    status, out, _ = _run(capsys, "--db", bare_url, "db", "upgrade")
    assert status == 0 and f"Schema upgraded from revision none to {HEAD}." in out
    assert _run(capsys, "--db", bare_url, "stations")[1] == "No stations yet.\n"
