"""Users and supervisor authorization. PINs are stored as salted scrypt hashes only."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from station.codes import Code, StationError
from station.db import admin
from station.db.models import ROLES

_N, _R, _P = 2**14, 8, 1
#: The longest user name (users.name is VARCHAR(100)).
NAME_LENGTH = 100


def hash_pin(pin: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def pin_matches(pin: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        candidate = hashlib.scrypt(
            pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p)
        )
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def check_pin(pin: str) -> None:
    if not (pin.isdigit() and 4 <= len(pin) <= 12):
        raise StationError(Code.BAD_OPTION_VALUE, "A PIN is 4 to 12 digits.")


def authorize_supervisor(engine: Engine, name: str | None, pin: str | None) -> str:
    """The supervisor's name when `name` and `pin` are right; NOT_AUTHORIZED otherwise."""
    if not name or pin is None:
        raise StationError(Code.NOT_AUTHORIZED, "A supervisor's name and PIN are needed.")
    with engine.connect() as connection:
        found = admin.user(connection, name)
    if found is None or not pin_matches(pin, found[1]):
        raise StationError(Code.NOT_AUTHORIZED, f"Wrong user or PIN for '{name}'.")
    if found[0] != "supervisor":
        raise StationError(
            Code.NOT_AUTHORIZED, f"'{name}' is a {found[0]}; only a supervisor may do this."
        )
    return name


def add_user(
    engine: Engine,
    name: str,
    role: str,
    pin: str,
    *,
    by: str | None = None,
    by_pin: str | None = None,
) -> None:
    """Add a user. The first must be a supervisor; later ones need a supervisor's PIN."""
    name = name.strip()
    if not name:
        raise StationError(Code.BAD_OPTION_VALUE, "A user needs a name.")
    if len(name) > NAME_LENGTH:
        raise StationError(
            Code.BAD_OPTION_VALUE,
            f"A user name has at most {NAME_LENGTH} characters; this one has {len(name)}.",
        )
    if role not in ROLES:
        raise StationError(Code.BAD_OPTION_VALUE, f"Role must be one of {', '.join(ROLES)}.")
    check_pin(pin)
    with engine.connect() as connection:
        first = admin.user_count(connection) == 0
    if first and role != "supervisor":
        raise StationError(Code.NOT_AUTHORIZED, "The first user must be a supervisor.")
    if not first:
        authorize_supervisor(engine, by, by_pin)
    try:
        with engine.begin() as connection:
            admin.add_user(connection, name, role, hash_pin(pin))
    except IntegrityError:
        raise StationError(Code.USER_EXISTS, f"A user named '{name}' exists already.") from None


def reset_pin(engine: Engine, name: str, pin: str, *, by: str, by_pin: str) -> None:
    authorize_supervisor(engine, by, by_pin)
    check_pin(pin)
    with engine.begin() as connection:
        if admin.user(connection, name) is None:
            raise StationError(Code.NOT_AUTHORIZED, f"No user named '{name}'.")
        admin.set_pin(connection, name, hash_pin(pin))


def role_of(engine: Engine, name: str) -> str | None:
    with engine.connect() as connection:
        found = admin.user(connection, name)
    return None if found is None else found[0]
