"""What a workflow is: the part of a scan-and-post workflow that differs from the others.

The session core (`station.session.ScanSession`) reads every scan the same way (SPEC
§3.0), keeps the grid, the journal and the commands every workflow shares, and builds
the verdicts; the posting scaffold (`post_document`, below) runs every posting
in one transaction, idempotent by session id. A workflow supplies the rest: which
document it works on and how it is loaded, how much room a line has, the serial rules,
the commands and modes of its own, what a posting plans to move, and the words its
screens show. Each workflow is one package (`station.receive`, `station.ship`) holding
one `Workflow` object (its `WORKFLOW`); `station.workflows` registers them with their
facts (station/resources/workflows.toml).
"""

from __future__ import annotations

import importlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from station import stations
from station.codes import Code, StationError, Verdict
from station.db import bins, documents, units
from station.documents import Document, DocumentLine, Product, UnitInfo
from station.grid import Entry
from station.movement import Movement, Stamp
from station.posting import (
    Posting,
    PostingResult,
    already_posted,
    post_in_one_transaction,
    refused_by_database,
)
from station.rules import Problem, already_exists, check_serial_rules, no_room
from station.scanning import Scan, serial_key, show
from station.stations import StationConfig
from station.workflows import REGISTRY, Facts, Words, facts

if TYPE_CHECKING:
    from station.printing import PrintJob

#: How many of the lines a posting leaves open its verdict names ("… and 2 more lines").
OPEN_LINES_NAMED = 3


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
    #: What the verdict of the serial being checked says besides (a count: "misplaced:
    #: the ledger has it in MAIN bin A-07"); set by `check_serial`.
    note: str

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
    def line_of_product(self, product: Product) -> int: ...
    def remove(self, index: int) -> Entry: ...
    def add_unit(self, index: int, scan: Scan) -> None: ...
    def item_line(self, connection: Connection, scan: Scan) -> int: ...


class Workflow:
    """Base of every workflow: its facts from the registry (`station.workflows`), the
    defaults of a workflow on a document with lines, and the hooks a workflow's package
    overrides."""

    #: The session kind ("receive"): the workflow's table in the registry.
    kind: str = ""
    #: A serial scanned with no item selected names its unit, and so its line
    #: (`line_of_serial`); where units are created, the item comes first.
    serial_alone: bool = False
    #: A posting refuses a unit another posting changed since it was scanned
    #: (UNIT_CHANGED_MEANWHILE); a count takes the bin as it finds it instead.
    checks_unchanged: bool = True
    #: The document's lines come as items (or serials) are scanned, one per product
    #: (`open_line`): a free return, a supplier return. Nothing is "done" on such a
    #: document; its posting writes no line quantities and no status.
    open_lines: bool = False

    def __init__(self) -> None:
        known: Facts = facts(self.kind)
        self.facts = known
        self.words: Words = known.words
        self.document_kind = known.document_kind
        self.station_kind = known.station_kind
        self.key = known.key
        self.roles = known.roles
        self.header = Header(known.posting, known.prefix, known.document_column)
        self.item_not_on_document = known.item_not_on_document
        self.item_adds_unit = known.item_adds_unit
        self.prints = known.prints
        self.event = known.event
        self.finished = known.finished
        self.nothing_done = known.words.nothing_done
        self.missing_code = known.missing_code
        self.room_code = known.room_code

    # --- the document -------------------------------------------------------------------

    def load(
        self,
        connection: Connection,
        number: str,
        *,
        lock: bool = False,
        station: StationConfig | None = None,
    ) -> Document | None:
        return documents.document(connection, self.document_kind, number, lock=lock)

    def choices(
        self, connection: Connection, search: str = "", *, station: StationConfig | None = None
    ) -> list[dict[str, Any]]:
        """What a session of this workflow may open, for the choose page: {number,
        party, status} rows, filtered by what is typed."""
        return documents.open_documents(connection, self.document_kind, search)

    def missing(self, number: str, *, posting: bool = False) -> StationError:
        """The document does not exist (or no longer, at posting)."""
        shown = show(number, 64)  # typed or scanned: control characters escaped, cut
        if posting:
            return Problem(self.missing_code, self.words.gone.format(number=shown))
        return StationError(self.missing_code, self.words.missing.format(number=shown))

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

    def open_line(self, session: Session, product: Product) -> DocumentLine:
        """The line a document with `open_lines` gets for a product scanned the first
        time: nothing wanted, nothing done (`room_problem` says what may be taken)."""
        number = len(session.document.lines) + 1
        return DocumentLine(id=-number, line_no=number, product=product, qty=0, done=0)

    def line_of_serial(self, session: Session, connection: Connection, serial: str) -> int:
        """The document line of the unit a serial scanned on its own names (workflows
        with `serial_alone`); a Problem when it names none of the document's."""
        raise NotImplementedError

    def check_new_serial(
        self, session: Session, index: int, serial: str, *, room: bool
    ) -> int | None:
        """The rules for a serial a posting will create (receive, free return):
        SERIAL_INVALID, SERIAL_EQUALS_ITEM_CODE, SERIAL_BAD_LENGTH, SERIAL_BAD_FORMAT,
        OVER_RECEIPT, SERIAL_DUPLICATE_IN_SESSION, SERIAL_ALREADY_EXISTS — in that order."""
        connection = session.lookup_connection()
        line = session.document.lines[index]
        check_serial_rules(
            line.product,
            serial,
            doc_keys=session.doc_keys,
            options=session.station.options,
            charset=session.serial_charset(connection),
        )
        if room:
            session.check_room(index)
        key = serial_key(serial)
        session.check_duplicate(connection, index, serial, key)
        scope = session.serial_scope(connection)
        for unit in session.units_with_serial(connection, key):
            if scope == "global" or unit.product_id == line.product.id:
                raise already_exists(serial, unit)
        return None

    def own_bin(self, station: StationConfig, document: Document) -> str:
        """The bin the units of a session go to when no location was scanned before them
        (the station's receiving bin); "" for a workflow that puts units nowhere."""
        return ""

    def bin_warehouse(self, station: StationConfig, document: Document) -> tuple[int, str]:
        """The warehouse whose bins a location barcode names (id, code): where the
        session puts units (a transfer: the warehouse it sends them to)."""
        return warehouse_of(station, document)

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

    def header_values(
        self, posting: Posting, document: Document, station: StationConfig
    ) -> dict[str, Any]:
        """The posting header's own columns: the one naming its document ("po_id"; none
        for a document that is not in the ledger, id 0: a free return)."""
        return {self.header.document_column: document.id or None}

    def after_posting(self, document: Document, done: dict[int, int], status: str) -> str:
        """What a posting leaves of its document, for the posting's verdict: the lines
        still open and how much of each ("PO-1 stays open: 8 of Widget One, 3 of Cable Two
        to come."), or that the document is done; `done`: the units posted per line id,
        `status`: the document's status after the posting."""
        number = show(document.number, 64)
        left = [
            (line, line.qty - line.done - done.get(line.id, 0))
            for line in document.lines
            if line.qty > line.done + done.get(line.id, 0)
        ]
        if status == self.finished or not left:
            return self.words.complete.format(document=number)
        named = [f"{n:,} of {show(line.product.name or line.product.sku)}" for line, n in left]
        shown = ", ".join(named[:OPEN_LINES_NAMED])
        more = len(named) - OPEN_LINES_NAMED
        if more > 0:
            shown += f" and {more:,} more line{'s' if more > 1 else ''}"
        return self.words.stays_open.format(document=number, lines=shown)

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


class OnABin(Workflow):
    """A workflow whose document is a known bin of the station's warehouse (a release,
    a bin move, a count): the bins to choose from, the bin as the units' own."""

    def load(
        self,
        connection: Connection,
        number: str,
        *,
        lock: bool = False,
        station: StationConfig | None = None,
    ) -> Document | None:
        """The bin: BIN_UNKNOWN (the registry's missing_code) for one the warehouse lacks."""
        return documents.bin_document(
            connection, self.document_kind, number, station_warehouse(station)
        )

    def choices(
        self, connection: Connection, search: str = "", *, station: StationConfig | None = None
    ) -> list[dict[str, Any]]:
        return documents.bin_choices(connection, search, station_warehouse(station))

    def own_bin(self, station: StationConfig, document: Document) -> str:
        return document.number


def workflow(kind: str) -> Workflow:
    """The workflow object of a session kind (its package's WORKFLOW, imported on first
    use); ValueError for a kind the registry does not know."""
    return _load(facts(kind).module)


def workflows() -> list[Workflow]:
    """Every registered workflow, in the registry's order."""
    return [_load(known.module) for known in REGISTRY]


@cache
def _load(module: str) -> Workflow:
    loaded: Workflow = importlib.import_module(module).WORKFLOW
    return loaded


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
    earlier = documents.posting_by_session(connection, header.kind, posting.session_id)
    if earlier is not None:
        return already_posted(header.kind, *earlier)
    number = posting.document.number
    document = workflow.load(connection, number, lock=True, station=posting.station)
    if document is None:
        raise workflow.missing(number, posting=True)
    station = stations.current(connection, posting.station, register=True)
    problem = workflow.not_open(document, station.options)
    if problem is not None:
        raise problem
    if not posting.entries:
        raise Problem(Code.NOTHING_TO_POST, workflow.words.nothing)
    if workflow.open_lines:  # the lines are the session's: none are in the ledger
        lines = list(posting.document.lines)
    else:
        by_id = {line.id: line for line in document.lines}
        lines = [by_id[line.id] for line in posting.document.lines]
    movement = workflow.plan(Draft(connection, posting, document, lines, station, workflow, extra))
    if workflow.checks_unchanged:
        check_unchanged(connection, posting, workflow)
    done: Counter[int] = Counter()
    for entry in posting.entries:
        done[lines[entry.line].id] += entry.qty
    total = sum(done.values())
    posted = f"{header.prefix}-{documents.document_number(connection, header.kind):06d}"
    header_id = documents.add_posting(
        connection,
        header.kind,
        number=posted,
        session_id=posting.session_id,
        station=station.name,
        user_name=posting.user,
        units=total,
        posted_at=movement.at,
        **workflow.header_values(posting, document, station),
        **movement.header,
    )
    stamp = Stamp(workflow.event, movement.at, station.name, posting.user, header.kind, posted)
    # the unit names the posting that last moved it, where it has a column for it
    # (shipment_id, rma_id, …; a transfer is in its events only)
    link = {column: header_id} if (column := units.link_column(header.kind)) else {}
    if units.move(connection, movement, stamp, link, posting.progress) != len(movement.changed):
        # cannot happen under the row locks; refuse rather than guess
        raise Problem(Code.POSTING_FAILED, f"Units changed while locked; {workflow.nothing_done}.")
    message = workflow.words.posted.format(total=total, document=document.number, number=posted)
    after = ""
    if not workflow.open_lines:
        documents.add_line_quantities(connection, document.kind, dict(done))
        status = workflow.status_after(document, done)
        documents.set_document_status(connection, document.kind, document.id, status)
        after = workflow.after_posting(document, done, status)
    return PostingResult(
        True,
        Code.OK,
        " ".join(part for part in (message, *movement.notes, after) if part),
        document=posted,
        units=total,
        generated=movement.generated,
        posted_units=movement.posted_units,
        lists=movement.lists,
    )


def _explain_conflict(
    engine: Engine, posting: Posting, workflow: Workflow, extra: Any, error: IntegrityError
) -> PostingResult:
    """A unique key refused the posting: this very session posted meanwhile, another
    station was first (the workflow says with what), or a constraint the rules did not
    foresee."""
    with engine.connect() as connection:
        kind = workflow.header.kind
        earlier = documents.posting_by_session(connection, kind, posting.session_id)
        if earlier is not None:
            return already_posted(kind, *earlier)
        explained = workflow.explain_conflict(connection, posting, extra)
    return explained or refused_by_database(error)


def check_unchanged(connection: Connection, posting: Posting, workflow: Workflow) -> None:
    """UNIT_CHANGED_MEANWHILE: a unit this session scanned was changed by another posting
    since (moved, shipped elsewhere…): two people held one label at once, or the unit
    went on. The rules for what it is now were checked first; this names what changed
    it. Saving again posts the units as they are now (the session forgets the versions
    it was told of)."""
    seen = {e.unit_id: e.version for e in posting.entries if e.unit_id and e.version is not None}
    changed = units.changed_since(connection, seen)  # type: ignore[arg-type]
    if not changed:
        return
    serial, kind, document, station, place = changed[0]
    by = f" by {document}" if document else ""
    at = f" at {station}" if station else ""
    more = f" (and {len(changed) - 1:,} more)" if len(changed) > 1 else ""
    raise Problem(
        Code.UNIT_CHANGED_MEANWHILE,
        f"{workflow.nothing_done.capitalize()}: {serial} was {kind.replace('_', ' ')}{by}{at}"
        f" after it was scanned here (it is in {place} now){more} — make sure the unit in"
        " hand carries that label, then save again to post it as it is now.",
        serials=[row[0] for row in changed],
    )


def check_not_taken(connection: Connection, pairs: list[tuple[int, str]]) -> None:
    """SERIAL_ALREADY_EXISTS when a unit holds any of the (scope id, serial key) pairs a
    posting would create, naming where the first few are."""
    existing = units.existing_keys(connection, pairs)
    if existing:
        keys = sorted(key for _, key in existing)
        holders = units.units_with_serials(connection, keys)
        raise Problem(
            Code.SERIAL_ALREADY_EXISTS,
            f"Nothing posted: {len(keys)} serial(s) exist already — remove them and save"
            f" again. {where_units(holders)}",
            serials=[u.serial for u in holders],
        )


def where_units(found: list[UnitInfo]) -> str:
    """Where the first few units are, for a refusal naming serials that exist."""
    return "; ".join(already_exists(u.serial, u).message for u in found[:5])


def station_warehouse(station: StationConfig | None) -> tuple[int, str] | None:
    """A station's own warehouse (id, code), None when it has none (or no station)."""
    if station is None or station.warehouse_id is None:
        return None
    return station.warehouse_id, station.warehouse


def warehouse_of(station: StationConfig, document: Document) -> tuple[int, str]:
    """Where a station works: its own warehouse, else its document's (id, code)."""
    if station.warehouse_id is not None:
        return station.warehouse_id, station.warehouse
    return document.warehouse_id, document.warehouse


# --- non-serialized quantities that leave (supplier returns, scrap) ------------------


def on_hand_line(session: Session, line: DocumentLine) -> DocumentLine:
    """An open line of a non-serialized product that leaves stock may take what is on
    hand in the station's warehouse (`line.qty`)."""
    if not line.product.serialized:
        warehouse_id = warehouse_of(session.station, session.document)[0]
        line.qty = units.on_hand(session.lookup_connection(), line.product.id, warehouse_id)
    return line


def stock_problem(line: DocumentLine, scanned: int, extra: int, what: str) -> Problem | None:
    """NOT_ENOUGH_STOCK: a non-serialized product never goes below zero on hand
    (`line.qty`: what is on hand); each serialized unit is checked by its serial."""
    if line.product.serialized or scanned + extra <= line.qty:
        return None
    now = f", {scanned} in this session" if scanned else ""
    return Problem(
        Code.NOT_ENOUGH_STOCK,
        f"{line.product.name} ({line.product.sku}): {line.qty} on hand{now} —"
        f" {max(line.qty - scanned, 0)} left to {what}.",
    )


def take_stock(draft: Draft, movement: Movement, warehouse_id: int, what: str) -> None:
    """Inside a posting: the non-serialized quantities it takes, checked against what is
    on hand now (rows locked) and taken off."""
    taken: Counter[int] = Counter()
    for entry in draft.posting.entries:
        if entry.serial is None:
            taken[draft.lines[entry.line].product.id] += entry.qty
    for line in draft.lines:
        count = taken[line.product.id]
        if count:
            line.qty = units.on_hand(draft.connection, line.product.id, warehouse_id, lock=True)
            problem = stock_problem(line, count, 0, what)
            if problem is not None:
                raise problem
            movement.stock.append((line.product.id, warehouse_id, -count))


# --- where units go ------------------------------------------------------------------


def places(draft: Draft, warehouse_id: int, default: str) -> None:
    """The bins a posting puts units in, checked again (SPEC §3.3): every location the
    session scanned is still a bin of the warehouse (BIN_UNKNOWN, naming the serials
    it holds), and the workflow's own bin (`default`: the station's receiving bin) is
    known from its first use on."""
    entries = draft.posting.entries
    for code in sorted({entry.bin for entry in entries if entry.bin is not None}):
        if bins.bin_code(draft.connection, warehouse_id, code) is None:
            held = [entry.serial for entry in entries if entry.bin == code and entry.serial]
            raise Problem(
                Code.BIN_UNKNOWN,
                f"Nothing posted: bin {show(code, 64)} is no longer a bin of this warehouse;"
                " scan another location before its units.",
                serials=held,
            )
    if any(entry.bin is None for entry in entries):
        bins.add_bins(draft.connection, warehouse_id, [default])


# --- the units a posting changes ------------------------------------------------------


def locked_units(draft: Draft) -> dict[str, list[UnitInfo]]:
    """The units the posting's serials name, by serial key, their rows locked first (in
    key order: concurrent postings never deadlock) and read afresh."""
    keys = [serial_key(e.serial) for e in draft.posting.entries if e.serial is not None]
    found: dict[str, list[UnitInfo]] = defaultdict(list)
    for unit in units.units_with_serials(draft.connection, keys, lock=True):
        found[unit.serial_key].append(unit)
    return found


@contextmanager
def refused_whole(nothing: str, serial: str) -> Iterator[None]:
    """A rule broken at posting refuses the whole posting: its message starts with what
    did not happen ("Nothing shipped") and it names the serial."""
    try:
        yield
    except Problem as problem:
        problem.message = f"{nothing}: {problem.message}"
        problem.serials = [serial]
        raise
