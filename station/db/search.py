"""Small queries for the desktop app: the serials of a document, warehouses for setup."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, or_, select

from station.db.lookup import unit_query
from station.db.models import PurchaseOrder, Receipt, SalesOrder, Shipment, Unit, Warehouse


def units_of_document(connection: Connection, number: str, limit: int = 10000) -> list[Any]:
    """Rows of `lookup.unit_query` for every unit received on a PO or receipt, or shipped
    on an order or shipment, with this number, in serial order."""
    number = number.strip()
    if not number:
        return []
    query = unit_query().where(
        or_(
            PurchaseOrder.number == number,
            Receipt.number == number,
            SalesOrder.number == number,
            Shipment.number == number,
        )
    )
    return list(connection.execute(query.order_by(Unit.serial_key).limit(limit)))


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
