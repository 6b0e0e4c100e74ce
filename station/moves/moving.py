"""Moving units in stock: within the warehouse to a bin (a move), or to another warehouse
and bin (a transfer). The units must be in stock in the station's warehouse
(SERIAL_NOT_IN_STOCK, SERIAL_WRONG_WAREHOUSE); a location barcode scanned in the
session sends the units after it to that bin of the destination. Non-serialized
products go by item scans, never more than is on hand: a transfer takes them off here
and puts them on there; a move changes no quantity (they are counted per warehouse)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from station.codes import Code, StationError
from station.db import bins, catalog
from station.documents import Document, DocumentLine, Product, UnitInfo
from station.grid import Entry
from station.movement import Movement
from station.options import OPTIONS
from station.posting import Posting
from station.rules import Problem
from station.scanned_alone import ScannedAlone
from station.scanning import serial_key, show
from station.stations import StationConfig
from station.workflow import (
    Draft,
    OnABin,
    Session,
    on_hand_line,
    places,
    station_warehouse,
    stock_problem,
    warehouse_of,
)


class Moving(ScannedAlone):
    """What a move and a transfer share: the destination is the document."""

    def destination(self, document: Document) -> tuple[int, str, str]:
        """Where the units go: (warehouse id, warehouse code, bin)."""
        raise NotImplementedError

    def own_bin(self, station: StationConfig, document: Document) -> str:
        return self.destination(document)[2]

    def bin_warehouse(self, station: StationConfig, document: Document) -> tuple[int, str]:
        warehouse_id, warehouse, _bin = self.destination(document)
        return warehouse_id, warehouse

    def open_line(self, session: Session, product: Product) -> DocumentLine:
        return on_hand_line(session, super().open_line(session, product))

    def room_problem(self, line: DocumentLine, scanned: int, extra: int = 1) -> Problem | None:
        return stock_problem(line, scanned, extra, self.words.title.lower())

    def changes(
        self, unit: UnitInfo, document: Document, entry: Entry
    ) -> tuple[tuple[str, Any], ...]:
        warehouse_id, _warehouse, place = self.destination(document)
        return (("warehouse_id", warehouse_id), ("bin", entry.bin or place))

    def stock(self, draft: Draft, movement: Movement, warehouse_id: int) -> None:
        """Non-serialized quantities: checked against what is on hand here (locked),
        taken off here and put on at the destination (nothing changes within one
        warehouse)."""
        before = len(movement.stock)
        super().stock(draft, movement, warehouse_id)
        taken = movement.stock[before:]
        del movement.stock[before:]
        destination = self.destination(draft.document)[0]
        if destination == warehouse_id:
            return
        for product_id, _here, delta in taken:
            movement.stock.append((product_id, warehouse_id, delta))
            movement.stock.append((product_id, destination, -delta))

    def plan(self, draft: Draft) -> Movement:
        movement = super().plan(draft)
        warehouse_id, _warehouse, place = self.destination(draft.document)
        places(draft, warehouse_id, place)
        return movement

    def header_values(
        self, posting: Posting, document: Document, station: StationConfig
    ) -> dict[str, Any]:
        warehouse_id, _warehouse, place = self.destination(document)
        return {
            "warehouse_id": warehouse_of(station, document)[0],
            "to_warehouse_id": warehouse_id,
            "to_bin": place,
        }


class Move(OnABin, Moving):
    """To a bin of the station's warehouse (the document: that bin)."""

    kind = "move"

    def destination(self, document: Document) -> tuple[int, str, str]:
        return document.warehouse_id, document.warehouse, document.number


class Transfer(Moving):
    """To another warehouse and a bin of it (the document: WAREHOUSE/BIN; without a
    bin, the station's receiving bin there)."""

    kind = "transfer"

    def load(
        self,
        connection: Connection,
        number: str,
        *,
        lock: bool = False,
        station: StationConfig | None = None,
    ) -> Document | None:
        """WAREHOUSE or WAREHOUSE/BIN (a warehouse code holding "/" is read whole first):
        None for no such warehouse (WAREHOUSE_NOT_FOUND), BIN_UNKNOWN for a bin it does
        not have."""
        text = " ".join(number.split())
        house, place = text, ""
        to = catalog.warehouse_by_code(connection, text)
        if to is None and "/" in text:
            house, _, place = (part.strip() for part in text.partition("/"))
            to = catalog.warehouse_by_code(connection, house)
        source = station_warehouse(station) or catalog.first_warehouse(connection)
        if to is None or source is None:
            return None
        default = str(station["receiving_bin"] if station else OPTIONS["receiving_bin"].default)
        if place and serial_key(place) == serial_key(default):
            place = ""  # the station's own receiving bin: made there at posting
        if place:
            code = bins.bin_code(connection, to, place)
            if code is None:
                raise StationError(
                    Code.BIN_UNKNOWN,
                    f"{show(house, 64)} has no bin {show(place, 64)}: a supervisor makes bins"
                    " (station bins add).",
                )
            place = code
        else:
            place = default
        return Document("transfer", to, f"{house}/{place}", house, source[0], source[1], "open")

    def choices(
        self, connection: Connection, search: str = "", *, station: StationConfig | None = None
    ) -> list[dict[str, Any]]:
        """Every warehouse, and every known bin of each as WAREHOUSE/BIN."""
        houses = [
            {"number": code, "party": code, "status": ""} for code in catalog.warehouses(connection)
        ]
        known = [
            {"number": f"{house}/{code}", "party": house, "status": ""}
            for house, code, _by in bins.bins(connection)
        ]
        wanted = search.strip().casefold()
        return [row for row in houses + known if wanted in row["number"].casefold()][:500]

    def destination(self, document: Document) -> tuple[int, str, str]:
        return document.id, document.party, document.number.partition("/")[2]


MOVE = Move()
TRANSFER = Transfer()
