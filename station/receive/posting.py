"""Posting a receive session (SPEC §3.1 step 5): one transaction, all or nothing, every
rule checked again against the ledger as it is now, idempotent by session id."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from station import stations
from station.codes import Code, StationError
from station.db import ledger
from station.db.engine import reading
from station.documents import Document, DocumentLine, UnitInfo
from station.posting import (
    Posting,
    PostingResult,
    already_posted,
    post_in_one_transaction,
    refused_by_database,
)
from station.receive import generated, rules
from station.rules import Problem
from station.scanning import serial_key


def post_receipt(engine: Engine, posting: Posting) -> PostingResult:
    """Post the session's units as a receipt. A retry of a posted session posts nothing
    and answers with the first posting's receipt. Serials the station generates are made
    first, in short transactions of their own (see station.receive.generated)."""
    now = datetime.now(UTC)
    try:
        made = _generate(engine, posting, now)
    except StationError as refusal:
        return PostingResult.refused(refusal.code, refusal.message, refusal.serials)
    except OperationalError:
        raise  # the database cannot be reached: the session keeps its scans
    except DBAPIError as error:
        return refused_by_database(error)
    return post_in_one_transaction(
        engine,
        lambda connection: _post(connection, posting, made, now),
        lambda error: _explain_conflict(engine, posting, made, error),
    )


def _generate(engine: Engine, posting: Posting, now: datetime) -> dict[int, str]:
    """Serials for the units that have none, when the station makes them: not for a
    session posted already (a retry), nor when require_serial refuses the posting."""
    if not generated.pending(posting):
        return {}
    with reading(engine).connect() as connection:
        if ledger.receipt_by_session(connection, posting.session_id) is not None:
            return {}
        station = stations.current(connection, posting.station)
    if station["require_serial"] and not station["generate_serials"]:
        return {}
    return generated.generate(engine, posting, now, station)


def _post(
    connection: Connection, posting: Posting, made: dict[int, str], now: datetime
) -> PostingResult:
    earlier = ledger.receipt_by_session(connection, posting.session_id)
    if earlier is not None:
        return already_posted("receipt", *earlier)
    po = ledger.purchase_order(connection, posting.document.number, lock=True)
    if po is None:
        raise Problem(Code.PO_NOT_FOUND, f"PO {posting.document.number} no longer exists.")
    station = stations.current(connection, posting.station, register=True)
    options = station.options
    problem = rules.po_not_open(po, options)
    if problem is not None:
        raise problem
    if not posting.entries:
        raise Problem(Code.NOTHING_TO_POST, "Nothing scanned: nothing to post.")
    lines = {line.id: line for line in po.lines}
    session_lines = [lines[line.id] for line in posting.document.lines]
    scope = ledger.serial_scope(connection)
    _check_lines(posting, po, session_lines, options, scope, ledger.serial_charset(connection))

    pending = generated.pending(posting)
    if pending and options["require_serial"] and not options["generate_serials"]:
        raise Problem(
            Code.SERIAL_REQUIRED,
            f"{len(pending)} unit(s) have no serial; scan their serials (require_serial is on).",
        )
    scanned = [(e, session_lines[e.line]) for e in posting.entries if e.serial is not None]
    taken = [
        (ledger.scope_id(scope, line.product.id), serial_key(entry.serial))
        for entry, line in scanned
    ]
    existing = ledger.existing_keys(connection, taken)
    if existing:
        keys = sorted(key for _, key in existing)
        units = ledger.units_with_serials(connection, keys)
        raise Problem(
            Code.SERIAL_ALREADY_EXISTS,
            f"Nothing posted: {len(keys)} serial(s) exist already — remove them and save"
            f" again. {_where(units)}",
            serials=[u.serial for u in units],
        )

    if any(id(entry) not in made for entry in pending):  # the session changed meanwhile
        raise Problem(Code.POSTING_FAILED, "Some units have no serial yet: save again.")
    number = f"RCV-{ledger.document_number(connection, 'receipt'):06d}"
    receipt_id = ledger.add_receipt(
        connection,
        number=number,
        session_id=posting.session_id,
        po_id=po.id,
        station=station.name,
        user_name=posting.user,
        units=posting.units,
        posted_at=now,
    )
    warehouse_id = station.warehouse_id or po.warehouse_id
    bin_ = str(options["receiving_bin"])
    rows: list[dict[str, Any]] = []
    posted: list[tuple[int, str | None, int]] = []
    for entry in posting.entries:
        line = session_lines[entry.line]
        if not line.product.serialized:
            posted.append((entry.line, None, entry.qty))
            continue
        serial = entry.serial if entry.serial is not None else made[id(entry)]
        posted.append((entry.line, serial, 1))
        rows.append(
            {
                "product_id": line.product.id,
                "scope_id": ledger.scope_id(scope, line.product.id),
                "serial": serial,
                "serial_key": serial_key(serial),
                "status": "in_stock",
                "warehouse_id": warehouse_id,
                "bin": bin_,
                "origin": "po",
                "po_line_id": line.id,
                "receipt_id": receipt_id,
                "unit_cost": line.unit_cost,
                "received_at": now,
            }
        )
    # One order of inserts for every station: concurrent postings wait, never deadlock.
    rows.sort(key=lambda row: row["serial_key"])
    ledger.add_received_units(
        connection,
        rows,
        {
            "kind": "received",
            "at": now,
            "station": station.name,
            "user_name": posting.user,
            "document_kind": "receipt",
            "document_number": number,
        },
    )
    received: Counter[int] = Counter()
    for entry in posting.entries:
        line = session_lines[entry.line]
        received[line.id] += entry.qty
        if not line.product.serialized:
            ledger.change_stock(connection, line.product.id, warehouse_id, entry.qty)
    ledger.add_line_quantities(connection, "po", dict(received))
    ledger.set_document_status(connection, "po", po.id, _status(po, received))
    total = sum(received.values())
    return PostingResult(
        True,
        Code.OK,
        f"Received {total} unit(s) on {po.number}: receipt {number}.",
        document=number,
        units=total,
        generated=[made[id(entry)] for entry in pending],
        posted_units=posted,
    )


def _check_lines(
    posting: Posting,
    po: Document,
    lines: list[DocumentLine],
    options: dict[str, Any],
    scope: str,
    charset: str,
) -> None:
    """Every scan-time rule again, against the PO, the station's options and the
    company's settings as they are now."""
    codes = frozenset(serial_key(code) for line in po.lines for code in line.product.codes)
    counts: Counter[int] = Counter()
    seen: set[tuple[int, str]] = set()
    for entry in posting.entries:
        line = lines[entry.line]
        if entry.serial is not None:
            rules.check_serial_rules(
                line.product, entry.serial, doc_keys=codes, options=options, charset=charset
            )
            key = (ledger.scope_id(scope, line.product.id), serial_key(entry.serial))
            if key in seen:
                raise Problem(
                    Code.SERIAL_DUPLICATE_IN_SESSION,
                    f"Serial {entry.serial} is in this session twice.",
                    serials=[entry.serial],
                )
            seen.add(key)
        counts[line.id] += entry.qty
    if not options["allow_over_receipt"]:
        for line in lines:
            problem = rules.room_problem(line, counts[line.id], 0)
            if counts[line.id] and problem is not None:
                raise problem


def _status(po: Document, received: Counter[int]) -> str:
    if all(line.done + received[line.id] >= line.qty for line in po.lines):
        return "received"
    return "partial"


def _explain_conflict(
    engine: Engine, posting: Posting, made: dict[int, str], error: IntegrityError
) -> PostingResult:
    """Another station was first: with a serial scanned here (remove it), or — rarely —
    with a serial this station generated (save again: new serials are made)."""
    with engine.connect() as connection:
        earlier = ledger.receipt_by_session(connection, posting.session_id)
        if earlier is not None:
            return already_posted("receipt", *earlier)
        keys = [serial_key(e.serial) for e in posting.entries if e.serial is not None]
        scanned = ledger.units_with_serials(connection, keys)
        ours = ledger.units_with_serials(connection, [serial_key(s) for s in made.values()])
    product_ids = {line.product.id for line in posting.document.lines}
    scanned = [u for u in scanned if u.product_id in product_ids] or scanned
    ours = [u for u in ours if u.product_id in product_ids] or ours
    if scanned:
        return PostingResult.refused(
            Code.SERIAL_ALREADY_EXISTS,
            f"Nothing posted: another station received {len(scanned)} of these serials first"
            f" — remove them and save again. {_where(scanned)}",
            [u.serial for u in scanned],
        )
    if ours:
        return PostingResult.refused(
            Code.SERIAL_ALREADY_EXISTS,
            f"Nothing posted: {len(ours)} serial(s) generated for this receipt were received"
            f" elsewhere meanwhile — save again (new serials are generated). {_where(ours)}",
        )
    return refused_by_database(error)


def _where(units: list[UnitInfo]) -> str:
    return "; ".join(rules.already_exists(u.serial, u).message for u in units[:5])
