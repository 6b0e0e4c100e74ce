"""What a workflow is: the part of a scan-and-post workflow that differs from the others.

The session core (`station.session.ScanSession`) reads every scan the same way (SPEC
§3.0), keeps the grid, the journal and the commands every workflow shares, and builds
the verdicts; the posting scaffold (`station.posting.post_document`) runs every posting
in one transaction, idempotent by session id. A workflow supplies the rest: which
document it works on and how it is loaded, how much room a line has, the serial rules,
the commands and modes of its own, what a posting plans to move, and the words its
screens show. Each workflow is one package (`station.receive`, `station.ship`) holding
one `Workflow` object (its `WORKFLOW`); `station.workflows` registers them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from station.codes import Code, StationError, Verdict
from station.documents import Document, DocumentLine, UnitInfo
from station.rules import Problem

if TYPE_CHECKING:
    from station.movement import Plan
    from station.posting import Posting, PostingResult
    from station.printing import PrintJob
    from station.scanning import Scan
    from station.session import ScanSession
    from station.stations import StationConfig


@dataclass(frozen=True, slots=True)
class Words:
    """What the screens and the command line call a workflow's things."""

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


@dataclass(frozen=True, slots=True)
class Header:
    """The posting header a workflow writes: its table's kind ("receipt"), the document
    number prefix ("RCV") and the column naming the workflow's document ("po_id")."""

    kind: str
    prefix: str
    document_column: str


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
    words: Words
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

    # --- the document -------------------------------------------------------------------

    def load(self, connection: Connection, number: str, *, lock: bool = False) -> Document | None:
        raise NotImplementedError

    def missing(self, number: str, *, posting: bool = False) -> StationError:
        """The document does not exist (or no longer, at posting)."""
        raise NotImplementedError

    def not_open(self, document: Document, options: dict[str, Any]) -> Problem | None:
        """The document takes no scans now (closed, finished)."""
        return None

    # --- lines and serials ---------------------------------------------------------------

    def room_problem(self, line: DocumentLine, scanned: int, extra: int = 1) -> Problem | None:
        """OVER_RECEIPT / OVER_PACK and the like: `extra` more units do not fit."""
        raise NotImplementedError

    def allow_over(self, options: dict[str, Any]) -> bool:
        return False

    def item_counts_while_awaiting(self, options: dict[str, Any]) -> bool:
        """An item scan while a serial is awaited counts one more unit (receive with
        generate_serials: the unit's serial is made at posting)."""
        return False

    def check_serial(
        self,
        session: ScanSession,
        connection: Connection,
        index: int,
        serial: str,
        key: str,
        *,
        room: bool,
    ) -> int | None:
        """Every rule of the workflow for one serial on line `index`, in the spec's order;
        the unit's id when the serial names an existing unit."""
        raise NotImplementedError

    # --- commands and modes --------------------------------------------------------------

    def command(self, session: ScanSession, scan: Scan, command: str) -> Verdict | None:
        """A command of this workflow's own (CMD-NOTFOUND); None when it has none by
        that name."""
        return None

    def mode_prompt(self, mode: str) -> str:
        return "Scan an item"

    def mode_scan(self, session: ScanSession, mode: str, scan: Scan) -> Verdict:
        """The scan a mode was waiting for."""
        raise NotImplementedError(mode)

    # --- posting -------------------------------------------------------------------------

    def post(self, engine: Any, posting: Posting) -> PostingResult:
        """Post a session's grid (`station.posting.post_document` unless the workflow
        must do more first)."""
        from station.posting import post_document

        return post_document(engine, posting, self)

    def nothing_to_post(self) -> str:
        return "Nothing scanned: nothing to post."

    def plan(
        self,
        connection: Connection,
        posting: Posting,
        document: Document,
        lines: list[DocumentLine],
        station: StationConfig,
        extra: Any,
    ) -> Plan:
        """Every rule again, against the ledger as it is inside the posting's
        transaction, and what the posting moves."""
        raise NotImplementedError

    def status_after(self, document: Document, done: dict[int, int]) -> str:
        """The document's status once `done` more units per line id are posted."""
        raise NotImplementedError

    def posted_message(self, document: Document, total: int, number: str) -> str:
        raise NotImplementedError

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

    # --- helpers the rules share ---------------------------------------------------------

    def units_named(self, session: ScanSession, connection: Connection, key: str) -> list[UnitInfo]:
        return session.units_with_serial(connection, key)
