"""A site at scale (issue 14): postings of different stations do not queue on a
document counter, and the posting's duplicate-serial check keeps to an index."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, make_url, text

from station.app import open_session
from station.db import bulk, units
from station.db.engine import downgrade, make_engine, upgrade
from station.workflow import _post as post_steps
from station.workflow import workflow
from tests.conftest import PG_URL, _pg_server_reachable
from tests.seed import SUPERVISOR, SUPERVISOR_PIN, add_supervisor, seed
from tests.test_concurrency import _add_documents

#: The second posting answers well within this while the first holds its transaction;
#: a posting that waits for the first's lock fails the test instead of hanging it.
PATIENCE_S = 30


def _receive(engine: Engine, station: str, po: str, serials: list[str]) -> Any:
    session = open_session(engine, station, "receive", po, journal=False).session
    assert all(session.scan(code).ok for code in ["W1", *serials])
    return session


def _ship(engine: Engine, station: str, order: str, serial: str) -> Any:
    session = open_session(engine, station, "ship", order, journal=False).session
    assert session.scan("W1").ok and session.scan(serial).ok
    return session


def _save(session: Any, answers: list[Any]) -> None:
    try:
        answers.append(session.save())
    except Exception as error:  # a lock timeout: station 2 waited for station 1
        answers.append(error)


def _open_posting(connection: Any, kind: str, session: Any) -> Any:
    """The posting's own steps, in a transaction the test keeps open after them."""
    made = ({}, datetime.now(UTC)) if kind == "receive" else None
    return post_steps(connection, session.posting(), session.workflow, made)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("kind", ["receive", "ship"])
def test_a_posting_holding_its_document_number_does_not_hold_up_another_station(
    engine: Engine, db_url: str, kind: str
) -> None:
    """Station 1 has taken its document number and written its units, its transaction
    still open; station 2 saves on another document meanwhile and gets its answer
    without waiting (before: it waited on the counter row until station 1 committed)."""
    seed(engine)
    _add_documents(engine, 2)
    prefix = "RCV" if kind == "receive" else "SHP"
    other = make_engine(db_url)  # station 2: connections of its own
    if kind == "receive":
        first = _receive(engine, "DOCK-0", "PO-C0", ["Q-1", "Q-2"])
        second = _receive(other, "DOCK-1", "PO-C1", ["Q-3"])
    else:
        first = _ship(engine, "PACK-0", "SO-C0", "WS-1")
        second = _ship(other, "PACK-1", "SO-C1", "WS-2")
    answers: list[Any] = []
    with engine.connect() as connection:
        transaction = connection.begin()
        held = _open_posting(connection, kind, first)
        assert held.posted and held.document == f"{prefix}-000001"
        saving = threading.Thread(target=_save, args=(second, answers), daemon=True)
        saving.start()
        saving.join(PATIENCE_S)
        waited = saving.is_alive()
        if waited:
            transaction.rollback()  # let station 2 go on, then fail
            saving.join(PATIENCE_S)
        else:
            transaction.commit()
    assert not waited, "station 2's save waited for station 1's open transaction"
    (answer,) = answers
    assert not isinstance(answer, Exception), f"station 2 waited and gave up: {answer}"
    assert answer.posted, answer.as_dict()
    assert answer.document == f"{prefix}-000002"
    # Saving station 1's session again (a retry) answers the number it took, writes nothing.
    retry = workflow(kind).post(engine, first.posting())
    assert retry.already_posted and retry.document == f"{prefix}-000001"
    table = "receipts" if kind == "receive" else "shipments"
    with engine.connect() as c:
        numbers = c.execute(text(f"SELECT number FROM {table} WHERE number LIKE '{prefix}-0%'"))
        assert sorted(numbers.scalars()) == [f"{prefix}-000001", f"{prefix}-000002"]
    other.dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_upgrade_continues_the_receipt_numbers_where_the_counter_ended(
    engine: Engine,
) -> None:
    """A ledger of revision 0004 had numbered receipts up to RCV-000041 on its counter
    row: after `station db upgrade` the next receipt is RCV-000042; a downgrade puts the
    counter back where the sequence ended."""
    seed(engine)
    downgrade(engine, "0004")
    try:
        with engine.begin() as c:
            c.execute(text("INSERT INTO serial_sequences VALUES ('receipt', 41)"))
    finally:
        upgrade(engine)
    with engine.connect() as c:
        assert c.execute(text("SELECT name FROM serial_sequences")).all() == []
    session = _receive(engine, "DOCK-0", "PO-1", ["UP-1"])
    assert session.save().document == "RCV-000042"
    downgrade(engine, "0004")
    try:
        with engine.connect() as c:
            counters = c.execute(text("SELECT name, last_value FROM serial_sequences")).all()
            assert [tuple(row) for row in counters] == [("receipt", 42)]
    finally:
        upgrade(engine)


# --- statistics -------------------------------------------------------------------------


def _stock_file(path: Path, count: int) -> Path:
    path.write_text(
        "sku,serial,warehouse,bin,unit_cost\n"
        + "".join(f"W1,ST-{i:06d},MAIN,A-01,1.00\n" for i in range(count))
    )
    return path


def _station(db_url: str, *argv: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "station", "--db", db_url, *argv],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "STATION_PIN": SUPERVISOR_PIN},
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def _statistics(engine: Engine, table: str) -> tuple[Any, float]:
    """When `table` was last analyzed by a command (not autovacuum), and the row count
    the planner believes (PostgreSQL); SQLite: sqlite_stat1's row count of its table."""
    with engine.connect() as c:
        if engine.dialect.name == "postgresql":
            row = c.execute(
                text(
                    "SELECT s.last_analyze, c.reltuples FROM pg_stat_user_tables s"
                    " JOIN pg_class c ON c.oid = s.relid WHERE s.relname = :t"
                ),
                {"t": table},
            ).one()
            return row[0], float(row[1])
        if not c.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).all():
            return None, -1.0
        stats = c.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = :t"), {"t": table})
        counts = [float(stat.split()[0]) for stat in stats.scalars()]
        return ("analyzed" if counts else None), max(counts, default=-1.0)


def _now(engine: Engine) -> Any:
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as c:
        return c.execute(text("SELECT now()")).scalar_one()


def test_an_import_leaves_the_planner_statistics_fresh(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    """`station import stock` analyzes what it wrote before it returns: the planner knows
    the units and events it loaded without waiting for autovacuum."""
    seed(engine)
    add_supervisor(engine)
    before = _now(engine)
    stock = _stock_file(tmp_path / "stock.csv", 3000)
    done = _station(db_url, "import", "stock", str(stock), "--user", SUPERVISOR)
    assert done.returncode == 0, done.stderr
    for table in ("units", "events"):
        analyzed, rows = _statistics(engine, table)
        assert analyzed is not None, f"{table} has no statistics after the import"
        if before is not None:
            assert analyzed >= before, f"{table} was last analyzed before the import"
        # PostgreSQL counts 3,000 rows exactly (a sample of that size is the table);
        # SQLite's bounded ANALYZE (analysis_limit) estimates it.
        least = 3000 if before is not None else 1500
        assert rows >= least, f"the planner believes {table} holds {rows} rows"


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_station_db_upgrade_analyzes_what_its_migrations_rewrote(
    engine: Engine, db_url: str
) -> None:
    seed(engine)
    downgrade(engine, "0004")
    before = _now(engine)
    done = _station(db_url, "db", "upgrade")
    assert done.returncode == 0 and "Schema upgraded from revision 0004" in done.stdout
    analyzed, rows = _statistics(engine, "units")
    assert analyzed is not None and analyzed >= before
    assert rows >= 8  # the seeded units


@pytest.fixture
def fresh_pg() -> Iterator[str]:
    """A database of its own: tables that were never analyzed (as straight after a bulk
    load), which the shared test database cannot promise."""
    problem = _pg_server_reachable()
    if problem:
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    name = f"station_fresh_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _captured_check(engine: Engine, session: Any) -> tuple[str, Any, Any]:
    """Save the session and keep the statement of its duplicate-serial check."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if ("unnest" in statement or "ANY" in statement) and "FROM units" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        result = session.save()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(seen) == 1, seen
    return seen[0][0], seen[0][1], result


def _plan(engine: Engine, statement: str, parameters: Any) -> str:
    with engine.connect() as c:
        driver = c.connection.driver_connection
        with driver.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute("EXPLAIN " + statement, parameters)
            return "\n".join(row[0] for row in cursor.fetchall())


def test_the_posting_duplicate_check_uses_an_index_at_100k_units(fresh_pg: str) -> None:
    """100,000 units loaded with COPY and never analyzed, then analyzed: the plan of the
    posting's duplicate-serial check is an index lookup both times, never a scan of
    units (a plain `serial_key = ANY(:keys)` was a Seq Scan on units without statistics)."""
    engine = make_engine(fresh_pg)
    try:
        upgrade(engine)
        seed(engine)
        now = datetime.now(UTC)
        with engine.begin() as c:
            bulk.insert_units(
                c,
                (
                    {
                        "product_id": 1,
                        "scope_id": 1,
                        "serial": f"L-{i:06d}",
                        "serial_key": f"L-{i:06d}",
                        "status": "in_stock",
                        "warehouse_id": 1,
                        "bin": "A-01",
                        "origin": "opening",
                        "received_at": now,
                    }
                    for i in range(100_000)
                ),
                {"kind": "adjusted", "at": now, "document_kind": "opening"},
            )
        _add_documents(engine, 2)
        assert _statistics(engine, "units")[0] is None  # never analyzed
        plans = []
        for po, analyze in (("PO-C0", False), ("PO-C1", True)):
            if analyze:
                assert bulk.analyze(engine, ["units", "events"])
            session = _receive(engine, f"DOCK-{po}", po, [f"{po}-{i:03d}" for i in range(19)])
            statement, parameters, result = _captured_check(engine, session)
            assert result.posted, result.as_dict()
            plans.append(_plan(engine, statement, parameters))
        for plan in plans:
            assert "Index" in plan and "Seq Scan on units" not in plan, plan
        # The statement itself finds what exists, by (scope, serial key).
        with engine.connect() as c:
            pairs = [(1, f"L-{i:06d}") for i in range(0, 100_000, 10)] + [
                (1, "NOPE"),
                (2, "L-000001"),
            ]
            assert units.existing_keys(c, pairs) == set(pairs[:-2])
    finally:
        engine.dispose()
