"""Statements for stations, their options and users."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from station.db.models import OptionChange, Station, StationOption, User, utcnow


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


def user(connection: Connection, name: str) -> tuple[str, str] | None:
    """(role, pin_hash) of a user, or None."""
    row = connection.execute(select(User.role, User.pin_hash).where(User.name == name)).first()
    return None if row is None else (row[0], row[1])


def user_count(connection: Connection) -> int:
    return connection.scalar(select(func.count()).select_from(User)) or 0


def add_user(connection: Connection, name: str, role: str, pin_hash: str) -> None:
    connection.execute(insert(User).values(name=name, role=role, pin_hash=pin_hash))


def set_pin(connection: Connection, name: str, pin_hash: str) -> None:
    connection.execute(update(User).where(User.name == name).values(pin_hash=pin_hash))


def users(connection: Connection) -> list[tuple[str, str]]:
    return [
        (name, role)
        for name, role in connection.execute(select(User.name, User.role).order_by(User.name))
    ]
