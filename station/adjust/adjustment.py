"""The two adjustments by serial: scrap (units in stock or quarantined become `scrapped`,
non-serialized quantities come off, never below zero) and release (quarantined units go
back in stock, into the bin named). Each is one posting, ADJ-000001, with its reason."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from station.codes import Code
from station.db import documents
from station.documents import Document, DocumentLine, Product, UnitInfo
from station.grid import Entry
from station.movement import Movement
from station.posting import Posting
from station.rules import Problem
from station.scanned_alone import ScannedAlone
from station.stations import StationConfig
from station.workflow import (
    Draft,
    OnABin,
    Session,
    on_hand_line,
    places,
    stock_problem,
    warehouse_of,
)


class Adjustment(ScannedAlone):
    """Scrap and release: a supervisor's, with a reason; ADJ-000001."""

    def load(
        self,
        connection: Connection,
        number: str,
        *,
        lock: bool = False,
        station: StationConfig | None = None,
    ) -> Document | None:
        return documents.no_document(connection, self.kind, number)

    def choices(
        self, connection: Connection, search: str = "", *, station: StationConfig | None = None
    ) -> list[dict[str, Any]]:
        """A scrap opens from its button (a release chooses its bin: OnABin)."""
        return []

    def header_values(
        self, posting: Posting, document: Document, station: StationConfig
    ) -> dict[str, Any]:
        return {
            "warehouse_id": warehouse_of(station, document)[0],
            "kind": self.kind,
            "reason": posting.reason,
            "bin": None if self.facts.fixed_number else document.number,
        }


class Scrap(Adjustment):
    kind = "scrap"
    statuses = ("in_stock", "quarantined")

    def open_line(self, session: Session, product: Product) -> DocumentLine:
        return on_hand_line(session, super().open_line(session, product))

    def room_problem(self, line: DocumentLine, scanned: int, extra: int = 1) -> Problem | None:
        return stock_problem(line, scanned, extra, "scrap")

    def changes(
        self, unit: UnitInfo, document: Document, entry: Entry
    ) -> tuple[tuple[str, Any], ...]:
        return (("status", "scrapped"),)


class Release(OnABin, Adjustment):
    """Quarantined units back in stock, into the bin the session names."""

    kind = "release"
    statuses = ("quarantined",)
    status_code = Code.SERIAL_NOT_QUARANTINED

    def plan(self, draft: Draft) -> Movement:
        movement = super().plan(draft)
        places(draft, warehouse_of(draft.station, draft.document)[0], draft.document.number)
        return movement

    def room_problem(self, line: DocumentLine, scanned: int, extra: int = 1) -> Problem | None:
        if line.product.serialized:
            return None
        return Problem(
            Code.SERIAL_NOT_QUARANTINED,
            f"{line.product.name} ({line.product.sku}) is counted on hand, never quarantined:"
            " nothing to release.",
        )

    def changes(
        self, unit: UnitInfo, document: Document, entry: Entry
    ) -> tuple[tuple[str, Any], ...]:
        return (("status", "in_stock"), ("bin", entry.bin or document.number))


SCRAP = Scrap()
RELEASE = Release()
