"""Company-wide settings (SPEC §2, §4): `serial_scope` = product | global,
`serial_charset` = ascii | unicode."""

from __future__ import annotations

from sqlalchemy import Engine

from station.codes import Code, StationError
from station.db import ledger
from station.db.engine import reading
from station.scanning import show
from station.serials import CHARSETS
from station.users import authorize_supervisor

SCOPES = ("product", "global")


def serial_scope(engine: Engine) -> str:
    with reading(engine).connect() as connection:
        return ledger.serial_scope(connection)


def set_serial_scope(engine: Engine, scope: str, *, user: str | None, pin: str | None) -> None:
    """Change the scope as a supervisor. Going global is refused, with the serials named,
    while any serial exists on two products."""
    if scope not in SCOPES:
        raise StationError(Code.BAD_OPTION_VALUE, "serial_scope must be product or global.")
    authorize_supervisor(engine, user, pin)
    with engine.begin() as connection:
        if scope == "global":
            shared = ledger.duplicate_serials(connection)
            if shared:
                raise StationError(
                    Code.BAD_OPTION_VALUE,
                    "serial_scope=global refused: these serials exist on more than one"
                    f" product: {', '.join(shared)}.",
                )
        ledger.set_serial_scope(connection, scope)


def serial_charset(engine: Engine) -> str:
    with reading(engine).connect() as connection:
        return ledger.serial_charset(connection)


def set_serial_charset(engine: Engine, charset: str, *, user: str | None, pin: str | None) -> None:
    """Change the charset as a supervisor. Going back to ascii is refused, with serials
    named, while any unit's serial is not printable ASCII. Keys never change: the key
    function is the same under both."""
    if charset not in CHARSETS:
        raise StationError(Code.BAD_OPTION_VALUE, "serial_charset must be ascii or unicode.")
    authorize_supervisor(engine, user, pin)
    with engine.begin() as connection:
        if charset == "ascii":
            others = ledger.non_ascii_serials(connection)
            if others:
                raise StationError(
                    Code.BAD_OPTION_VALUE,
                    "serial_charset=ascii refused: these serials are not printable ASCII:"
                    f" {', '.join(show(serial) for serial in others)}.",
                )
        ledger.set_serial_charset(connection, charset)
