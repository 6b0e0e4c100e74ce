"""Posting a customer return (SPEC §3.3): the units locked and every rule checked again
inside the posting's transaction (`station.workflow.post_document`); they come back
in stock in the station's `returns_bin`, or quarantined (`quarantine_returns`); two
stations returning the same unit: exactly one posts.

A unit whose label was lost (CMD-NOLABEL) comes back as a new unit (origin "return")
with the serial the station generated for it before the transaction
(`station.generated`). When it is the only unit of its product without a label in the
posting and exactly one unit of that product shipped on the order is still out (and
not returned by the same posting), that unit is the one that came back: the new unit
`relabels_id` it, and the old unit becomes `scrapped` — its serial is retired with its
lost label, so it can never ship, count as stock or come back again — and both units
get a `relabeled` event naming the RMA. Otherwise nothing is linked, and the posting's
verdict says why."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from station.codes import Code
from station.db import company, units
from station.documents import DocumentLine
from station.generated import Made, pending
from station.grid import Entry
from station.movement import Movement, UnitChange
from station.posting import Posting, PostingResult
from station.returns import rules
from station.rules import Problem, check_once, check_serial_text
from station.scanning import serial_key, show
from station.workflow import Draft, locked_units, places, refused_whole


def plan(draft: Draft) -> Movement:
    """The returned units (locked, in key order), every rule checked again: each unit's,
    then each line's room."""
    connection, posting, lines = draft.connection, draft.posting, draft.lines
    order = draft.document
    found = locked_units(draft)
    scope = company.serial_scope(connection)
    charset = company.serial_charset(connection)
    movement, warehouse_id, status, place = coming_back(draft)

    def back(entry: Entry) -> tuple[tuple[str, Any], ...]:
        return (("status", status), ("warehouse_id", warehouse_id), ("bin", entry.bin or place))

    made: Made = draft.extra
    serials, movement.at = made
    without_label = pending(posting)
    if any(id(entry) not in serials for entry in without_label):  # changed meanwhile
        raise Problem(Code.POSTING_FAILED, "Some units have no serial yet: save again.")
    movement.posted_units = [(e.line, serials.get(id(e), e.serial), e.qty) for e in posting.entries]
    movement.generated = [serials[id(e)] for e in without_label]
    seen: set[tuple[int, str]] = set()
    for entry in posting.entries:
        line = lines[entry.line]
        if entry.serial is None:
            if not line.product.serialized:
                movement.stock.append((line.product.id, warehouse_id, entry.qty))
            continue
        key = serial_key(entry.serial)
        with refused_whole("Nothing returned", entry.serial):
            check_serial_text(entry.serial, charset)
            unit = rules.check_unit(order, line, entry.serial, found.get(key, []))
        check_once(seen, (company.scope_id(scope, line.product.id), key), entry.serial)
        movement.changed.append(
            # it was out: its event comes from the warehouse it left, no bin
            UnitChange(unit.id, unit.warehouse_id, None, back(entry), expect_status="shipped")
        )
    if without_label:
        returned = {change.unit_id for change in movement.changed}
        made_here = [(entry, lines[entry.line], serials[id(entry)]) for entry in without_label]
        _relabel(draft, movement, made_here, returned, back)
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
    place = str(station["returns_bin"])
    places(draft, warehouse_id, place)
    return movement, warehouse_id, status, place


def _relabel(
    draft: Draft,
    movement: Movement,
    made: list[tuple[Any, DocumentLine, str]],
    returned: set[int],
    back: Callable[[Entry], tuple[tuple[str, Any], ...]],
) -> None:
    """The new units of the units whose label was lost, each product's linked to the
    one unit of it still out on the order (`rules.relabel_candidate`), that unit
    scrapped with a `relabeled` event; the posting's notes say which, or why none."""
    connection, order = draft.connection, draft.document
    scope = company.serial_scope(connection)
    by_product: dict[int, list[tuple[Entry, DocumentLine, str]]] = defaultdict(list)
    for entry, line, serial in made:
        by_product[line.product.id].append((entry, line, serial))
    for product_id, made_for in by_product.items():
        product = made_for[0][1].product
        line_ids = [line.id for line in order.lines if line.product.id == product_id]
        out = [
            unit
            for unit in units.shipped_on(connection, line_ids, product_id)
            if unit.id not in returned
        ]
        old, why = rules.relabel_candidate(order, product, out, len(made_for))
        for entry, line, serial in made_for:
            values = dict(back(entry))
            movement.created.append(
                {
                    "product_id": product_id,
                    "scope_id": company.scope_id(scope, product_id),
                    "serial": serial,
                    "serial_key": serial_key(serial),
                    "status": values["status"],
                    "warehouse_id": values["warehouse_id"],
                    "bin": values["bin"],
                    "origin": "return",
                    "order_line_id": line.id,
                    "received_at": movement.at,
                    "relabels_id": None if old is None else old.id,
                }
            )
        made_serials = ", ".join(serial for _, _, serial in made_for)
        plural = "s" if len(made_for) > 1 else ""
        if old is None:
            movement.notes.append(f"New serial{plural} {made_serials} for {product.name}: {why}.")
            continue
        movement.changed.append(
            UnitChange(
                old.id,
                old.warehouse_id,
                None,
                (("status", "scrapped"),),
                expect_status="shipped",
                event="relabeled",
            )
        )
        movement.notes.append(
            f"New serial {made_serials} for {product.name} replaces {old.serial} ({why});"
            f" {old.serial} is retired (scrapped)."
        )


def explain_conflict(connection: Connection, posting: Posting, made: Made) -> PostingResult | None:
    """Another station took a serial generated for this return meanwhile (rare): save
    again, and new serials are made."""
    taken = units.units_with_serials(connection, [serial_key(s) for s in made[0].values()])
    if not taken:
        return None
    shown = ", ".join(show(unit.serial) for unit in taken[:5])
    return PostingResult.refused(
        Code.SERIAL_ALREADY_EXISTS,
        f"Nothing returned: {len(taken)} serial(s) generated for this return ({shown}) were"
        " taken elsewhere meanwhile — save again (new serials are generated).",
    )
