"""Engines, the default database location and schema upgrades (Alembic).

Alembic is imported only when a schema has to change (or a command asks for revisions):
opening a database whose schema is current reads its revision with one query.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def data_dir() -> Path:
    """Where Station keeps its SQLite file and session journals on this machine."""
    override = os.environ.get("STATION_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir("station", False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_url() -> str:
    return os.environ.get("STATION_DATABASE_URL") or f"sqlite:///{data_dir() / 'station.db'}"


def _sqlite_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # pysqlite's own transaction handling is off; SQLAlchemy's "begin" event below
    # issues BEGIN IMMEDIATE, so a writer takes the lock up front (no upgrade deadlock).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(connection) -> None:  # type: ignore[no-untyped-def]
    # A writer takes SQLite's write lock up front (BEGIN IMMEDIATE), so a read-then-write
    # posting never fails half-way on a lock upgrade; readers (see `reading`) never lock.
    options = connection.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":
        return
    connection.exec_driver_sql("BEGIN" if options.get("read_only") else "BEGIN IMMEDIATE")


def reading(engine: Engine) -> Engine:
    """The same engine for look-ups only: on SQLite its transactions take no write lock."""
    return engine.execution_options(read_only=True)


def looking_up(engine: Engine) -> Engine:
    """The same engine for single-statement look-ups: autocommit, so a connection kept
    open between scans holds no transaction (no snapshot, no lock) on either database."""
    return engine.execution_options(isolation_level="AUTOCOMMIT", read_only=True)


def make_engine(url: str | None = None) -> Engine:
    """An engine for `url` (default: the SQLite file in the user's data directory)."""
    url = url or default_url()
    # hide_parameters: a database error's text never carries a statement's values (a PIN
    # hash, for one) into a message, a log or a traceback.
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 10}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def newest_migration() -> str:
    """The revision of the newest file in `migrations/versions` (files are named
    `NNNN_what_it_does.py` with revision "NNNN"): the head, without loading Alembic."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("*.py"))


def _schema_is_current(engine: Engine) -> bool:
    """The database's only stored revision is the newest migration's. An unreachable
    database raises here (OperationalError), as Alembic would."""
    with reading(engine).connect() as connection:
        try:
            stored = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            revisions = list(stored.scalars())
        except DBAPIError:  # no alembic_version table yet: a new database
            return False
    return revisions == [newest_migration()]


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or migrate the schema to the newest revision (or the one named)."""
    from alembic import command

    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to `revision` (for a rollback of a release)."""
    from alembic import command

    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def open_database(url: str | None = None, *, migrate: bool = True) -> Engine:
    """An engine whose schema is current; a fresh or old SQLite file is upgraded in place,
    after a copy of the old file is kept beside it."""
    engine = make_engine(url)
    if migrate and not _schema_is_current(engine):
        current = current_revision(engine)
        if current != head_revision():
            if current is not None and engine.dialect.name == "sqlite":
                _back_up_sqlite(engine, current)
            upgrade(engine)
    return engine


def _back_up_sqlite(engine: Engine, revision: str) -> None:
    path = engine.url.database
    if not path or path == ":memory:":
        return
    target = f"{path}.before-{revision}"
    raw = engine.raw_connection()  # VACUUM runs outside any transaction
    try:
        raw.driver_connection.execute("VACUUM INTO ?", (target,))  # type: ignore[union-attr]
    finally:
        raw.close()
