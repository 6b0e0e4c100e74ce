"""Postings are atomic and idempotent, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from station.app import open_session
from station.codes import Code
from station.db import bulk
from tests.seed import seed

COUNTS = (
    "SELECT (SELECT count(*) FROM units), (SELECT count(*) FROM events),"
    " (SELECT count(*) FROM receipts), (SELECT count(*) FROM shipments),"
    " (SELECT sum(qty_received) FROM po_lines), (SELECT sum(qty_shipped) FROM order_lines)"
)


def _counts(engine: Engine) -> tuple[int, ...]:
    with engine.connect() as c:
        return tuple(c.execute(text(COUNTS)).one())


def _break(engine: Engine, table: str, action: str) -> None:
    """Make the database itself fail the next INSERT or UPDATE on `table`: a posting dies
    half-way, after earlier statements of its transaction already wrote rows."""
    with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            c.execute(
                text(
                    "CREATE FUNCTION injected_failure() RETURNS trigger AS $$ BEGIN"
                    " RAISE EXCEPTION 'injected failure'; END; $$ LANGUAGE plpgsql"
                )
            )
            c.execute(
                text(
                    f"CREATE TRIGGER injected BEFORE {action} ON {table}"
                    " FOR EACH ROW EXECUTE FUNCTION injected_failure()"
                )
            )
        else:
            c.execute(
                text(
                    f"CREATE TRIGGER injected BEFORE {action} ON {table}"
                    " BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
                )
            )


def _mend(engine: Engine) -> None:
    with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            c.execute(text("DROP FUNCTION injected_failure() CASCADE"))
        else:
            c.execute(text("DROP TRIGGER injected"))


@pytest.mark.parametrize("table,action", [("events", "INSERT"), ("po_lines", "UPDATE")])
def test_receipt_killed_half_way_writes_nothing(engine: Engine, table: str, action: str) -> None:
    seed(engine)
    before = _counts(engine)
    session = open_session(engine, "DOCK-1", "receive", "PO-1", journal=False).session
    assert all(session.scan(s).ok for s in ["W1", "HALF-1", "HALF-2", "CABLE3"])
    _break(engine, table, action)
    result = session.save()
    assert not result.posted and result.code == Code.POSTING_FAILED
    assert "injected failure" in result.message
    assert _counts(engine) == before
    assert len(session.entries) == 3  # the session is kept for another try
    _mend(engine)
    assert session.save().posted  # and, mended, it posts


@pytest.mark.parametrize("table,action", [("events", "INSERT"), ("order_lines", "UPDATE")])
def test_shipment_killed_half_way_writes_nothing(engine: Engine, table: str, action: str) -> None:
    seed(engine)
    before = _counts(engine)
    session = open_session(engine, "PACK-1", "ship", "SO-1", journal=False).session
    assert all(session.scan(s).ok for s in ["W1", "WS-1", "WS-2", "CABLE3"])
    _break(engine, table, action)
    result = session.save()
    assert not result.posted and result.code == Code.POSTING_FAILED
    assert _counts(engine) == before
    with engine.connect() as c:
        statuses = c.execute(
            text("SELECT status FROM units WHERE serial IN ('WS-1', 'WS-2')")
        ).scalars()
        assert set(statuses) == {"in_stock"}
    _mend(engine)
    assert session.save().posted


def test_posting_the_same_session_twice_posts_once(engine: Engine) -> None:
    seed(engine)
    opened = open_session(engine, "DOCK-1", "receive", "PO-1", journal=False)
    session = opened.session
    assert all(session.scan(s).ok for s in ["W1", "TWICE-1", "TWICE-2"])
    # A second session object with the same id, as after a crash or a dropped connection
    # whose commit went through: its save must not write again.
    retry = open_session(engine, "DOCK-1", "receive", "PO-1", journal=False).session
    retry.session_id = session.session_id
    assert all(retry.scan(s).ok for s in ["W1", "TWICE-1", "TWICE-2"])
    first = session.save()
    after_first = _counts(engine)
    second = retry.save()
    assert first.posted and not first.already_posted
    assert second.posted and second.already_posted and second.document == first.document
    assert _counts(engine) == after_first
    with engine.connect() as c:
        assert (
            c.execute(text("SELECT count(*) FROM units WHERE serial LIKE 'TWICE-%'")).scalar_one()
            == 2
        )


def test_shipping_the_same_session_twice_posts_once(engine: Engine) -> None:
    seed(engine)
    session = open_session(engine, "PACK-1", "ship", "SO-1", journal=False).session
    retry = open_session(engine, "PACK-1", "ship", "SO-1", journal=False).session
    retry.session_id = session.session_id
    for s in (session, retry):
        assert all(s.scan(x).ok for x in ["W1", "WS-1", "WS-2", "CABLE3"])
    first, second = session.save(), retry.save()
    assert first.posted and second.posted and second.already_posted
    assert second.document == first.document
    with engine.connect() as c:
        assert (
            c.execute(text("SELECT count(*) FROM shipments WHERE order_id = 1")).scalar_one() == 1
        )


def test_serial_taken_between_scan_and_save_is_named_and_nothing_written(
    engine: Engine,
) -> None:
    seed(engine)
    mine = open_session(engine, "DOCK-1", "receive", "PO-1", journal=False).session
    theirs = open_session(engine, "DOCK-2", "receive", "PO-1", journal=False).session
    assert all(mine.scan(s).ok for s in ["W1", "RACE-1", "RACE-2"])
    assert all(theirs.scan(s).ok for s in ["W1", "RACE-2"])
    assert theirs.save().posted
    before = _counts(engine)
    result = mine.save()
    assert not result.posted and result.code == Code.SERIAL_ALREADY_EXISTS
    assert result.serials == ["RACE-2"]
    assert "RACE-2" in result.message and "DOCK-2" in result.message
    assert _counts(engine) == before


def test_a_posting_tells_its_progress_between_steps_and_posts_the_same(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A receipt of 250 units written in steps of 100 tells (written, units) after each
    step, in one transaction: every unit and event is there, once."""
    seed(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE po_lines SET qty_ordered = 250 WHERE id = 1"))
    monkeypatch.setattr(bulk, "POSTING_CHUNK", 100)
    session = open_session(engine, "DOCK-1", "receive", "PO-1", journal=False).session
    assert session.scan("W1").ok
    for n in range(250):
        assert session.scan(f"STEP-{n:03d}").ok
    told: list[tuple[int, int]] = []
    verdict = session.save_verdict(progress=lambda done, total: told.append((done, total)))
    assert verdict.ok, verdict.message
    assert told == [(100, 250), (200, 250), (250, 250)]
    with engine.connect() as connection:
        units = connection.execute(
            text("SELECT count(*) FROM units WHERE serial LIKE 'STEP-%'")
        ).scalar_one()
        events = connection.execute(
            text(
                "SELECT count(*) FROM events e JOIN units u ON u.id = e.unit_id"
                " WHERE u.serial LIKE 'STEP-%'"
            )
        ).scalar_one()
    assert (units, events) == (250, 250)


def test_a_shipment_tells_its_progress_between_steps(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Changed units (a shipment) tell their progress too: their events go in steps."""
    seed(engine)
    monkeypatch.setattr(bulk, "POSTING_CHUNK", 1)
    session = open_session(engine, "PACK-1", "ship", "SO-1", journal=False).session
    assert all(session.scan(s).ok for s in ["W1", "WS-1", "WS-2", "CABLE3"])
    told: list[tuple[int, int]] = []
    verdict = session.save_verdict(progress=lambda done, total: told.append((done, total)))
    assert verdict.ok, verdict.message
    assert told == [(1, 2), (2, 2)]  # the two serials' events; the cable is a quantity
