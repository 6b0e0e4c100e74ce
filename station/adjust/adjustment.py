"""The two adjustments by serial: scrap (units in stock or quarantined become `scrapped`,
non-serialized quantities come off, never below zero) and release (quarantined units go
back in stock, into the bin named). Each is one posting, ADJ-000001, with its reason."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from station.adjust import rules
from station.codes import Code
from station.db import company, documents
from station.documents import Document, DocumentLine, Product, UnitInfo
from station.movement import Movement, UnitChange
from station.posting import Posting
from station.rules import Problem, check_once, check_serial_text
from station.scanning import serial_key
from station.stations import StationConfig
from station.workflow import (
    Draft,
    Session,
    Workflow,
    locked_units,
    on_hand_line,
    refused_whole,
    stock_problem,
    take_stock,
    warehouse_of,
)


class Adjustment(Workflow):
    """A serial scanned alone names its unit; the lines come as units are scanned."""

    serial_alone = True
    open_lines = True
    #: The statuses a unit may have to be taken, and the code when it has another.
    statuses: tuple[str, ...] = ()
    status_code = Code.SERIAL_NOT_IN_STOCK

    def load(self, connection: Connection, number: str, *, lock: bool = False) -> Document | None:
        return documents.no_document(connection, self.kind, number)

    def choices(self, connection: Connection, search: str = "") -> list[dict[str, Any]]:
        """A scrap opens from its button; a release into the bin typed (any bin name)."""
        name = " ".join(search.split())
        if self.facts.fixed_number or not name:
            return []
        return [{"number": name, "party": "", "status": ""}]

    def line_of_serial(self, session: Session, connection: Connection, serial: str) -> int:
        return session.line_of_product(rules.unit_product(session, connection, serial))

    def check_serial(self, session: Session, index: int, serial: str, *, room: bool) -> int | None:
        connection = session.lookup_connection()
        key = serial_key(serial)
        unit = rules.check_unit(
            session.document.lines[index],
            serial,
            session.units_with_serial(connection, key),
            statuses=self.statuses,
            code=self.status_code,
            warehouse=warehouse_of(session.station, session.document),
        )
        session.check_duplicate(connection, index, serial, key)
        return unit.id

    def changes(self, unit: UnitInfo, document: Document) -> tuple[tuple[str, Any], ...]:
        raise NotImplementedError

    def plan(self, draft: Draft) -> Movement:
        """The units locked (in key order) and checked again, then what they become."""
        connection, lines = draft.connection, draft.lines
        warehouse = warehouse_of(draft.station, draft.document)
        found = locked_units(draft)
        scope = company.serial_scope(connection)
        charset = company.serial_charset(connection)
        movement = Movement(
            datetime.now(UTC),
            posted_units=[(e.line, e.serial, e.qty) for e in draft.posting.entries],
        )
        seen: set[tuple[int, str]] = set()
        for entry in draft.posting.entries:
            if entry.serial is None:
                continue
            line = lines[entry.line]
            key = serial_key(entry.serial)
            with refused_whole("Nothing adjusted", entry.serial):
                check_serial_text(entry.serial, charset)
                unit = rules.check_unit(
                    line,
                    entry.serial,
                    found.get(key, []),
                    statuses=self.statuses,
                    code=self.status_code,
                    warehouse=warehouse,
                )
            check_once(seen, (company.scope_id(scope, line.product.id), key), entry.serial)
            change = UnitChange(
                unit.id,
                unit.warehouse_id,
                unit.bin,
                self.changes(unit, draft.document),
                expect_status=unit.status,
            )
            movement.changed.append(change)
        take_stock(draft, movement, warehouse[0], "scrap")
        return movement

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

    def changes(self, unit: UnitInfo, document: Document) -> tuple[tuple[str, Any], ...]:
        return (("status", "scrapped"),)


class Release(Adjustment):
    """Quarantined units back in stock, into the bin the session names."""

    kind = "release"
    statuses = ("quarantined",)
    status_code = Code.SERIAL_NOT_QUARANTINED

    def load(self, connection: Connection, number: str, *, lock: bool = False) -> Document | None:
        bin_name = " ".join(number.split())
        if not bin_name or len(bin_name) > 64 or not bin_name.isprintable():
            return None
        return documents.no_document(connection, "bin", bin_name)

    def room_problem(self, line: DocumentLine, scanned: int, extra: int = 1) -> Problem | None:
        if line.product.serialized:
            return None
        return Problem(
            Code.SERIAL_NOT_QUARANTINED,
            f"{line.product.name} ({line.product.sku}) is counted on hand, never quarantined:"
            " nothing to release.",
        )

    def changes(self, unit: UnitInfo, document: Document) -> tuple[tuple[str, Any], ...]:
        return (("status", "in_stock"), ("bin", document.number))


SCRAP = Scrap()
RELEASE = Release()
