"""Posting a receive session (SPEC §3.1 step 5): every rule checked again against the
ledger as it is now, inside the posting's transaction (`station.posting.post_document`),
and the units it creates; serials the station generates are made first, in short
transactions of their own (see station.generated)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection, Engine

from station import generated
from station.codes import Code
from station.db import company, units
from station.generated import Made
from station.movement import Movement
from station.posting import Posting, PostingResult
from station.rules import Problem, check_once, check_serial_rules
from station.scanning import serial_key
from station.workflow import Draft, check_not_taken, places, where_units


def prepare(engine: Engine, posting: Posting) -> Made | PostingResult:
    """Serials for the units that have none, when the station makes them: not for a
    session posted already (a retry), nor when require_serial refuses the posting. A
    refusal comes back as the PostingResult."""
    return generated.prepare(
        engine,
        posting,
        "receipt",
        lambda station: not (station["require_serial"] and not station["generate_serials"]),
    )


def plan(draft: Draft) -> Movement:
    """The receipt's new units, every scan-time rule checked again first."""
    connection, posting, lines = draft.connection, draft.posting, draft.lines
    station = draft.station
    serials, now = draft.extra
    options = station.options
    scope = company.serial_scope(connection)
    _check_lines(draft, options, scope, company.serial_charset(connection))

    pending = generated.pending(posting)
    if pending and options["require_serial"] and not options["generate_serials"]:
        raise Problem(
            Code.SERIAL_REQUIRED,
            f"{len(pending)} unit(s) have no serial; scan their serials (require_serial is on).",
        )
    scanned = [(e, lines[e.line]) for e in posting.entries if e.serial is not None]
    taken = [
        (company.scope_id(scope, line.product.id), serial_key(entry.serial))
        for entry, line in scanned
    ]
    check_not_taken(connection, taken)
    if any(id(entry) not in serials for entry in pending):  # the session changed meanwhile
        raise Problem(Code.POSTING_FAILED, "Some units have no serial yet: save again.")

    warehouse_id = station.warehouse_id or draft.document.warehouse_id
    places(draft, warehouse_id, str(options["receiving_bin"]))
    movement = Movement(now, generated=[serials[id(entry)] for entry in pending])
    for entry in posting.entries:
        line = lines[entry.line]
        if not line.product.serialized:
            movement.posted_units.append((entry.line, None, entry.qty))
            movement.stock.append((line.product.id, warehouse_id, entry.qty))
            continue
        serial = entry.serial if entry.serial is not None else serials[id(entry)]
        movement.posted_units.append((entry.line, serial, 1))
        movement.created.append(
            {
                "product_id": line.product.id,
                "scope_id": company.scope_id(scope, line.product.id),
                "serial": serial,
                "serial_key": serial_key(serial),
                "status": "in_stock",
                "warehouse_id": warehouse_id,
                "bin": entry.bin or str(options["receiving_bin"]),
                "origin": "po",
                "po_line_id": line.id,
                "unit_cost": line.unit_cost,
                "received_at": now,
            }
        )
    return movement


def _check_lines(draft: Draft, options: dict[str, Any], scope: str, charset: str) -> None:
    """Every scan-time rule again, against the PO, the station's options and the
    company's settings as they are now."""
    posting, po, lines = draft.posting, draft.document, draft.lines
    codes = frozenset(serial_key(code) for line in po.lines for code in line.product.codes)
    counts: Counter[int] = Counter()
    seen: set[tuple[int, str]] = set()
    for entry in posting.entries:
        line = lines[entry.line]
        if entry.serial is not None:
            check_serial_rules(
                line.product, entry.serial, doc_keys=codes, options=options, charset=charset
            )
            key = (company.scope_id(scope, line.product.id), serial_key(entry.serial))
            check_once(seen, key, entry.serial)
        counts[line.id] += entry.qty
    if not options["allow_over_receipt"]:
        for line in lines:
            problem = draft.workflow.room_problem(line, counts[line.id], 0)
            if counts[line.id] and problem is not None:
                raise problem


def explain_conflict(connection: Connection, posting: Posting, made: Made) -> PostingResult | None:
    """Another station was first: with a serial scanned here (remove it), or — rarely —
    with a serial this station generated (save again: new serials are made)."""
    keys = [serial_key(e.serial) for e in posting.entries if e.serial is not None]
    scanned = units.units_with_serials(connection, keys)
    ours = units.units_with_serials(connection, [serial_key(s) for s in made[0].values()])
    product_ids = {line.product.id for line in posting.document.lines}
    scanned = [u for u in scanned if u.product_id in product_ids] or scanned
    ours = [u for u in ours if u.product_id in product_ids] or ours
    if scanned:
        return PostingResult.refused(
            Code.SERIAL_ALREADY_EXISTS,
            f"Nothing posted: another station received {len(scanned)} of these serials first"
            f" — remove them and save again. {where_units(scanned)}",
            [u.serial for u in scanned],
        )
    if ours:
        return PostingResult.refused(
            Code.SERIAL_ALREADY_EXISTS,
            f"Nothing posted: {len(ours)} serial(s) generated for this receipt were received"
            f" elsewhere meanwhile — save again (new serials are generated). {where_units(ours)}",
        )
    return None
