"""The one wiring point: opens the database, loads a station and starts sessions.

Nothing here runs at import time; the GUI, the command line and the tests call these
functions with the settings they were given.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from station import stations
from station.codes import Code, StationError
from station.db import bins
from station.db.engine import open_database, reading
from station.documents import Document
from station.journal import Contents, Journal, journal_path, legacy_journal_path
from station.session import ScanSession
from station.stations import StationConfig
from station.workflow import Workflow, workflow


@dataclass(slots=True)
class JournalDamage:
    """A journal that could not be restored whole: how many records were not (None when
    they cannot be counted), the operator's message and where the file was kept."""

    unrestored: int | None
    message: str
    kept: Path | None

    code = Code.JOURNAL_DAMAGED

    def as_dict(self) -> dict[str, object]:
        unrestored = "unknown" if self.unrestored is None else self.unrestored
        return {"code": str(self.code), "unrestored": unrestored, "message": self.message}


@dataclass(slots=True)
class Opened:
    session: ScanSession
    restored: int
    damaged: JournalDamage | None = None


def connect(url: str | None = None, *, patient: bool = False) -> Engine:
    """An engine on `url` (default: the SQLite file in the user's data directory) whose
    schema is current: a SQLite file is created or upgraded (after a copy is kept), a
    shared PostgreSQL is refused when its schema and this code disagree (see
    station.db.engine.open_database). Its waits for PostgreSQL are bounded (a scan or a
    posting answers within the station's timeout), unless `patient` (long commands)."""
    return open_database(url, patient=patient)


def _make_own_bin(
    engine: Engine, flow: Workflow, config: StationConfig, document: Document
) -> None:
    """The bin a session puts units in when no location is scanned (the station's
    receiving bin) is a known bin before the session posts: made now, in a transaction
    of its own when it is missing, so that postings of several stations into a new bin
    never wait for each other on its row (PostgreSQL). On SQLite, where one writer at a
    time holds the whole ledger anyway, the posting makes it: opening a session never
    waits for another program's write lock."""
    own = flow.own_bin(config, document)
    if not own or engine.dialect.name == "sqlite":
        return
    warehouse_id, _code = flow.bin_warehouse(config, document)
    with reading(engine).connect() as connection:
        if bins.bin_code(connection, warehouse_id, own) is not None:
            return
    with engine.begin() as connection:
        bins.add_bins(connection, warehouse_id, [own])


def open_session(
    engine: Engine,
    station: StationConfig | str,
    kind: str,
    number: str,
    *,
    user: str | None = None,
    journal: bool = True,
    sync: bool = True,
    reason: str | None = None,
) -> Opened:
    """A session of the workflow `kind` ('receive': number = PO, 'ship': order
    number; see station.workflows) at a station; a journal left by a crash is restored
    first."""
    flow = workflow(kind)
    config = station if isinstance(station, StationConfig) else stations.load(engine, station)
    number = number.strip()
    with reading(engine).connect() as connection:
        document = flow.load(connection, number, station=config)
    if document is None:
        raise flow.missing(number)
    closed = flow.not_open(document, config.options)
    names = (kind, config.name, document.number)
    if closed is None:
        _make_own_bin(engine, flow, config, document)
    if closed is not None:
        raise _set_aside(closed, names, journal=journal, sync=sync)
    log = Journal(journal_path(*names), sync=sync) if journal else None
    source, contents = _journal_of(log, *names)
    _check_user(contents, document, config.name, user)
    header = contents.header
    session = ScanSession(
        engine,
        config,
        document,
        flow,
        user=user,
        journal=log,
        session_id=header.get("session_id") if header else None,
        reason=_reason(flow, header, reason),
    )
    if source is None:
        return Opened(session, 0)
    records = contents.records
    restored = session.restore(records) if records else 0
    damaged = contents.damage is not None or restored < len(records)
    kept = source.keep_damaged() if damaged else None
    if restored:
        session.rewrite_journal(records[:restored])
    stale = kept is not None and not restored  # kept aside, and nothing to carry on
    adopted = log is not None and source is not log and log.path.exists()  # renamed
    if stale or adopted:
        with contextlib.suppress(OSError):  # else found again next time, nothing lost
            source.clear()
    if not damaged:
        return Opened(session, restored)
    return Opened(session, restored, _damage(contents, restored, kept, document, config.name))


def _reason(flow: Workflow, header: dict[str, Any] | None, reason: str | None) -> str | None:
    """The session's reason: the journal's (the scans were taken under it), else the one
    given; REASON_REQUIRED when the workflow needs one and there is none."""
    kept = header.get("reason") if header else None
    chosen = kept if isinstance(kept, str) and kept.strip() else reason
    if chosen is not None:
        chosen = " ".join(chosen.split())[:500]  # one line, bounded: it goes on documents
    if flow.facts.needs_reason and not chosen:
        raise StationError(
            Code.REASON_REQUIRED,
            f"{flow.words.title} needs a reason: say why with --reason (it is kept with the"
            " adjustment).",
        )
    return chosen or None


def _set_aside(
    closed: StationError, names: tuple[str, str, str], *, journal: bool, sync: bool
) -> StationError:
    """The document was closed while this station had unsaved scans of it (another
    station finished it): they can never be posted, so the journal is kept aside under a
    new name, no longer offered for resuming, and the refusal says where it went."""
    if not journal:
        return closed
    source, contents = _journal_of(Journal(journal_path(*names), sync=sync), *names)
    if source is None or not (contents.records or contents.lost):
        return closed
    count = len(contents.records) + (contents.lost or 0)
    kept = source.keep_damaged("closed")
    if kept is None:
        where = f"could not be kept aside (it stays as {source.path})"
    else:
        where = f"were kept as {kept}"
        with contextlib.suppress(OSError):  # else found again next time, nothing lost
            source.clear()
    return StationError(
        closed.code,
        f"{closed.message} This station's {count} unsaved scans of it were never posted"
        f" and {where}: check them against the goods.",
    )


def _journal_of(
    log: Journal | None, kind: str, station: str, number: str
) -> tuple[Journal | None, Contents]:
    """The journal to restore and what it holds: this session's own, or one that a
    version before the hashed names kept under the sanitized names, adopted only when its
    header names exactly this session. A header naming another session is damage."""
    if log is None:
        return None, Contents()
    contents = log.contents()
    if contents.header is None and contents.damage is None:
        legacy = Journal(legacy_journal_path(kind, station, number), sync=log.sync)
        found = legacy.contents()
        if found.header is not None and _names(found.header) == (kind, station, number):
            return legacy, found
        return None, Contents()
    header = contents.header
    if header is None:
        return log, contents
    lost = len(contents.records) + (contents.lost or 0)
    if _names(header) != (kind, station, number):
        names = " ".join(str(name) for name in _names(header))
        return log, Contents(damage=f"it belongs to another session ({names})", lost=lost)
    user = header.get("user")
    if not isinstance(header.get("session_id"), str) or not (user is None or isinstance(user, str)):
        return log, Contents(damage="its header is not a session's", lost=lost)
    return log, contents


def _names(header: dict[str, Any]) -> tuple[object, object, object]:
    return header.get("kind"), header.get("station"), header.get("document")


def _check_user(contents: Contents, document: Document, station: str, user: str | None) -> None:
    """SESSION_OTHER_USER: a session journaled by one user is continued by that user only,
    so every scan of a posting is the posting user's."""
    header = contents.header
    if header is None or not (contents.records or contents.lost):
        return
    started_by = header.get("user")
    if started_by == user:
        return
    who = started_by or "no user named"
    raise StationError(
        Code.SESSION_OTHER_USER,
        f"{document.number} on station {station} has {len(contents.records)} unsaved scans"
        f" by {who}: continue as {who}, or have {who} open it and clear it (CMD-RESCAN)"
        " first. A session is finished by the user who started it.",
    )


def _damage(
    contents: Contents, restored: int, kept: Path | None, document: Document, station: str
) -> JournalDamage:
    reason = contents.damage or f"record {restored + 1} does not fit the session"
    lost = None if contents.lost is None else contents.lost + len(contents.records) - restored
    count = "an unknown number" if lost is None else str(lost)
    where = f"kept as {kept}" if kept else "could not be kept aside"
    return JournalDamage(
        lost,
        f"The journal of {document.number} on station {station} was damaged ({reason}):"
        f" {restored} scans restored, {count} could not be — check the scanned rows against"
        f" the goods. The damaged file {where}.",
        kept,
    )


def pending_journals(kind: str | None = None) -> list[dict[str, object]]:
    """Sessions left in progress on this machine (for the GUI's "Resume …?"); a file
    that cannot be read is left to the session it belongs to."""
    from station.db.engine import data_dir

    found = []
    for path in sorted((data_dir() / "journal").glob("*.jsonl")):
        header, records = Journal(path).read()
        if header and records and (kind is None or header.get("kind") == kind):
            found.append({**header, "scans": len(records)})
    return found
