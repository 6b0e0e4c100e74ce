"""The session core every workflow runs on: reading a scan into an item, a serial or a
command (SPEC §3.0), the grid of scanned units and its tallies, undo/remove/rescan, the
journal, and the verdicts.

A session is a plain object: one scan in, one verdict out. What differs between
workflows — the document, the room on a line, the serial rules, commands and modes of
their own, the posting — comes from its `Workflow` (`station.workflow`; receive and
ship in `station.receive`, `station.ship`); the GUI, `station scan` and the tests drive
every session the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from station.bins import bin_problem
from station.codes import Code, Verdict
from station.db import bins, catalog, company, units
from station.db.bulk import Progress
from station.db.engine import busy, looking_up, reading
from station.documents import Document, DocumentLine, Product, UnitInfo
from station.grid import Entry, Grid
from station.journal import Journal, Replay
from station.posting import OutcomeUnknown, Posting, PostingResult
from station.rules import Problem, check_serial_text
from station.scanning import Scan, command_in, gtin14, location_in, read_scan, serial_key, show
from station.stations import StationConfig
from station.users import role_of
from station.workflow import Workflow


@dataclass(slots=True)
class SessionLine:
    """A document line as the wizard shows it."""

    line_no: int
    sku: str
    name: str
    serialized: bool
    ordered: int
    before: int
    session: int

    @property
    def remaining(self) -> int:
        return max(self.ordered - self.before - self.session, 0)


UNREACHABLE_BEFORE = "found unreachable by a scan that waited with this one"

#: The grid as last journaled: rows, current line, awaited line, the last row.
#: A grid row as `_state` keeps it: line, serial, qty, unit id, bin, version.
_Row = tuple[int, str | None, int, int | None, str | None, int | None]
_State = tuple[int, int | None, int | None, _Row | None]


@dataclass(frozen=True, slots=True)
class _Ahead:
    """What `look_ahead` read for the scans waiting in line: products by code, units by
    serial key (every code and key it asked for, found or not)."""

    products: dict[str, Product | None]
    units: dict[str, list[UnitInfo]]


@dataclass(slots=True)
class _Undo:
    entries: list[Entry] = field(default_factory=list)


class ScanSession:
    """One open document of one workflow at one station."""

    def __init__(
        self,
        engine: Engine,
        station: StationConfig,
        document: Document,
        workflow: Workflow,
        *,
        user: str | None = None,
        journal: Journal | None = None,
        session_id: str | None = None,
        reason: str | None = None,
    ) -> None:
        self.engine = engine
        self.reader = reading(engine)
        self._lookups = looking_up(engine)
        self._connection: Connection | None = None
        self.station = station
        self.document = document
        self.workflow = workflow
        #: Receive: an item scan of a serialized line adds a unit that awaits its serial.
        self.item_adds_unit = workflow.item_adds_unit
        self.user = user
        #: Why (an adjustment's reason): journaled with the session, posted with it.
        self.reason = reason
        self.session_id = session_id or uuid.uuid4().hex
        self.grid = Grid([line.product.id for line in document.lines])
        #: The grid's rows, in scan order (the same list as the grid's: never replaced).
        self.entries: list[Entry] = self.grid.entries
        self.current: int | None = None
        self.awaiting: int | None = None
        #: A journaled mode the next scan is read in (ship: "not_found" after CMD-NOTFOUND);
        #: the next scan or any command ends it (the workflow reads that scan).
        self.mode: str | None = None
        #: What the verdict of the serial being checked says besides (the workflow's).
        self.note = ""
        #: The units the last serial lookup found (their versions go into the grid).
        self._seen: list[UnitInfo] = []
        #: The location the units scanned next go to (the bin of the last location
        #: scan, SPEC §3.3); None: the workflow's own bin.
        self.bin: str | None = None
        self._journaled_bin: str | None = None
        #: A supervisor's unknown location, scanned once: scanned again at once, it is made.
        self._offered_bin: tuple[int, str] | None = None
        #: The session user's role, once asked (a location a supervisor may make).
        self._role: str | None = None
        #: A save whose commit outcome is unknown (the connection was lost during it):
        #: until a save answers whether it was posted, only CMD-SAVE is taken.
        self.unconfirmed = False
        #: Within `together`: the database was found unreachable by a scan before.
        self._together = False
        self._unreachable = False
        self.journal = journal
        self._journal_started = False
        self._journal_whole = True  # False after a failed write: the next rewrites it whole
        self._journal_records = 0  # records in the file, to know when to compact it
        self._compact_at = 0
        self._journaled: _State = (0, None, None, None)  # the grid as last journaled
        self._journaled_mode: str | None = None
        #: Lines of the document the journal knows (open lines: those added since are
        #: written with the next record, so a restored session has the same lines).
        self._journaled_lines = len(document.lines)
        self._scope: str | None = None
        self._charset: str | None = None
        self._ahead: _Ahead | None = None
        self.started = datetime.now(UTC)
        self._codes: dict[str, int] = {}
        for index, line in enumerate(document.lines):
            for code in line.product.codes:
                self._codes.setdefault(code, index)
        self._doc_codes = frozenset(self._codes)
        #: The item codes by serial key: a serial that reads as one is SERIAL_EQUALS_ITEM_CODE.
        self._code_keys: dict[str, int] = {}
        for code, index in self._codes.items():
            self._code_keys.setdefault(serial_key(code), index)
        self.doc_keys = frozenset(self._code_keys)

    @property
    def kind(self) -> str:
        return self.workflow.kind

    # --- what the wizard shows ------------------------------------------------------

    @property
    def lines(self) -> list[SessionLine]:
        counts = self._counts()
        return [
            SessionLine(
                line.line_no,
                line.product.sku,
                line.product.name,
                line.product.serialized,
                line.qty,
                line.done,
                counts[index],
            )
            for index, line in enumerate(self.document.lines)
        ]

    def units_scanned(self) -> int:
        return sum(self.grid.counts)

    def posting(self, progress: Progress | None = None) -> Posting:
        """What a save posts: the session's facts as they are now, not the live session;
        `progress(units written, units)` is told as the write goes."""
        return Posting(
            kind=self.workflow.kind,
            document=self.document,
            station=self.station,
            user=self.user,
            session_id=self.session_id,
            entries=tuple(self.entries),
            reason=self.reason,
            started=self.started,
            progress=progress,
        )

    def prompt(self) -> str:
        """What to scan next, in words: "Scan serial for Widget One — 2 of 3"."""
        if self.mode is not None:
            return self.workflow.mode_prompt(self.mode)
        if self.awaiting is not None:
            line = self.document.lines[self.awaiting]
            count = self._counts()[self.awaiting] + (0 if self.item_adds_unit else 1)
            return f"Scan serial for {line.product.name} — {self._of(self.awaiting, count)}"
        if self.complete():
            return "All lines done — scan CMD-SAVE to post"
        if self.current is not None:
            line = self.document.lines[self.current]
            if line.product.serialized:
                full = line.done + self._counts()[self.current] >= line.qty
                if full and not self.workflow.open_lines:
                    return f"{line.product.name} is complete — scan the next item"
                return f"Scan the next serial or item ({line.product.name})"
        if self.workflow.serial_alone:
            return "Scan a serial (or an item first)"
        return "Scan an item"

    def complete(self) -> bool:
        if self.workflow.open_lines:  # lines come as items are scanned: never "all done"
            return False
        counts = self._counts()
        return all(
            line.done + counts[index] >= line.qty for index, line in enumerate(self.document.lines)
        )

    # --- reading a scan (SPEC §3.0) ---------------------------------------------------

    def look_ahead(self, raws: Sequence[str | bytes]) -> None:
        """Read at once what the scans waiting in line will look up — the catalog
        products and the units their texts name — in two queries instead of two round
        trips per scan. `scan` uses these facts until a command (a posting changes
        them) or the next look-ahead; a scan they do not cover is looked up alone."""
        self._ahead = None
        codes: set[str] = set()
        keys: set[str] = set()
        for raw in raws:
            scan = read_scan(raw, command_prefix=self.station["command_prefix"])
            if scan.kind == "command":
                break
            if scan.kind == "text":
                codes.add(scan.text)
                keys.add(scan.key)
            elif scan.kind == "gs1" and scan.gtin is not None:
                codes.add(scan.gtin)
                if scan.serial is not None:
                    keys.add(serial_key(scan.serial))
        codes -= self._doc_codes
        if len(keys) + len(codes) < 3:  # a scan or two: looked up alone as they come
            return
        try:
            connection = self.lookup_connection()
            gtins = {code: gtin for code in codes if (gtin := gtin14(code))}
            products = catalog.products_by_codes(connection, codes, gtins)
            found = units.units_by_key(connection, keys)
        except DBAPIError as error:
            self.close()  # each scan then meets the problem itself, with its verdict
            self._note_unreachable(error)
            return
        self._ahead = _Ahead(products, found)

    def scan(self, raw: str | bytes) -> Verdict:
        scan = read_scan(raw, command_prefix=self.station["command_prefix"])
        if self.unconfirmed and scan.command != "SAVE":
            return self._refuse(scan, _unconfirmed(), "command")
        offered, self._offered_bin = self._offered_bin, None  # "twice in a row" only
        try:
            if scan.kind == "command":
                self._ahead = None
                if self.mode is not None:
                    self.set_mode(None, scan)
                return self._command(scan)
            location = None
            if scan.kind == "text":  # a location barcode is a location in every state
                location = location_in(scan.text, self.station["bin_prefix"])
            if location is not None:
                return self._location(scan, location, offered)
            if self.mode is not None:
                mode = self.mode
                self.set_mode(None, scan)
                return self.workflow.mode_scan(self, mode, scan)
            before = (len(self.entries), self.current, self.awaiting)
            verdict = self._read(self.lookup_connection(), scan)
            if verdict.ok and (len(self.entries), self.current, self.awaiting) != before:
                self._log(scan, "scan")
        except Problem as problem:
            return self._refuse(scan, problem, problem.kind or self._read_as(scan))
        except OutcomeUnknown:  # a posting made by a scan (ship: CMD-NOTFOUND's serial)
            self.close()
            return self._refuse(
                scan,
                Problem(
                    Code.POSTING_OUTCOME_UNKNOWN,
                    "The connection to the database was lost during the commit: whether"
                    " it was written is unknown. Scan it again: it is written once.",
                ),
                "document",
            )
        except OperationalError as error:
            self.close()  # reconnect on the next scan
            self._note_unreachable(error)
            return self._refuse(scan, database_problem(error, "scan refused"), "document")
        return verdict

    @contextmanager
    def together(self) -> Iterator[None]:
        """Scans that waited together (`station scan`: one group of waiting lines): once
        one finds the database unreachable, the others that need it are refused at once
        instead of each waiting the timeout again. The next group tries again."""
        self._together, self._unreachable = True, False
        try:
            yield
        finally:
            self._together, self._unreachable = False, False

    def _note_unreachable(self, error: Exception) -> None:
        if self._together and isinstance(error, OperationalError) and not busy(error):
            self._unreachable = True

    def set_mode(self, mode: str | None, scan: Scan) -> None:
        """The next scan is read in `mode` (None: as usual); journaled."""
        self.mode = mode
        self._log(scan, "mode")

    def lookup_connection(self) -> Connection:
        """One autocommit connection kept for the session's look-ups: no pool checkout,
        no BEGIN/ROLLBACK, prepared statements reused — a verdict in a few round trips."""
        if self._unreachable:
            raise OperationalError(None, None, ConnectionError(UNREACHABLE_BEFORE))
        if self._connection is None or self._connection.invalidated:
            self._connection = self._lookups.connect()
        return self._connection

    def close(self) -> None:
        """Release the session's database connection (the journal stays)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self.journal is not None:
            self.journal.close()

    def _read_as(self, scan: Scan) -> str:
        if scan.kind in ("gs1", "gs1_invalid"):
            return "gs1"
        if self.awaiting is not None or self._current_serialized():
            return "serial"
        alone = self.workflow.serial_alone and scan.text not in self._codes
        return "serial" if alone else "item"

    def _read(self, connection: Connection, scan: Scan) -> Verdict:
        if scan.kind == "gs1_invalid":
            raise Problem(Code.GS1_INVALID, f"Unreadable GS1 data: {scan.problem}.")
        if scan.kind == "gs1":
            return self._gs1(connection, scan)
        serial_context = (
            self.awaiting is not None or self._current_serialized() or self.workflow.serial_alone
        )
        if scan.kind == "unreadable":
            code = Code.SERIAL_INVALID if serial_context else Code.SCAN_UNREADABLE
            raise Problem(code, f"Scan refused: {scan.problem}.")
        text = scan.text
        if self.awaiting is not None and not (
            text in self._doc_codes and self._item_counts_while_awaiting()
        ):
            same = self._code_keys.get(serial_key(text))
            product = None if same is None else self.document.lines[same].product
            if product is None and self.workflow.open_lines:  # any item may be a line
                product = self._catalog_product(connection, text)
            if self.station["require_unique_serial"] and product is not None:
                raise Problem(
                    Code.SERIAL_EQUALS_ITEM_CODE,
                    f"{text} is the item code of {product.name} ({product.sku}), not a serial"
                    f" — scan the serial for {self.document.lines[self.awaiting].product.name}.",
                )
            return self._serial(connection, scan, self.awaiting, text)
        if text in self._codes:
            return self._item(self._line_for(self._codes[text]), scan)
        other = self._catalog_product(connection, text)
        if other is not None:
            if self.workflow.open_lines:
                return self._item(self.line_of_product(other), scan)
            raise self._not_on_document(other)
        if self._current_serialized():
            assert self.current is not None
            try:
                return self._serial(connection, scan, self.current, text)
            except Problem as problem:
                if problem.code != self.workflow.room_code:
                    raise
                # not an item, and the line it would be a serial of is full: say both
                raise Problem(
                    problem.code,
                    f"{show(text)} matches no product barcode or SKU; read as the next serial:"
                    f" {problem.message}",
                    problem.kind,
                ) from None
        if self.workflow.serial_alone:  # no serialized item selected (that came first)
            # the serial names its unit, and so its line; the next serial names its own
            check_serial_text(text, self.serial_charset(connection))
            index = self.workflow.line_of_serial(self, connection, text)
            verdict = self._serial(connection, scan, index, text)
            self.current = None
            return verdict
        if self.current is None and self.workflow.open_lines:
            raise Problem(
                Code.NO_ITEM_SELECTED,
                f"{show(text)} matches no product barcode or SKU; scan the item first.",
            )
        if self.current is None:
            raise Problem(
                Code.NO_ITEM_SELECTED,
                f"{show(text)} is not an item of {self.document.number}; scan an item first.",
            )
        raise Problem(Code.UNKNOWN_ITEM, f"{show(text)} matches no product barcode or SKU.")

    def item_line(self, connection: Connection, scan: Scan) -> int:
        """The document line an item scan names (a barcode or SKU, or a GS1 scan's GTIN):
        ITEM_NOT_ON_PO / ITEM_NOT_ON_ORDER or UNKNOWN_ITEM when it names none."""
        if scan.kind == "gs1":
            return self.gs1_line(connection, scan)
        index = self._codes.get(scan.text)
        if index is not None:
            return index
        other = self._catalog_product(connection, scan.text)
        if other is not None:
            raise self._not_on_document(other)
        raise Problem(
            Code.UNKNOWN_ITEM, f"{show(scan.text)} matches no product barcode or SKU.", "item"
        )

    def gs1_line(self, connection: Connection, scan: Scan) -> int:
        """The document line of a GS1 scan's GTIN: ITEM_NOT_ON_PO / ITEM_NOT_ON_ORDER or
        UNKNOWN_ITEM when it is none."""
        assert scan.gtin is not None
        index = self._codes.get(scan.gtin)
        if index is None:
            other = self._catalog_product(connection, scan.gtin)
            if other is not None and self.workflow.open_lines:
                return self.line_of_product(other)
            if other is not None:
                raise self._not_on_document(other)
            raise Problem(Code.UNKNOWN_ITEM, f"GTIN {scan.gtin} matches no product.", "gs1")
        return index

    def _gs1(self, connection: Connection, scan: Scan) -> Verdict:
        index = self.gs1_line(connection, scan)
        product = self.document.lines[index].product
        if scan.serial is None or not product.serialized:
            return self._item(self._line_for(index), scan, kind="gs1")
        awaited = self.awaiting is not None and (
            self.document.lines[self.awaiting].product.id == product.id
        )
        if awaited:  # item and serial at once, for the unit the session waits on
            assert self.awaiting is not None
            index = self.awaiting
        else:
            index = self._line_for(index)
            if not self._filling(index):
                self.check_room(index)
        return self._serial(connection, scan, index, scan.serial, kind="gs1")

    def _item_counts_while_awaiting(self) -> bool:
        """Receive with generate_serials: an item scan counts one more unit to generate."""
        return self.workflow.item_counts_while_awaiting(self.station.options)

    def _catalog_product(self, connection: Connection, code: str) -> Product | None:
        if self._ahead is not None and code in self._ahead.products:
            return self._ahead.products[code]
        return catalog.product_by_code(connection, code, gtin14(code))

    def units_with_serial(self, connection: Connection, key: str) -> list[UnitInfo]:
        """The units a serial key names (read ahead, or now); the last read is kept: the
        row a scan adds keeps the version of its unit (UNIT_CHANGED_MEANWHILE)."""
        if self._ahead is not None and key in self._ahead.units:
            found = self._ahead.units[key]
        else:
            found = units.units_with_serial(connection, key)
        self._seen = found
        return found

    def _version(self, unit_id: int | None) -> int | None:
        """The version of a unit the last read saw (None: not read, or no unit)."""
        if unit_id is None:
            return None
        return next((unit.version for unit in self._seen if unit.id == unit_id), None)

    def serial_scope(self, connection: Connection) -> str:
        """The company's serial_scope, read once per session (posting reads it again)."""
        if self._scope is None:
            self._scope = company.serial_scope(connection)
        return self._scope

    def serial_charset(self, connection: Connection) -> str:
        """The company's serial_charset, read once per session (posting reads it again)."""
        if self._charset is None:
            self._charset = company.serial_charset(connection)
        return self._charset

    def _not_on_document(self, product: Product) -> Problem:
        what = self.workflow.words.document_short
        return Problem(
            self.workflow.item_not_on_document,
            f"{product.name} ({product.sku}) is not on {what} {self.document.number}.",
            "item",
        )

    def _line_for(self, index: int) -> int:
        """Of the lines carrying the same product, the first with a unit still open."""
        product_id = self.document.lines[index].product.id
        counts = self._counts()
        for candidate, line in enumerate(self.document.lines):
            if line.product.id == product_id and line.done + counts[candidate] < line.qty:
                return candidate
        return index

    def _of(self, index: int, count: int) -> str:
        """ "3 of 5" (this session's units of the line, of what it has open), or "3 in
        this session" on a document whose lines come as items are scanned."""
        if self.workflow.open_lines:
            return f"{count} in this session"
        line = self.document.lines[index]
        return f"{count} of {line.qty - line.done}"

    def line_of_product(self, product: Product) -> int:
        """The line of `product`: on a document whose lines come as items are scanned
        (`Workflow.open_lines`), a new line the first time (`Workflow.open_line`)."""
        for index, line in enumerate(self.document.lines):
            if line.product.id == product.id:
                return index
        if not self.workflow.open_lines:
            raise self._not_on_document(product)
        self._add_line(self.workflow.open_line(self, product))
        return len(self.document.lines) - 1

    def _add_line(self, line: DocumentLine) -> None:
        index = len(self.document.lines)
        self.document.lines.append(line)
        self.grid.add_line(line.product.id)
        for code in line.product.codes:
            self._codes.setdefault(code, index)
            self._code_keys.setdefault(serial_key(code), index)
        self._doc_codes = frozenset(self._codes)
        self.doc_keys = frozenset(self._code_keys)

    def _current_serialized(self) -> bool:
        return self.current is not None and self.document.lines[self.current].product.serialized

    def _counts(self) -> list[int]:
        """Units per line in this session (kept up to date, never recounted)."""
        return self.grid.counts

    # The grid changes only through these, so its tallies stay exact (station.grid).

    def _add(self, entry: Entry) -> None:
        if entry.bin is None:
            entry.bin = self.bin
        self.grid.add(entry)

    # --- locations (SPEC §3.3) --------------------------------------------------------

    def _location(self, scan: Scan, name: str, offered: tuple[int, str] | None) -> Verdict:
        """A location barcode: the units scanned after it go to its bin (a bin the
        warehouse knows: BIN_UNKNOWN; a supervisor who scans an unknown one twice in a
        row makes it). LOCATION_NOT_HERE where the workflow puts units nowhere, or while
        a unit waits for its serial. Journaled; CMD-CANCEL forgets it."""
        words = self.workflow.words
        if not self.workflow.facts.takes_bins:
            raise Problem(
                Code.LOCATION_NOT_HERE,
                f"{show(scan.text)} is a location barcode: {words.doing.lower()} puts units"
                " in no bin.",
                "location",
            )
        if self.item_adds_unit and self.awaiting is not None and self._pending_last():
            product = self.document.lines[self.awaiting].product
            raise Problem(
                Code.LOCATION_NOT_HERE,
                f"{show(scan.text)} is a location barcode: scan the serial of the"
                f" {product.name} first (or CMD-UNDO), then the location.",
                "location",
            )
        warehouse_id, warehouse = self.workflow.bin_warehouse(self.station, self.document)
        shown = show(name, 64)
        problem = bin_problem(name)
        if problem is not None:
            raise Problem(
                Code.BIN_UNKNOWN, f"{show(scan.text)} names no bin: {problem}.", "location"
            )
        code = bins.bin_code(self.lookup_connection(), warehouse_id, name)
        made = False
        if code is None:
            if offered != (warehouse_id, serial_key(name)) or not self._supervisor():
                if self._supervisor():
                    self._offered_bin = (warehouse_id, serial_key(name))
                    tail = f"scan {show(scan.text)} again now to make it."
                else:
                    tail = "a supervisor makes bins (station bins add)."
                raise Problem(
                    Code.BIN_UNKNOWN,
                    f"{warehouse} has no bin {shown}: {tail}",
                    "location",
                )
            with self.engine.begin() as connection:
                bins.add_bins(connection, warehouse_id, [name], by=self.user)
                code = bins.bin_code(connection, warehouse_id, name)
            assert code is not None
            made = True
        self.bin = code
        self._log(scan, "bin")
        where = f"{warehouse} bin {show(code, 64)}"
        message = f"Bin {where} made. " if made else ""
        return Verdict(
            scan.raw, True, Code.OK, "location", f"{message}Units scanned next go to {where}."
        )

    def _supervisor(self) -> bool:
        if self.user is None:
            return False
        if self._role is None:
            self._role = role_of(self.engine, self.user) or ""
        return self._role == "supervisor"

    def _pop(self, index: int = -1) -> Entry:
        return self.grid.pop(index)

    def _fill(self, serial: str, unit_id: int | None) -> None:
        self.grid.fill(serial, unit_id)

    def _clear(self) -> None:
        self.grid.clear()

    def check_room(self, index: int, extra: int = 1) -> None:
        """The line still has `extra` units to receive or pack (OVER_RECEIPT / OVER_PACK)."""
        if self.workflow.allow_over(self.station.options):
            return
        line = self.document.lines[index]
        problem = self.workflow.room_problem(line, self._counts()[index], extra)
        if problem is not None:
            raise problem

    def _item(self, index: int, scan: Scan, *, kind: str = "item") -> Verdict:
        line = self.document.lines[index]
        product = line.product
        if product.serialized:
            if self.item_adds_unit:
                self.check_room(index)
                self._add(Entry(index))
            else:
                self.check_room(index)
            self.current = self.awaiting = index
            return self._accept(scan, kind, product, None, f"{product.name}: scan its serial.")
        self.check_room(index)
        self._add(Entry(index))
        self.current, self.awaiting = index, None
        count = self._counts()[index]
        return self._accept(scan, kind, product, None, f"{product.name} — {self._of(index, count)}")

    def add_unit(self, index: int, scan: Scan) -> None:
        """A unit of serialized line `index` without a serial: the station generates one
        when the session posts (a return's CMD-NOLABEL, then the item). Room checked
        (OVER_RETURN), journaled like any scan; the next serial names its own line."""
        self.check_room(index)
        self._add(Entry(index))
        self.current = self.awaiting = None
        self._log(scan, "scan")

    def add_quantity(self, qty: int) -> Verdict:
        """Typed quantity for the current non-serialized line."""
        scan = Scan(str(qty), str(qty), "text")
        if self.unconfirmed:
            return self._refuse(scan, _unconfirmed(), "item")
        if self.current is None or self._current_serialized():
            return self._refuse(
                scan,
                Problem(Code.NO_ITEM_SELECTED, "Scan a non-serialized item before a quantity."),
                "item",
            )
        line = self.document.lines[self.current]
        try:
            if qty < 1:
                raise Problem(Code.UNKNOWN_ITEM, "A quantity is a whole number of at least 1.")
            self.check_room(self.current, qty)
        except Problem as problem:
            return self._refuse(scan, problem, "item")
        self._add(Entry(self.current, qty=qty))
        try:
            self._log(scan, "qty")
        except Problem as problem:
            return self._refuse(scan, problem, "item")
        return self._accept(scan, "item", line.product, None, f"{qty} × {line.product.name}")

    # --- serials --------------------------------------------------------------------

    def _serial(
        self,
        connection: Connection,
        scan: Scan,
        index: int,
        serial: str,
        *,
        kind: str = "serial",
    ) -> Verdict:
        line = self.document.lines[index]
        check_serial_text(serial, self.serial_charset(connection))
        if command_in(serial, self.station["command_prefix"]) is not None:
            raise Problem(
                Code.SERIAL_INVALID,
                f"Serial {show(serial)} starts with the command prefix"
                f" {self.station['command_prefix']}: its label would be read as a command.",
            )
        if location_in(serial, self.station["bin_prefix"]) is not None:
            raise Problem(  # a GS1 scan's serial: its own label would read as a location
                Code.SERIAL_INVALID,
                f"Serial {show(serial)} starts with the location prefix"
                f" {self.station['bin_prefix']}: its label would be read as a location.",
            )
        filling = self._filling(index)
        self.note = ""
        self._seen = []
        unit_id = self.workflow.check_serial(self, index, serial, room=not filling)
        version = self._version(unit_id)
        dropped = None if filling else self._drop_pending()
        if filling:
            self._fill(serial, unit_id)
        else:
            self._add(Entry(index, serial, unit_id=unit_id, version=version))
        self.current, self.awaiting = index, None
        count = self._counts()[index]
        message = f"{line.product.name} serial {serial} — {self._of(index, count)}"
        if self.note:
            message += f" — {self.note}"
        if dropped is not None:
            message += f" (the {dropped} waiting for a serial was dropped)"
        return self._accept(scan, kind, line.product, serial, message)

    def _filling(self, index: int) -> bool:
        """Receive: the unit at the end of the grid awaits its serial on this line."""
        return (
            self.item_adds_unit
            and self.awaiting == index
            and self._pending_last()
            and self.entries[-1].line == index
        )

    def _drop_pending(self) -> str | None:
        """A serial for another line while a unit awaits its own (a GS1 scan of another
        item): that unit is dropped, never left without a serial to block the save.
        With generate_serials on, a unit without a serial is meant to be generated."""
        if not (self.item_adds_unit and self.awaiting is not None and self._pending_last()):
            return None
        if self._item_counts_while_awaiting():
            return None
        entry = self._pop()
        return f"{self.document.lines[entry.line].product.name} unit"

    def check_duplicate(self, connection: Connection, index: int, serial: str, key: str) -> None:
        """SERIAL_DUPLICATE_IN_SESSION: for this product, or for any product when
        serial_scope is global."""
        if (self.document.lines[index].product.id, key) in self.grid.keys:
            raise Problem(
                Code.SERIAL_DUPLICATE_IN_SESSION,
                f"{show(serial)} was already scanned in this session.",
            )
        if key in self.grid.any_keys and self.serial_scope(connection) == "global":
            other = next(
                self.document.lines[e.line].product
                for e in reversed(self.entries)
                if e.serial is not None and serial_key(e.serial) == key
            )
            raise Problem(
                Code.SERIAL_DUPLICATE_IN_SESSION,
                f"{show(serial)} was already scanned in this session for {other.name}"
                f" ({other.sku}); serials are unique across products (serial_scope = global).",
            )

    # --- commands (SPEC §5) -----------------------------------------------------------

    def _command(self, scan: Scan) -> Verdict:
        command = scan.command or ""
        if command == "SAVE":
            return self.save_verdict(scan)
        if command == "UNDO":
            return self.undo(scan)
        if command == "RESCAN":
            self.rescan()
            return Verdict(scan.raw, True, Code.OK, "command", "Session cleared: start again.")
        if command == "CANCEL":
            if self.item_adds_unit and self.awaiting is not None and self._pending_last():
                self._pop()
            self.current = self.awaiting = None
            self._log(scan, "cancel")
            return Verdict(scan.raw, True, Code.OK, "command", "Cancelled: scan an item.")
        verdict = self.workflow.command(self, scan, command)
        if verdict is not None:
            return verdict
        return Verdict(
            scan.raw,
            False,
            Code.UNKNOWN_COMMAND,
            "command",
            f"Unknown command {show(scan.text)}.",
        )

    def _pending_last(self) -> bool:
        return bool(self.entries) and self.entries[-1].serial is None

    def undo(self, scan: Scan | None = None) -> Verdict:
        scan = scan or Scan("CMD-UNDO", "CMD-UNDO", "command", command="UNDO")
        if self.unconfirmed:  # the GUI's Undo: the same as the scanned command
            return self._refuse(scan, _unconfirmed(), "command")
        if not self.entries:
            if self.awaiting is None:
                return Verdict(scan.raw, False, Code.NOTHING_TO_UNDO, "command", "Nothing to undo.")
            self.current = self.awaiting = None
            try:
                self._log(scan, "undo")
            except Problem as problem:
                return self._refuse(scan, problem, "command")
            return Verdict(scan.raw, True, Code.OK, "command", "Item scan undone.")
        entry = self._pop()
        line = self.document.lines[entry.line]
        self.current = self.entries[-1].line if self.entries else None
        self.awaiting = None
        try:
            self._log(scan, "undo")
        except Problem as problem:
            return self._refuse(scan, problem, "command")
        what = f"serial {entry.serial}" if entry.serial else f"{entry.qty} × {line.product.sku}"
        return Verdict(
            scan.raw,
            True,
            Code.OK,
            "command",
            f"Undone: {line.product.name} {what}.",
            line.product.sku,
            entry.serial,
        )

    def remove(self, index: int) -> Entry:
        """Remove one row of the session grid (a selected row in the GUI); Problem
        (JOURNAL_UNAVAILABLE, the row kept) when the journal cannot record it, or
        (POSTING_OUTCOME_UNKNOWN) before the next save tells whether the last one posted."""
        if self.unconfirmed:
            raise _unconfirmed()
        entry = self._pop(index)
        if self.awaiting is not None and entry.serial is None:
            self.awaiting = None
        self._log(Scan(f"remove {index}", "", "command"), "remove", index, entry)
        return entry

    def rescan(self) -> None:
        """Clear the whole session (the GUI asks first): its journal first, so a crash
        never brings back a cleared session; Problem (JOURNAL_UNAVAILABLE, the session
        kept) when the journal cannot be removed."""
        if self.journal is not None:
            try:
                self.journal.clear()
            except OSError as error:
                raise self._journal_problem(error, "rescan") from error
        self._start_over()

    def _start_over(self) -> None:
        """An empty grid; the next scan starts a new journal (replacing any left)."""
        self._clear()
        self.current = self.awaiting = self.mode = self.bin = self._journaled_bin = None
        self._journal_started, self._journal_whole = False, True
        self._journaled, self._journaled_mode = (0, None, None, None), None

    # --- posting --------------------------------------------------------------------

    def save_verdict(
        self, scan: Scan | None = None, *, progress: Progress | None = None
    ) -> Verdict:
        """Post the session (CMD-SAVE) and say how it went; `progress(units written,
        units)` is told between the steps of the write (see `Posting.progress`)."""
        scan = scan or Scan("CMD-SAVE", "CMD-SAVE", "command", command="SAVE")
        try:
            if self._unreachable:
                raise OperationalError(None, None, ConnectionError(UNREACHABLE_BEFORE))
            result = self._resolved(self.save(progress))
        except OutcomeUnknown:
            self.unconfirmed = True
            result = PostingResult.refused(
                Code.POSTING_OUTCOME_UNKNOWN,
                "The connection to the database was lost while the posting was being"
                " committed: it may or may not be posted. The session is kept: scan CMD-SAVE"
                " again when the database answers — it says whether it had been posted, and"
                " never posts twice.",
            )
        except OperationalError as error:
            self._note_unreachable(error)
            problem = database_problem(error, "nothing posted")
            result = PostingResult.refused(problem.code, problem.message)
        return Verdict(
            scan.raw,
            result.posted,
            Code.OK if result.posted else result.code,
            "command",
            result.message,
            posting=result,
        )

    def save(self, progress: Progress | None = None) -> PostingResult:
        return self._posted(self.workflow.post(self.engine, self.posting(progress)))

    def _resolved(self, result: PostingResult) -> PostingResult:
        """The answer to a save after one whose outcome was unknown says which it was."""
        if not self.unconfirmed:
            return result
        self.unconfirmed = False
        if result.posted:
            result.resolves_unknown = True
            posted_now = "had not been posted: posted now"
            earlier = "had been posted" if result.already_posted else posted_now
        else:
            earlier = "had not been posted"
        result.message = f"The save whose outcome was unknown {earlier}. {result.message}"
        return result

    def _posted(self, result: PostingResult) -> PostingResult:
        """After a successful posting: the session starts empty and the journal is gone."""
        if result.posted:
            try:
                self.rescan()
            except Problem:  # posted all the same; restored, the old journal posts once
                self._start_over()
            self.session_id = uuid.uuid4().hex  # what is scanned next is a new posting
        elif result.code == Code.UNIT_CHANGED_MEANWHILE:  # told: the next save takes them
            told = {serial_key(serial) for serial in result.serials}
            for entry in self.entries:
                if entry.serial is not None and serial_key(entry.serial) in told:
                    entry.version = None
        return result

    # --- journal --------------------------------------------------------------------

    def _header(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "kind": self.kind,
            "document": self.document.number,
            "station": self.station.name,
            "user": self.user,
            **({"reason": self.reason} if self.reason is not None else {}),
            "started": self.started.isoformat(),
        }

    def _log(
        self, scan: Scan, op: str, index: int | None = None, removed: Entry | None = None
    ) -> None:
        """Journal the state after an accepted scan: enough to rebuild the session.

        Nothing is acknowledged that is not on disk: when the journal cannot be written
        the change is taken back (the grid is as before it) and Problem
        (JOURNAL_UNAVAILABLE) raised. A journal that holds many more records than the
        session has rows is rewritten as one record per row."""
        if self.journal is None:
            return
        record: dict[str, Any] = {"scan": scan.raw if isinstance(scan.raw, str) else "", "op": op}
        if op == "remove":
            record["index"] = index
        elif op in ("scan", "qty") and self.entries:
            last = self.entries[-1]
            record["entry"] = _journaled(last)
        record["state"] = self._journal_state()
        if self.bin != self._journaled_bin:
            record["bin"] = self.bin
        if len(self.document.lines) > self._journaled_lines:
            record["lines"] = self._line_products(self._journaled_lines)
        try:
            if not self._journal_started:
                self._rewrite([record])
            elif not self._journal_whole:  # a write failed: what it left is replaced
                self._rewrite(self.compacted())
            else:
                self.journal.append(record)
                self._journal_records += 1
        except OSError as error:
            if self._journal_started and self.journal.torn:
                self._journal_whole = False
            self._take_back(op, index, removed)
            raise self._journal_problem(error, op) from error
        self._journaled, self._journaled_mode = self._state(), self.mode
        self._journaled_bin = self.bin
        self._journaled_lines = len(self.document.lines)
        if self._journal_records > self._compact_limit() and (
            self._journal_records >= self._compact_at
        ):
            try:
                self._rewrite(self.compacted())
            except OSError:  # the journal is whole as it is: compact it later
                self._compact_at = 2 * self._journal_records

    def _rewrite(self, records: list[dict[str, Any]]) -> None:
        assert self.journal is not None
        self.journal.start(self._header(), records)
        self._journal_started, self._journal_whole = True, True
        self._journal_records = len(records)

    def _compact_limit(self) -> int:
        """Records the journal may hold before it is rewritten one per row: a unit scanned
        as item then serial takes two records, so 3 per row leaves every such session
        alone and compacts one whose undos, removals and cancels outweigh its rows."""
        return 3 * len(self.entries) + 64

    def compacted(self) -> list[dict[str, Any]]:
        """The session as journal records: one per row, the last carrying the state."""
        records: list[dict[str, Any]] = [
            {
                "scan": entry.serial or "",
                "op": "scan",
                "entry": _journaled(entry),
                "state": [number, entry.line, None],
            }
            for number, entry in enumerate(self.entries, 1)
        ]
        state = self._journal_state()
        if records:
            records[-1]["state"] = state
        elif (
            state != [0, None, None]
            or (self.workflow.open_lines and self.document.lines)
            or self.bin is not None
        ):
            records.append({"scan": "", "op": "scan", "state": state})
        if self.bin is not None:
            records[-1]["bin"] = self.bin
        if self.workflow.open_lines and self.document.lines:
            records[0]["lines"] = self._line_products(0)
        return records

    def _line_products(self, start: int) -> list[int]:
        return [line.product.id for line in self.document.lines[start:]]

    def _journal_state(self) -> list[Any]:
        """[rows, current line, awaited line] and, while a mode is on, the mode."""
        state: list[Any] = [len(self.entries), self.current, self.awaiting]
        return [*state, self.mode] if self.mode is not None else state

    def _state(self) -> _State:
        last = self.entries[-1] if self.entries else None
        row = None
        if last is not None:
            row = (last.line, last.serial, last.qty, last.unit_id, last.bin, last.version)
        return len(self.entries), self.current, self.awaiting, row

    def _take_back(self, op: str, index: int | None, removed: Entry | None) -> None:
        """Undo the one change since the grid was last journaled."""
        size, current, awaiting, row = self._journaled
        if op == "remove" and removed is not None and index is not None:
            self.grid.insert(index, removed)
        elif len(self.entries) > size:
            self._pop()
        elif len(self.entries) < size and row is not None:
            self._add(Entry(*row))
        elif row is not None and self._state()[3] != row:
            self._fill(row[1], row[3])  # a pending unit gets its serial back off
        self.current, self.awaiting, self.mode = current, awaiting, self._journaled_mode
        self.bin = self._journaled_bin

    def _journal_problem(self, error: OSError, op: str) -> Problem:
        what = {"qty": "quantity", "remove": "removal"}.get(op, op)
        folder = self.journal.path.parent if self.journal is not None else "the data folder"
        return Problem(
            Code.JOURNAL_UNAVAILABLE,
            f"The journal cannot be written ({error.strerror or error}): {what} refused,"
            f" the session is as it was. Free disk space or fix {folder}, then scan again.",
            None if op == "scan" else "item" if op == "qty" else "command",
        )

    def restore(self, records: list[dict[str, Any]]) -> int:
        """Rebuild the session from journal records, in one pass; returns the number of
        records restored: all, or those before the first that does not fit the session
        (a damaged journal). `rewrite_journal` then writes the journal again whole."""
        replay = Replay(len(records), len(self.document.lines))
        restored = 0
        for record in records:
            if not replay.apply(record):
                break
            restored += 1
        if replay.products:  # the lines the session had added, in their order
            with self.reader.connect() as connection:
                known = catalog.products_by_id(connection, replay.products)
            for product_id in replay.products:
                self._add_line(self.workflow.open_line(self, known[product_id]))
            self._journaled_lines = len(self.document.lines)
        for entry in replay.rows():
            self._add(entry)
        self.current, self.awaiting, self.mode = replay.current, replay.awaiting, replay.mode
        self.bin = self._journaled_bin = replay.bin
        self._journaled, self._journaled_mode = self._state(), self.mode
        return restored

    def rewrite_journal(self, records: list[dict[str, Any]]) -> None:
        """After a restore: the journal written again whole (no torn line stays in it),
        one record per row when it holds many more records than rows. When it cannot be
        written, the next scan tries again, or is refused."""
        if self.journal is None:
            return
        try:
            self._rewrite(records if len(records) <= self._compact_limit() else self.compacted())
        except OSError:
            self._journal_started, self._journal_whole = True, False

    # --- verdicts -------------------------------------------------------------------

    def _accept(
        self, scan: Scan, kind: str, product: Product, serial: str | None, message: str
    ) -> Verdict:
        return Verdict(scan.raw, True, Code.OK, kind, message, product.sku, serial)

    def _refuse(self, scan: Scan, problem: Problem, kind: str) -> Verdict:
        shown = scan.raw if isinstance(scan.raw, str) else ""
        sku = None
        if self.awaiting is not None:
            sku = self.document.lines[self.awaiting].product.sku
        return Verdict(shown, False, problem.code, kind, problem.message, sku, None)


def _journaled(entry: Entry) -> list[Any]:
    """A grid row as the journal holds it: [line, serial, qty, unit id], then its bin
    and the version of its unit when it has them."""
    row = [entry.line, entry.serial, entry.qty, entry.unit_id]
    if entry.version is not None:
        return [*row, entry.bin, entry.version]
    return row if entry.bin is None else [*row, entry.bin]


def database_problem(error: Exception, what: str) -> Problem:
    """DATABASE_BUSY or DATABASE_UNAVAILABLE for an OperationalError; `what`: what
    became of the request ("scan refused", "nothing posted")."""
    if busy(error):
        return Problem(
            Code.DATABASE_BUSY,
            f"The database is busy (another station holds its lock, or it is too slow): {what};"
            " the session is kept — try again.",
        )
    return Problem(
        Code.DATABASE_UNAVAILABLE,
        f"The database cannot be reached: {what}; the session is kept.",
    )


def _unconfirmed() -> Problem:
    return Problem(
        Code.POSTING_OUTCOME_UNKNOWN,
        "Whether the last save was posted is unknown (the connection was lost during its"
        " commit): scan CMD-SAVE to find out before scanning on; nothing else is taken.",
    )
