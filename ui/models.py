"""Item models over plain Python lists (model/view; never a widget per row)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from station.grid import Entry
from station.session import ScanSession, SessionLine
from station.workflows import facts

_Index = QModelIndex | QPersistentModelIndex
_DISPLAY = Qt.ItemDataRole.DisplayRole
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
CURRENT_LINE = QColor("#fff4d6")
DONE_LINE = QColor("#dff3e6")


class RowsModel(QAbstractTableModel):
    """A table over a list of tuples, with column headers; `set_rows` replaces them."""

    columns: tuple[str, ...] = ()
    numeric: frozenset[int] = frozenset()

    def __init__(self, rows: Sequence[tuple[Any, ...]] = ()) -> None:
        super().__init__()
        self.rows: list[tuple[Any, ...]] = list(rows)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if role == _DISPLAY and orientation == Qt.Orientation.Horizontal:
            return self.columns[section]
        return None

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        if role == _DISPLAY:
            value = self.rows[index.row()][index.column()]
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.ToolTipRole:  # the whole text of a cell shown elided
            value = self.rows[index.row()][index.column()]
            return None if value is None or value == "" else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in self.numeric:
            return _RIGHT
        return None

    def set_rows(self, rows: Sequence[tuple[Any, ...]]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def append(self, row: tuple[Any, ...]) -> None:
        position = len(self.rows)
        self.beginInsertRows(QModelIndex(), position, position)
        self.rows.append(row)
        self.endInsertRows()

    def remove(self, position: int) -> None:
        self.beginRemoveRows(QModelIndex(), position, position)
        del self.rows[position]
        self.endRemoveRows()

    def replace(self, position: int, row: tuple[Any, ...]) -> None:
        self.rows[position] = row
        self.dataChanged.emit(
            self.index(position, 0), self.index(position, len(self.columns) - 1), [_DISPLAY]
        )


class DocumentsModel(RowsModel):
    """Open POs or orders: number, vendor/customer, status."""

    def __init__(self, party: str) -> None:
        super().__init__()
        self.columns = ("Number", party, "Status")


class LinesModel(RowsModel):
    """The document's lines: on the document (ordered, shipped…), done before, this
    session, left. A document whose lines come as items are scanned (`open_lines`: a
    free or supplier return) has nothing ordered and nothing left: its lines show this
    session's count, and the limit a line has when there is one (`limited`: on hand,
    for a supplier return's non-serialized lines)."""

    def __init__(self, kind: str, *, open_lines: bool = False, limited: bool = False) -> None:
        super().__init__()
        words = facts(kind).words
        self.open_lines, self.limited = open_lines, limited
        if open_lines:
            limit = (words.room[0].capitalize(),) if limited else ()
            self.columns = ("#", "SKU", "Product", *limit, words.room[2].capitalize())
        else:
            self.columns = (
                "#",
                "SKU",
                "Product",
                words.room[0].capitalize(),
                words.before,
                words.now,
                "Left",
            )
        self.numeric = frozenset(range(3, len(self.columns)))
        self.current: int | None = None
        self._bold = QFont()
        self._bold.setBold(True)

    def _row(self, x: SessionLine) -> tuple[Any, ...]:
        if not self.open_lines:
            return (x.line_no, x.sku, x.name, x.ordered, x.before, x.session, x.remaining)
        if self.limited:  # a serialized unit is checked by its serial: no limit to show
            return (x.line_no, x.sku, x.name, "—" if x.serialized else x.ordered, x.session)
        return (x.line_no, x.sku, x.name, x.session)

    def show_lines(self, lines: list[SessionLine], current: int | None) -> None:
        rows = [self._row(x) for x in lines]
        self.current = current
        if len(rows) != len(self.rows):
            self.set_rows(rows)
            return
        self.rows = rows
        if rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(rows) - 1, len(self.columns) - 1)
            )

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        row = index.row()
        if role == Qt.ItemDataRole.BackgroundRole:
            if row == self.current:
                return QBrush(CURRENT_LINE)
            if not self.open_lines and self.rows[row][6] == 0:  # nothing left on it
                return QBrush(DONE_LINE)
            return None
        if role == Qt.ItemDataRole.FontRole and row == self.current:
            return self._bold
        return super().data(index, role)


class EntriesModel(RowsModel):
    """The units scanned in this session, in scan order (the session grid).

    `sync(session)` follows the session's entries list after each scan in O(1): one row
    appended (beginInsertRows), the last row changed (a unit got its serial) or removed
    (undo); anything else resets the model.
    """

    columns: tuple[str, ...] = ("#", "SKU", "Product", "Serial", "Qty")
    numeric = frozenset({0, 4})

    def __init__(
        self, describe: Callable[[Entry], tuple[str, str]], own_bin: str | None = None
    ) -> None:
        """`own_bin`: the bin a unit goes to with no location scanned before it; None for
        a workflow that puts units nowhere (no Bin column)."""
        super().__init__()
        self._describe = describe
        self._own_bin = own_bin
        if own_bin is not None:
            self.columns = ("#", "SKU", "Product", "Serial", "Bin", "Qty")
            self.numeric = frozenset({0, 5})

    def row_for(self, entry: Entry) -> tuple[Any, ...]:
        sku, name = self._describe(entry)
        serial = entry.serial if entry.serial is not None else "—"
        if self._own_bin is None:
            return (sku, name, serial, entry.qty)
        return (sku, name, serial, entry.bin or self._own_bin, entry.qty)

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        if role == _DISPLAY:
            column = index.column()
            if column == 0:
                return str(index.row() + 1)
            value = self.rows[index.row()][column - 1]
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in self.numeric:
            return _RIGHT
        return None

    def sync(self, entries: list[Entry]) -> None:
        old, new = len(self.rows), len(entries)
        if new == old + 1:
            if old and self.rows[-1] != self.row_for(entries[old - 1]):
                self.replace(old - 1, self.row_for(entries[old - 1]))
            self.append(self.row_for(entries[-1]))
        elif new == old:
            if new and self.rows[-1] != self.row_for(entries[-1]):
                self.replace(new - 1, self.row_for(entries[-1]))
        elif new == old - 1 and (not new or self.rows[new - 1] == self.row_for(entries[-1])):
            self.remove(new)
        else:
            self.reset_to(entries)

    def reset_to(self, entries: list[Entry]) -> None:
        self.set_rows([self.row_for(entry) for entry in entries])


def entries_model(session: ScanSession) -> EntriesModel:
    lines = session.document.lines

    def describe(entry: Entry) -> tuple[str, str]:
        product = lines[entry.line].product
        return product.sku, product.name

    flow = session.workflow
    own = flow.own_bin(session.station, session.document) if flow.facts.takes_bins else None
    return EntriesModel(describe, own)


class EventsModel(RowsModel):
    columns = ("When (UTC)", "Event", "Document", "Station", "User", "From", "To")
