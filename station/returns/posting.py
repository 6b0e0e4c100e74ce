"""Posting a customer return (SPEC §3.3): the units locked and every rule checked again
inside the posting's transaction (`station.workflow.post_document`); they come back
in stock in the station's `returns_bin`, or quarantined (`quarantine_returns`); two
stations returning the same unit: exactly one posts."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from station.db import company
from station.movement import Movement, UnitChange
from station.returns import rules
from station.rules import check_once, check_serial_text
from station.scanning import serial_key
from station.workflow import Draft, locked_units, refused_whole


def plan(draft: Draft) -> Movement:
    """The returned units (locked, in key order), every rule checked again: each unit's,
    then each line's room."""
    connection, posting, lines = draft.connection, draft.posting, draft.lines
    order = draft.document
    found = locked_units(draft)
    scope = company.serial_scope(connection)
    charset = company.serial_charset(connection)
    movement, warehouse_id, status, place = coming_back(draft)
    back = (("status", status), ("warehouse_id", warehouse_id), ("bin", place))
    seen: set[tuple[int, str]] = set()
    for entry in posting.entries:
        line = lines[entry.line]
        if entry.serial is None:
            movement.stock.append((line.product.id, warehouse_id, entry.qty))
            continue
        key = serial_key(entry.serial)
        with refused_whole("Nothing returned", entry.serial):
            check_serial_text(entry.serial, charset)
            unit = rules.check_unit(order, line, entry.serial, found.get(key, []))
        check_once(seen, (company.scope_id(scope, line.product.id), key), entry.serial)
        movement.changed.append(
            # it was out: its event comes from the warehouse it left, no bin
            UnitChange(unit.id, unit.warehouse_id, None, back, expect_status="shipped")
        )
    # the units first: a unit another station took back is named with its RMA
    counts: Counter[int] = Counter()
    for entry in posting.entries:
        counts[lines[entry.line].id] += entry.qty
    for line in order.lines:
        problem = draft.workflow.room_problem(line, counts[line.id], 0)
        if counts[line.id] and problem is not None:
            raise problem
    return movement


def coming_back(draft: Draft) -> tuple[Movement, int, str, str]:
    """What every customer return's units get: the posting's movement (what it posts,
    for labels), the warehouse (the station's, else the document's), the status
    (`quarantined` with quarantine_returns, else `in_stock`) and the bin (returns_bin)."""
    station = draft.station
    posted = [(e.line, e.serial, e.qty) for e in draft.posting.entries]
    movement = Movement(datetime.now(UTC), posted_units=posted)
    warehouse_id = station.warehouse_id or draft.document.warehouse_id
    status = "quarantined" if station["quarantine_returns"] else "in_stock"
    return movement, warehouse_id, status, str(station["returns_bin"])
