"""Users, PIN checks and authorization (SPEC §2, §4, §7).

PINs are stored as salted scrypt hashes only; no PIN, hash or salt is ever shown. Every
PIN check goes through `verify_pin`, throttled per user in the database: after
`PIN_TRIES` wrong PINs the user is locked for `FIRST_LOCK`, each later lock twice as long
as the one before (at most `LONGEST_LOCK`); a right PIN clears the count. The count and
the lock are judged and written in one transaction with the user's row locked, so
guessers running in parallel get no more tries than one guesser. Every refused PIN is
audited (the name given, when, the station when known, why).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from station.codes import Code, StationError
from station.db import admin
from station.db.engine import reading
from station.db.models import ROLES, utcnow
from station.scanning import serial_key, show
from station.serials import look_alike_problem

_N, _R, _P = 2**14, 8, 1
#: Wrong PINs in a row that lock a user.
PIN_TRIES = 5
#: The first lock; each later one lasts twice as long, up to LONGEST_LOCK.
FIRST_LOCK = timedelta(seconds=30)
LONGEST_LOCK = timedelta(hours=1)
#: A user badge is a barcode of this prefix and the user's name (`USER-sue`).
BADGE_PREFIX = "USER-"
NAME_LIMIT = 100


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
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 12):
        raise StationError(Code.BAD_OPTION_VALUE, "A PIN is 4 to 12 digits (0-9).")


def lock_time(lockouts: int) -> timedelta:
    """How long the lock after `lockouts` earlier locks lasts."""
    return min(FIRST_LOCK * 2 ** min(lockouts, 20), LONGEST_LOCK)


def badge_name(scan: str) -> str | None:
    """The user a badge scan names (`USER-<name>`), or None when it is not a badge."""
    text = scan.strip()
    if text[: len(BADGE_PREFIX)].upper() != BADGE_PREFIX:
        return None
    return text[len(BADGE_PREFIX) :].strip() or None


# --- the PIN check ----------------------------------------------------------------------


def verify_pin(
    engine: Engine, name: str | None, pin: str | None, *, station: str | None = None
) -> str:
    """The user's role when `pin` is their PIN and they are not locked; NOT_AUTHORIZED
    (wrong user or PIN) or USER_LOCKED (saying when to try again) otherwise."""
    name = (name or "").strip()
    if not name or not pin:
        raise StationError(Code.NOT_AUTHORIZED, "A user's name and PIN are needed.")
    with reading(engine).connect() as connection:
        seen = admin.user(connection, name)
    # The slow hash runs before the row is locked: a check holds the lock only to count.
    matched = pin_matches(pin, seen.pin_hash if seen else _UNKNOWN)
    with engine.begin() as connection:
        found = admin.user(connection, name, lock=True)
        refusal = _judge(connection, name, station, found, matched, seen, pin)
    if refusal is not None:  # raised after the transaction: the audit record is kept
        raise refusal
    assert found is not None
    return found.role


#: Checked against for a name with no user (matches no PIN), so that its answer takes as
#: long as a real user's.
_UNKNOWN = f"scrypt${_N}${_R}${_P}${'00' * 16}${'00' * 64}"


def _judge(
    connection: Connection,
    name: str,
    station: str | None,
    found: admin.StoredUser | None,
    matched: bool,
    seen: admin.StoredUser | None,
    pin: str,
) -> StationError | None:
    """Count this try against the locked row `found`; the refusal to raise, if any."""
    now = utcnow()
    station = station[:NAME_LIMIT] if station else None
    wrong = StationError(Code.NOT_AUTHORIZED, f"Wrong user or PIN for {show(name, 40)!r}.")
    if found is None:
        admin.record_pin_failure(connection, name[:NAME_LIMIT], station, "unknown_user", now)
        return wrong
    if found.locked_until is not None and found.locked_until > now:
        admin.record_pin_failure(connection, found.name, station, "locked", now)
        return locked(found.name, found.locked_until, now)
    if seen is None or seen.pin_hash != found.pin_hash:  # the PIN was reset meanwhile
        matched = pin_matches(pin, found.pin_hash)
    if matched:
        if found.failed_pins or found.lockouts or found.locked_until is not None:
            admin.set_pin_state(connection, found.name, 0, 0, None)
        return None
    admin.record_pin_failure(connection, found.name, station, "wrong_pin", now)
    failed = found.failed_pins + 1
    if failed < PIN_TRIES:
        admin.set_pin_state(connection, found.name, failed, found.lockouts, None)
        return wrong
    until = now + lock_time(found.lockouts)
    admin.set_pin_state(connection, found.name, 0, found.lockouts + 1, until)
    return locked(found.name, until, now, just=True)


def locked(name: str, until: datetime, now: datetime, *, just: bool = False) -> StationError:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    wait = f"{seconds} s" if seconds < 120 else f"{math.ceil(seconds / 60)} min"
    why = "Wrong PIN; " if just else ""
    return StationError(
        Code.USER_LOCKED,
        f"{why}{name} is locked after {PIN_TRIES} wrong PINs in a row: try again after"
        f" {until:%Y-%m-%d %H:%M:%S} UTC (in {wait}), or have a supervisor reset the PIN.",
    )


def authorize_supervisor(
    engine: Engine, name: str | None, pin: str | None, *, station: str | None = None
) -> str:
    """The supervisor's name when `name` and `pin` are right; NOT_AUTHORIZED otherwise
    (USER_LOCKED while the user is locked)."""
    if not name or not pin:
        raise StationError(Code.NOT_AUTHORIZED, "A supervisor's name and PIN are needed.")
    name = name.strip()
    role = verify_pin(engine, name, pin, station=station)
    if role != "supervisor":
        raise StationError(
            Code.NOT_AUTHORIZED, f"'{name}' is a {role}; only a supervisor may do this."
        )
    return name


def sign_in(engine: Engine, name: str, pin: str, *, station: str | None = None) -> str:
    """The role of the operator signing in with `name` and `pin` (throttled)."""
    return verify_pin(engine, name, pin, station=station)


def check_operator(engine: Engine, name: str, kind: str, allowed: tuple[str, ...]) -> str:
    """The role of the operator named for a `kind` session (receive, ship), whose
    workflow `allowed` roles run: UNKNOWN_USER when no user has that name,
    NOT_AUTHORIZED when the role may not."""
    with reading(engine).connect() as connection:
        found = admin.user(connection, name)
    if found is None:
        raise StationError(
            Code.UNKNOWN_USER,
            f"No user named {show(name, 40)!r}; a supervisor adds users (station users add).",
        )
    if found.role not in allowed:
        raise StationError(
            Code.NOT_AUTHORIZED,
            f"{found.name} is a {found.role}; {kind} is done by a {' or a '.join(allowed)}.",
        )
    return found.role


# --- managing users -----------------------------------------------------------------------


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise StationError(Code.BAD_OPTION_VALUE, "A user needs a name.")
    if len(name) > NAME_LIMIT or not name.isprintable():
        raise StationError(
            Code.BAD_OPTION_VALUE,
            f"A user's name is at most {NAME_LIMIT} printable characters.",
        )
    if not name.isascii():  # one person, one name a reader tells apart from the others
        problem = look_alike_problem(name, "The name")
        if problem is not None:
            raise StationError(Code.BAD_OPTION_VALUE, problem)
    return name


def _refuse_same_reading(connection: Connection, name: str) -> None:
    """USER_EXISTS for a name that reads as another user's (`Boss`, `boss`, `ＢＯＳＳ`):
    postings and audit records must name a user a reader can tell apart."""
    key = serial_key(name)
    for other, _role in admin.users(connection):
        if other != name and serial_key(other) == key:
            raise StationError(
                Code.USER_EXISTS,
                f"A user named {other!r} exists already, and {name!r} reads the same:"
                " choose a name that differs in more than case, width or spacing.",
            )


def add_user(
    engine: Engine,
    name: str,
    role: str,
    pin: str,
    *,
    by: str | None = None,
    by_pin: str | None = None,
    station: str | None = None,
) -> None:
    """Add a user. The first must be a supervisor and needs nobody's PIN (one first user,
    however many first runs race: the database refuses a second claim); later ones need
    a supervisor's PIN."""
    name = _check_name(name)
    if role not in ROLES:
        raise StationError(Code.BAD_OPTION_VALUE, f"Role must be one of {', '.join(ROLES)}.")
    check_pin(pin)
    with reading(engine).connect() as connection:
        first = admin.user_count(connection) == 0
    if first and role != "supervisor":
        raise StationError(Code.NOT_AUTHORIZED, "The first user must be a supervisor.")
    if not first:
        authorize_supervisor(engine, by, by_pin, station=station)
    pin_hash = hash_pin(pin)
    try:
        with engine.begin() as connection:
            if first:
                admin.claim_first_user(connection, name)
            _refuse_same_reading(connection, name)
            admin.add_user(connection, name, role, pin_hash)
    except IntegrityError:
        with reading(engine).connect() as connection:
            exists = admin.user(connection, name) is not None
        if exists:
            raise StationError(Code.USER_EXISTS, f"A user named '{name}' exists already.") from None
        raise StationError(
            Code.NOT_AUTHORIZED,
            f"Another first supervisor was created at the same moment; '{name}' was not"
            " added: that supervisor adds the next users.",
        ) from None


def reset_pin(
    engine: Engine, name: str, pin: str, *, by: str, by_pin: str, station: str | None = None
) -> None:
    """A supervisor sets a user's new PIN; the user's wrong PINs and lock are cleared."""
    authorize_supervisor(engine, by, by_pin, station=station)
    check_pin(pin)
    with engine.begin() as connection:
        if admin.user(connection, name) is None:
            raise StationError(Code.UNKNOWN_USER, f"No user named {show(name, 40)!r}.")
        admin.set_pin(connection, name, hash_pin(pin))


def role_of(engine: Engine, name: str) -> str | None:
    with reading(engine).connect() as connection:
        found = admin.user(connection, name)
    return None if found is None else found.role
