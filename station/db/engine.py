"""Engines, the default database location, how long a station waits for the database,
and schema upgrades (Alembic).

Alembic is imported only when a schema has to change (or a command asks for revisions):
opening a database whose schema is current reads its revision in one transaction.
Only `station db upgrade` migrates a shared PostgreSQL; a single-PC SQLite file is
copied aside and upgraded when a station opens it.
"""

from __future__ import annotations

import math
import os
import re
import sqlite3
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, inspect, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from station.codes import Code, StationError
from station.files import (
    ensure_data_folder,
    ledger_files_of,
    protect,
    shown,
    sqlite_database,
)

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


#: SQLite's side files of a database, and what each is.
#: Where a bad database URL comes from, for the fix in a message.
_URL_SOURCE = "--db or STATION_DATABASE_URL"


def data_dir() -> Path:
    """Where Station keeps its SQLite file and session journals on this machine; created
    when missing. DATA_FOLDER_UNAVAILABLE (a StationError) names it when it cannot be."""
    return ensure_data_folder()


def default_url() -> str:
    return os.environ.get("STATION_DATABASE_URL") or f"sqlite:///{data_dir() / 'station.db'}"


#: How long a patient command (an import, `station db`) waits for SQLite's write lock
#: before "database is locked"; a station waits its timeout (DEFAULT_TIMEOUT).
SQLITE_PATIENT_MS = 30_000


def _sqlite_connected(busy_ms: int):  # type: ignore[no-untyped-def]
    def connected(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # pysqlite's own transaction handling is off; SQLAlchemy's "begin" event below
        # issues BEGIN IMMEDIATE, so a writer takes the lock up front (no upgrade deadlock).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    return connected


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


def reading_briefly(engine: Engine) -> Engine:
    """The same engine for a look-up of a few statements that a person waits for (the
    lookup screen, `station trace`). On SQLite a read transaction (one snapshot, no
    write lock, as `reading`); on PostgreSQL autocommit (as `looking_up`): under READ
    COMMITTED each statement takes its own snapshot in a transaction too, so BEGIN and
    ROLLBACK would only add two round trips to the server."""
    return looking_up(engine) if engine.dialect.name == "postgresql" else reading(engine)


@contextmanager
def writing_briefly(engine: Engine, wait_ms: int = 250) -> Iterator[Connection]:
    """A write transaction that waits at most `wait_ms` for a lock another station or
    program holds (SQLite's write lock, a PostgreSQL row lock): OperationalError (see
    `busy`) when it is held longer. For the writes a station can do without, such as
    noting when it was last seen."""
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            driver: Any = connection.connection.driver_connection  # no BEGIN yet
            usual = driver.execute("PRAGMA busy_timeout").fetchone()[0]
            driver.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
            try:
                with connection.begin():
                    yield connection
            finally:
                driver.execute(f"PRAGMA busy_timeout={int(usual)}")
            return
        with connection.begin():
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {int(wait_ms)}")
            yield connection


def busy(error: BaseException) -> bool:
    """Whether a database error says "busy", not "unreachable": SQLite's write lock held
    past busy_timeout, PostgreSQL's lock_timeout or statement_timeout."""
    cause = getattr(error, "orig", None) or error
    if getattr(cause, "sqlstate", None) in ("55P03", "57014"):  # lock / statement timeout
        return True
    return isinstance(cause, sqlite3.OperationalError) and "is locked" in str(cause)


#: Seconds a scan or a posting waits for PostgreSQL's answer before the station gives up
#: on the connection (SPEC §8: DATABASE_UNAVAILABLE within 5 s on a silent network), and
#: for SQLite's write lock before DATABASE_BUSY. STATION_DB_TIMEOUT or `?station_timeout=`
#: in the URL changes it; 0: no limit.
DEFAULT_TIMEOUT = 4.0
MAX_TIMEOUT = 3600


@dataclass(frozen=True, slots=True)
class Limits:
    """How long a station waits for PostgreSQL, derived from one number of seconds.

    `answer` is kept by the client: psycopg has no read timeout, and a network that
    goes silent without a reset leaves a blocked read waiting for ever (TCP keepalives
    and tcp_user_timeout only notice a peer whose kernel stops acknowledging, so not a
    hung server or a proxy in between). The server's statement_timeout and lock_timeout
    answer first when the server is alive but busy."""

    answer: float | None  # client: the longest wait for one answer (None: no limit)
    ping: float | None  # client: the check of a pooled connection before it is used
    connect: int  # libpq connect_timeout (psycopg's least is 2 s)
    statement_ms: int  # server: statement_timeout (0: off)
    lock_ms: int  # server: lock_timeout
    idle_in_transaction_ms: int  # server: ends a session a vanished client left mid-way
    tcp_user_timeout_ms: int  # kernel: unacknowledged data this long ends the connection

    @classmethod
    def for_seconds(cls, seconds: float) -> Limits:
        """The limits of a station that answers within about `seconds` (0: patient)."""
        if seconds <= 0:
            return cls(None, None, 10, 0, 0, 0, 60_000)
        return cls(
            answer=seconds,
            ping=min(seconds, max(0.5, seconds / 4)),
            connect=max(2, math.ceil(seconds / 2)),
            statement_ms=int(1000 * max(seconds - 1, seconds * 0.75)),
            lock_ms=int(1000 * seconds / 2),
            idle_in_transaction_ms=int(1000 * max(10.0, 3 * seconds)),
            tcp_user_timeout_ms=int(1000 * seconds),
        )


#: libpq keepalives: an idle connection whose peer stopped acknowledging is found dead
#: in about 5 + 3 × 1 s; the server is asked to watch its side the same way.
KEEPALIVES = {"keepalives": "1", "keepalives_idle": "5", "keepalives_interval": "1"}
KEEPALIVES_COUNT = "3"


def timeout_seconds(url: URL) -> float:
    """The station's timeout for `url`: its `station_timeout` query parameter, else
    STATION_DB_TIMEOUT, else DEFAULT_TIMEOUT. A value that is not a number is refused."""
    text = url.query.get("station_timeout") or os.environ.get("STATION_DB_TIMEOUT")
    if not text:
        return DEFAULT_TIMEOUT
    text = text if isinstance(text, str) else text[-1]
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= MAX_TIMEOUT:  # NaN too
        raise StationError(
            Code.BAD_OPTION_VALUE,
            f"The database timeout '{text}' (station_timeout / STATION_DB_TIMEOUT) is not a"
            f" number of seconds from 0 (no limit) to {MAX_TIMEOUT}.",
        )
    return seconds


def _postgres_url(url: URL, limits: Limits) -> URL:
    """`url` with the limits as libpq parameters, wherever the URL does not set its own
    (a `-c name=value` in its `options` wins over ours), and always UTF-8."""
    query = {key: value for key, value in url.query.items() if key != "station_timeout"}
    defaults = {
        "connect_timeout": str(limits.connect),
        **KEEPALIVES,
        "keepalives_count": KEEPALIVES_COUNT,
        "tcp_user_timeout": str(limits.tcp_user_timeout_ms),
    }
    for key, value in defaults.items():
        query.setdefault(key, value)
    # Serials, names and messages are Unicode: another client encoding (PGCLIENTENCODING,
    # `?client_encoding=latin1`) would fail a scan of any other character mid-session.
    query["client_encoding"] = "utf8"
    given = query.get("options") or ""
    given = given if isinstance(given, str) else " ".join(given)
    server = {
        "statement_timeout": limits.statement_ms,
        "lock_timeout": limits.lock_ms,
        "idle_in_transaction_session_timeout": limits.idle_in_transaction_ms,
        "tcp_keepalives_idle": KEEPALIVES["keepalives_idle"],
        "tcp_keepalives_interval": KEEPALIVES["keepalives_interval"],
        "tcp_keepalives_count": KEEPALIVES_COUNT,
    }
    added = [f"-c {name}={value}" for name, value in server.items() if name not in given]
    query["options"] = " ".join([given, *added]).strip()
    return url.set(query=query)


def make_engine(url: str | None = None, *, patient: bool = False) -> Engine:
    """An engine for `url` (default: the SQLite file in the user's data directory).

    On PostgreSQL every wait for the server is bounded (see Limits): a scan or a
    posting on a silent network fails with OperationalError within the station's
    timeout; on SQLite a writer waits that long for another's write lock ("database
    is locked"). `patient`: no statement or answer limit (SQLite: 30 s for the lock),
    for the commands that may legitimately run long (imports, exports, the demo,
    `station db`). DATABASE_URL_INVALID when the URL names no database Station can use,
    DATABASE_UNAVAILABLE when its SQLite file cannot be one (a folder, a device)."""
    url = url or default_url()
    # hide_parameters: a database error's text never carries a statement's values (a PIN
    # hash, for one) into a message, a log or a traceback.
    parsed = _parse(url)
    seconds = 0 if patient else timeout_seconds(parsed)
    try:
        if parsed.get_backend_name() == "sqlite":  # a writer waits for the write lock that long
            file = sqlite_database(parsed.database)
            _check_sqlite_path(None if file is None else str(file))
            busy_ms = int(1000 * seconds) if seconds else SQLITE_PATIENT_MS
            plain = parsed.difference_update_query(["station_timeout"])
            engine = create_engine(
                plain, connect_args={"timeout": busy_ms / 1000}, hide_parameters=True
            )
            event.listen(engine, "connect", _sqlite_connected(busy_ms))
            event.listen(engine, "begin", _sqlite_begin)
            protect(ledger_files(engine))  # no file this process writes lands on it
            return engine
        limits = Limits.for_seconds(seconds)
        if parsed.get_backend_name() != "postgresql" or parsed.get_driver_name() != "psycopg":
            return create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
        engine = create_engine(
            _postgres_url(parsed, limits), pool_pre_ping=True, hide_parameters=True
        )
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError, TypeError) as error:
        raise _bad_url(url, _first_line(error)) from None
    from station.db import waits

    waits.bound(engine, limits.answer, limits.ping)
    return engine


def _parse(url: str) -> URL:
    try:
        url.encode("utf-8")
        return make_url(url)
    except UnicodeEncodeError:
        raise _bad_url(url, "it holds bytes that are not UTF-8 text") from None
    except (ArgumentError, ValueError) as error:
        raise _bad_url(url, _first_line(error)) from None


_PASSWORD = re.compile(r"(://[^:/@]*:)(.*)@")


def _bad_url(url: str, reason: str) -> StationError:
    """DATABASE_URL_INVALID, the URL shown with its password (if any) as ***."""
    password = _PASSWORD.search(url)
    if password is not None:
        url = _PASSWORD.sub(r"\1***@", url, count=1)
        secret = password.group(2)  # a reason quoting any two characters of it says less
        if any(secret[i : i + 2] in reason for i in range(len(secret) - 1)):
            reason = "it is malformed"
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
    if not database:
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
    if engine.dialect.name != "sqlite":
        return {}
    path = sqlite_database(engine.url.database)
    if path is None:
        return {}
    files = ledger_files_of(path)
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
    if busy(error):
        return StationError(
            Code.DATABASE_BUSY,
            f"The database{where} is busy: another station or program held a lock it needs"
            f" for too long, or it answered too slowly ({reason}). Nothing was changed; try"
            " again in a moment.",
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
    if type(error).__name__ == "ProgrammingError" and (
        "connection option" in lowered or lowered.startswith("bad value for")
    ):  # libpq refused a parameter of the URL (`?connect_timeout=abc`, `?colour=red`)
        return _bad_url(engine_url or default_url(), reason)
    if isinstance(error.orig, Exception) and type(error).__name__ in (
        "OperationalError",
        "InterfaceError",
    ):
        return StationError(
            Code.DATABASE_UNAVAILABLE, f"Cannot reach the database{where} ({reason})."
        )
    return None


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


def migrations() -> list[str]:
    """The revisions this code knows, oldest first, from the file names in
    `migrations/versions` (`NNNN_what_it_does.py` holds revision "NNNN"), without
    loading Alembic."""
    return sorted(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("*.py"))


def newest_migration() -> str:
    """The head revision, without loading Alembic."""
    return migrations()[-1]


def stored_revisions(engine: Engine) -> list[str] | None:
    """What the database's alembic_version holds; None when it has no such table (a new
    database). An unreachable database raises OperationalError."""
    with reading(engine).connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        stored = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
        return sorted(str(revision) for revision in stored.scalars())


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or migrate the schema to the newest revision (or the one named)."""
    from alembic import command

    _migrate(engine, lambda config: command.upgrade(config, revision))


def _migrate(engine: Engine, run: Callable[[Any], None]) -> None:
    """Run an Alembic command in one transaction. On SQLite foreign keys are off while
    it runs (a table rebuilt to change a constraint is dropped and renamed under the
    tables that refer to it) and checked whole before the commit."""
    config = _alembic_config()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        driver: Any = connection.connection.driver_connection
        if sqlite:  # on the driver's connection, outside any transaction: else ignored
            driver.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                run(config)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                    if broken is not None:
                        raise RuntimeError(f"a migration broke a foreign key: {tuple(broken)}")
        finally:
            if sqlite:
                driver.execute("PRAGMA foreign_keys=ON")


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to `revision` (for a rollback of a release)."""
    from alembic import command

    _migrate(engine, lambda config: command.downgrade(config, revision))


@dataclass(frozen=True, slots=True)
class Upgraded:
    """What `upgrade_database` did: the revision before (None: a new database), the
    revision now and the copy of a SQLite file kept before migrating it."""

    before: str | None
    now: str
    backup: Path | None = None


def open_database(url: str | None = None, *, patient: bool = False) -> Engine:
    """An engine whose schema is the one this code was written for.

    A SQLite file (one PC) is created, or copied aside and upgraded, in place. A
    shared PostgreSQL is never migrated here: a schema older than the code is refused
    with SCHEMA_OUT_OF_DATE (a supervisor runs `station db upgrade`), one newer than
    the code with STATION_OUT_OF_DATE (install the newer Station)."""
    engine = make_engine(url, patient=patient)
    try:
        stored = stored_revisions(engine)
        if stored != [newest_migration()]:
            _refuse_unknown(engine, stored)
            if engine.dialect.name != "sqlite":
                raise _out_of_date(engine, stored)
            upgrade_database(engine, stored)
    except BaseException:
        engine.dispose()
        raise
    return engine


def upgrade_database(engine: Engine, stored: list[str] | None = None) -> Upgraded:
    """`station db upgrade`: create or migrate the schema to the newest revision; a
    SQLite file that holds a schema is first copied beside itself (the sqlite3 backup
    API, a consistent copy even while others read it). A revision this code does not
    know is refused (STATION_OUT_OF_DATE): it never reaches Alembic."""
    stored = stored_revisions(engine) if stored is None else stored
    _refuse_unknown(engine, stored)
    head = newest_migration()
    before = stored[0] if stored else None
    if stored == [head]:
        return Upgraded(before, head)
    backup = None
    if before is not None and engine.dialect.name == "sqlite":
        try:
            backup = back_up_sqlite(engine, before)
        except (OSError, sqlite3.Error) as error:
            raise StationError(
                Code.SCHEMA_OUT_OF_DATE,
                f"{_where(engine)} has schema revision {before}, older than this Station's"
                f" {head}, and no copy of it could be kept beside it ({error}): it was not"
                " upgraded. Free space or allow writing in its folder, then start again.",
            ) from error
    upgrade(engine)
    if before is not None:  # data migrations rewrote rows: plan on fresh statistics
        _analyze_everything(engine)
    return Upgraded(before, head, backup)


def _analyze_everything(engine: Engine) -> None:
    from station.db import bulk  # loaded here: most starts never migrate
    from station.db.models import Base

    with engine.connect() as connection:
        present = set(inspect(connection).get_table_names())
    bulk.analyze(engine, (t.name for t in Base.metadata.sorted_tables if t.name in present))


def _where(engine: Engine) -> str:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return f"The SQLite file {url.database}"
    return f"The database {url.database} on {url.host or 'localhost'}"


def _refuse_unknown(engine: Engine, stored: list[str] | None) -> None:
    """STATION_OUT_OF_DATE when alembic_version holds a revision this code does not
    know (a newer Station migrated it) or more than one."""
    if stored is None or (len(stored) == 1 and stored[0] in migrations()):
        return
    found = ", ".join(stored) if stored else "none (an empty alembic_version)"
    raise StationError(
        Code.STATION_OUT_OF_DATE,
        f"{_where(engine)} has schema revision {found}, which this Station (schema revision"
        f" {newest_migration()}) does not know: a newer Station has upgraded it. Install"
        " that Station version here; nothing was changed.",
    )


def _out_of_date(engine: Engine, stored: list[str] | None) -> StationError:
    head = newest_migration()
    if not stored:
        found = "has no Station schema yet"
        fix = "create it"
    else:
        found = f"has schema revision {stored[0]}, older than this Station's {head}"
        fix = "upgrade it, once every station runs this version"
    return StationError(
        Code.SCHEMA_OUT_OF_DATE,
        f"{_where(engine)} {found}; shared databases are never migrated by a station."
        f" A supervisor runs `station db upgrade` to {fix} (schema revision {head});"
        " nothing was changed.",
    )


def back_up_sqlite(engine: Engine, revision: str) -> Path | None:
    """Copy the SQLite file of `engine` beside itself as
    `<file>.before-<revision>-<UTC time>` with sqlite3's backup API; the copy's path
    (None for a database without a file). OSError or sqlite3.Error when it cannot be
    written: then nothing is migrated."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database)
    if not path.exists():
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.before-{revision}-{stamp}")
    count = 1
    while target.exists():
        count += 1
        target = path.with_name(f"{path.name}.before-{revision}-{stamp}-{count}")
    source = sqlite3.connect(path)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()
    return target
