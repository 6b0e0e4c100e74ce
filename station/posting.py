"""What a posting answers, and the one transaction every posting runs in (STYLE §3):
all or nothing, a constraint the rules did not foresee turned into a refusal, an
unreachable database left to the caller (the session keeps its scans)."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from station.codes import Code, StationError
from station.db.bulk import Progress
from station.documents import Document
from station.grid import Entry
from station.stations import StationConfig


@dataclass(frozen=True, slots=True)
class Posting:
    """A save as a command (STYLE §3): the workflow, its document, the station, the user,
    the session id it is idempotent by, and the grid's rows. Built by the session; the
    posting never sees the live session."""

    kind: str
    document: Document
    station: StationConfig
    user: str | None
    session_id: str
    entries: tuple[Entry, ...]
    #: Why (an adjustment's reason, required there; None elsewhere).
    reason: str | None = None
    #: When the session began (a count: what was posted on its bin since).
    started: datetime | None = None
    #: Told (units written, units) between the steps of the write, on the thread that
    #: posts (the window's banner counts them); not part of what is posted.
    progress: Progress | None = field(default=None, compare=False, repr=False)

    @property
    def units(self) -> int:
        return sum(entry.qty for entry in self.entries)


@dataclass(slots=True)
class PostingResult:
    """What a posting did: `{"posted": true, "document": …, "units": N}` or a refusal."""

    posted: bool
    code: Code = Code.OK
    message: str = ""
    document: str | None = None
    units: int = 0
    already_posted: bool = False
    #: True for the save that follows one whose outcome was unknown: its line then says
    #: `already_posted` true or false either way.
    resolves_unknown: bool = False
    serials: list[str] = field(default_factory=list)
    generated: list[str] = field(default_factory=list)
    #: What was posted, for labels and slips: (document line index, serial, quantity).
    posted_units: list[tuple[int, str | None, int]] = field(default_factory=list)
    #: Lists a posting answers with besides (a count: "missing", "misplaced", "found").
    lists: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def refused(cls, code: Code, message: str, serials: list[str] | None = None) -> PostingResult:
        return cls(False, code, message, serials=serials or [])

    @classmethod
    def from_error(cls, error: StationError) -> PostingResult:
        return cls.refused(error.code, error.message)

    def as_dict(self) -> dict[str, Any]:
        if self.posted:
            data: dict[str, Any] = {
                "posted": True,
                "document": self.document,
                "units": self.units,
                "message": self.message,
            }
            if self.already_posted or self.resolves_unknown:
                data["already_posted"] = self.already_posted
            if self.generated:
                data["generated"] = self.generated
            data.update(self.lists)
            return data
        data = {"posted": False, "code": str(self.code), "message": self.message}
        if self.serials:
            data["serials"] = self.serials
        return data


class OutcomeUnknown(Exception):
    """The connection to a database server was lost during COMMIT: the posting may or
    may not have been written. The session keeps its scans; saving it again answers
    which, since a session posts once (its session id)."""


@contextmanager
def collections_paused() -> Iterator[None]:
    """No automatic garbage collection inside: a posting allocates a lot, and a
    collection of the whole heap started by whichever allocation makes the count due
    costs a 10,000-unit posting 0.3 s (and holds the interpreter lock, the GUI thread's
    too). What the work leaves is freed by reference counting as usual; cycles wait for
    the next collection, after it."""
    collecting = gc.isenabled()
    if collecting:
        gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def post_in_one_transaction(
    engine: Engine,
    post: Callable[[Connection], PostingResult],
    on_conflict: Callable[[IntegrityError], PostingResult],
) -> PostingResult:
    """Run `post` in one transaction. A refused rule (any StationError, with its code)
    and a database refusal write nothing; `on_conflict` explains a unique-key conflict
    (another station was first). OperationalError (database unreachable or busy)
    propagates; OutcomeUnknown when it came during the commit to a server."""
    try:
        with collections_paused(), engine.connect() as connection:
            transaction = connection.begin()
            try:
                result = post(connection)
            except BaseException:
                transaction.rollback()
                raise
            _commit(transaction, connection)
            return result
    except StationError as refusal:
        return PostingResult.refused(refusal.code, refusal.message, refusal.serials)
    except IntegrityError as error:
        return on_conflict(error)
    except OperationalError:
        raise
    except DBAPIError as error:
        return refused_by_database(error)


def _commit(transaction: Any, connection: Connection) -> None:
    """Commit; a server's connection lost now leaves the outcome unknown (SQLite's
    commit is local: a failed one wrote nothing)."""
    try:
        transaction.commit()
    except OperationalError as error:
        if connection.dialect.name == "sqlite" or not connection.invalidated:
            raise
        raise OutcomeUnknown(str(error)) from error


def already_posted(document: str, number: str, units: int) -> PostingResult:
    """The answer to a retried posting: the first posting's document, nothing written."""
    return PostingResult(
        True,
        Code.OK,
        f"Already posted as {document} {number}: nothing written again.",
        document=number,
        units=units,
        already_posted=True,
    )


def refused_by_database(error: Exception) -> PostingResult:
    """A constraint the rules did not foresee refused the posting: nothing was written."""
    reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
    return PostingResult.refused(
        Code.POSTING_FAILED, f"The database refused the posting ({reason}); nothing was written."
    )
