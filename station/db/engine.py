"""Engines, the default database location and schema upgrades (Alembic).

Alembic is imported only when a schema has to change (or a command asks for revisions):
opening a database whose schema is current reads its revision with one query.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from station.codes import Code, StationError
from station.files import ensure_data_folder, shown

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


#: SQLite's side files of a database, and what each is.
_SIDE_FILES = {
    "-wal": "the ledger's write-ahead log",
    "-shm": "the ledger's shared-memory index",
    "-journal": "the ledger's rollback journal",
}
#: Where a bad database URL comes from, for the fix in a message.
_URL_SOURCE = "--db or STATION_DATABASE_URL"


def data_dir() -> Path:
    """Where Station keeps its SQLite file and session journals on this machine; created
    when missing. DATA_FOLDER_UNAVAILABLE (a StationError) names it when it cannot be."""
    return ensure_data_folder()


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
    """An engine for `url` (default: the SQLite file in the user's data directory).
    DATABASE_URL_INVALID when the URL names no database Station can use, and
    DATABASE_UNAVAILABLE when its SQLite file cannot be (a folder, a device, no folder)."""
    url = url or default_url()
    parsed = _parse(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            _check_sqlite_path(parsed.database)
            engine = create_engine(parsed, connect_args={"timeout": 10})
            event.listen(engine, "connect", _sqlite_connect)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        return create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError, TypeError) as error:
        raise _bad_url(url, _first_line(error)) from None


def _parse(url: str) -> URL:
    try:
        url.encode("utf-8")
        return make_url(url)
    except UnicodeEncodeError:
        raise _bad_url(url, "it holds bytes that are not UTF-8 text") from None
    except (ArgumentError, ValueError) as error:
        raise _bad_url(url, _first_line(error)) from None


def _bad_url(url: str, reason: str) -> StationError:
    text = shown(url)
    if len(text) > 120:
        text = f"{text[:100]}… ({len(text)} characters)"
    return StationError(
        Code.DATABASE_URL_INVALID,
        f"{text!r} is not a database URL Station can use ({reason}). Give {_URL_SOURCE}"
        " as postgresql+psycopg://USER@HOST/DB or sqlite:///PATH/TO/station.db.",
    )


def _check_sqlite_path(database: str | None) -> None:
    """A SQLite file must be a regular file (or nothing yet) in an existing folder: SQLite
    itself says only "unable to open database file", and a named pipe would hang it."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if not path.parent.is_dir():
            raise _no_sqlite(path, f"its folder {shown(path.parent)} does not exist") from None
        return
    except NotADirectoryError:
        raise _no_sqlite(path, "a part of its folder path is a file") from None
    except OSError as error:
        raise _no_sqlite(path, error.strerror or str(error)) from None
    if stat.S_ISDIR(mode):
        raise _no_sqlite(path, "it is a folder")
    if not stat.S_ISREG(mode):
        raise _no_sqlite(path, "it is not a regular file (a device or a named pipe)")


def _no_sqlite(path: Path, reason: str) -> StationError:
    return StationError(
        Code.DATABASE_UNAVAILABLE,
        f"Cannot open the SQLite ledger {shown(path)}: {reason}. Fix {_URL_SOURCE}"
        " (sqlite:///PATH/TO/station.db), or create that folder.",
    )


def _first_line(error: BaseException) -> str:
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def ledger_files(engine: Engine) -> dict[Path, str]:
    """The files of a SQLite ledger and what each is (none on PostgreSQL): no file the
    station writes may replace them."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return {}
    path = Path(database)
    files = {path: "the station's ledger (its SQLite database)"}
    files.update({Path(f"{path}{suffix}"): what for suffix, what in _SIDE_FILES.items()})
    for backup in path.parent.glob(f"{path.name}.before-*"):
        files[backup] = "a backup of the station's ledger"
    return files


def database_problem(error: BaseException, engine_url: str | None = None) -> StationError | None:
    """What a database error means to the person who ran a command, with its stable code:
    DATABASE_BUSY (SQLite's "database is locked", PostgreSQL's lock_not_available),
    DATABASE_UNAVAILABLE (cannot reach or open it, naming the SQLite file). None for an
    error that is not the database's."""
    if not isinstance(error, DBAPIError):
        return None
    reason = _first_line(error)
    lowered = reason.lower()
    where = _sqlite_where(engine_url)
    if is_busy(error):
        return StationError(
            Code.DATABASE_BUSY,
            f"The database{where} is busy: another station or program holds its write lock"
            f" and did not let go in time ({reason}). Nothing was written; try again in a"
            " moment.",
        )
    if "file is not a database" in lowered or "malformed" in lowered:
        return StationError(
            Code.DATABASE_UNAVAILABLE,
            f"The database{where} cannot be read: it is not a SQLite ledger, or it is damaged"
            f" ({reason}). Check {_URL_SOURCE}; restore the ledger from a backup.",
        )
    if "disk is full" in lowered:
        return StationError(
            Code.DATABASE_UNAVAILABLE,
            f"The database{where} cannot grow: its disk is full ({reason}). Nothing was"
            " written; free space on that disk.",
        )
    if "readonly database" in lowered or "read-only" in lowered:
        return StationError(
            Code.DATABASE_UNAVAILABLE,
            f"The database{where} is read-only for this user ({reason}): give this user"
            " write access to it and its folder.",
        )
    if "unable to open database file" in lowered:
        return StationError(
            Code.DATABASE_UNAVAILABLE,
            f"Cannot open the database{where} ({reason}): this user needs to read and write"
            f" it and its folder. Check {_URL_SOURCE}.",
        )
    if isinstance(error.orig, Exception) and type(error).__name__ in (
        "OperationalError",
        "InterfaceError",
    ):
        return StationError(
            Code.DATABASE_UNAVAILABLE, f"Cannot reach the database{where} ({reason})."
        )
    return None


def is_busy(error: BaseException) -> bool:
    """The database answered, but another connection held the lock it needed for longer
    than the busy timeout: SQLite's "database is locked", PostgreSQL's lock_not_available."""
    orig = getattr(error, "orig", None)
    reason = str(orig or error).lower()
    return (
        "database is locked" in reason
        or "database table is locked" in reason
        or getattr(orig, "sqlstate", None) == "55P03"
    )


def _sqlite_where(url: str | None) -> str:
    try:
        parsed = make_url(url or default_url())
    except Exception:  # the URL was checked when the engine was made; this only names it
        return ""
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return ""
    return f" {shown(parsed.database)}"


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
