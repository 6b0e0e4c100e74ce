"""Scan and ship (SPEC §3.2): what the ship workflow adds to the session core and the
posting scaffold — the units a serial names, CMD-NOTFOUND and its mode."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from station import printing
from station.codes import Code, StationError, Verdict
from station.db import ledger
from station.documents import Document, DocumentLine
from station.movement import Movement
from station.posting import Posting, PostingResult
from station.rules import Problem, check_serial_text
from station.scanning import Scan, serial_key
from station.ship import posting as shipment
from station.ship import rules
from station.stations import StationConfig
from station.workflow import Header, Session, Words, Workflow

NOT_FOUND_PROMPT = "Not found: scan the serial of the unit that is not there (any command cancels)"


class Ship(Workflow):
    kind = "ship"
    document_kind = "order"
    station_kind = "ship"
    key = "F3"
    roles = ("packer", "supervisor")
    words = Words(
        title="Ship",
        menu="Scan and ship",
        choose="Ship: choose the order",
        doing="Shipping",
        document="sales order",
        document_short="order",
        party="Customer",
        before="Shipped",
        now="Packed",
        left="{n} left to pack",
        done="Ready to ship",
        filter_hint="Filter by number, customer, SKU",
        save="Ship",
        preview="Slip preview",
    )
    header = Header("shipment", "SHP", "order_id")
    item_not_on_document = Code.ITEM_NOT_ON_ORDER
    prints = "slip"
    event = "shipped"
    nothing_done = "nothing shipped"

    def load(self, connection: Connection, number: str, *, lock: bool = False) -> Document | None:
        return ledger.document(connection, "order", number, lock=lock)

    def missing(self, number: str, *, posting: bool = False) -> StationError:
        if posting:
            return Problem(Code.ORDER_NOT_FOUND, f"Order {number} no longer exists.")
        return StationError(Code.ORDER_NOT_FOUND, f"No sales order {number}.")

    def not_open(self, document: Document, options: dict[str, Any]) -> Problem | None:
        if document.status in ("shipped", "cancelled"):
            return Problem(Code.ORDER_NOT_OPEN, f"Order {document.number} is {document.status}.")
        return None

    def room_problem(self, line: DocumentLine, scanned: int, extra: int = 1) -> Problem | None:
        return rules.room_problem(line, scanned, extra)

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
        if room:
            session.check_room(index)
        warehouse_id, warehouse = rules.ship_warehouse(session.station, session.document)
        unit = rules.check_unit(
            line,
            serial,
            key,
            session.units_with_serial(connection, key),
            options=session.station.options,
            warehouse_id=warehouse_id,
            warehouse=warehouse,
        )
        session.check_duplicate(connection, index, serial, key)
        return None if unit is None else unit.id

    # --- CMD-NOTFOUND -------------------------------------------------------------------

    def command(self, session: Session, scan: Scan, command: str) -> Verdict | None:
        if command != "NOTFOUND":
            return None
        session.set_mode("not_found", scan)
        return Verdict(scan.raw, True, Code.OK, "command", NOT_FOUND_PROMPT)

    def mode_prompt(self, mode: str) -> str:
        return NOT_FOUND_PROMPT

    def mode_scan(self, session: Session, mode: str, scan: Scan) -> Verdict:
        """The scan after CMD-NOTFOUND: the serial of a unit to mark not found."""
        if scan.kind == "gs1_invalid":
            raise Problem(Code.GS1_INVALID, f"Unreadable GS1 data: {scan.problem}.", "gs1")
        if scan.kind == "unreadable":
            raise Problem(Code.SERIAL_INVALID, f"Scan refused: {scan.problem}.", "serial")
        serial = scan.serial if scan.kind == "gs1" else scan.text
        if serial is None:
            raise Problem(
                Code.SERIAL_INVALID, "The GS1 scan carries no serial (21): nothing marked.", "gs1"
            )
        connection = session.lookup_connection()
        product = None
        if scan.kind == "gs1":  # the label names its product: only a unit of it is marked
            product = session.document.lines[session.gs1_line(connection, scan)].product
        check_serial_text(serial, session.serial_charset(connection))
        result = shipment.mark_not_found(
            session.engine,
            station=session.station,
            order=session.document,
            user=session.user,
            serial=serial,
            product=product,
        )
        if not result.posted:
            raise Problem(result.code, result.message, "serial")
        key = serial_key(serial)
        lines = session.document.lines
        marked = lines[result.posted_units[0][0]].product.id
        left = [
            i
            for i, e in enumerate(session.entries)
            if e.key == key and lines[e.line].product.id == marked
        ]
        for index in reversed(left):
            session.remove(index)
        message = result.message
        if left:
            message += f" It left this session ({len(left)} scan removed)."
        kind = "gs1" if scan.kind == "gs1" else "serial"
        line = lines[result.posted_units[0][0]]
        return Verdict(scan.raw, True, Code.OK, kind, message, line.product.sku, result.serials[0])

    # --- posting -------------------------------------------------------------------------

    def nothing_to_post(self) -> str:
        return "Nothing scanned: nothing to ship."

    def plan(
        self,
        connection: Connection,
        posting: Posting,
        document: Document,
        lines: list[DocumentLine],
        station: StationConfig,
        extra: Any,
    ) -> Movement:
        return shipment.plan(connection, posting, document, lines, station)

    def status_after(self, document: Document, done: dict[int, int]) -> str:
        return shipment.status_after(document, done)

    def posted_message(self, document: Document, total: int, number: str) -> str:
        return f"Shipped {total} unit(s) on {document.number}: shipment {number}."

    def print_jobs(
        self, document: Document, result: PostingResult, station: StationConfig
    ) -> list[printing.PrintJob]:
        return printing.shipment_jobs(document, result, station)


WORKFLOW = Ship()
