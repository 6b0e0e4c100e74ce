"""The company's settings that every station obeys: serial_scope and serial_charset,
and the checks made before either changes."""

from __future__ import annotations

from sqlalchemy import (
    Connection,
    func,
    select,
    update,
)

from station.db.bulk import upsert
from station.db.models import (
    Setting,
    Unit,
)
from station.serials import DEFAULT_CHARSET

# --- company settings ---------------------------------------------------------------


def _setting(connection: Connection, key: str, default: str) -> str:
    return connection.scalar(select(Setting.value).where(Setting.key == key)) or default


def _store_setting(connection: Connection, key: str, value: str) -> None:
    connection.execute(
        upsert(connection, Setting)
        .values(key=key, value=value)
        .on_conflict_do_update(index_elements=["key"], set_={"value": value})
    )


def serial_scope(connection: Connection) -> str:
    return _setting(connection, "serial_scope", "product")


def serial_charset(connection: Connection) -> str:
    """`ascii` (default) or `unicode`: which text may be a serial (station.serials)."""
    return _setting(connection, "serial_charset", DEFAULT_CHARSET)


def scope_id(scope: str, product_id: int) -> int:
    """The value of units.scope_id that makes the database enforce `scope`."""
    return 0 if scope == "global" else product_id


def set_serial_scope(connection: Connection, scope: str) -> None:
    """Store the company's serial_scope and re-key every unit to it; the unique
    constraint on (scope_id, serial_key) refuses the change if duplicates would arise."""
    _store_setting(connection, "serial_scope", scope)
    connection.execute(update(Unit).values(scope_id=0 if scope == "global" else Unit.product_id))


def duplicate_serials(connection: Connection, limit: int = 10) -> list[str]:
    """Serial keys held by more than one unit (they block serial_scope=global)."""
    query = (
        select(Unit.serial_key)
        .group_by(Unit.serial_key)
        .having(func.count() > 1)
        .order_by(Unit.serial_key)
        .limit(limit)
    )
    return list(connection.execute(query).scalars())


def set_serial_charset(connection: Connection, charset: str) -> None:
    _store_setting(connection, "serial_charset", charset)


def non_ascii_serials(connection: Connection, limit: int = 10) -> list[str]:
    """Serials holding a character outside printable ASCII (they block serial_charset=ascii)."""
    query = (
        select(Unit.serial)
        .where(Unit.serial.regexp_match("[^ -~]"))
        .order_by(Unit.serial_key)
        .limit(limit)
    )
    return list(connection.execute(query).scalars())
