"""Documents by kind (a PO, a sales order) with their lines, the open ones, their
numbering, and the posting headers that record what was posted against them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    func,
    insert,
    or_,
    select,
    update,
)

from station.db import bins
from station.db.bulk import upsert
from station.db.catalog import first_warehouse, products_by_id
from station.db.models import (
    DOCUMENT_TABLES,
    Adjustment,
    AllocatedSerial,
    Barcode,
    Count,
    PurchaseOrder,
    Receipt,
    Rma,
    Rtv,
    SerialSequence,
    Shipment,
    Transfer,
    Vendor,
    Warehouse,
)
from station.db.models import Product as ProductRow
from station.documents import Document, DocumentLine
from station.scanning import serial_key

# --- documents ----------------------------------------------------------------------


def document(
    connection: Connection, kind: str, number: str, *, lock: bool = False
) -> Document | None:
    """The document of `kind` ("po", "order") numbered `number` with its lines; with
    `lock`, its header row is locked FOR UPDATE (a posting's unit of work)."""
    spec = DOCUMENT_TABLES[kind]
    header = spec.header
    query = (
        select(header.__table__, spec.party.label("party"), Warehouse.code.label("wh"))
        .join(Warehouse, Warehouse.id == header.warehouse_id)
        .where(header.number == number)
    )
    if header is PurchaseOrder:
        query = query.join(Vendor, Vendor.id == PurchaseOrder.vendor_id)
    if lock:
        query = query.with_for_update(of=header.__table__)
    row = connection.execute(query).first()
    if row is None:
        return None
    lines = connection.execute(
        select(spec.lines.__table__).where(spec.link == row.id).order_by(spec.lines.line_no)
    ).all()
    allocated = _allocated(connection, [line.id for line in lines]) if kind == "order" else {}
    products = products_by_id(connection, (line.product_id for line in lines))
    return Document(
        kind=kind,
        id=row.id,
        number=row.number,
        party=row.party,
        warehouse_id=row.warehouse_id,
        warehouse=row.wh,
        status=row.status,
        lines=[
            DocumentLine(
                id=line.id,
                line_no=line.line_no,
                product=products[line.product_id],
                qty=line._mapping[spec.qty.key],
                done=line._mapping[spec.done.key],
                unit_cost=line._mapping.get("unit_cost"),
                allocated=frozenset(allocated.get(line.id, ())),
            )
            for line in lines
        ],
    )


def no_document(connection: Connection, kind: str, number: str) -> Document | None:
    """The document of a workflow on no document in the ledger (a free return, a scrap,
    a release into a bin): id 0, no lines until items are scanned, in the first warehouse
    (a station's own warehouse comes first)."""
    first = first_warehouse(connection)
    if first is None:
        return None
    return Document(kind, 0, number, "", first[0], first[1], "open")


def bin_document(
    connection: Connection, kind: str, name: str, warehouse: tuple[int, str] | None
) -> Document | None:
    """The document of a workflow on a bin (a release, a bin move): a known bin of
    `warehouse` (else the first warehouse), its number the bin's code as spelt; None
    when the warehouse has no such bin."""
    where = warehouse or first_warehouse(connection)
    if where is None:
        return None
    name = " ".join(name.split())
    if not name or len(name) > 64:
        return None
    code = bins.bin_code(connection, where[0], name)
    if code is None:
        return None
    return Document(kind, 0, code, "", where[0], where[1], "open")


def bin_choices(
    connection: Connection, search: str = "", warehouse: tuple[int, str] | None = None
) -> list[dict[str, Any]]:
    """The known bins of a warehouse (the first one when None): a release's or a move's
    choices, filtered by what is typed."""
    where = warehouse or first_warehouse(connection)
    if where is None:
        return []
    wanted = serial_key(search)
    return [
        {"number": code, "party": house, "status": ""}
        for house, code, _by in bins.bins(connection, where[0])
        if wanted in serial_key(code)
    ][:500]


def counts_since(
    connection: Connection, warehouse_id: int, bin_code: str, since: datetime
) -> list[tuple[str, str]]:
    """The counts of a bin posted since a moment: (number, station), oldest first."""
    query = (
        select(Count.number, Count.station)
        .where(Count.warehouse_id == warehouse_id, Count.bin == bin_code, Count.posted_at >= since)
        .order_by(Count.id)
    )
    return [(number, station) for number, station in connection.execute(query)]


def vendor(connection: Connection, name: str, *, lock: bool = False) -> Document | None:
    """A supplier return's document: the vendor named (exactly, or the one vendor whose
    name reads the same ignoring case), no lines until units are scanned; None when no
    vendor or several match."""
    query = select(Vendor.id, Vendor.name)
    found = connection.execute(query.where(Vendor.name == name)).all()
    if not found:
        found = connection.execute(query.where(func.lower(Vendor.name) == name.lower())).all()
    first = first_warehouse(connection)
    if len(found) != 1 or first is None:
        return None
    vendor_id, vendor_name = found[0]
    return Document("vendor", vendor_id, vendor_name, vendor_name, first[0], first[1], "open")


def vendors(connection: Connection, search: str = "") -> list[dict[str, Any]]:
    """Every vendor (a supplier return's choices), filtered by name."""
    query = select(Vendor.name).order_by(Vendor.name)
    if search:
        query = query.where(Vendor.name.ilike(f"%{search}%"))
    return [
        {"number": name, "party": name, "status": ""}
        for name in connection.scalars(query.limit(500))
    ]


def _allocated(connection: Connection, line_ids: list[int]) -> dict[int, set[str]]:
    """The serial keys pre-allocated to order lines."""
    allocated: dict[int, set[str]] = {}
    if line_ids:
        for line_id, key in connection.execute(
            select(AllocatedSerial.order_line_id, AllocatedSerial.serial_key).where(
                AllocatedSerial.order_line_id.in_(line_ids)
            )
        ):
            allocated.setdefault(line_id, set()).add(key)
    return allocated


def open_documents(connection: Connection, kind: str, search: str = "") -> list[dict[str, Any]]:
    """The documents of `kind` a session may open (`DocumentTables.open_states`; a
    return: the orders with a unit shipped and not yet returned), filtered by number,
    party, SKU or barcode."""
    spec = DOCUMENT_TABLES[kind]
    header, line = spec.header, spec.lines
    query = select(header.number, spec.party, header.status)
    if header is PurchaseOrder:
        query = query.join(Vendor, Vendor.id == PurchaseOrder.vendor_id)
    if spec.open_states:
        query = query.where(header.status.in_(spec.open_states))
    else:
        query = query.where(header.id.in_(select(spec.link).where(spec.done < spec.qty)))
    query = query.order_by(header.number)
    if search:
        like = f"%{search}%"
        on_document = (
            select(spec.link)
            .join(ProductRow, ProductRow.id == line.product_id)
            .outerjoin(Barcode, Barcode.product_id == ProductRow.id)
            .where(or_(ProductRow.sku.ilike(like), Barcode.code == search))
        )
        query = query.where(
            or_(header.number.ilike(like), spec.party.ilike(like), header.id.in_(on_document))
        )
    return [
        {"number": number, "party": who, "status": status}
        for number, who, status in connection.execute(query.limit(500))
    ]


# --- numbering ----------------------------------------------------------------------


#: The PostgreSQL sequence of each kind of document (migration 0005).
_DOCUMENT_SEQUENCES = {
    "receipt": "receipt_numbers",
    "shipment": "shipment_numbers",
    "rma": "rma_numbers",
    "rtv": "rtv_numbers",
    "adjustment": "adjustment_numbers",
    "transfer": "transfer_numbers",
    "count": "count_numbers",
}


def document_number(connection: Connection, kind: str) -> int:
    """The next number of a receipt or shipment. On PostgreSQL a sequence's nextval: it
    never waits for another station's transaction and holds no lock until commit, so
    postings of different stations do not queue on it; a posting refused or rolled back
    after taking its number leaves a gap. On SQLite (one writer at a time anyway) the
    counter row of serial_sequences, in the posting's transaction: no gaps."""
    if connection.dialect.name == "postgresql":
        sequence = _DOCUMENT_SEQUENCES[kind]
        return int(connection.exec_driver_sql(f"SELECT nextval('{sequence}')").scalar_one())
    return next_values(connection, kind, 1)[0]


def next_values(connection: Connection, name: str, count: int) -> range:
    """Reserve `count` numbers of the named sequence; never repeats, even across stations."""
    return reserve_numbers(connection, {name: count})[name]


def reserve_numbers(connection: Connection, counts: Mapping[str, int]) -> dict[str, range]:
    """Reserve `counts[name]` numbers of each named sequence in ONE statement (an upsert
    that adds to every counter and returns where each ends); never repeats, even across
    stations. Counters are touched in name order, so concurrent reservations never
    deadlock; the caller commits soon (the counter rows stay locked until then)."""
    names = sorted(name for name, count in counts.items() if count > 0)
    if not names:
        return {}
    statement = upsert(connection, SerialSequence).values(
        [{"name": name, "last_value": counts[name]} for name in names]
    )
    statement = statement.on_conflict_do_update(
        index_elements=["name"],
        set_={"last_value": SerialSequence.last_value + statement.excluded.last_value},
    ).returning(SerialSequence.name, SerialSequence.last_value)
    return {
        name: range(last - counts[name] + 1, last + 1)
        for name, last in connection.execute(statement)
    }


def release_numbers(connection: Connection, blocks: Sequence[Mapping[str, range]]) -> None:
    """Give back blocks reserve_numbers handed out and nobody used, newest first: a
    counter moves back over a block only while it still ends there (no station took a
    number after it), so a number given to anyone else is never handed out again."""
    stopped: set[str] = set()
    for block in reversed(blocks):
        for name, numbers in sorted(block.items()):
            if name in stopped or not numbers:
                continue
            moved = connection.execute(
                update(SerialSequence)
                .where(SerialSequence.name == name, SerialSequence.last_value == numbers[-1])
                .values(last_value=numbers[0] - 1)
            ).rowcount
            if not moved:
                stopped.add(name)


# --- posting ------------------------------------------------------------------------


#: The posting header tables by kind: one header per posting, its session id unique.
_HEADERS: dict[str, Any] = {
    "receipt": Receipt,
    "shipment": Shipment,
    "rma": Rma,
    "rtv": Rtv,
    "adjustment": Adjustment,
    "transfer": Transfer,
    "count": Count,
}


def posting_by_session(
    connection: Connection, kind: str, session_id: str
) -> tuple[str, int] | None:
    """The posting of `kind` ("receipt", "shipment", "rma", "rtv") a session made:
    (number, units)."""
    table = _HEADERS[kind]
    row = connection.execute(
        select(table.number, table.units).where(table.session_id == session_id)
    ).first()
    return None if row is None else (row[0], row[1])


def add_posting(connection: Connection, header: str, /, **values: Any) -> int:
    """Insert a posting header of the kind `header` ("receipt", …); its id."""
    table = _HEADERS[header]
    return connection.execute(insert(table).values(**values).returning(table.id)).scalar_one()


def add_line_quantities(connection: Connection, kind: str, done: dict[int, int]) -> None:
    """Add received (PO) or shipped (order) quantities to document lines."""
    table, column = DOCUMENT_TABLES[kind].lines, DOCUMENT_TABLES[kind].done
    for line_id, count in done.items():
        if count:
            connection.execute(
                update(table).where(table.id == line_id).values({column: column + count})
            )


def set_document_status(connection: Connection, kind: str, document_id: int, status: str) -> None:
    table = DOCUMENT_TABLES[kind].header
    connection.execute(update(table).where(table.id == document_id).values(status=status))
