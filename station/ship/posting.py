"""Posting a ship session (SPEC §3.2 step 5): one transaction, the units locked and
every rule checked again; two stations shipping the same unit: exactly one succeeds."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from station import stations
from station.codes import Code
from station.db import ledger
from station.documents import Document, DocumentLine, Product, UnitInfo
from station.posting import (
    Posting,
    PostingResult,
    already_posted,
    post_in_one_transaction,
    refused_by_database,
)
from station.rules import Problem, check_serial_text
from station.scanning import serial_key
from station.ship import rules
from station.stations import StationConfig


def post_shipment(engine: Engine, posting: Posting) -> PostingResult:
    return post_in_one_transaction(
        engine,
        lambda connection: _post(connection, posting),
        lambda error: _explain_conflict(engine, posting, error),
    )


def _explain_conflict(engine: Engine, posting: Posting, error: IntegrityError) -> PostingResult:
    """A unique key refused the shipment: this very session posted meanwhile, or a
    constraint the rules did not foresee."""
    with engine.connect() as connection:
        earlier = ledger.shipment_by_session(connection, posting.session_id)
    if earlier is not None:
        return already_posted("shipment", *earlier)
    return refused_by_database(error)


def _post(connection: Connection, posting: Posting) -> PostingResult:
    earlier = ledger.shipment_by_session(connection, posting.session_id)
    if earlier is not None:
        return already_posted("shipment", *earlier)
    order = ledger.sales_order(connection, posting.document.number, lock=True)
    if order is None:
        raise Problem(Code.ORDER_NOT_FOUND, f"Order {posting.document.number} no longer exists.")
    if order.status in ("shipped", "cancelled"):
        raise Problem(Code.ORDER_NOT_OPEN, f"Order {order.number} is {order.status}.")
    if not posting.entries:
        raise Problem(Code.NOTHING_TO_POST, "Nothing scanned: nothing to ship.")
    station = stations.current(connection, posting.station, register=True)
    by_id = {line.id: line for line in order.lines}
    lines = [by_id[line.id] for line in posting.document.lines]
    counts: Counter[int] = Counter()
    for entry in posting.entries:
        counts[lines[entry.line].id] += entry.qty
    _check_quantities(station, order, counts)
    scope = ledger.serial_scope(connection)

    keys = [serial_key(e.serial) for e in posting.entries if e.serial is not None]
    found: dict[str, list[UnitInfo]] = defaultdict(list)
    for unit in ledger.units_with_serials(connection, keys, lock=True):
        found[unit.serial_key].append(unit)
    warehouse_id, warehouse = rules.ship_warehouse(station, order)
    charset = ledger.serial_charset(connection)
    shipping: dict[int, list[int]] = defaultdict(list)
    unvalidated: list[tuple[DocumentLine, str]] = []
    seen: set[tuple[int, str]] = set()
    for entry in posting.entries:
        line = lines[entry.line]
        if entry.serial is None:
            continue
        key = serial_key(entry.serial)
        try:
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
        except Problem as problem:
            problem.message = f"Nothing shipped: {problem.message}"
            problem.serials = [entry.serial]
            raise
        pair = (ledger.scope_id(scope, line.product.id), key)
        if pair in seen:
            raise Problem(
                Code.SERIAL_DUPLICATE_IN_SESSION,
                f"Serial {entry.serial} is in this session twice.",
                serials=[entry.serial],
            )
        seen.add(pair)
        if unit is None:
            unvalidated.append((line, entry.serial))
        else:
            shipping[line.id].append(unit.id)

    now = datetime.now(UTC)
    number = f"SHP-{ledger.document_number(connection, 'shipment'):06d}"
    total = sum(counts.values())
    shipment_id = ledger.add_shipment(
        connection,
        number=number,
        session_id=posting.session_id,
        order_id=order.id,
        station=station.name,
        user_name=posting.user,
        units=total,
        posted_at=now,
    )
    unit_ids: list[int] = []
    for line_id, ids in shipping.items():
        changed = ledger.ship_units(
            connection, ids, order_line_id=line_id, shipment_id=shipment_id, at=now
        )
        if changed != len(ids):  # cannot happen under the row locks; refuse rather than guess
            raise Problem(Code.POSTING_FAILED, "Units changed while locked; nothing shipped.")
        unit_ids.extend(ids)
    unit_ids += ledger.add_units(
        connection,
        [
            {
                "product_id": line.product.id,
                "scope_id": ledger.scope_id(scope, line.product.id),
                "serial": serial,
                "serial_key": serial_key(serial),
                "status": "shipped",
                "warehouse_id": warehouse_id,
                "bin": "",
                "origin": "unvalidated",
                "order_line_id": line.id,
                "shipment_id": shipment_id,
                "received_at": now,
                "shipped_at": now,
            }
            for line, serial in unvalidated
        ],
    )
    bins = {u.id: u.bin for units in found.values() for u in units}
    ledger.add_events(
        connection,
        [
            {
                "unit_id": unit_id,
                "kind": "shipped",
                "at": now,
                "station": station.name,
                "user_name": posting.user,
                "from_warehouse_id": warehouse_id,
                "from_bin": bins.get(unit_id),
                "document_kind": "shipment",
                "document_number": number,
            }
            for unit_id in unit_ids
        ],
    )
    for entry in posting.entries:
        line = lines[entry.line]
        if not line.product.serialized:
            ledger.change_stock(connection, line.product.id, warehouse_id, -entry.qty)
    ledger.add_line_quantities(connection, "order", dict(counts))
    complete = all(line.done + counts[line.id] >= line.qty for line in order.lines)
    ledger.set_document_status(connection, "order", order.id, "shipped" if complete else "partial")
    return PostingResult(
        True,
        Code.OK,
        f"Shipped {total} unit(s) on {order.number}: shipment {number}.",
        document=number,
        units=total,
        posted_units=[(e.line, e.serial, e.qty) for e in posting.entries],
    )


def _check_quantities(station: StationConfig, order: Document, counts: Counter[int]) -> None:
    for line in order.lines:
        problem = rules.room_problem(line, counts[line.id], 0)
        if counts[line.id] and problem is not None:
            raise problem
    if station["allow_partial_ship"]:
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
        warehouse_id, warehouse = rules.ship_warehouse(config, order)
        units = ledger.units_with_serials(connection, [key], lock=True)
        mine = [u for u in units if u.product_id in product_ids]
        if mine and mine[0].status == "not_found":
            earlier = ledger.last_event(connection, mine[0].id)
            if earlier == ("not_found", config.name, order.number):
                again = f"Serial {mine[0].serial} was already marked not found here."
                return _marked(order, mine[0], again, again=True)
        unit = rules.check_not_found_target(
            units,
            serial,
            product_ids=product_ids,
            warehouse_id=warehouse_id,
            warehouse=warehouse,
            product=wanted,
        )
        ledger.set_unit_status(connection, unit.id, "not_found")
        ledger.add_events(
            connection,
            [
                {
                    "unit_id": unit.id,
                    "kind": "not_found",
                    "at": datetime.now(UTC),
                    "station": config.name,
                    "user_name": user,
                    "from_warehouse_id": unit.warehouse_id,
                    "from_bin": unit.bin,
                    "document_kind": "order",
                    "document_number": order.number,
                }
            ],
        )
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
