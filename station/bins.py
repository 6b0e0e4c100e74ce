"""Bins a supervisor makes (SPEC §3.3: a location barcode names a known bin; an unknown
one is refused, BIN_UNKNOWN, until a supervisor makes it): `station bins add`, and the
list of known bins (`station bins list`)."""

from __future__ import annotations

from sqlalchemy import Engine

from station.codes import Code, StationError
from station.db import bins, catalog
from station.db.engine import reading
from station.scanning import serial_key, show
from station.serials import look_alike_problem
from station.users import authorize_supervisor


def bin_problem(name: str) -> str | None:
    """Why `name` cannot be a bin's code (None: it can): 1 to 64 visible characters, not
    letters of another script that read as Latin ones (a Cyrillic А-01 beside A-01)."""
    if not name:
        return "a bin needs a name"
    if len(name) > 64:
        return f"{show(name, 64)} is longer than 64 characters"
    if not name.isprintable():
        return f"{show(name, 64)} holds a character that is not visible"
    if look_alike_problem(name) is not None:
        return f"{show(name, 64)} has letters of another script that read as Latin ones"
    return None


def add_bins(
    engine: Engine,
    warehouse: str,
    names: list[str],
    *,
    user: str | None,
    pin: str | None,
    station: str | None = None,
) -> tuple[list[str], list[str]]:
    """A supervisor makes bins of a warehouse: (made, known already). Every name is
    checked before any is made (BIN_UNKNOWN names the first that cannot be a bin);
    WAREHOUSE_NOT_FOUND for no such warehouse."""
    who = authorize_supervisor(engine, user, pin, station=station)
    codes = [" ".join(name.split()) for name in names]
    for code in codes:
        problem = bin_problem(code)
        if problem is not None:
            raise StationError(Code.BIN_UNKNOWN, f"No bin made: {problem}.")
    with engine.begin() as connection:
        warehouse_id = catalog.warehouse_by_code(connection, warehouse)
        if warehouse_id is None:
            raise StationError(Code.WAREHOUSE_NOT_FOUND, f"No warehouse {show(warehouse, 64)}.")
        made = bins.add_bins(connection, warehouse_id, codes, by=who)
    done = {serial_key(code) for code in made}
    known: dict[str, str] = {}
    for code in codes:  # each bin once, as first spelt
        if serial_key(code) not in done:
            known.setdefault(serial_key(code), code)
    return made, list(known.values())


def list_bins(engine: Engine, warehouse: str | None = None) -> list[tuple[str, str, str]]:
    """Known bins: (warehouse, bin, who made it or "")."""
    with reading(engine).connect() as connection:
        warehouse_id = None
        if warehouse is not None:
            warehouse_id = catalog.warehouse_by_code(connection, warehouse)
            if warehouse_id is None:
                raise StationError(Code.WAREHOUSE_NOT_FOUND, f"No warehouse {show(warehouse, 64)}.")
        return bins.bins(connection, warehouse_id)
