"""Customer returns against an order (SPEC §3.3): what the return workflow adds to the
session core and the posting scaffold — a serial scanned on its own names its unit, which
must have shipped on the order and still be out; the order's lines give how many of each
may come back (shipped − returned)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from station.codes import Code
from station.documents import Document
from station.returns import posting as rma
from station.returns import rules
from station.rules import Problem
from station.scanning import serial_key
from station.workflow import Session, Workflow


class Return(Workflow):
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

    def status_after(self, document: Document, done: dict[int, int]) -> str:
        return document.status  # a return leaves the order's status as it was

    plan = staticmethod(rma.plan)


WORKFLOW = Return()
