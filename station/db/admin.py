"""Statements for stations, their options and users."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from station.db.models import (
    FIRST_SUPERVISOR,
    OptionChange,
    PinFailure,
    Setting,
    Station,
    StationOption,
    User,
    utcnow,
)


def station_id(connection: Connection, name: str) -> int | None:
    return connection.scalar(select(Station.id).where(Station.name == name))


def add_station(connection: Connection, name: str, kind: str = "both") -> int:
    return connection.execute(
        insert(Station).values(name=name, kind=kind, last_seen=utcnow()).returning(Station.id)
    ).scalar_one()


def add_station_once(connection: Connection, name: str, kind: str = "both") -> None:
    """Register a station unless it is registered (by another process meanwhile too)."""
    values = {"name": name, "kind": kind, "last_seen": utcnow()}
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    connection.execute(upsert(Station).values(**values).on_conflict_do_nothing())


def touch_station(connection: Connection, station: int) -> None:
    connection.execute(update(Station).where(Station.id == station).values(last_seen=utcnow()))


def set_station_kind(connection: Connection, station: int, kind: str) -> None:
    connection.execute(update(Station).where(Station.id == station).values(kind=kind))


def stations(connection: Connection) -> list[tuple[str, str, datetime | None]]:
    return [
        (name, kind, seen)
        for name, kind, seen in connection.execute(
            select(Station.name, Station.kind, Station.last_seen).order_by(Station.name)
        )
    ]


def stored_options(connection: Connection, station: int) -> dict[str, str]:
    query = select(StationOption.key, StationOption.value).where(
        StationOption.station_id == station
    )
    return {key: value for key, value in connection.execute(query)}


def write_option(
    connection: Connection, station: int, key: str, old: str | None, new: str, user: str
) -> None:
    """Store one option value and its audit record in the caller's transaction."""
    if old is None:
        connection.execute(insert(StationOption).values(station_id=station, key=key, value=new))
    else:
        connection.execute(
            update(StationOption)
            .where(StationOption.station_id == station, StationOption.key == key)
            .values(value=new)
        )
    connection.execute(
        insert(OptionChange).values(
            station_id=station, key=key, old_value=old, new_value=new, user_name=user
        )
    )


def option_changes(connection: Connection, station: int) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(OptionChange.__table__)
        .where(OptionChange.station_id == station)
        .order_by(OptionChange.id)
    )
    return [
        {"key": r.key, "old": r.old_value, "new": r.new_value, "user": r.user_name, "at": r.at}
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class StoredUser:
    """A user's row as the PIN check needs it; the hash never shows in its repr."""

    name: str
    role: str
    pin_hash: str = field(repr=False)
    failed_pins: int = 0
    lockouts: int = 0
    locked_until: datetime | None = None


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite gives back the UTC time stored without its zone."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def user(connection: Connection, name: str, *, lock: bool = False) -> StoredUser | None:
    """A user's row, or None. `lock`: the row stays locked to the end of the caller's
    transaction (PostgreSQL FOR UPDATE; SQLite's writer already holds the write lock)."""
    query = select(
        User.name, User.role, User.pin_hash, User.failed_pins, User.lockouts, User.locked_until
    ).where(User.name == name)
    row = connection.execute(query.with_for_update() if lock else query).first()
    if row is None:
        return None
    return StoredUser(row[0], row[1], row[2], row[3], row[4], _utc(row[5]))


def user_count(connection: Connection) -> int:
    return connection.scalar(select(func.count()).select_from(User)) or 0


def claim_first_user(connection: Connection, name: str) -> None:
    """Write the settings row of the first user; a second claim fails on its unique key
    (IntegrityError) however the transactions interleave."""
    connection.execute(insert(Setting).values(key=FIRST_SUPERVISOR, value=name))


def add_user(connection: Connection, name: str, role: str, pin_hash: str) -> None:
    connection.execute(insert(User).values(name=name, role=role, pin_hash=pin_hash))


def set_pin(connection: Connection, name: str, pin_hash: str) -> None:
    """A new PIN; the wrong PINs counted and any lock are cleared with it."""
    connection.execute(
        update(User)
        .where(User.name == name)
        .values(pin_hash=pin_hash, failed_pins=0, lockouts=0, locked_until=None)
    )


def set_pin_state(
    connection: Connection,
    name: str,
    failed_pins: int,
    lockouts: int,
    locked_until: datetime | None,
) -> None:
    connection.execute(
        update(User)
        .where(User.name == name)
        .values(failed_pins=failed_pins, lockouts=lockouts, locked_until=locked_until)
    )


def record_pin_failure(
    connection: Connection, name: str, station: str | None, reason: str, at: datetime
) -> None:
    connection.execute(
        insert(PinFailure).values(user_name=name, station=station, reason=reason, at=at)
    )


def pin_failures(connection: Connection, name: str) -> list[dict[str, Any]]:
    """The refused PINs given for `name`, oldest first."""
    rows = connection.execute(
        select(PinFailure.at, PinFailure.station, PinFailure.reason)
        .where(PinFailure.user_name == name)
        .order_by(PinFailure.id)
    )
    return [{"at": _utc(at), "station": station, "reason": reason} for at, station, reason in rows]


def locked_users(connection: Connection, now: datetime) -> dict[str, datetime]:
    """Users locked at `now`, with the end of their lock."""
    rows = connection.execute(
        select(User.name, User.locked_until).where(User.locked_until.is_not(None))
    )
    found = {name: _utc(until) for name, until in rows}
    return {name: until for name, until in found.items() if until is not None and until > now}


def users(connection: Connection) -> list[tuple[str, str]]:
    return [
        (name, role)
        for name, role in connection.execute(select(User.name, User.role).order_by(User.name))
    ]
