"""Postings are atomic and idempotent, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from station.app import open_session
from station.codes import Code
from station.db import bulk
from tests.seed import seed
from tests.workflow import configure

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


# --- what a posting leaves open: said in its verdict -------------------------------------


def test_a_partial_receipt_says_what_stays_open_counted_as_the_ledger_is_at_posting(
    engine: Engine,
) -> None:
    """Another station received the cables meanwhile: the verdict names what is still to
    come once both postings are in, and leaves the finished line out."""
    seed(engine)
    mine = open_session(engine, "DOCK-1", "receive", "PO-1", journal=False).session
    theirs = open_session(engine, "DOCK-2", "receive", "PO-1", journal=False).session
    assert all(mine.scan(s).ok for s in ["W1", "OPEN-1"])
    assert all(theirs.scan(s).ok for s in ["CABLE3", "CABLE3"])
    assert theirs.save().posted
    verdict = mine.scan("CMD-SAVE")
    assert verdict.ok and verdict.posting is not None and verdict.posting.posted
    assert verdict.message == (
        "Received 1 unit(s) on PO-1: receipt RCV-000002. PO-1 stays open: 2 of Widget One,"
        " 2 of Gadget Two, 1 of Printer Four to come."
    )


def test_a_receipt_that_completes_the_po_says_so(engine: Engine) -> None:
    seed(engine)
    session = open_session(engine, "DOCK-1", "receive", "PO-1", journal=False).session
    scans = ["W1", "ALL-1", "W1", "ALL-2", "W1", "ALL-3", "G2", "GADGET0001", "G2", "GADGET0002"]
    scans += ["CABLE3", "CABLE3", "PR400", "PR000001"]
    assert all(session.scan(s).ok for s in scans)
    verdict = session.scan("CMD-SAVE")
    assert verdict.ok, verdict.message
    assert verdict.message == (
        "Received 8 unit(s) on PO-1: receipt RCV-000001. PO-1 is fully received."
    )
    with engine.connect() as c:
        status = c.execute(text("SELECT status FROM purchase_orders WHERE number = 'PO-1'"))
        assert status.scalar_one() == "received"


def test_the_open_lines_named_are_capped_and_the_rest_counted(engine: Engine) -> None:
    seed(engine)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO po_lines (po_id, line_no, product_id, qty_ordered, qty_received)"
                " VALUES (1, 5, 5, 4, 0)"
            )
        )
    session = open_session(engine, "DOCK-1", "receive", "PO-1", journal=False).session
    assert session.scan("CABLE3").ok
    assert session.save_verdict().message == (
        "Received 1 unit(s) on PO-1: receipt RCV-000001. PO-1 stays open: 3 of Widget One,"
        " 2 of Gadget Two, 1 of Cable Three and 2 more lines to come."
    )


def test_a_product_name_in_the_open_lines_is_shown_escaped_and_cut(engine: Engine) -> None:
    """Product names come from imports: a control character never reaches the screen or
    the terminal raw, and a long name is cut."""
    seed(engine)
    name = "Widget\x1b[2J One " + "very long name " * 6
    with engine.begin() as c:
        c.execute(text("UPDATE products SET name = :name WHERE sku = 'W1'"), {"name": name})
    session = open_session(engine, "DOCK-1", "receive", "PO-1", journal=False).session
    assert session.scan("CABLE3").ok
    message = session.save_verdict().message
    assert "\x1b" not in message
    assert "stays open: 3 of Widget\\x1b[2J One very long name very l…, 2 of Gadget Two" in message


def test_a_shipment_that_completes_the_order_says_so_and_a_partial_one_what_is_left(
    engine: Engine,
) -> None:
    seed(engine)
    configure(engine, "PACK-1", allow_partial_ship=True)
    session = open_session(engine, "PACK-1", "ship", "SO-1", journal=False).session
    assert all(session.scan(s).ok for s in ["W1", "WS-1"])
    assert session.scan("CMD-SAVE").message == (
        "Shipped 1 unit(s) on SO-1: shipment SHP-000001. SO-1 stays open: 1 of Widget One,"
        " 1 of Cable Three left to ship."
    )
    session = open_session(engine, "PACK-1", "ship", "SO-1", journal=False).session
    assert all(session.scan(s).ok for s in ["W1", "WS-2", "CABLE3"])
    assert session.scan("CMD-SAVE").message == (
        "Shipped 2 unit(s) on SO-1: shipment SHP-000002. SO-1 is fully shipped."
    )


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
