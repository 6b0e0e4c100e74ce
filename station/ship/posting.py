"""Posting a ship session (SPEC §3.2 step 5): the units locked and every rule checked
again inside the posting's transaction (`station.posting.post_document`); two stations
shipping the same unit: exactly one succeeds. And CMD-NOTFOUND's own small posting."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine

from station import stations
from station.codes import Code
from station.db import company, units
from station.documents import Document, Product, UnitInfo
from station.movement import Movement, Stamp, UnitChange
from station.posting import PostingResult, post_in_one_transaction, refused_by_database
from station.rules import Problem, check_once, check_serial_text
from station.scanning import serial_key
from station.ship import rules
from station.stations import StationConfig
from station.workflow import Draft, locked_units, refused_whole, warehouse_of


def plan(draft: Draft) -> Movement:
    """The shipment's units (locked, in key order) and every rule checked again."""
    connection, posting, lines = draft.connection, draft.posting, draft.lines
    station = draft.station
    order = draft.document
    counts: Counter[int] = Counter()
    for entry in posting.entries:
        counts[lines[entry.line].id] += entry.qty
    _check_quantities(draft, counts)
    scope = company.serial_scope(connection)

    found = locked_units(draft)
    warehouse_id, warehouse = warehouse_of(station, order)
    charset = company.serial_charset(connection)
    now = datetime.now(UTC)
    movement = Movement(now, posted_units=[(e.line, e.serial, e.qty) for e in posting.entries])
    seen: set[tuple[int, str]] = set()
    for entry in posting.entries:
        line = lines[entry.line]
        if entry.serial is None:
            movement.stock.append((line.product.id, warehouse_id, -entry.qty))
            continue
        key = serial_key(entry.serial)
        with refused_whole("Nothing shipped", entry.serial):
            check_serial_text(entry.serial, charset)
            unit = rules.check_unit(
                line,
                entry.serial,
                key,
                found.get(key, []),
                options=station.options,
                warehouse_id=warehouse_id,
                warehouse=warehouse,
            )
        check_once(seen, (company.scope_id(scope, line.product.id), key), entry.serial)
        if unit is None:  # accepted unvalidated: the unit is made, shipped already
            movement.created.append(
                {
                    "product_id": line.product.id,
                    "scope_id": company.scope_id(scope, line.product.id),
                    "serial": entry.serial,
                    "serial_key": key,
                    "status": "shipped",
                    "warehouse_id": warehouse_id,
                    "bin": "",
                    "origin": "unvalidated",
                    "order_line_id": line.id,
                    "received_at": now,
                    "shipped_at": now,
                }
            )
        else:
            shipped = (("status", "shipped"), ("order_line_id", line.id), ("shipped_at", now))
            movement.changed.append(UnitChange(unit.id, warehouse_id, unit.bin, shipped))
    return movement


def _check_quantities(draft: Draft, counts: Counter[int]) -> None:
    order = draft.document
    for line in order.lines:
        problem = draft.workflow.room_problem(line, counts[line.id], 0)
        if counts[line.id] and problem is not None:
            raise problem
    if draft.station["allow_partial_ship"]:
        return
    short = [
        f"{line.product.sku} {line.done + counts[line.id]} of {line.qty}"
        for line in order.lines
        if line.done + counts[line.id] < line.qty
    ]
    if short:
        raise Problem(
            Code.ORDER_INCOMPLETE,
            f"Order {order.number} is not fully packed: {', '.join(short)}"
            " (allow_partial_ship is off).",
        )


def mark_not_found(
    engine: Engine,
    *,
    station: StationConfig,
    order: Document,
    user: str | None,
    serial: str,
    product: Product | None = None,
) -> PostingResult:
    """CMD-NOTFOUND: a packer marks a unit not found while picking; it leaves available
    stock at once, in one transaction of its own. A retry after a lost answer (the unit
    is already not found, marked by this station on this order) posts nothing again.
    `product`: the product a GS1 scan names; only its unit may be marked."""
    key = serial_key(serial)
    if product is None:
        product_ids, wanted = {line.product.id for line in order.lines}, None
    else:
        product_ids, wanted = {product.id}, f"{product.name} ({product.sku})"

    def post(connection: Connection) -> PostingResult:
        config = stations.current(connection, station, register=True)
        warehouse_id, warehouse = warehouse_of(config, order)
        found = units.units_with_serials(connection, [key], lock=True)
        mine = [u for u in found if u.product_id in product_ids]
        if mine and mine[0].status == "not_found":
            earlier = units.last_event(connection, mine[0].id)
            if earlier == ("not_found", config.name, order.number):
                again = f"Serial {mine[0].serial} was already marked not found here."
                return _marked(order, mine[0], again, again=True)
        unit = rules.check_not_found_target(
            found,
            serial,
            product_ids=product_ids,
            warehouse_id=warehouse_id,
            warehouse=warehouse,
            product=wanted,
        )
        now = datetime.now(UTC)
        gone = UnitChange(unit.id, unit.warehouse_id, unit.bin, (("status", "not_found"),))
        stamp = Stamp("not_found", now, config.name, user, "order", order.number)
        if units.move(connection, Movement(now, changed=[gone]), stamp, {}) != 1:
            raise Problem(Code.POSTING_FAILED, "The unit changed while locked; nothing marked.")
        return _marked(order, unit, f"Serial {unit.serial} marked not found.")

    return post_in_one_transaction(engine, post, refused_by_database)


def _marked(order: Document, unit: UnitInfo, message: str, *, again: bool = False) -> PostingResult:
    index = next(i for i, line in enumerate(order.lines) if line.product.id == unit.product_id)
    return PostingResult(
        True,
        Code.OK,
        message,
        document=order.number,
        units=1,
        already_posted=again,
        serials=[unit.serial],
        posted_units=[(index, unit.serial, 1)],
    )
