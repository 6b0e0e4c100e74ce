"""The scan-and-ship session: one scan in, one verdict out (SPEC §3.0, §3.2)."""

from __future__ import annotations

from sqlalchemy import Connection

from station.codes import Code, Verdict
from station.posting import PostingResult
from station.rules import Problem, check_serial_text
from station.scanning import Scan, serial_key
from station.session import ScanSession
from station.ship import rules
from station.ship.posting import mark_not_found, post_shipment


class ShipSession(ScanSession):
    kind = "ship"
    item_not_on_document = Code.ITEM_NOT_ON_ORDER
    room_problem = staticmethod(rules.room_problem)

    @property
    def warehouse(self) -> tuple[int, str]:
        return rules.ship_warehouse(self.station, self.document)

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
            self._units_with_serial(connection, key),
            options=self.station.options,
            warehouse_id=warehouse_id,
            warehouse=warehouse,
        )
        self._check_duplicate(connection, index, serial, key)
        return None if unit is None else unit.id

    def _other_command(self, scan: Scan, command: str) -> Verdict:
        if command == "NOTFOUND":
            self._set_mode("not_found", scan)
            return Verdict(scan.raw, True, Code.OK, "command", self.mode_prompt())
        return super()._other_command(scan, command)

    def mode_prompt(self) -> str:
        return "Not found: scan the serial of the unit that is not there (any command cancels)"

    def _mode_scan(self, mode: str, scan: Scan) -> Verdict:
        """The scan after CMD-NOTFOUND: the serial of a unit to mark not found."""
        if scan.kind == "gs1_invalid":
            raise Problem(Code.GS1_INVALID, f"Unreadable GS1 data: {scan.problem}.", "gs1")
        if scan.kind == "unreadable":
            raise Problem(Code.SERIAL_INVALID, f"Scan refused: {scan.problem}.", "serial")
        serial = scan.serial if scan.kind == "gs1" else scan.text
        if serial is None:
            raise Problem(
                Code.SERIAL_INVALID, "The GS1 scan carries no serial (21): nothing marked.", "gs1"
            )
        connection = self._lookup_connection()
        product = None
        if scan.kind == "gs1":  # the label names its product: only a unit of it is marked
            product = self.document.lines[self._gs1_line(connection, scan)].product
        check_serial_text(serial, self.serial_charset(connection))
        result = mark_not_found(
            self.engine,
            station=self.station,
            order=self.document,
            user=self.user,
            serial=serial,
            product=product,
        )
        if not result.posted:
            raise Problem(result.code, result.message, "serial")
        key = serial_key(serial)
        marked = self.document.lines[result.posted_units[0][0]].product.id
        left = [
            i
            for i, e in enumerate(self.entries)
            if e.key == key and self.document.lines[e.line].product.id == marked
        ]
        for index in reversed(left):
            self.remove(index)
        message = result.message
        if left:
            message += f" It left this session ({len(left)} scan removed)."
        kind = "gs1" if scan.kind == "gs1" else "serial"
        line = self.document.lines[result.posted_units[0][0]]
        return Verdict(scan.raw, True, Code.OK, kind, message, line.product.sku, result.serials[0])

    def save(self) -> PostingResult:
        return self._posted(post_shipment(self.engine, self.posting()))
