"""Small queries for the desktop app: the serials of a document, warehouses for setup."""

from __future__ import annotations

from sqlalchemy import Connection, insert, literal, or_, select, union_all

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


def units_of_document(connection: Connection, number: str, limit: int = 10000) -> list[UnitRecord]:
    """Every unit received on a PO or receipt, or shipped on an order or shipment, with
    this number, in serial order. The number is found first (each by its unique index),
    then its units by their indexed references: no look-up reads the whole units table."""
    number = number.strip()
    if not number:
        return []
    found = connection.execute(
        union_all(
            select(literal("po"), PurchaseOrder.id).where(PurchaseOrder.number == number),
            select(literal("receipt"), Receipt.id).where(Receipt.number == number),
            select(literal("order"), SalesOrder.id).where(SalesOrder.number == number),
            select(literal("shipment"), Shipment.id).where(Shipment.number == number),
        )
    ).all()
    if not found:
        return []
    held_by = {
        "po": lambda id_: Unit.po_line_id.in_(select(POLine.id).where(POLine.po_id == id_)),
        "receipt": lambda id_: Unit.receipt_id == id_,
        "order": lambda id_: Unit.order_line_id.in_(
            select(OrderLine.id).where(OrderLine.order_id == id_)
        ),
        "shipment": lambda id_: Unit.shipment_id == id_,
    }
    query = unit_query().where(or_(*(held_by[kind](id_) for kind, id_ in found)))
    return unit_records(connection.execute(query.order_by(Unit.serial_key).limit(limit)))


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
