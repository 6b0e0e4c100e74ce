"""Re-keying the ledger with today's `serial_key` (migration 0003, `station db rekey`).

Every unit's and every allocated serial's key is recomputed, a batch of units at a time
(a ledger may hold millions); only the keys that change are held in memory and written.
A unit whose new key another unit holds, or would hold, for the same product or in the
same serial scope is never merged: it keeps its old key and is recorded in
`serial_key_conflicts` until a supervisor resolves it (README, "Serial key conflicts").
An allocated serial is a key and nothing else: two that now read the same on one order
line become one.

The tables are named here as they stand at migration 0003, not through the models, so
the migration keeps working whatever later revisions add.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, bindparam

from station.db.bulk import chunked
from station.scanning import serial_key

#: Units read per query.
BATCH = 10_000
#: Keys per IN (...) query.
IN_CHUNK = 2000
MAX_KEY = 64

_units = sa.table(
    "units",
    sa.column("id"),
    sa.column("product_id"),
    sa.column("scope_id"),
    sa.column("serial"),
    sa.column("serial_key"),
    sa.column("status"),
    sa.column("warehouse_id"),
    sa.column("bin"),
)
_allocated = sa.table("allocated_serials", sa.column("order_line_id"), sa.column("serial_key"))
_conflicts = sa.table(
    "serial_key_conflicts",
    sa.column("unit_id"),
    sa.column("serial"),
    sa.column("old_key"),
    sa.column("new_key"),
    sa.column("other_unit_id"),
    sa.column("found_at"),
)


@dataclass(frozen=True, slots=True)
class _Change:
    id: int
    product_id: int
    scope_id: int
    serial: str
    old: str
    new: str

    def places(self, key: str) -> tuple[tuple[str, int, str], tuple[str, int, str]]:
        """What the unique constraints see of this unit under `key`."""
        return ("product", self.product_id, key), ("scope", self.scope_id, key)


@dataclass(frozen=True, slots=True)
class Rekeyed:
    """What a re-keying did: units re-keyed, units left in conflict, allocated serials
    re-keyed and allocated serials merged into another of the same line."""

    units: int
    conflicts: int
    allocated: int
    merged: int


def rekey(connection: Connection) -> Rekeyed:
    """Recompute every stored serial key in the caller's transaction."""
    changes = {change.id: change for change in _unit_changes(connection)}
    conflicts, blockers = _settle(connection, changes)
    moving = [change for change in changes.values() if change.id not in conflicts]
    _write_keys(connection, [(c.id, f"~rekey~{c.id}") for c in moving if c.id in blockers])
    _write_keys(connection, [(c.id, c.new) for c in moving])
    _record_conflicts(connection, changes, conflicts)
    allocated, merged = _rekey_allocated(connection)
    return Rekeyed(len(moving), len(conflicts), allocated, merged)


def _unit_changes(connection: Connection) -> Iterator[_Change]:
    """Units whose stored key differs from today's key of their serial, batch by batch."""
    columns = [_units.c[name] for name in ("id", "product_id", "scope_id", "serial", "serial_key")]
    last: int | None = None
    while True:
        query = sa.select(*columns).order_by(_units.c.id).limit(BATCH)
        if last is not None:
            query = query.where(_units.c.id > last)
        rows = connection.execute(query).all()
        if not rows:
            return
        for unit_id, product_id, scope, serial, old in rows:
            new = serial_key(serial)
            if new != old:
                yield _Change(unit_id, product_id, scope, serial, old, new)
        last = rows[-1][0]


def _settle(
    connection: Connection, changes: dict[int, _Change]
) -> tuple[dict[int, int | None], set[int]]:
    """Which changing units must keep their old key (with the unit each clashes with,
    None for a new key that cannot be a key), and which changing units hold today a key
    another one moves to (they step aside first)."""
    conflicts: dict[int, int | None] = {
        c.id: None for c in changes.values() if not 1 <= len(c.new) <= MAX_KEY
    }
    staying: dict[int, tuple[int, int, str]] = {}
    blockers: set[int] = set()
    for part in chunked(sorted({c.new for c in changes.values()}), IN_CHUNK):
        query = sa.select(
            _units.c.id, _units.c.product_id, _units.c.scope_id, _units.c.serial_key
        ).where(_units.c.serial_key.in_(part))
        for unit_id, product_id, scope, key in connection.execute(query):
            if unit_id in changes:
                blockers.add(unit_id)
            else:
                staying[unit_id] = (product_id, scope, key)
    while True:  # a unit kept at its old key may block another one: settle until stable
        holders: dict[tuple[str, int, str], list[int]] = defaultdict(list)
        for unit_id, (product_id, scope, key) in staying.items():
            holders["product", product_id, key].append(unit_id)
            holders["scope", scope, key].append(unit_id)
        for change in changes.values():
            for place in change.places(change.old if change.id in conflicts else change.new):
                holders[place].append(change.id)
        clashes = {
            unit_id: next(other for other in ids if other != unit_id)
            for ids in holders.values()
            if len(ids) > 1
            for unit_id in ids
            if unit_id in changes and unit_id not in conflicts
        }
        if not clashes:
            return conflicts, blockers
        conflicts.update(clashes)


def _write_keys(connection: Connection, keys: list[tuple[int, str]]) -> None:
    statement = (
        sa.update(_units)
        .where(_units.c.id == bindparam("unit_id"))
        .values(serial_key=bindparam("new_key"))
    )
    for part in chunked(keys, BATCH):
        connection.execute(statement, [{"unit_id": i, "new_key": k} for i, k in part])


def _record_conflicts(
    connection: Connection, changes: dict[int, _Change], conflicts: dict[int, int | None]
) -> None:
    """The table lists exactly the units in conflict now; a conflict found again keeps
    the time it was first found."""
    known = set(connection.execute(sa.select(_conflicts.c.unit_id)).scalars())
    gone = sorted(known - conflicts.keys())
    for part in chunked(gone, IN_CHUNK):
        connection.execute(sa.delete(_conflicts).where(_conflicts.c.unit_id.in_(part)))
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = [
        {
            "unit_id": unit_id,
            "serial": changes[unit_id].serial,
            "old_key": changes[unit_id].old,
            "new_key": changes[unit_id].new,
            "other_unit_id": other,
            "found_at": now,
        }
        for unit_id, other in sorted(conflicts.items())
        if unit_id not in known
    ]
    for part in chunked(rows, BATCH):
        connection.execute(sa.insert(_conflicts), part)


def _rekey_allocated(connection: Connection) -> tuple[int, int]:
    """Re-key allocated serials: (rows re-keyed, rows merged into an equal one)."""
    line, key = _allocated.c.order_line_id, _allocated.c.serial_key
    changed: list[tuple[int, str, str]] = []
    last: tuple[int, str] | None = None
    while True:
        query = sa.select(line, key).order_by(line, key).limit(BATCH)
        if last is not None:
            query = query.where(sa.tuple_(line, key) > sa.tuple_(*last))
        rows = [tuple(row) for row in connection.execute(query)]
        if not rows:
            break
        changed += [
            (line_id, old, new)
            for line_id, old in rows
            if (new := serial_key(old)) != old and 1 <= len(new) <= MAX_KEY
        ]
        last = rows[-1]
    if not changed:
        return 0, 0
    old_pairs = {(line_id, old) for line_id, old, _ in changed}
    wanted = {(line_id, new) for line_id, _, new in changed}
    held: set[tuple[int, str]] = set()
    for part in chunked(sorted({new for _, new in wanted}), IN_CHUNK):
        rows = connection.execute(sa.select(line, key).where(key.in_(part)))
        held.update((line_id, k) for line_id, k in rows)
    remove = sa.delete(_allocated).where(line == bindparam("line_id"), key == bindparam("old"))
    for part in chunked(sorted(old_pairs), BATCH):
        connection.execute(remove, [{"line_id": i, "old": k} for i, k in part])
    new_rows = sorted(wanted - (held - old_pairs))
    for part in chunked(new_rows, BATCH):
        connection.execute(
            sa.insert(_allocated), [{"order_line_id": i, "serial_key": k} for i, k in part]
        )
    return len(new_rows), len(changed) - len(new_rows)


@dataclass(frozen=True, slots=True)
class Conflict:
    """A unit left at its old key, with the unit its new key reads as."""

    unit_id: int
    sku: str
    serial: str
    status: str
    old_key: str
    new_key: str
    other_unit_id: int | None
    other_serial: str | None
    found_at: datetime

    def as_text(self) -> str:
        if self.other_unit_id is None:
            why = f"its key {self.new_key!r} would be longer than {MAX_KEY} characters"
        else:
            why = f"it reads as unit {self.other_unit_id} ({self.other_serial!r})"
        return f"unit {self.unit_id} {self.sku} {self.serial!r} ({self.status}): {why}"


def conflicts(connection: Connection) -> list[Conflict]:
    """Every recorded conflict, oldest unit first."""
    other = _units.alias("other")
    products = sa.table("products", sa.column("id"), sa.column("sku"))
    query = (
        sa.select(
            _conflicts.c.unit_id,
            products.c.sku,
            _conflicts.c.serial,
            _units.c.status,
            _conflicts.c.old_key,
            _conflicts.c.new_key,
            _conflicts.c.other_unit_id,
            other.c.serial,
            _conflicts.c.found_at,
        )
        .join(_units, _units.c.id == _conflicts.c.unit_id)
        .join(products, products.c.id == _units.c.product_id)
        .outerjoin(other, other.c.id == _conflicts.c.other_unit_id)
        .order_by(_conflicts.c.unit_id)
    )
    return [Conflict(*row) for row in connection.execute(query)]
