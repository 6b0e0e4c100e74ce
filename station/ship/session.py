"""The scan-and-ship session: one scan in, one verdict out (SPEC §3.0, §3.2)."""

from __future__ import annotations

from sqlalchemy import Connection

from station.codes import Code, Verdict
from station.db import ledger
from station.posting import PostingResult
from station.scanning import Scan
from station.session import ScanSession
from station.ship import rules
from station.ship.posting import mark_not_found, post_shipment


class ShipSession(ScanSession):
    kind = "ship"
    item_not_on_document = Code.ITEM_NOT_ON_ORDER
    room_problem = staticmethod(rules.room_problem)
    #: CMD-NOTFOUND was scanned: the next serial is marked not found.
    not_found_armed = False

    @property
    def warehouse(self) -> tuple[int, str]:
        if self.station.warehouse_id is not None:
            return self.station.warehouse_id, self.station.warehouse
        return self.document.warehouse_id, self.document.warehouse

    def _check_serial(
        self, connection: Connection, index: int, serial: str, key: str, *, room: bool
    ) -> int | None:
        line = self.document.lines[index]
        if room:
            self._check_room(index)
        warehouse_id, warehouse = self.warehouse
        unit = rules.check_unit(
            line,
            serial,
            key,
            ledger.units_with_serial(connection, key),
            options=self.station.options,
            warehouse_id=warehouse_id,
            warehouse=warehouse,
        )
        self._check_duplicate(index, serial, key)
        return None if unit is None else unit.id

    def _other_command(self, scan: Scan, command: str) -> Verdict:
        if command == "NOTFOUND":
            return self.arm_not_found(scan)
        return super()._other_command(scan, command)

    def arm_not_found(self, scan: Scan) -> Verdict:
        """CMD-NOTFOUND: the next serial scanned is marked not found at once."""
        self.not_found_armed = True
        return Verdict(
            scan.raw, True, Code.OK, "command", "Scan the serial of the unit that is not there."
        )

    def scan(self, raw: str | bytes) -> Verdict:
        if self.not_found_armed:
            self.not_found_armed = False
            return mark_not_found(self, raw)
        return super().scan(raw)

    def save(self) -> PostingResult:
        return self._posted(post_shipment(self.engine, self))
