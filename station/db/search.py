"""Small queries for the desktop app: the serials of a document, warehouses for setup."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    bindparam,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)

from station.db.lookup import UnitRecord, unit_query, unit_records
from station.db.models import (
    OrderLine,
    POLine,
    PurchaseOrder,
    Receipt,
    SalesOrder,
    Shipment,
    Unit,
    Warehouse,
)

#: How many units a document may hold for SQLite to be told to take them by their
#: references and sort them (see `units_of_document`).
FEW_UNITS = 50_000


@cache
def _lines_of_number() -> CompoundSelect[Any]:
    """(what, id) of the PO lines, receipt, order lines and shipment with the number
    bound as `number` (built once: the statement is the same for every look-up)."""
    number = bindparam("number")
    return union_all(
        select(literal("po_line"), POLine.id)
        .join(PurchaseOrder, PurchaseOrder.id == POLine.po_id)
        .where(PurchaseOrder.number == number),
        select(literal("receipt"), Receipt.id).where(Receipt.number == number),
        select(literal("order_line"), OrderLine.id)
        .join(SalesOrder, SalesOrder.id == OrderLine.order_id)
        .where(SalesOrder.number == number),
        select(literal("shipment"), Shipment.id).where(Shipment.number == number),
    )


def units_of_document(connection: Connection, number: str, limit: int = 10000) -> list[UnitRecord]:
    """Every unit received on a PO or receipt, or shipped on an order or shipment, with
    this number, in serial order (the first `limit`). Two statements: the number's
    documents (each by its unique index) with their lines, then their units by their
    indexed references, which name the lines and documents as literal values: the
    planner sees how many units each holds and never walks the whole units table in
    serial order looking for a document that holds few or none (on SQLite a count of
    them comes between: see below)."""
    number = number.strip()
    if not number:
        return []
    ids: dict[str, list[int]] = {}
    for kind, id_ in connection.execute(_lines_of_number(), {"number": number}):
        ids.setdefault(kind, []).append(id_)
    if not ids:
        return []
    reference = {
        "po_line": Unit.po_line_id,
        "receipt": Unit.receipt_id,
        "order_line": Unit.order_line_id,
        "shipment": Unit.shipment_id,
    }
    held_by = [
        reference[kind].in_(bindparam(kind, sorted(found), expanding=True, literal_execute=True))
        for kind, found in ids.items()
    ]
    held: ColumnElement[bool] = or_(*held_by)
    if connection.dialect.name == "sqlite":
        # SQLite's statistics count NULL as one more value of a reference (most units
        # are on no order): an order then seems to hold most units, and SQLite would
        # rather read the whole table than the order's few. likelihood() tells it a
        # document holds few, so each reference's index is used. Counted first (at most
        # FEW_UNITS + 1, by those indexes): a document that holds none is answered at
        # once, and one that holds very many is left to the planner, for which walking
        # the serial-key index may be quicker than sorting them all.
        rare = literal_column("0.000001")
        unit_ids = union_all(
            *(select(Unit.id).where(func.likelihood(term, rare)) for term in held_by)
        )
        counted = select(func.count()).select_from(unit_ids.limit(FEW_UNITS + 1).subquery())
        units = connection.scalar(counted) or 0
        if not units:
            return []
        if units <= FEW_UNITS:
            held = Unit.id.in_(unit_ids)
    query = (
        unit_query()
        .where(held)
        .order_by(Unit.serial_key)
        .limit(literal(limit, literal_execute=True))
    )
    return unit_records(connection.execute(query))


def warehouse_codes(connection: Connection) -> list[tuple[str, str]]:
    """(code, name) of every warehouse."""
    return [
        (code, name)
        for code, name in connection.execute(
            select(Warehouse.code, Warehouse.name).order_by(Warehouse.code)
        )
    ]


def add_warehouse(connection: Connection, code: str, name: str) -> int:
    return connection.execute(
        insert(Warehouse).values(code=code, name=name).returning(Warehouse.id)
    ).scalar_one()
