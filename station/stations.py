"""Stations and their options: stored in the shared database, cached on this machine
so a station starts even when the database is briefly unreachable (SPEC §4)."""

from __future__ import annotations

import contextlib
import json
import os
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from station import options as opts
from station.codes import Code, StationError
from station.db import admin, catalog
from station.db.engine import busy, data_dir, reading, writing_briefly
from station.journal import local_name
from station.patterns import pattern_problem
from station.scanning import show
from station.serials import look_alike_problem
from station.users import authorize_supervisor

#: The longest station name (stations.name is VARCHAR(100)).
NAME_LENGTH = 100


@dataclass(frozen=True, slots=True)
class StationConfig:
    """A station as the workflows see it: its name, options and warehouse."""

    name: str
    options: dict[str, Any]
    warehouse_id: int | None
    warehouse: str

    def __getitem__(self, key: str) -> Any:
        return self.options[key]


def _cache_path(name: str) -> Path:
    return data_dir() / "stations" / f"{local_name(name)}.json"


def _write_cache(name: str, values: dict[str, Any], warehouse: tuple[int | None, str]) -> None:
    """Keep the options on this machine for a start while the database is down. Best
    effort: with its disk full or its folder taken by a file, the station carries on from
    the database (the journal reports its own disk trouble, scan by scan)."""
    path = _cache_path(name)
    tmp = path.with_suffix(".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"options": values, "warehouse": list(warehouse)}))
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def register(engine: Engine, name: str, kind: str = "both") -> int:
    """The station's id; a name seen for the first time is registered with defaults."""
    name = _checked_name(name)
    with engine.begin() as connection:
        found = admin.station_id(connection, name)
        if found is not None:
            admin.touch_station(connection, found)
            return found
    try:
        with engine.begin() as connection:
            return admin.add_station(connection, name, kind)
    except IntegrityError:  # another process registered it at the same moment
        with engine.connect() as connection:
            found = admin.station_id(connection, name)
        assert found is not None
        return found


def load(engine: Engine, name: str) -> StationConfig:
    """The station's options (defaults filled in) and warehouse; from the local cache
    when the database cannot be reached.

    Starting never waits for a write lock (another station posting, a long import on
    SQLite): the options are read, and the station noted as seen — or, seen for the
    first time, registered — only when the lock is free now. A station left
    unregistered is registered by its first posting (`current`)."""
    name = _checked_name(name)
    try:
        with reading(engine).connect() as connection:
            station = admin.station_id(connection, name)
            config = _read(connection, station, name)
        _note_seen(engine, name, station)
        _write_cache(name, config.options, (config.warehouse_id, config.warehouse))
        return config
    except OperationalError:
        path = _cache_path(name)
        if not path.exists():
            raise
        cached = json.loads(path.read_text())
        warehouse_id, code = cached["warehouse"]
        return StationConfig(name, opts.with_defaults(cached["options"]), warehouse_id, code)


def _checked_name(name: str) -> str:
    """A station name as stored: stripped, not empty, at most NAME_LENGTH characters."""
    name = name.strip()
    if not name:
        raise StationError(Code.UNKNOWN_STATION, "A station needs a name.")
    if len(name) > NAME_LENGTH:
        raise StationError(
            Code.UNKNOWN_STATION,
            f"A station name has at most {NAME_LENGTH} characters; this one has {len(name)}.",
        )
    if not name.isprintable():  # a control character would reach terminals and labels
        odd = next(ch for ch in name if not ch.isprintable())
        raise StationError(
            Code.UNKNOWN_STATION,
            f"A station name is printable text; {show(name)!s} holds {odd!a} (U+{ord(odd):04X}).",
        )
    if not name.isascii():  # one station, one name that reads as no other
        plain = unicodedata.normalize("NFKC", name)
        if plain != name:
            raise StationError(
                Code.UNKNOWN_STATION,
                f"The station name {show(name)} has other forms of letters (width,"
                f" compatibility characters): write it as {show(plain)}.",
            )
        problem = look_alike_problem(name, "The station name")
        if problem is not None:
            raise StationError(Code.UNKNOWN_STATION, problem)
    return name


def _note_seen(engine: Engine, name: str, station: int | None) -> None:
    """Register the station or note it as seen now, unless that would wait for a lock."""
    try:
        with writing_briefly(engine) as connection:
            if station is None:
                admin.add_station_once(connection, name)
            else:
                admin.touch_station(connection, station)
    except OperationalError as error:
        if not busy(error):
            raise


def _read(connection: Connection, station: int | None, name: str) -> StationConfig:
    stored = admin.stored_options(connection, station) if station is not None else {}
    values = opts.with_defaults(
        {key: opts.decode(key, text) for key, text in stored.items() if key in opts.OPTIONS}
    )
    code = values["warehouse"]
    found = catalog.warehouse_by_code(connection, code) if code else None
    if found is None:
        first = catalog.first_warehouse(connection)
        found, code = first if first else (None, "")
    return StationConfig(name, values, found, code)


def current(
    connection: Connection, config: StationConfig, *, register: bool = False
) -> StationConfig:
    """The station's options as the database holds them now, in the caller's transaction
    (a posting re-checks its rules against these, not those its session opened with).
    `register`: a posting's write transaction registers a station its start could not."""
    station = admin.station_id(connection, config.name)
    if station is None:
        if register:
            admin.add_station_once(connection, config.name)
        return config
    return _read(connection, station, config.name)


def set_options(
    engine: Engine, name: str, changes: dict[str, str], *, user: str | None, pin: str | None
) -> list[tuple[str, Any, Any]]:
    """Change options as a supervisor; every change is audited. Returns (key, old, new)."""
    parsed = {key: opts.parse_value(key, text) for key, text in changes.items()}
    if not parsed:
        raise StationError(Code.BAD_OPTION_VALUE, "Name at least one KEY=VALUE to set.")
    who = authorize_supervisor(engine, user, pin, station=name)
    station = register(engine, name)
    done: list[tuple[str, Any, Any]] = []
    with engine.begin() as connection:
        wanted = parsed.get("warehouse")
        if wanted and catalog.warehouse_by_code(connection, wanted) is None:
            raise StationError(Code.BAD_OPTION_VALUE, f"No warehouse with code '{wanted}'.")
        stored = admin.stored_options(connection, station)
        _check_generation(connection, name, stored, parsed)
        for key, value in parsed.items():
            old_text = stored.get(key)
            old = _stored(stored, key)
            if old_text is not None and old == value:
                continue
            admin.write_option(connection, station, key, old_text, opts.encode(value), who)
            done.append((key, old, value))
    load(engine, name)  # refresh the local cache
    return done


def _stored(stored: dict[str, str], key: str) -> Any:
    text = stored.get(key)
    return opts.decode(key, text) if text is not None else opts.OPTIONS[key].default


def _check_generation(
    connection: Connection, name: str, stored: dict[str, str], parsed: dict[str, Any]
) -> None:
    """BAD_OPTION_VALUE when a serial_pattern being set makes serials that a serialized
    product's own rule (or the station's serial_length) refuses, or longer than 64
    characters with the catalog's SKUs: refused now, not discovered at a posting."""
    pattern = parsed.get("serial_pattern")
    if pattern is None:
        return
    length = (
        parsed["serial_length"] if "serial_length" in parsed else _stored(stored, "serial_length")
    )
    problem = pattern_problem(connection, pattern, name, length, datetime.now(UTC))
    if problem is not None:
        raise opts.bad_value("serial_pattern", pattern, problem)
