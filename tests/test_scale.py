"""A site at scale (issue 14): postings of different stations do not queue on a
document counter, and the posting's duplicate-serial check keeps to an index."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, text

from station.app import open_session
from station.db.engine import downgrade, make_engine, upgrade
from station.receive import posting as receive_posting
from station.ship import posting as ship_posting
from tests.seed import seed
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
    if kind == "receive":
        return receive_posting._post(connection, session, {}, datetime.now(UTC))
    return ship_posting._post(connection, session)


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
    post = receive_posting.post_receipt if kind == "receive" else ship_posting.post_shipment
    retry = post(engine, first)
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
