"""The count sheet of a bin (`station count-sheet BIN`): the serials the ledger expects
there, for the counter to check against (on screen, printed, or as XLSX)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from station.codes import Code, StationError
from station.db import units
from station.db.engine import ledger_files, reading
from station.exports import write_rows_xlsx
from station.scanning import show
from station.stations import StationConfig
from station.workflow import station_warehouse
from station.workflow import workflow as workflow_of

HEADER = ("SKU", "Product", "Serial", "Status", "Warehouse", "Bin")


def count_sheet(
    engine: Engine, bin_name: str, station: StationConfig | None = None
) -> list[tuple[str, str, str, str, str, str]]:
    """The units a bin of the station's warehouse (else the first warehouse) holds, by
    SKU and serial: BIN_UNKNOWN for a bin it does not have."""
    with reading(engine).connect() as connection:
        document = workflow_of("count").load(connection, bin_name, station=station)
        if document is None:
            raise StationError(
                Code.BIN_UNKNOWN,
                f"{show(bin_name, 64)} is no bin of this warehouse: a supervisor makes bins"
                " (station bins add).",
            )
        held = units.units_in_bin(connection, document.warehouse_id, document.number)
    names = {line.product.sku: line.product.name for line in document.lines}
    warehouse = station_warehouse(station)
    house = warehouse[1] if warehouse else document.warehouse
    rows = [
        (unit.sku, names.get(unit.sku, ""), unit.serial, unit.status, house, document.number)
        for unit in held
    ]
    return sorted(rows)


def write_count_sheet(engine: Engine, rows: list[tuple[str, ...]], out: str | Path) -> int:
    """The count sheet as XLSX (text that starts with "=" stays text)."""
    return write_rows_xlsx(
        out,
        HEADER,
        rows,
        title="Count sheet",
        widths=(14, 30, 24, 12, 11, 12),
        protected=ledger_files(engine),
    )
