"""Company-wide settings (SPEC §2, §4): `serial_scope` = product | global."""

from __future__ import annotations

from sqlalchemy import Engine

from station.codes import Code, StationError
from station.db import ledger
from station.db.engine import reading
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
