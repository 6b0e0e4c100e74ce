"""A cycle count of one bin by serial (SPEC §3.3): the counter scans what is physically
there. A unit the ledger has in the bin is expected; one it has in stock elsewhere is
accepted as misplaced (its verdict says where the ledger has it); a unit marked not
found is found; a unit that left (shipped, scrapped, returned to the vendor) is refused
(SERIAL_NOT_IN_STOCK), an unknown serial too (SERIAL_UNKNOWN).

Posting (one count document, CNT-000001) marks the expected units nobody scanned
`not_found`, moves the misplaced ones into the bin, brings the found ones back in stock
there, gives every counted unit a `counted` event, and answers with the `missing`,
`misplaced` and `found` serials. The bin's row is locked first, then its units: two
counts of one bin post one after the other, and the second never marks a unit the
first marked (it is told the bin was counted meanwhile).

Non-serialized products are counted by quantity per warehouse (the ledger keeps them
per warehouse, not per bin): the difference from what is on hand is posted with the
count, never below zero.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from station.codes import Code
from station.db import bins, catalog, company, documents, units
from station.documents import Document, DocumentLine, Product, UnitInfo
from station.movement import Movement, UnitChange
from station.posting import Posting
from station.rules import Problem, check_once, check_serial_text
from station.scanned_alone import unit_product
from station.scanning import serial_key, show
from station.stations import StationConfig
from station.workflow import (
    Draft,
    OnABin,
    Session,
    places,
    refused_whole,
)

#: How many serials of each list a posting's message names.
NAMED = 5


def _where(unit: UnitInfo) -> str:
    return f"{unit.warehouse} bin {unit.bin}"


def judge(unit: UnitInfo | None, serial: str, warehouse_id: int, bin_code: str) -> str:
    """What a counted unit is: "expected", "misplaced" or "found"; SERIAL_UNKNOWN or
    SERIAL_NOT_IN_STOCK (it left) otherwise."""
    if unit is None:
        raise Problem(Code.SERIAL_UNKNOWN, f"Serial {show(serial)} is not in the ledger.", "serial")
    if unit.status == "not_found":
        return "found"
    if unit.status not in units.IN_A_BIN:
        raise Problem(
            Code.SERIAL_NOT_IN_STOCK,
            f"Serial {unit.serial} is {unit.status.replace('_', ' ')}: the ledger says it"
            " left; set it aside and ask a supervisor.",
            "serial",
        )
    if unit.warehouse_id == warehouse_id and serial_key(unit.bin) == serial_key(bin_code):
        return "expected"
    return "misplaced"


def _scanned_units(draft: Draft, there: list[UnitInfo]) -> dict[str, list[UnitInfo]]:
    """The units the count's serials name, by serial key: those the bin holds are read
    (and locked) with the bin already; only the others are looked up and locked."""
    held = {(unit.serial_key, unit.product_id): unit for unit in there}
    lines = draft.lines
    elsewhere = {
        serial_key(entry.serial)
        for entry in draft.posting.entries
        if entry.serial is not None
        and (serial_key(entry.serial), lines[entry.line].product.id) not in held
    }
    found: dict[str, list[UnitInfo]] = {}
    for unit in there:
        found.setdefault(unit.serial_key, []).append(unit)
    for unit in units.units_with_serials(draft.connection, sorted(elsewhere), lock=True):
        if (unit.serial_key, unit.product_id) not in held:
            found.setdefault(unit.serial_key, []).append(unit)
    return found


def _listed(lists: dict[str, list[str]]) -> list[str]:
    """What a count's verdict says of its lists ("Missing: 2 (WS-3, WS-9).")."""
    notes = [
        f"{name.capitalize()}: {len(serials):,} ({_named(serials)})."
        for name, serials in lists.items()
        if serials
    ]
    return notes or ["Every unit expected was there."]


def _named(serials: list[str]) -> str:
    shown = ", ".join(serials[:NAMED])
    return shown + (f" and {len(serials) - NAMED:,} more" if len(serials) > NAMED else "")


class Count(OnABin):
    """The document is the bin; its lines are the products the ledger has there (with
    how many units), and more come as other products are scanned."""

    kind = "count"
    checks_unchanged = False  # a count takes the bin as it finds it at posting
    serial_alone = True
    open_lines = True

    def load(
        self,
        connection: Connection,
        number: str,
        *,
        lock: bool = False,
        station: StationConfig | None = None,
    ) -> Document | None:
        """The bin, with a line for each product the ledger has there."""
        document = super().load(connection, number, lock=lock, station=station)
        if document is None:
            return None
        expected = units.products_in_bin(connection, document.warehouse_id, document.number)
        products = catalog.products_by_id(connection, expected)
        document.lines = [
            DocumentLine(id=-n, line_no=n, product=products[pid], qty=expected[pid], done=0)
            for n, pid in enumerate(sorted(expected, key=lambda p: products[p].sku), 1)
        ]
        return document

    def room_problem(self, line: DocumentLine, scanned: int, extra: int = 1) -> Problem | None:
        return None  # a count takes what is there: more than expected is what it finds

    def line_of_serial(self, session: Session, connection: Connection, serial: str) -> int:
        return session.line_of_product(unit_product(session, connection, serial))

    def check_serial(self, session: Session, index: int, serial: str, *, room: bool) -> int | None:
        connection = session.lookup_connection()
        key = serial_key(serial)
        product = session.document.lines[index].product
        found = session.units_with_serial(connection, key)
        unit = next((u for u in found if u.product_id == product.id), None)
        if unit is None and found:
            raise Problem(
                Code.SERIAL_WRONG_PRODUCT,
                f"Serial {found[0].serial} is a {found[0].sku}, not {product.name}"
                f" ({product.sku}).",
                "serial",
            )
        document = session.document
        what = judge(unit, serial, document.warehouse_id, document.number)
        session.check_duplicate(connection, index, serial, key)
        assert unit is not None
        if what == "misplaced":
            session.note = f"misplaced: the ledger has it in {_where(unit)}"
        elif what == "found":
            session.note = "found: it was marked not found"
        return unit.id

    def plan(self, draft: Draft) -> Movement:
        connection, lines, document = draft.connection, draft.lines, draft.document
        warehouse_id, bin_code = document.warehouse_id, document.number
        bins.lock_bin(connection, warehouse_id, bin_code)
        there = units.units_in_bin(connection, warehouse_id, bin_code, lock=True)
        found = _scanned_units(draft, there)
        scope = company.serial_scope(connection)
        charset = company.serial_charset(connection)
        movement = Movement(
            datetime.now(UTC),
            posted_units=[(e.line, e.serial, e.qty) for e in draft.posting.entries],
        )
        lists: dict[str, list[str]] = {"missing": [], "misplaced": [], "found": []}
        counted: set[int] = set()
        seen: set[tuple[int, str]] = set()
        for entry in draft.posting.entries:
            if entry.serial is None:
                continue
            line = lines[entry.line]
            key = serial_key(entry.serial)
            unit = next((u for u in found.get(key, []) if u.product_id == line.product.id), None)
            with refused_whole("Nothing counted", entry.serial):
                check_serial_text(entry.serial, charset)
                what = judge(unit, entry.serial, warehouse_id, bin_code)
            assert unit is not None
            check_once(seen, (company.scope_id(scope, line.product.id), key), entry.serial)
            counted.add(unit.id)
            values: tuple[tuple[str, Any], ...] = ()
            event = "counted"
            if what == "misplaced":
                values = (("warehouse_id", warehouse_id), ("bin", bin_code))
                event = "moved"
                lists["misplaced"].append(unit.serial)
            elif what == "found":
                values = (("status", "in_stock"), ("warehouse_id", warehouse_id), ("bin", bin_code))
                event = "found"
                lists["found"].append(unit.serial)
            movement.changed.append(
                UnitChange(unit.id, unit.warehouse_id, unit.bin, values, unit.status, event=event)
            )
        for unit in there:
            if unit.id not in counted:
                lists["missing"].append(unit.serial)
                movement.changed.append(
                    UnitChange(
                        unit.id,
                        unit.warehouse_id,
                        unit.bin,
                        (("status", "not_found"),),
                        unit.status,
                        event="not_found",
                    )
                )
        movement.lists = lists
        movement.header = {name: len(serials) for name, serials in lists.items()}
        movement.notes.extend(_listed(lists))
        self._quantities(draft, movement, warehouse_id)
        movement.notes.extend(self._meanwhile(draft))
        places(draft, warehouse_id, bin_code)
        return movement

    def _quantities(self, draft: Draft, movement: Movement, warehouse_id: int) -> None:
        """Non-serialized products: counted quantity against what is on hand now."""
        counted: Counter[int] = Counter()
        for entry in draft.posting.entries:
            if entry.serial is None:
                counted[draft.lines[entry.line].product.id] += entry.qty
        for line in draft.lines:
            if line.product.serialized or line.product.id not in counted:
                continue
            on_hand = units.on_hand(draft.connection, line.product.id, warehouse_id, lock=True)
            delta = counted[line.product.id] - on_hand
            if delta:
                movement.stock.append((line.product.id, warehouse_id, delta))
                movement.notes.append(
                    f"{line.product.name}: counted {counted[line.product.id]:,}, on hand"
                    f" {on_hand:,} ({delta:+,} posted)."
                )

    def _meanwhile(self, draft: Draft) -> list[str]:
        """The counts of this bin another station posted since this one began."""
        notes: list[str] = []
        started = draft.posting.started
        if started is not None:
            document = draft.document
            since = documents.counts_since(
                draft.connection, document.warehouse_id, document.number, started
            )
            for number, station in since:
                notes.append(
                    f"The bin was counted meanwhile ({number}, {station}): what it marked is"
                    " not marked again."
                )
        return notes

    def header_values(
        self, posting: Posting, document: Document, station: StationConfig
    ) -> dict[str, Any]:
        return {"warehouse_id": document.warehouse_id, "bin": document.number}

    def open_line(self, session: Session, product: Product) -> DocumentLine:
        number = len(session.document.lines) + 1
        return DocumentLine(id=-number, line_no=number, product=product, qty=0, done=0)


COUNT = Count()
