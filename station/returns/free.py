"""Free returns (SPEC §3.3): goods coming back with no order to return them against. The
item comes first, then its serial, which must not exist; the units are created with the
return as their origin, in stock in the station's `returns_bin` (or quarantined). The
lines come as items are scanned (`Workflow.open_lines`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from station.codes import Code
from station.db import company, documents
from station.documents import Document
from station.movement import Movement
from station.returns import posting
from station.rules import Problem, check_once, check_serial_rules
from station.scanning import serial_key
from station.stations import StationConfig
from station.workflow import Draft, Workflow, check_not_taken


class FreeReturn(Workflow):
    def own_bin(self, station: StationConfig, document: Document) -> str:
        return str(station["returns_bin"])

    kind = "free_return"
    open_lines = True

    def load(
        self,
        connection: Connection,
        number: str,
        *,
        lock: bool = False,
        station: StationConfig | None = None,
    ) -> Document | None:
        return documents.no_document(connection, "free", number)

    def choices(
        self, connection: Connection, search: str = "", *, station: StationConfig | None = None
    ) -> list[dict[str, Any]]:
        """One choice: the free return itself (there is no document to choose)."""
        return [{"number": self.facts.fixed_number, "party": "no order", "status": "open"}]

    def allow_over(self, options: dict[str, Any]) -> bool:
        return True  # nothing is ordered: any number may come back

    check_serial = Workflow.check_new_serial

    def plan(self, draft: Draft) -> Movement:
        """The returned units, created; every serial rule checked again and none of the
        serials may exist."""
        connection, lines, station = draft.connection, draft.lines, draft.station
        scope = company.serial_scope(connection)
        charset = company.serial_charset(connection)
        codes = frozenset(serial_key(c) for line in lines for c in line.product.codes)
        seen: set[tuple[int, str]] = set()
        for entry in draft.posting.entries:
            if entry.serial is not None:
                product = lines[entry.line].product
                check_serial_rules(
                    product, entry.serial, doc_keys=codes, options=station.options, charset=charset
                )
                pair = (company.scope_id(scope, product.id), serial_key(entry.serial))
                check_once(seen, pair, entry.serial)
        check_not_taken(connection, sorted(seen))
        movement, warehouse_id, status, place = posting.coming_back(draft)
        for entry in draft.posting.entries:
            product = lines[entry.line].product
            if entry.serial is None and product.serialized:
                raise Problem(
                    Code.SERIAL_REQUIRED,
                    f"A {product.name} unit has no serial: scan its serial or undo it.",
                )
            if entry.serial is None:
                movement.stock.append((product.id, warehouse_id, entry.qty))
                continue
            movement.created.append(
                {
                    "product_id": product.id,
                    "scope_id": company.scope_id(scope, product.id),
                    "serial": entry.serial,
                    "serial_key": serial_key(entry.serial),
                    "status": status,
                    "warehouse_id": warehouse_id,
                    "bin": entry.bin or place,
                    "origin": "return",
                    "received_at": movement.at,
                }
            )
        return movement


WORKFLOW = FreeReturn()
