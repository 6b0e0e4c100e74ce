"""The one unit-movement primitive: every posting's units go through `move`.

A posting creates units (receive; a serial shipped unvalidated), or changes existing
ones — status, document links, warehouse, bin — and every unit it touches gets one event
naming the posting. Bulk statements throughout (COPY on PostgreSQL for new units and
events), and one order for every station: new units by serial key, changed units by id
(their rows were locked in serial-key order by the posting's read), so concurrent
postings wait for each other and never deadlock.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, and_, update

from station.db import bulk
from station.db.bulk import chunked
from station.db.ledger import change_stock
from station.db.lookup import IN_CHUNK
from station.db.models import Event, Unit
from station.movement import Movement, Stamp


def move(connection: Connection, movement: Movement, stamp: Stamp, links: dict[str, Any]) -> int:
    """Write one posting's movement in the caller's transaction: changed units first,
    then new ones, each with its event, then the non-serialized quantities. `links`: the
    columns every unit moved gets (the posting header's id: {"shipment_id": 7}). Returns
    how many changed units still had the status expected; fewer than planned means the
    ledger changed under the posting (the caller refuses it)."""
    changed = _change(connection, movement, stamp, links)
    created = sorted(
        ({**row, **links} for row in movement.created), key=lambda row: row["serial_key"]
    )
    bulk.insert_units(
        connection,
        created,
        {
            "kind": stamp.event,
            "at": stamp.at,
            "station": stamp.station,
            "user_name": stamp.user,
            "document_kind": stamp.document_kind,
            "document_number": stamp.document_number,
        },
    )
    for product_id, warehouse_id, delta in movement.stock:
        change_stock(connection, product_id, warehouse_id, delta)
    return changed


def _change(connection: Connection, movement: Movement, stamp: Stamp, links: dict[str, Any]) -> int:
    """Changed units, grouped by what changes: one UPDATE per group and chunk, guarded by
    the status each unit must still have."""
    groups: dict[tuple[tuple[tuple[str, Any], ...], str], list[int]] = defaultdict(list)
    for change in movement.changed:
        groups[(change.values, change.expect_status)].append(change.unit_id)
    count = 0
    for (values, expected), ids in groups.items():
        for part in chunked(sorted(ids), IN_CHUNK):
            count += connection.execute(
                update(Unit)
                .where(and_(Unit.id.in_(part), Unit.status == expected))
                .values({**dict(values), **links})
            ).rowcount
    events = []
    for change in movement.changed:
        values = dict(change.values)
        events.append(
            {
                "unit_id": change.unit_id,
                "kind": stamp.event,
                "at": stamp.at,
                "station": stamp.station,
                "user_name": stamp.user,
                "from_warehouse_id": change.from_warehouse_id,
                "from_bin": change.from_bin,
                "to_warehouse_id": values.get("warehouse_id"),
                "to_bin": values.get("bin"),
                "document_kind": stamp.document_kind,
                "document_number": stamp.document_number,
            }
        )
    bulk.write_rows(connection, Event, events)
    return count
