"""Reads and writes of the receive and ship workflows: every statement they run.

Functions take a SQLAlchemy Connection, so the caller decides the transaction
(a session's quick look-ups, or one posting's unit of work).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)

from station.db import bulk
from station.db.bulk import chunked
from station.db.lookup import IN_CHUNK, unit_query
from station.db.models import (
    AllocatedSerial,
    Barcode,
    Event,
    OrderLine,
    POLine,
    PurchaseOrder,
    Receipt,
    SalesOrder,
    SerialSequence,
    Setting,
    Shipment,
    StockLevel,
    Unit,
    Vendor,
    Warehouse,
)
from station.db.models import Product as ProductRow
from station.documents import Document, DocumentLine, Product, UnitInfo
from station.serials import DEFAULT_CHARSET


def _upsert(connection: Connection, table: Any) -> Any:
    """INSERT … ON CONFLICT of the connection's dialect (loaded on first use: the
    PostgreSQL dialect is large, and a SQLite station never needs it)."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


# --- company settings ---------------------------------------------------------------


def _setting(connection: Connection, key: str, default: str) -> str:
    return connection.scalar(select(Setting.value).where(Setting.key == key)) or default


def _store_setting(connection: Connection, key: str, value: str) -> None:
    connection.execute(
        _upsert(connection, Setting)
        .values(key=key, value=value)
        .on_conflict_do_update(index_elements=["key"], set_={"value": value})
    )


def serial_scope(connection: Connection) -> str:
    return _setting(connection, "serial_scope", "product")


def serial_charset(connection: Connection) -> str:
    """`ascii` (default) or `unicode`: which text may be a serial (station.serials)."""
    return _setting(connection, "serial_charset", DEFAULT_CHARSET)


def scope_id(scope: str, product_id: int) -> int:
    """The value of units.scope_id that makes the database enforce `scope`."""
    return 0 if scope == "global" else product_id


# --- products -----------------------------------------------------------------------


def _products(connection: Connection, ids: Iterable[int]) -> dict[int, Product]:
    ids = list(set(ids))
    if not ids:
        return {}
    codes: dict[int, list[tuple[str, str | None]]] = {i: [] for i in ids}
    for product_id, code, gtin in connection.execute(
        select(Barcode.product_id, Barcode.code, Barcode.gtin)
        .where(Barcode.product_id.in_(ids))
        .order_by(Barcode.id)
    ):
        codes[product_id].append((code, gtin))
    rows = connection.execute(select(ProductRow.__table__).where(ProductRow.id.in_(ids))).all()
    return {
        row.id: Product(
            id=row.id,
            sku=row.sku,
            name=row.name,
            serialized=row.serialized,
            serial_length=row.serial_length,
            serial_min_length=row.serial_min_length,
            serial_max_length=row.serial_max_length,
            serial_pattern=row.serial_pattern,
            barcodes=tuple(code for code, _ in codes[row.id]),
            gtins=tuple(gtin for _, gtin in codes[row.id] if gtin),
        )
        for row in rows
    }


def serialized_products(connection: Connection) -> list[Product]:
    """Every serialized product with its serial rules (no barcodes), in SKU order."""
    rows = connection.execute(
        select(
            ProductRow.id,
            ProductRow.sku,
            ProductRow.name,
            ProductRow.serialized,
            ProductRow.serial_length,
            ProductRow.serial_min_length,
            ProductRow.serial_max_length,
            ProductRow.serial_pattern,
        )
        .where(ProductRow.serialized)
        .order_by(ProductRow.sku)
    )
    return [Product(*row) for row in rows]


_PRODUCT_BY_CODE: dict[bool, Any] = {}


def _product_by_code(gtin: bool) -> Any:
    """The look-up `product_by_code` runs, built once (a scan only binds its values)."""
    if gtin not in _PRODUCT_BY_CODE:
        code = Barcode.code == bindparam("code")
        condition = or_(code, Barcode.gtin == bindparam("gtin")) if gtin else code
        by_barcode = select(Barcode.product_id).where(condition)
        by_sku = select(ProductRow.id).where(ProductRow.sku == bindparam("code"))
        _PRODUCT_BY_CODE[gtin] = union_all(by_barcode, by_sku).limit(1)
    return _PRODUCT_BY_CODE[gtin]


def product_by_code(connection: Connection, code: str, gtin: str | None) -> Product | None:
    """The product whose SKU, barcode or GTIN-14 is `code` (any product in the catalog)."""
    values = {"code": code, "gtin": gtin} if gtin else {"code": code}
    product_id = connection.scalar(_product_by_code(bool(gtin)), values)
    if product_id is None:
        return None
    return _products(connection, [product_id])[product_id]


_PRODUCTS_BY_CODES: Any = None


def products_by_codes(
    connection: Connection, codes: Iterable[str], gtins: Mapping[str, str]
) -> dict[str, Product | None]:
    """`product_by_code` for many codes in one query: each code's product, or None.
    `gtins` maps a code to its GTIN-14 form where it has one."""
    global _PRODUCTS_BY_CODES
    if _PRODUCTS_BY_CODES is None:
        codes_in = bindparam("codes", expanding=True)
        _PRODUCTS_BY_CODES = union_all(
            select(literal(0), Barcode.code, Barcode.product_id).where(Barcode.code.in_(codes_in)),
            select(literal(1), Barcode.gtin, Barcode.product_id).where(
                Barcode.gtin.in_(bindparam("gtins", expanding=True))
            ),
            select(literal(2), ProductRow.sku, ProductRow.id).where(ProductRow.sku.in_(codes_in)),
        )
    codes = sorted(set(codes))
    found: dict[str, int] = {}
    by_gtin: dict[str, list[str]] = {}
    for code in codes:
        if code in gtins:
            by_gtin.setdefault(gtins[code], []).append(code)
    for part in chunked(codes, IN_CHUNK):
        wanted = sorted({gtins[code] for code in part if code in gtins})
        rows = connection.execute(_PRODUCTS_BY_CODES, {"codes": part, "gtins": wanted}).all()
        for rank, value, product_id in sorted(rows, key=lambda row: row[0]):  # barcodes first
            for code in by_gtin.get(value, []) if rank == 1 else [value]:
                found.setdefault(code, product_id)
    products = _products(connection, set(found.values())) if found else {}
    return {code: products[found[code]] if code in found else None for code in codes}


# --- documents ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Kind:
    """Where a kind of document lives: its header and line tables, the party it names,
    and the line columns of what is wanted and what is done."""

    header: Any
    lines: Any
    link: Any  # the lines' foreign key to the header
    qty: Any
    done: Any


_KINDS = {
    "po": _Kind(PurchaseOrder, POLine, POLine.po_id, POLine.qty_ordered, POLine.qty_received),
    "order": _Kind(SalesOrder, OrderLine, OrderLine.order_id, OrderLine.qty, OrderLine.qty_shipped),
}


def document(
    connection: Connection, kind: str, number: str, *, lock: bool = False
) -> Document | None:
    """The document of `kind` ("po", "order") numbered `number` with its lines; with
    `lock`, its header row is locked FOR UPDATE (a posting's unit of work)."""
    spec = _KINDS[kind]
    header = spec.header
    party = Vendor.name if kind == "po" else SalesOrder.customer
    query = (
        select(header.__table__, party.label("party"), Warehouse.code.label("wh"))
        .join(Warehouse, Warehouse.id == header.warehouse_id)
        .where(header.number == number)
    )
    if kind == "po":
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
    products = _products(connection, (line.product_id for line in lines))
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
    """Open POs (kind 'po') or orders ('order'), filtered by number, party, SKU or barcode."""
    if kind == "po":
        header, line, party = PurchaseOrder, POLine, Vendor.name
        query = select(PurchaseOrder.number, Vendor.name, PurchaseOrder.status).join(
            Vendor, Vendor.id == PurchaseOrder.vendor_id
        )
        open_states = ("open", "partial")
        link = POLine.po_id
    else:
        header, line, party = SalesOrder, OrderLine, SalesOrder.customer
        query = select(SalesOrder.number, SalesOrder.customer, SalesOrder.status)
        open_states = ("open", "partial")
        link = OrderLine.order_id
    query = query.where(header.status.in_(open_states)).order_by(header.number)
    if search:
        like = f"%{search}%"
        on_document = (
            select(link)
            .join(ProductRow, ProductRow.id == line.product_id)
            .outerjoin(Barcode, Barcode.product_id == ProductRow.id)
            .where(or_(ProductRow.sku.ilike(like), Barcode.code == search))
        )
        query = query.where(
            or_(header.number.ilike(like), party.ilike(like), header.id.in_(on_document))
        )
    return [
        {"number": number, "party": who, "status": status}
        for number, who, status in connection.execute(query.limit(500))
    ]


# --- units --------------------------------------------------------------------------


def _unit_query() -> Any:
    """The facts UnitInfo carries, over the same joins as every unit view (lookup)."""
    return unit_query().with_only_columns(
        Unit.id,
        Unit.product_id,
        ProductRow.sku,
        Unit.serial,
        Unit.serial_key,
        Unit.status,
        Unit.warehouse_id,
        Warehouse.code,
        Unit.bin,
        Unit.origin,
        PurchaseOrder.number,
        Unit.received_at,
        Receipt.number,
        func.coalesce(Receipt.user_name, Receipt.station),
        SalesOrder.number,
        Shipment.number,
        maintain_column_froms=False,
    )


_UNITS_BY_KEY: Any = None


def units_with_serial(connection: Connection, key: str) -> list[UnitInfo]:
    """Every unit whose serial key is `key` (one per product at most). The statement is
    built once: a scan only binds its key."""
    global _UNITS_BY_KEY
    if _UNITS_BY_KEY is None:
        _UNITS_BY_KEY = _unit_query().where(Unit.serial_key == bindparam("key"))
    return [UnitInfo(*row) for row in connection.execute(_UNITS_BY_KEY, {"key": key})]


def units_by_key(connection: Connection, keys: Iterable[str]) -> dict[str, list[UnitInfo]]:
    """`units_with_serial` for many keys at once: every key asked, with its units."""
    keys = set(keys)
    found: dict[str, list[UnitInfo]] = {key: [] for key in keys}
    for unit in units_with_serials(connection, list(keys)):
        found[unit.serial_key].append(unit)
    return found


def units_with_serials(
    connection: Connection, keys: Sequence[str], *, lock: bool = False
) -> list[UnitInfo]:
    """Units for many serial keys, in chunks. With `lock`, their rows are locked FOR UPDATE
    first (in key order, so concurrent postings never deadlock), then read afresh: after
    waiting for another posting's lock, the facts read include what it wrote."""
    keys = sorted(set(keys))
    if lock:
        for part in chunked(keys, IN_CHUNK):
            connection.execute(
                select(Unit.id)
                .where(Unit.serial_key.in_(part))
                .order_by(Unit.serial_key)
                .with_for_update()
            ).all()
    found: list[UnitInfo] = []
    for part in chunked(keys, IN_CHUNK):
        rows = connection.execute(_unit_query().where(Unit.serial_key.in_(part)))
        found.extend(UnitInfo(*row) for row in rows)
    return found


#: The posting's duplicate-serial check on PostgreSQL: one index probe per (scope_id,
#: serial_key) pair. The pairs come as two arrays the planner sizes exactly; the LATERAL
#: subquery (OFFSET 0 keeps the planner from flattening it into a join) is run once per
#: pair with that pair's values, so its plan is an index lookup whatever the statistics
#: say: a plain `serial_key = ANY(:keys)` or a join against the keys fell back to a full
#: scan of units on a table without statistics (straight after a bulk load).
EXISTING_PAIRS = text(
    "SELECT u.scope_id, u.serial_key"
    " FROM unnest(CAST(:scopes AS integer[]), CAST(:keys AS varchar[])) AS k(scope_id, serial_key)"
    " CROSS JOIN LATERAL (SELECT units.scope_id, units.serial_key FROM units"
    " WHERE units.scope_id = k.scope_id AND units.serial_key = k.serial_key OFFSET 0) AS u"
)


def existing_keys(connection: Connection, pairs: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
    """Of (scope_id, serial_key) pairs, those a unit holds already: one statement on
    PostgreSQL (EXISTING_PAIRS: an index lookup per pair), chunks of IN_CHUNK keys on
    SQLite (whose planner takes the serial_key index for IN without statistics)."""
    wanted = sorted(set(pairs))
    if connection.dialect.name == "postgresql":
        if not wanted:
            return set()
        rows = connection.execute(
            EXISTING_PAIRS,
            {"scopes": [scope for scope, _ in wanted], "keys": [key for _, key in wanted]},
        )
        return {(scope, key) for scope, key in rows}
    found: set[tuple[int, str]] = set()
    keys = sorted({key for _, key in wanted})
    for part in chunked(keys, IN_CHUNK):
        query = select(Unit.scope_id, Unit.serial_key).where(Unit.serial_key.in_(part))
        found.update(tuple(row) for row in connection.execute(query))
    return found & set(wanted)


# --- numbering ----------------------------------------------------------------------


#: The PostgreSQL sequence of each kind of document (migration 0005).
_DOCUMENT_SEQUENCES = {"receipt": "receipt_numbers", "shipment": "shipment_numbers"}


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
    statement = _upsert(connection, SerialSequence).values(
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
_HEADERS: dict[str, Any] = {"receipt": Receipt, "shipment": Shipment}


def posting_by_session(
    connection: Connection, kind: str, session_id: str
) -> tuple[str, int] | None:
    """The posting of `kind` ("receipt", "shipment") a session made: (number, units)."""
    table = _HEADERS[kind]
    row = connection.execute(
        select(table.number, table.units).where(table.session_id == session_id)
    ).first()
    return None if row is None else (row[0], row[1])


def add_posting(connection: Connection, kind: str, **values: Any) -> int:
    """Insert a posting header of `kind`; its id."""
    table = _HEADERS[kind]
    return connection.execute(insert(table).values(**values).returning(table.id)).scalar_one()


def add_units(connection: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert units; their ids come back in the order of `rows`."""
    if not rows:
        return []
    result = connection.execute(insert(Unit).returning(Unit.id, sort_by_parameter_order=True), rows)
    return list(result.scalars())


def add_events(connection: Connection, rows: list[dict[str, Any]]) -> None:
    bulk.write_rows(connection, Event, rows)


def add_line_quantities(connection: Connection, kind: str, done: dict[int, int]) -> None:
    """Add received (PO) or shipped (order) quantities to document lines."""
    table, column = _KINDS[kind].lines, _KINDS[kind].done
    for line_id, count in done.items():
        if count:
            connection.execute(
                update(table).where(table.id == line_id).values({column: column + count})
            )


def set_document_status(connection: Connection, kind: str, document_id: int, status: str) -> None:
    table = _KINDS[kind].header
    connection.execute(update(table).where(table.id == document_id).values(status=status))


def change_stock(connection: Connection, product_id: int, warehouse_id: int, delta: int) -> None:
    """Add `delta` to a non-serialized product's quantity (never below zero)."""
    connection.execute(
        _upsert(connection, StockLevel)
        .values(product_id=product_id, warehouse_id=warehouse_id, qty=max(delta, 0))
        .on_conflict_do_update(
            index_elements=["product_id", "warehouse_id"],
            set_={"qty": func.max(StockLevel.qty + delta, 0)}
            if connection.dialect.name == "sqlite"
            else {"qty": func.greatest(StockLevel.qty + delta, 0)},
        )
    )


def warehouse_by_code(connection: Connection, code: str) -> int | None:
    return connection.scalar(select(Warehouse.id).where(Warehouse.code == code))


def first_warehouse(connection: Connection) -> tuple[int, str] | None:
    row = connection.execute(select(Warehouse.id, Warehouse.code).order_by(Warehouse.id)).first()
    return None if row is None else (row[0], row[1])


def set_unit_status(connection: Connection, unit_id: int, status: str) -> None:
    connection.execute(update(Unit).where(Unit.id == unit_id).values(status=status))


def last_event(connection: Connection, unit_id: int) -> tuple[str, str, str | None] | None:
    """The newest event of a unit: (kind, station, document number)."""
    row = connection.execute(
        select(Event.kind, Event.station, Event.document_number)
        .where(Event.unit_id == unit_id)
        .order_by(Event.id.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def set_serial_scope(connection: Connection, scope: str) -> None:
    """Store the company's serial_scope and re-key every unit to it; the unique
    constraint on (scope_id, serial_key) refuses the change if duplicates would arise."""
    _store_setting(connection, "serial_scope", scope)
    connection.execute(update(Unit).values(scope_id=0 if scope == "global" else Unit.product_id))


def duplicate_serials(connection: Connection, limit: int = 10) -> list[str]:
    """Serial keys held by more than one unit (they block serial_scope=global)."""
    query = (
        select(Unit.serial_key)
        .group_by(Unit.serial_key)
        .having(func.count() > 1)
        .order_by(Unit.serial_key)
        .limit(limit)
    )
    return list(connection.execute(query).scalars())


def set_serial_charset(connection: Connection, charset: str) -> None:
    _store_setting(connection, "serial_charset", charset)


def non_ascii_serials(connection: Connection, limit: int = 10) -> list[str]:
    """Serials holding a character outside printable ASCII (they block serial_charset=ascii)."""
    query = (
        select(Unit.serial)
        .where(Unit.serial.regexp_match("[^ -~]"))
        .order_by(Unit.serial_key)
        .limit(limit)
    )
    return list(connection.execute(query).scalars())
