"""Known bins (SPEC §3.3 location barcodes): found by their key (`serial_key` of the
code), made by a supervisor, by an import, or for a station's own bins by a posting."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from station.db.bulk import ensure_bins
from station.db.models import Bin, Warehouse
from station.scanning import serial_key


def bin_code(connection: Connection, warehouse_id: int, name: str) -> str | None:
    """The bin of a warehouse that `name` names (as its code is spelt), None when the
    warehouse has no such bin."""
    return connection.scalar(
        select(Bin.code).where(Bin.warehouse_id == warehouse_id, Bin.key == serial_key(name))
    )


def lock_bin(connection: Connection, warehouse_id: int, code: str) -> None:
    """Lock a bin's row until the transaction ends (a count's posting: two counts of one
    bin post one after the other, the second seeing what the first marked)."""
    if connection.dialect.name != "sqlite":  # SQLite: the posting holds the one write lock
        connection.execute(
            select(Bin.id)
            .where(Bin.warehouse_id == warehouse_id, Bin.key == serial_key(code))
            .with_for_update()
        ).all()


def add_bins(
    connection: Connection, warehouse_id: int, codes: Iterable[str], by: str | None = None
) -> list[str]:
    """Make the bins of a warehouse that do not exist yet (a bin that reads the same as
    one that does is that one); the codes made, in order."""
    return ensure_bins(connection, warehouse_id, codes, by)


def bins(connection: Connection, warehouse_id: int | None = None) -> list[tuple[str, str, str]]:
    """Known bins: (warehouse code, bin code, who made it or ""), by warehouse and key."""
    query = (
        select(Warehouse.code, Bin.code, Bin.created_by)
        .join(Warehouse, Warehouse.id == Bin.warehouse_id)
        .order_by(Warehouse.code, Bin.key)
    )
    if warehouse_id is not None:
        query = query.where(Bin.warehouse_id == warehouse_id)
    return [(house, code, by or "") for house, code, by in connection.execute(query)]
