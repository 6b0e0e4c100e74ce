"""The session grid: its rows (what a session holds and a posting takes) and their tallies."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from station.scanning import serial_key


@dataclass(slots=True)
class Entry:
    """One row of the session grid: a unit (with or without its serial yet) or, for a
    non-serialized line, a quantity."""

    line: int
    serial: str | None = None
    qty: int = 1
    unit_id: int | None = None  # ship: the unit found for the serial
    #: Where the unit goes: the bin of the location scanned before it (SPEC §3.3); None
    #: for the workflow's own (the station's receiving bin, the move's destination).
    bin: str | None = None
    #: The version of the unit when it was scanned (a posting refuses a unit changed
    #: since: UNIT_CHANGED_MEANWHILE); None: not checked.
    version: int | None = None

    @property
    def key(self) -> str | None:
        return None if self.serial is None else serial_key(self.serial)


class Grid:
    """The session's rows and what is tallied from them — units per document line, the
    serials seen per product and in all — kept exact as rows come and go, never
    recounted. `products`: the product id of each document line."""

    def __init__(self, products: list[int]) -> None:
        self.products = products
        self.entries: list[Entry] = []
        self.counts = [0] * len(products)
        self.keys: Counter[tuple[int, str]] = Counter()  # (product id, serial key)
        self.any_keys: Counter[str] = Counter()  # serial_scope = global

    def add_line(self, product_id: int) -> None:
        """A line added to the document (a document whose lines come as items are
        scanned)."""
        self.products.append(product_id)
        self.counts.append(0)

    def _tally(self, entry: Entry, sign: int) -> None:
        self.counts[entry.line] += sign * entry.qty
        if entry.serial is not None:
            key = serial_key(entry.serial)
            pair = (self.products[entry.line], key)
            self.keys[pair] += sign
            self.any_keys[key] += sign
            if not self.keys[pair]:
                del self.keys[pair]
            if not self.any_keys[key]:
                del self.any_keys[key]

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)
        self._tally(entry, 1)

    def insert(self, index: int, entry: Entry) -> None:
        self.entries.insert(index, entry)
        self._tally(entry, 1)

    def pop(self, index: int = -1) -> Entry:
        entry = self.entries.pop(index)
        self._tally(entry, -1)
        return entry

    def fill(self, serial: str, unit_id: int | None) -> None:
        """The pending unit at the end of the grid gets its serial."""
        entry = self.entries[-1]
        self._tally(entry, -1)
        entry.serial, entry.unit_id = serial, unit_id
        self._tally(entry, 1)

    def clear(self) -> None:
        self.entries.clear()  # the same list: the session and the GUI hold it
        self.counts[:] = [0] * len(self.products)
        self.keys.clear()
        self.any_keys.clear()
