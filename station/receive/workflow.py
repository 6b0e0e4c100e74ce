"""Receiving a purchase order (SPEC §3.1): what the receive workflow adds to the session
core and the posting scaffold."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from station import printing
from station.documents import Document
from station.posting import Posting, PostingResult
from station.receive import posting as receipt
from station.receive import rules
from station.rules import Problem, check_serial_rules
from station.scanning import serial_key
from station.workflow import Session, Workflow, post_document


class Receive(Workflow):
    kind = "receive"

    def not_open(self, document: Document, options: dict[str, Any]) -> Problem | None:
        return rules.po_not_open(document, options)

    def allow_over(self, options: dict[str, Any]) -> bool:
        return bool(options["allow_over_receipt"])

    def item_counts_while_awaiting(self, options: dict[str, Any]) -> bool:
        return bool(options["generate_serials"])

    def check_serial(self, session: Session, index: int, serial: str, *, room: bool) -> int | None:
        """SERIAL_INVALID, SERIAL_EQUALS_ITEM_CODE, SERIAL_BAD_LENGTH, SERIAL_BAD_FORMAT,
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
                raise rules.already_exists(serial, unit)
        return None

    def post(self, engine: Engine, posting: Posting) -> PostingResult:
        made = receipt.prepare(engine, posting)
        if isinstance(made, PostingResult):
            return made
        return post_document(engine, posting, self, made)

    plan = staticmethod(receipt.plan)
    explain_conflict = staticmethod(receipt.explain_conflict)
    print_jobs = staticmethod(printing.receipt_jobs)


WORKFLOW = Receive()
