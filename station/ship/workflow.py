"""Scan and ship (SPEC §3.2): what the ship workflow adds to the session core and the
posting scaffold — the units a serial names, CMD-NOTFOUND and its mode."""

from __future__ import annotations

from typing import Any

from station import printing
from station.codes import Code, Verdict
from station.documents import Document
from station.rules import Problem, check_serial_text
from station.scanning import Scan, serial_key
from station.ship import posting as shipment
from station.ship import rules
from station.workflow import Session, Workflow, warehouse_of

NOT_FOUND_PROMPT = "Not found: scan the serial of the unit that is not there (any command cancels)"


class Ship(Workflow):
    kind = "ship"

    def not_open(self, document: Document, options: dict[str, Any]) -> Problem | None:
        if document.status in ("shipped", "cancelled"):
            return Problem(Code.ORDER_NOT_OPEN, f"Order {document.number} is {document.status}.")
        return None

    def check_serial(self, session: Session, index: int, serial: str, *, room: bool) -> int | None:
        """OVER_PACK, then the unit the serial names (SERIAL_WRONG_PRODUCT, SERIAL_UNKNOWN,
        SERIAL_NOT_IN_STOCK, SERIAL_WRONG_WAREHOUSE, SERIAL_NOT_FROM_PO,
        SERIAL_NOT_ALLOCATED), then SERIAL_DUPLICATE_IN_SESSION."""
        connection = session.lookup_connection()
        if room:
            session.check_room(index)
        warehouse_id, warehouse = warehouse_of(session.station, session.document)
        key = serial_key(serial)
        unit = rules.check_unit(
            session.document.lines[index],
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

    plan = staticmethod(shipment.plan)
    print_jobs = staticmethod(printing.shipment_jobs)


WORKFLOW = Ship()
