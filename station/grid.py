"""The session grid's rows: what a session holds and a posting takes."""

from __future__ import annotations

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

    @property
    def key(self) -> str | None:
        return None if self.serial is None else serial_key(self.serial)
