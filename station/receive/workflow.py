"""Receiving a purchase order (SPEC §3.1): what the receive workflow adds to the session
core and the posting scaffold."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine

from station import printing
from station.codes import Code, StationError
from station.db import ledger
from station.documents import Document, DocumentLine
from station.movement import Movement
from station.posting import Posting, PostingResult
from station.receive import posting as receipt
from station.receive import rules
from station.rules import Problem, check_serial_rules
from station.stations import StationConfig
from station.workflow import Header, Session, Words, Workflow, post_document


class Receive(Workflow):
    kind = "receive"
    document_kind = "po"
    station_kind = "receive"
    key = "F2"
    roles = ("clerk", "supervisor")
    words = Words(
        title="Receive",
        menu="Receive",
        choose="Receive: choose the purchase order",
        doing="Receiving",
        document="purchase order",
        document_short="PO",
        party="Vendor",
        before="Received",
        now="Now",
        left="{n} left to receive",
        done="All received",
        filter_hint="Filter by number, vendor, SKU or UPC",
        save="Save receive data",
        preview="Label preview",
    )
    header = Header("receipt", "RCV", "po_id")
    item_not_on_document = Code.ITEM_NOT_ON_PO
    item_adds_unit = True
    prints = "labels"
    event = "received"

    def load(self, connection: Connection, number: str, *, lock: bool = False) -> Document | None:
        return ledger.document(connection, "po", number, lock=lock)

    def missing(self, number: str, *, posting: bool = False) -> StationError:
        if posting:
            return Problem(Code.PO_NOT_FOUND, f"PO {number} no longer exists.")
        return StationError(Code.PO_NOT_FOUND, f"No purchase order {number}.")

    def not_open(self, document: Document, options: dict[str, Any]) -> Problem | None:
        return rules.po_not_open(document, options)

    def room_problem(self, line: DocumentLine, scanned: int, extra: int = 1) -> Problem | None:
        return rules.room_problem(line, scanned, extra)

    def allow_over(self, options: dict[str, Any]) -> bool:
        return bool(options["allow_over_receipt"])

    def item_counts_while_awaiting(self, options: dict[str, Any]) -> bool:
        return bool(options["generate_serials"])

    def check_serial(
        self,
        session: Session,
        connection: Connection,
        index: int,
        serial: str,
        key: str,
        *,
        room: bool,
    ) -> int | None:
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
        session.check_duplicate(connection, index, serial, key)
        scope = session.serial_scope(connection)
        for unit in session.units_with_serial(connection, key):
            if scope == "global" or unit.product_id == line.product.id:
                raise rules.already_exists(serial, unit)
        return None

    def post(self, engine: Engine, posting: Posting) -> PostingResult:
        made = receipt.prepare(engine, posting)
        if isinstance(made, PostingResult):
            return made
        return post_document(engine, posting, self, made)

    def plan(
        self,
        connection: Connection,
        posting: Posting,
        document: Document,
        lines: list[DocumentLine],
        station: StationConfig,
        extra: Any,
    ) -> Movement:
        return receipt.plan(connection, posting, document, lines, station, extra)

    def status_after(self, document: Document, done: dict[int, int]) -> str:
        return receipt.status_after(document, done)

    def posted_message(self, document: Document, total: int, number: str) -> str:
        return f"Received {total} unit(s) on {document.number}: receipt {number}."

    def explain_conflict(
        self, connection: Connection, posting: Posting, extra: Any
    ) -> PostingResult | None:
        return receipt.explain_conflict(connection, posting, extra)

    def print_jobs(
        self, document: Document, result: PostingResult, station: StationConfig
    ) -> list[printing.PrintJob]:
        return printing.receipt_jobs(document, result, station)


WORKFLOW = Receive()
