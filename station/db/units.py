"""Units and their events: the units a serial key names (for a scan, and locked for a
posting), the non-serialized stock, and the one unit-movement primitive every
posting's units go through (`move`).

A posting creates units (receive; a serial shipped unvalidated), or changes existing
ones — status, document links, warehouse, bin — and every unit it touches gets one event
naming the posting. Bulk statements throughout (COPY on PostgreSQL for new units and
events), and one order for every station: new units by serial key, changed units by id
(their rows were locked in serial-key order by the posting's read), so concurrent
postings wait for each other and never deadlock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    func,
    select,
    text,
    update,
)

from station.db import bulk
from station.db.bulk import IN_CHUNK, chunked, one_of, upsert
from station.db.lookup import unit_query
from station.db.models import (
    Event,
    PurchaseOrder,
    Receipt,
    Rma,
    SalesOrder,
    Shipment,
    StockLevel,
    Unit,
    Vendor,
    Warehouse,
)
from station.db.models import Product as ProductRow
from station.documents import UnitInfo
from station.movement import Movement, Stamp

# --- units --------------------------------------------------------------------------


def _unit_query() -> Any:
    """The facts UnitInfo carries, over the same joins as every unit view (lookup)."""
    return unit_query().with_only_columns(
        Unit.id,
        Unit.product_id,
        ProductRow.sku,
        Unit.serial,
        Unit.serial_key,
        Unit.status,
        Unit.warehouse_id,
        Warehouse.code,
        Unit.bin,
        Unit.origin,
        PurchaseOrder.number,
        Unit.received_at,
        Receipt.number,
        func.coalesce(Receipt.user_name, Receipt.station),
        SalesOrder.number,
        Shipment.number,
        Unit.order_line_id,
        PurchaseOrder.vendor_id,
        Vendor.name,
        Rma.number,
        Unit.version,
        maintain_column_froms=False,
    )


_UNITS_BY_KEY: Any = None


def units_with_serial(connection: Connection, key: str) -> list[UnitInfo]:
    """Every unit whose serial key is `key` (one per product at most). The statement is
    built once: a scan only binds its key."""
    global _UNITS_BY_KEY
    if _UNITS_BY_KEY is None:
        _UNITS_BY_KEY = _unit_query().where(Unit.serial_key == bindparam("key"))
    return [UnitInfo(*row) for row in connection.execute(_UNITS_BY_KEY, {"key": key})]


def units_by_key(connection: Connection, keys: Iterable[str]) -> dict[str, list[UnitInfo]]:
    """`units_with_serial` for many keys at once: every key asked, with its units."""
    keys = set(keys)
    found: dict[str, list[UnitInfo]] = {key: [] for key in keys}
    for unit in units_with_serials(connection, list(keys)):
        found[unit.serial_key].append(unit)
    return found


def units_with_serials(
    connection: Connection, keys: Sequence[str], *, lock: bool = False
) -> list[UnitInfo]:
    """Units for many serial keys, in chunks. With `lock`, their rows are locked FOR UPDATE
    first (in key order, so concurrent postings never deadlock), then read afresh: after
    waiting for another posting's lock, the facts read include what it wrote."""
    keys = sorted(set(keys))
    if lock and connection.dialect.name != "sqlite":  # SQLite: the posting holds the one write lock
        for condition in one_of(connection, Unit.serial_key, keys):
            connection.execute(
                select(Unit.id).where(condition).order_by(Unit.serial_key).with_for_update()
            ).all()
    found: list[UnitInfo] = []
    for condition in one_of(connection, Unit.serial_key, keys):
        found.extend(UnitInfo(*row) for row in connection.execute(_unit_query().where(condition)))
    return found


#: The posting's duplicate-serial check on PostgreSQL: one index probe per (scope_id,
#: serial_key) pair. The pairs come as two arrays the planner sizes exactly; the LATERAL
#: subquery (OFFSET 0 keeps the planner from flattening it into a join) is run once per
#: pair with that pair's values, so its plan is an index lookup whatever the statistics
#: say: a plain `serial_key = ANY(:keys)` or a join against the keys fell back to a full
#: scan of units on a table without statistics (straight after a bulk load).
EXISTING_PAIRS = text(
    "SELECT u.scope_id, u.serial_key"
    " FROM unnest(CAST(:scopes AS integer[]), CAST(:keys AS varchar[])) AS k(scope_id, serial_key)"
    " CROSS JOIN LATERAL (SELECT units.scope_id, units.serial_key FROM units"
    " WHERE units.scope_id = k.scope_id AND units.serial_key = k.serial_key OFFSET 0) AS u"
)


def existing_keys(connection: Connection, pairs: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
    """Of (scope_id, serial_key) pairs, those a unit holds already: one statement on
    PostgreSQL (EXISTING_PAIRS: an index lookup per pair), chunks of IN_CHUNK keys on
    SQLite (whose planner takes the serial_key index for IN without statistics)."""
    wanted = sorted(set(pairs))
    if connection.dialect.name == "postgresql":
        if not wanted:
            return set()
        rows = connection.execute(
            EXISTING_PAIRS,
            {"scopes": [scope for scope, _ in wanted], "keys": [key for _, key in wanted]},
        )
        return {(scope, key) for scope, key in rows}
    found: set[tuple[int, str]] = set()
    keys = sorted({key for _, key in wanted})
    for part in chunked(keys, IN_CHUNK):
        query = select(Unit.scope_id, Unit.serial_key).where(Unit.serial_key.in_(part))
        found.update(tuple(row) for row in connection.execute(query))
    return found & set(wanted)


#: The statuses of a unit that is physically in its bin (what a count expects there).
IN_A_BIN = ("in_stock", "quarantined")


def units_in_bin(
    connection: Connection, warehouse_id: int, bin_code: str, *, lock: bool = False
) -> list[UnitInfo]:
    """The units a bin holds (in stock or quarantined), by serial key; with `lock`,
    their rows locked FOR UPDATE first, in key order (a count's posting)."""
    where = (Unit.warehouse_id == warehouse_id, Unit.bin == bin_code, Unit.status.in_(IN_A_BIN))
    if lock and connection.dialect.name != "sqlite":
        connection.execute(
            select(Unit.id).where(*where).order_by(Unit.serial_key).with_for_update()
        ).all()
    rows = connection.execute(_unit_query().where(*where).order_by(Unit.serial_key))
    return [UnitInfo(*row) for row in rows]


def products_in_bin(connection: Connection, warehouse_id: int, bin_code: str) -> dict[int, int]:
    """How many units of each product a bin holds (in stock or quarantined)."""
    query = (
        select(Unit.product_id, func.count())
        .where(Unit.warehouse_id == warehouse_id, Unit.bin == bin_code, Unit.status.in_(IN_A_BIN))
        .group_by(Unit.product_id)
    )
    return {product_id: count for product_id, count in connection.execute(query)}


def shipped_on(connection: Connection, line_ids: Sequence[int], product_id: int) -> list[UnitInfo]:
    """The units of a product that shipped on these order lines and are still out
    (status shipped), by serial key."""
    query = _unit_query().where(
        Unit.order_line_id.in_(list(line_ids)),
        Unit.product_id == product_id,
        Unit.status == "shipped",
    )
    return [UnitInfo(*row) for row in connection.execute(query.order_by(Unit.serial_key))]


def change_stock(connection: Connection, product_id: int, warehouse_id: int, delta: int) -> None:
    """Add `delta` to a non-serialized product's quantity (never below zero)."""
    connection.execute(
        upsert(connection, StockLevel)
        .values(product_id=product_id, warehouse_id=warehouse_id, qty=max(delta, 0))
        .on_conflict_do_update(
            index_elements=["product_id", "warehouse_id"],
            set_={"qty": func.max(StockLevel.qty + delta, 0)}
            if connection.dialect.name == "sqlite"
            else {"qty": func.greatest(StockLevel.qty + delta, 0)},
        )
    )


def on_hand(
    connection: Connection, product_id: int, warehouse_id: int, *, lock: bool = False
) -> int:
    """A non-serialized product's quantity on hand in a warehouse (0 when none); with
    `lock`, its row is locked FOR UPDATE (a posting that takes from it)."""
    query = select(StockLevel.qty).where(
        StockLevel.product_id == product_id, StockLevel.warehouse_id == warehouse_id
    )
    if lock:
        query = query.with_for_update()
    return int(connection.scalar(query) or 0)


def last_event(connection: Connection, unit_id: int) -> tuple[str, str, str | None] | None:
    """The newest event of a unit: (kind, station, document number)."""
    row = connection.execute(
        select(Event.kind, Event.station, Event.document_number)
        .where(Event.unit_id == unit_id)
        .order_by(Event.id.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def changed_since(
    connection: Connection, seen: dict[int, int]
) -> list[tuple[str, str, str | None, str | None, str | None]]:
    """Of units by id with the version a session saw, those changed since: (serial,
    last event kind, its document, its station, the bin it is in now), by serial."""
    if not seen:
        return []
    now: dict[int, tuple[int, str, str]] = {}
    for condition in one_of(connection, Unit.id, sorted(seen)):
        query = select(Unit.id, Unit.version, Unit.serial, Unit.bin).where(condition)
        for unit_id, version, serial, place in connection.execute(query):
            if version != seen[unit_id]:
                now[unit_id] = (version, serial, place)
    changed = []
    for unit_id, (_version, serial, place) in sorted(now.items(), key=lambda kv: kv[1][1]):
        last = last_event(connection, unit_id)
        kind, station, document = last if last is not None else ("changed", None, None)
        changed.append((serial, kind, document, station, place))
    return changed


def link_column(kind: str) -> str | None:
    """The unit's column naming the last posting of `kind` that moved it ("rma" ->
    "rma_id"), None when units keep no such link."""
    column = f"{kind}_id"
    return column if column in Unit.__table__.c else None


def move(
    connection: Connection,
    movement: Movement,
    stamp: Stamp,
    links: dict[str, Any],
    progress: bulk.Progress | None = None,
) -> int:
    """Write one posting's movement in the caller's transaction: changed units first,
    then new ones, each with its event, then the non-serialized quantities. `links`: the
    columns every unit moved gets (the posting header's id: {"shipment_id": 7}). Units
    and events go in steps of `bulk.POSTING_CHUNK`, `progress(units written, units)`
    told after each. Returns how many changed units still had the status expected;
    fewer than planned means the ledger changed under the posting (the caller refuses
    it)."""
    total = len(movement.changed) + len(movement.created)
    before = len(movement.changed)

    def changed_written(count: int) -> None:
        if progress is not None:
            progress(count, total)

    def created_written(count: int) -> None:
        if progress is not None:
            progress(before + count, total)

    changed = _change(connection, movement, stamp, links, changed_written)
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
        bulk.POSTING_CHUNK,
        created_written,
    )
    _relabeled(connection, created, stamp)
    for product_id, warehouse_id, delta in movement.stock:
        change_stock(connection, product_id, warehouse_id, delta)
    return changed


def _relabeled(connection: Connection, created: list[dict[str, Any]], stamp: Stamp) -> None:
    """The second event of each new unit made for one whose label was lost: "relabeled",
    naming the posting (the unit it replaces is `relabels_id`; that unit's own
    "relabeled" event is its UnitChange's)."""
    rows = [row for row in created if row.get("relabels_id") is not None]
    if not rows:
        return
    ids = connection.execute(
        select(Unit.id).where(
            Unit.relabels_id.in_([row["relabels_id"] for row in rows]),
            Unit.serial_key.in_([row["serial_key"] for row in rows]),
        )
    ).scalars()
    events = [
        {
            "unit_id": unit_id,
            "kind": "relabeled",
            "at": stamp.at,
            "station": stamp.station,
            "user_name": stamp.user,
            "document_kind": stamp.document_kind,
            "document_number": stamp.document_number,
        }
        for unit_id in sorted(ids)
    ]
    bulk.write_rows(connection, Event, events)


def _change(
    connection: Connection,
    movement: Movement,
    stamp: Stamp,
    links: dict[str, Any],
    written: bulk.Written,
) -> int:
    """Changed units, grouped by what changes: one UPDATE per group and chunk, guarded by
    the status each unit must still have."""
    groups: dict[tuple[tuple[tuple[str, Any], ...], str], list[int]] = defaultdict(list)
    for change in movement.changed:
        groups[(change.values, change.expect_status)].append(change.unit_id)
    count = 0
    for (values, expected), ids in groups.items():
        if not values and not links:  # the unit stays as it is (counted): its event only
            count += len(ids)  # (the caller holds its row locked)
            continue
        for condition in one_of(connection, Unit.id, sorted(ids)):
            count += connection.execute(
                update(Unit)
                .where(and_(condition, Unit.status == expected))
                .values({**dict(values), **links, "version": Unit.version + 1})
            ).rowcount
    changes = [(change, dict(change.values)) for change in movement.changed]
    # to_warehouse_id / to_bin only when a unit moves: fewer columns to bind per event
    moved = any("warehouse_id" in values or "bin" in values for _, values in changes)
    events = []
    for change, values in changes:
        event = {
            "unit_id": change.unit_id,
            "kind": change.event or stamp.event,
            "at": stamp.at,
            "station": stamp.station,
            "user_name": stamp.user,
            "from_warehouse_id": change.from_warehouse_id,
            "from_bin": change.from_bin,
            "document_kind": stamp.document_kind,
            "document_number": stamp.document_number,
        }
        if moved:  # what does not change stays where it was
            event["to_warehouse_id"] = values.get("warehouse_id", change.from_warehouse_id)
            event["to_bin"] = values.get("bin", change.from_bin)
        events.append(event)
    bulk.write_rows(connection, Event, events, bulk.POSTING_CHUNK, written)
    return count
