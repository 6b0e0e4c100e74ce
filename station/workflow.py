"""What a workflow is: the part of a scan-and-post workflow that differs from the others.

The session core (`station.session.ScanSession`) reads every scan the same way (SPEC
§3.0), keeps the grid, the journal and the commands every workflow shares, and builds
the verdicts; the posting scaffold (`post_document`, below) runs every posting
in one transaction, idempotent by session id. A workflow supplies the rest: which
document it works on and how it is loaded, how much room a line has, the serial rules,
the commands and modes of its own, what a posting plans to move, and the words its
screens show. Each workflow is one package (`station.receive`, `station.ship`) holding
one `Workflow` object (its `WORKFLOW`); `station.workflows` registers them.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from station import stations
from station.codes import Code, StationError, Verdict
from station.db import ledger, units
from station.documents import Document, DocumentLine, UnitInfo
from station.grid import Entry
from station.movement import Movement, Stamp
from station.posting import (
    Posting,
    PostingResult,
    already_posted,
    post_in_one_transaction,
    refused_by_database,
)
from station.rules import Problem, no_room
from station.scanning import Scan
from station.stations import StationConfig

if TYPE_CHECKING:
    from station.printing import PrintJob


@dataclass(frozen=True, slots=True)
class Words:
    """What the screens and messages call a workflow's things (the workflow's table in
    station/resources/workflows.toml)."""

    title: str  # "Receive" — the wizard's first word
    menu: str  # "Receive": the home page's button
    choose: str  # the choose page's title
    doing: str  # "Receiving" — the scanning page's title
    document: str  # "purchase order"
    document_short: str  # "PO": in verdicts ("not on PO …")
    party: str  # "Vendor": the choose page's column
    before: str  # "Received": the lines column of what was done before
    now: str  # "Now": the lines column of this session's units
    left: str  # "{n} left to receive"
    done: str  # "All received"
    filter_hint: str  # the choose page's filter field
    save: str  # the save button
    preview: str  # the preview button: "Label preview"
    room: tuple[str, str, str]  # OVER_RECEIPT's words: ("ordered", "received", "scanned")
    missing: str  # "No purchase order {number}."
    gone: str  # at posting: "PO {number} no longer exists."
    nothing: str  # NOTHING_TO_POST's message
    posted: str  # "Received {total} unit(s) on {document}: receipt {number}."


@cache
def words_of(kind: str) -> Words:
    """The words of the workflow `kind`, read from the package's resources."""
    table = tomllib.loads(resources.files("station.resources").joinpath(WORDS).read_text("utf-8"))
    words = table[kind]
    return Words(**{**words, "room": tuple(words["room"])})


WORDS = "workflows.toml"


@dataclass(frozen=True, slots=True)
class Header:
    """The posting header a workflow writes: its table's kind ("receipt"), the document
    number prefix ("RCV") and the column naming the workflow's document ("po_id")."""

    kind: str
    prefix: str
    document_column: str


@dataclass(frozen=True, slots=True)
class Draft:
    """What a workflow's `plan` sees inside the posting's transaction: the connection,
    the posting, its document as it is now (locked), the document's lines in the
    session's order, the station as it is now, and what the workflow prepared before
    the transaction (`extra`)."""

    connection: Connection
    posting: Posting
    document: Document
    lines: list[DocumentLine]
    station: StationConfig
    workflow: Workflow
    extra: Any = None


class Session(Protocol):
    """What a workflow's rules and commands use of the session core
    (`station.session.ScanSession`)."""

    engine: Engine
    station: StationConfig
    document: Document
    user: str | None
    entries: list[Entry]
    doc_keys: frozenset[str]

    def check_room(self, index: int, extra: int = 1) -> None: ...
    def check_duplicate(
        self, connection: Connection, index: int, serial: str, key: str
    ) -> None: ...
    def units_with_serial(self, connection: Connection, key: str) -> list[UnitInfo]: ...
    def serial_charset(self, connection: Connection) -> str: ...
    def serial_scope(self, connection: Connection) -> str: ...
    def lookup_connection(self) -> Connection: ...
    def gs1_line(self, connection: Connection, scan: Scan) -> int: ...
    def set_mode(self, mode: str | None, scan: Scan) -> None: ...
    def remove(self, index: int) -> Entry: ...


class Workflow:
    """Base of every workflow: the defaults of a workflow on a document with lines."""

    #: The session kind ("receive"): journal names, `station scan --receive`, roles.
    kind: str = ""
    #: The document kind its loader reads ("po", "order").
    document_kind: str = ""
    #: The kind of station that runs it ("receive", "ship"; a "both" station runs all).
    station_kind: str = ""
    #: The F-key of the desktop app that opens it.
    key: str = ""
    #: The roles whose operators may run it (SPEC §1).
    roles: tuple[str, ...] = ("supervisor",)
    header: Header
    #: The refusal of an item of the catalog that is not on the document.
    item_not_on_document: Code = Code.ITEM_NOT_ON_PO
    #: Receive: an item scan of a serialized line adds a unit that awaits its serial.
    item_adds_unit: bool = False
    #: What its postings print, and its preview shows: "labels" (one per unit) or "slip".
    prints: str = ""
    #: The event each moved unit gets ("received", "shipped").
    event: str = ""
    #: What a posting refused at the last moment says was done: "nothing posted".
    nothing_done: str = "nothing posted"

    #: The refusals of a document not found, and of a line with no room left.
    missing_code: Code = Code.PO_NOT_FOUND
    room_code: Code = Code.OVER_RECEIPT
    #: The document's status once every line is done ("received", "shipped").
    finished: str = ""

    @property
    def words(self) -> Words:
        return words_of(self.kind)

    # --- the document -------------------------------------------------------------------

    def load(self, connection: Connection, number: str, *, lock: bool = False) -> Document | None:
        return ledger.document(connection, self.document_kind, number, lock=lock)

    def missing(self, number: str, *, posting: bool = False) -> StationError:
        """The document does not exist (or no longer, at posting)."""
        if posting:
            return Problem(self.missing_code, self.words.gone.format(number=number))
        return StationError(self.missing_code, self.words.missing.format(number=number))

    def not_open(self, document: Document, options: dict[str, Any]) -> Problem | None:
        """The document takes no scans now (closed, finished)."""
        return None

    # --- lines and serials ---------------------------------------------------------------

    def room_problem(self, line: DocumentLine, scanned: int, extra: int = 1) -> Problem | None:
        """OVER_RECEIPT / OVER_PACK and the like: `extra` more units do not fit."""
        return no_room(line, scanned, extra, self.room_code, self.words.room)

    def allow_over(self, options: dict[str, Any]) -> bool:
        return False

    def item_counts_while_awaiting(self, options: dict[str, Any]) -> bool:
        """An item scan while a serial is awaited counts one more unit (receive with
        generate_serials: the unit's serial is made at posting)."""
        return False

    def check_serial(self, session: Session, index: int, serial: str, *, room: bool) -> int | None:
        """Every rule of the workflow for one serial on line `index`, in the spec's order
        (`room`: whether the line must have room for one more unit); the unit's id when
        the serial names an existing unit."""
        raise NotImplementedError

    # --- commands and modes --------------------------------------------------------------

    def command(self, session: Session, scan: Scan, command: str) -> Verdict | None:
        """A command of this workflow's own (CMD-NOTFOUND); None when it has none by
        that name."""
        return None

    def mode_prompt(self, mode: str) -> str:
        return "Scan an item"

    def mode_scan(self, session: Session, mode: str, scan: Scan) -> Verdict:
        """The scan a mode was waiting for."""
        raise NotImplementedError(mode)

    # --- posting -------------------------------------------------------------------------

    def post(self, engine: Engine, posting: Posting) -> PostingResult:
        """Post a session's grid (`post_document` unless the workflow must do more
        first)."""
        return post_document(engine, posting, self)

    def plan(self, draft: Draft) -> Movement:
        """Every rule again, against the ledger as it is inside the posting's
        transaction, and what the posting moves."""
        raise NotImplementedError

    def status_after(self, document: Document, done: dict[int, int]) -> str:
        """The document's status once `done` more units per line id are posted."""
        complete = all(line.done + done.get(line.id, 0) >= line.qty for line in document.lines)
        return self.finished if complete else "partial"

    def explain_conflict(
        self, connection: Connection, posting: Posting, extra: Any
    ) -> PostingResult | None:
        """After a unique-key conflict (another station was first): why, when the
        workflow can say; None for the database's own words."""
        return None

    def print_jobs(
        self, document: Document, result: PostingResult, station: StationConfig
    ) -> list[PrintJob]:
        """What a successful posting prints (labels, a packing slip)."""
        return []


def post_document(
    engine: Engine, posting: Posting, workflow: Workflow, extra: Any = None
) -> PostingResult:
    """Post a session's grid in one transaction (STYLE §3): a retry of a posted session
    answers with the first posting and writes nothing; the document is locked, every
    rule checked again against the ledger as it is now (`workflow.plan`), then the
    posting header, the units (`station.db.units.move`), the lines' quantities and the
    document's status are written. `extra`: what the workflow prepared outside the
    transaction (receive: the serials it generated)."""
    return post_in_one_transaction(
        engine,
        lambda connection: _post(connection, posting, workflow, extra),
        lambda error: _explain_conflict(engine, posting, workflow, extra, error),
    )


def _post(
    connection: Connection, posting: Posting, workflow: Workflow, extra: Any
) -> PostingResult:
    header = workflow.header
    earlier = ledger.posting_by_session(connection, header.kind, posting.session_id)
    if earlier is not None:
        return already_posted(header.kind, *earlier)
    number = posting.document.number
    document = workflow.load(connection, number, lock=True)
    if document is None:
        raise workflow.missing(number, posting=True)
    station = stations.current(connection, posting.station, register=True)
    problem = workflow.not_open(document, station.options)
    if problem is not None:
        raise problem
    if not posting.entries:
        raise Problem(Code.NOTHING_TO_POST, workflow.words.nothing)
    by_id = {line.id: line for line in document.lines}
    lines = [by_id[line.id] for line in posting.document.lines]
    movement = workflow.plan(Draft(connection, posting, document, lines, station, workflow, extra))
    done: Counter[int] = Counter()
    for entry in posting.entries:
        done[lines[entry.line].id] += entry.qty
    total = sum(done.values())
    posted = f"{header.prefix}-{ledger.document_number(connection, header.kind):06d}"
    header_id = ledger.add_posting(
        connection,
        header.kind,
        number=posted,
        session_id=posting.session_id,
        station=station.name,
        user_name=posting.user,
        units=total,
        posted_at=movement.at,
        **{header.document_column: document.id},
    )
    stamp = Stamp(workflow.event, movement.at, station.name, posting.user, header.kind, posted)
    link = {f"{header.kind}_id": header_id}
    if units.move(connection, movement, stamp, link) != len(movement.changed):
        # cannot happen under the row locks; refuse rather than guess
        raise Problem(Code.POSTING_FAILED, f"Units changed while locked; {workflow.nothing_done}.")
    ledger.add_line_quantities(connection, document.kind, dict(done))
    status = workflow.status_after(document, done)
    ledger.set_document_status(connection, document.kind, document.id, status)
    return PostingResult(
        True,
        Code.OK,
        workflow.words.posted.format(total=total, document=document.number, number=posted),
        document=posted,
        units=total,
        generated=movement.generated,
        posted_units=movement.posted_units,
    )


def _explain_conflict(
    engine: Engine, posting: Posting, workflow: Workflow, extra: Any, error: IntegrityError
) -> PostingResult:
    """A unique key refused the posting: this very session posted meanwhile, another
    station was first (the workflow says with what), or a constraint the rules did not
    foresee."""
    with engine.connect() as connection:
        kind = workflow.header.kind
        earlier = ledger.posting_by_session(connection, kind, posting.session_id)
        if earlier is not None:
            return already_posted(kind, *earlier)
        explained = workflow.explain_conflict(connection, posting, extra)
    return explained or refused_by_database(error)
