"""The one wiring point: opens the database, loads a station and starts sessions.

Nothing here runs at import time; the GUI, the command line and the tests call these
functions with the settings they were given.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from station import stations
from station.codes import Code, StationError
from station.db import ledger
from station.db.engine import open_database, reading
from station.journal import Journal, journal_path
from station.receive.rules import po_not_open
from station.receive.session import ReceiveSession
from station.session import ScanSession
from station.ship.session import ShipSession
from station.stations import StationConfig


@dataclass(slots=True)
class Opened:
    session: ScanSession
    restored: int


def connect(url: str | None = None) -> Engine:
    """An engine on `url` (default: the SQLite file in the user's data directory),
    with the schema created or upgraded."""
    return open_database(url)


def open_session(
    engine: Engine,
    station: StationConfig | str,
    kind: str,
    number: str,
    *,
    user: str | None = None,
    journal: bool = True,
    sync: bool = True,
) -> Opened:
    """A receive (kind 'receive', number = PO) or ship session ('ship', order number);
    a journal left by a crash is restored first."""
    config = station if isinstance(station, StationConfig) else stations.load(engine, station)
    number = number.strip()
    with reading(engine).connect() as connection:
        if kind == "receive":
            document = ledger.purchase_order(connection, number)
            if document is None:
                raise StationError(Code.PO_NOT_FOUND, f"No purchase order {number}.")
            problem = po_not_open(document, config.options)
            if problem is not None:
                raise problem
            cls: type[ScanSession] = ReceiveSession
        elif kind == "ship":
            document = ledger.sales_order(connection, number)
            if document is None:
                raise StationError(Code.ORDER_NOT_FOUND, f"No sales order {number}.")
            if document.status in ("shipped", "cancelled"):
                raise StationError(Code.ORDER_NOT_OPEN, f"Order {number} is {document.status}.")
            cls = ShipSession
        else:
            raise ValueError(f"unknown session kind {kind!r}")
    log = Journal(journal_path(kind, config.name, number), sync=sync) if journal else None
    header, records = log.read() if log is not None else (None, [])
    session = cls(
        engine,
        config,
        document,
        user=user if header is None else header.get("user") or user,
        journal=log,
        session_id=header.get("session_id") if header else None,
    )
    restored = session.restore(records) if records else 0
    return Opened(session, restored)


def pending_journals(kind: str | None = None) -> list[dict[str, object]]:
    """Sessions left in progress on this machine (for the GUI's "Resume …?")."""
    from station.db.engine import data_dir

    found = []
    for path in sorted((data_dir() / "journal").glob("*.jsonl")):
        header, records = Journal(path).read()
        if header and records and (kind is None or header.get("kind") == kind):
            found.append({**header, "scans": len(records)})
    return found
