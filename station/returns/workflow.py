"""Customer returns against an order (SPEC §3.3): what the return workflow adds to the
session core and the posting scaffold — a serial scanned on its own names its unit, which
must have shipped on the order and still be out; the order's lines give how many of each
may come back (shipped − returned); CMD-NOLABEL, then the item: a unit whose label was
lost comes back with a serial the station generates at posting (its label printed), and
replaces the one unit of its product still out on the order, when there is exactly one
(`station.returns.posting`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine

from station import generated, printing
from station.codes import Code, Verdict
from station.db import units
from station.documents import Document
from station.posting import Posting, PostingResult
from station.returns import posting as rma
from station.returns import rules
from station.rules import Problem
from station.scanning import Scan, serial_key, show
from station.stations import StationConfig
from station.workflow import Session, Workflow, post_document

NO_LABEL_PROMPT = (
    "Missing label: scan the item of the unit without a label — a new serial is made at save"
    " (any command cancels)"
)


class Return(Workflow):
    def own_bin(self, station: StationConfig, document: Document) -> str:
        return str(station["returns_bin"])

    kind = "return"
    serial_alone = True

    def not_open(self, document: Document, options: dict[str, Any]) -> Problem | None:
        if all(line.done >= line.qty for line in document.lines):
            return Problem(
                Code.ORDER_NOT_OPEN,
                f"Order {document.number} has no shipped unit left to return.",
            )
        return None

    def line_of_serial(self, session: Session, connection: Connection, serial: str) -> int:
        """The line the unit shipped on (the first line of its product with room when
        that line is not the order's any more)."""
        units = session.units_with_serial(connection, serial_key(serial))
        unit = rules.shipped_here(session.document, units)
        if unit is None:
            raise rules.not_on_order(session.document, serial, units)
        lines = session.document.lines
        same = [i for i, line in enumerate(lines) if line.product.id == unit.product_id]
        return next((i for i in same if lines[i].id == unit.order_line_id), same[0])

    def check_serial(self, session: Session, index: int, serial: str, *, room: bool) -> int | None:
        """SERIAL_NOT_ON_ORDER, SERIAL_WRONG_PRODUCT, SERIAL_NOT_SHIPPED, OVER_RETURN,
        SERIAL_DUPLICATE_IN_SESSION — in that order."""
        connection = session.lookup_connection()
        key = serial_key(serial)
        line = session.document.lines[index]
        unit = rules.check_unit(
            session.document, line, serial, session.units_with_serial(connection, key)
        )
        if room:
            session.check_room(index)
        session.check_duplicate(connection, index, serial, key)
        return unit.id

    # --- CMD-NOLABEL --------------------------------------------------------------------

    def command(self, session: Session, scan: Scan, command: str) -> Verdict | None:
        if command != "NOLABEL":
            return None
        session.set_mode("no_label", scan)
        return Verdict(scan.raw, True, Code.OK, "command", NO_LABEL_PROMPT)

    def mode_prompt(self, mode: str) -> str:
        return NO_LABEL_PROMPT

    def mode_scan(self, session: Session, mode: str, scan: Scan) -> Verdict:
        """The item after CMD-NOLABEL: one more unit of its line, whose serial the station
        generates at posting (ITEM_NOT_ON_ORDER, UNKNOWN_ITEM, NO_ITEM_SELECTED for a
        product without serials, OVER_RETURN); the verdict says which shipped unit the
        new serial will replace, or why none. A refusal ends the mode, as any scan does."""
        again = " (missing label: scan CMD-NOLABEL again, then the item)"
        if scan.kind == "gs1_invalid":
            raise Problem(Code.GS1_INVALID, f"Unreadable GS1 data: {scan.problem}.{again}", "gs1")
        if scan.kind == "unreadable":
            raise Problem(Code.SCAN_UNREADABLE, f"Scan refused: {scan.problem}.{again}", "item")
        connection = session.lookup_connection()
        try:
            index = session.item_line(connection, scan)
        except Problem as problem:
            problem.message = problem.message.rstrip(".") + f".{again}"
            raise
        lines = session.document.lines
        product = lines[index].product
        if not product.serialized:
            raise rules.not_relabeled(product)
        if scan.kind == "gs1" and scan.serial is not None:
            raise Problem(
                Code.NO_ITEM_SELECTED,
                f"This label carries serial {show(scan.serial)}: the unit has its label —"
                " scan it without CMD-NOLABEL.",
                "gs1",
            )
        same = [i for i, line in enumerate(lines) if line.product.id == product.id]
        index = self._line_with_room(session, same)
        session.add_unit(index, scan)
        scanned = {e.unit_id for e in session.entries if e.unit_id is not None}
        out = [
            unit
            for unit in units.shipped_on(connection, [lines[i].id for i in same], product.id)
            if unit.id not in scanned
        ]
        without = sum(1 for e in session.entries if e.serial is None and e.line in same)
        unit, why = rules.relabel_candidate(session.document, product, out, without)
        what = why if unit is None else f"it replaces {unit.serial}, {why}"
        line = lines[index]
        count = sum(1 for e in session.entries if e.line == index)
        message = (
            f"{product.name} without a label — {count} of {line.qty - line.done}: a new serial"
            f" is made at save; {what}."
        )
        kind = "gs1" if scan.kind == "gs1" else "item"
        return Verdict(scan.raw, True, Code.OK, kind, message, product.sku, None)

    @staticmethod
    def _line_with_room(session: Session, same: list[int]) -> int:
        """Of the lines of one product, the first with room for one more unit (else the
        first line's OVER_RETURN)."""
        first: Problem | None = None
        for index in same:
            try:
                session.check_room(index)
            except Problem as problem:
                first = first or problem
                continue
            return index
        assert first is not None
        raise first

    # --- posting -------------------------------------------------------------------------

    def post(self, engine: Engine, posting: Posting) -> PostingResult:
        """The serials of the units without a label first (short transactions of their
        own, `station.generated`), then the posting."""
        made = generated.prepare(engine, posting, self.header.kind)
        if isinstance(made, PostingResult):
            return made
        return post_document(engine, posting, self, made)

    def status_after(self, document: Document, done: dict[int, int]) -> str:
        return document.status  # a return leaves the order's status as it was

    plan = staticmethod(rma.plan)
    explain_conflict = staticmethod(rma.explain_conflict)
    print_jobs = staticmethod(printing.return_jobs)


WORKFLOW = Return()
