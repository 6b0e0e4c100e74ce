"""Company-wide settings (SPEC §2, §4): `serial_scope` = product | global,
`serial_charset` = ascii | unicode."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine

from station.codes import Code, StationError
from station.db import company
from station.db.engine import reading
from station.scanning import show
from station.serials import CHARSETS
from station.users import authorize_supervisor

SCOPES = ("product", "global")


def serial_scope(engine: Engine) -> str:
    with reading(engine).connect() as connection:
        return company.serial_scope(connection)


def serial_charset(engine: Engine) -> str:
    with reading(engine).connect() as connection:
        return company.serial_charset(connection)


def set_serial_scope(engine: Engine, scope: str, *, user: str | None, pin: str | None) -> None:
    """Change the scope as a supervisor. Going global is refused, with the serials named,
    while any serial exists on two products."""
    if scope not in SCOPES:
        raise StationError(Code.BAD_OPTION_VALUE, "serial_scope must be product or global.")
    _change(
        engine,
        user,
        pin,
        lambda connection: company.set_serial_scope(connection, scope),
        blockers=company.duplicate_serials if scope == "global" else None,
        refusal="serial_scope=global refused: these serials exist on more than one product",
    )


def set_serial_charset(engine: Engine, charset: str, *, user: str | None, pin: str | None) -> None:
    """Change the charset as a supervisor. Going back to ascii is refused, with serials
    named, while any unit's serial is not printable ASCII. No key changes: the key
    function is the same under both."""
    if charset not in CHARSETS:
        raise StationError(Code.BAD_OPTION_VALUE, "serial_charset must be ascii or unicode.")
    _change(
        engine,
        user,
        pin,
        lambda connection: company.set_serial_charset(connection, charset),
        blockers=company.non_ascii_serials if charset == "ascii" else None,
        refusal="serial_charset=ascii refused: these serials are not printable ASCII",
    )


def _change(
    engine: Engine,
    user: str | None,
    pin: str | None,
    store: Callable[[Connection], None],
    *,
    blockers: Callable[[Connection], list[str]] | None,
    refusal: str,
) -> None:
    """Store a setting as a supervisor, in one transaction; refused, naming them, while
    any serial `blockers` finds stands in the way."""
    authorize_supervisor(engine, user, pin)
    with engine.begin() as connection:
        found = blockers(connection) if blockers is not None else []
        if found:
            raise StationError(
                Code.BAD_OPTION_VALUE, f"{refusal}: {', '.join(show(s) for s in found)}."
            )
        store(connection)
