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
from station.rules import Problem
from station.stations import StationConfig
from station.workflow import Workflow, post_document


class Receive(Workflow):
    def own_bin(self, station: StationConfig, document: Document) -> str:
        return str(station["receiving_bin"])

    kind = "receive"

    def not_open(self, document: Document, options: dict[str, Any]) -> Problem | None:
        return rules.po_not_open(document, options)

    def allow_over(self, options: dict[str, Any]) -> bool:
        return bool(options["allow_over_receipt"])

    def item_counts_while_awaiting(self, options: dict[str, Any]) -> bool:
        return bool(options["generate_serials"])

    check_serial = Workflow.check_new_serial

    def post(self, engine: Engine, posting: Posting) -> PostingResult:
        made = receipt.prepare(engine, posting)
        if isinstance(made, PostingResult):
            return made
        return post_document(engine, posting, self, made)

    plan = staticmethod(receipt.plan)
    explain_conflict = staticmethod(receipt.explain_conflict)
    print_jobs = staticmethod(printing.receipt_jobs)


WORKFLOW = Receive()
