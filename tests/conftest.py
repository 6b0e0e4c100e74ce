"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is found through STATION_TEST_PG_URL (default: the local server). Each test
run works in a database of its own on that server, so parallel runs never collide.
With STATION_REQUIRE_PG=1 (CI) an unreachable server fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

from station.db.engine import make_engine, upgrade
from station.db.models import Base

PG_URL = os.environ.get(
    "STATION_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_PG = os.environ.get("STATION_REQUIRE_PG") == "1"

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _pg_server_reachable() -> str | None:
    try:
        engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as error:  # any driver or network failure means: not reachable
        return str(error).splitlines()[0]


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run; dropped afterwards."""
    problem = _pg_server_reachable()
    if problem:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (STATION_REQUIRE_PG=1) but: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    name = f"station_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for every test (migrating once is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "station.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection closing checkpoints the WAL into the file
    return path


_TABLES = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)


def _empty_pg(url: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated ledger: once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "station.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_database")
    _empty_pg(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _station_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep journals and the default SQLite file of every test inside its tmp_path."""
    monkeypatch.setenv("STATION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("STATION_DATABASE_URL", raising=False)
