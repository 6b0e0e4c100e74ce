"""Small queries for the desktop app: the serials of a document, warehouses for setup."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Connection,
    bindparam,
    insert,
    literal,
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
    serial order looking for a document that holds few or none."""
    number = number.strip()
    if not number:
        return []
    held = connection.execute(_lines_of_number(), {"number": number}).all()
    ids: dict[str, list[int]] = {}
    for kind, id_ in held:
        ids.setdefault(kind, []).append(id_)
    if not ids:
        return []
    reference = {
        "po_line": Unit.po_line_id,
        "receipt": Unit.receipt_id,
        "order_line": Unit.order_line_id,
        "shipment": Unit.shipment_id,
    }
    query = unit_query().where(
        or_(
            *(
                reference[kind].in_(
                    bindparam(kind, sorted(found), expanding=True, literal_execute=True)
                )
                for kind, found in ids.items()
            )
        )
    )
    order: Any = Unit.serial_key
    if connection.dialect.name == "sqlite":
        # SQLite's statistics count NULL as one more value of a reference (most units
        # are on no order, say), so an order seems to hold a great many units and the
        # serial-key index walked end to end the cheaper way to the first few: ordered
        # by an expression no index holds, it takes the units by their reference.
        order = Unit.serial_key.op("||")(literal("", literal_execute=True))
    query = query.order_by(order).limit(literal(limit, literal_execute=True))
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
