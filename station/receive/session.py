"""The receive session: one scan in, one verdict out (SPEC §3.0, §3.1)."""

from __future__ import annotations

from sqlalchemy import Connection

from station.codes import Code
from station.posting import PostingResult
from station.receive import rules
from station.receive.posting import post_receipt
from station.session import ScanSession


class ReceiveSession(ScanSession):
    kind = "receive"
    item_not_on_document = Code.ITEM_NOT_ON_PO
    item_adds_unit = True
    room_problem = staticmethod(rules.room_problem)

    def _item_counts_while_awaiting(self) -> bool:
        return bool(self.station["generate_serials"])

    def _allow_over(self) -> bool:
        return bool(self.station["allow_over_receipt"])

    def _check_serial(
        self, connection: Connection, index: int, serial: str, key: str, *, room: bool
    ) -> int | None:
        line = self.document.lines[index]
        rules.check_serial_rules(
            line.product,
            serial,
            doc_keys=self._doc_keys,
            options=self.station.options,
            charset=self.serial_charset(connection),
        )
        if room:
            self._check_room(index)
        self._check_duplicate(connection, index, serial, key)
        scope = self.serial_scope(connection)
        for unit in self._units_with_serial(connection, key):
            if scope == "global" or unit.product_id == line.product.id:
                raise rules.already_exists(serial, unit)
        return None

    def save(self) -> PostingResult:
        return self._posted(post_receipt(self.engine, self.posting()))
