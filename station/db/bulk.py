"""Bulk writes: chunked Core `executemany` for imports, the demo and tests.

Nothing here opens a transaction; every function takes the caller's connection so a
whole import commits or rolls back as one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    any_,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError

from station.db.models import Base, Bin, Event, Product, StockLevel, Unit, Vendor, Warehouse
from station.scanning import serial_key

#: Rows per executemany: large enough to amortize round trips, small enough for memory.
CHUNK = 5000

#: Rows per statement of a posting's units and events: a posting of 10,000 units
#: writes in steps, each a few tens of ms, and says how far it got between them.
POSTING_CHUNK = 1000

Row = Mapping[str, Any]
#: Told the rows written so far after each chunk (a posting's progress, on the thread
#: that writes).
Written = Callable[[int], object]
#: Told (done, total) as a long write goes: the units of a posting, the rows of an
#: export. Called on the thread doing the work, between its steps.
Progress = Callable[[int, int], object]


def chunked(rows: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    """Consecutive lists of at most `size` items."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


#: Values per `IN (...)` where the database takes each value as its own parameter.
IN_CHUNK = 2000


def one_of(
    connection: Connection, column: ColumnElement[Any], values: Iterable[Any]
) -> Iterator[ColumnElement[bool]]:
    """Conditions that together say `column IN values`, one per statement to run: on
    PostgreSQL a single `column = ANY(:array)` (one parameter, however many values: the
    driver would otherwise parse a placeholder per value, 0.6 s of a 10,000-unit
    posting), elsewhere chunks of IN_CHUNK values. Nothing when `values` is empty."""
    values = list(values)
    if not values:
        return
    if connection.dialect.name == "postgresql":
        yield column == any_(bindparam(None, values, type_=ARRAY(column.type)))
        return
    for part in chunked(values, IN_CHUNK):
        yield column.in_(part)


def insert_rows(
    connection: Connection, model: type[Base], rows: Iterable[Row], size: int = CHUNK
) -> int:
    """Insert `rows` into `model`'s table in chunks of `size`; the number inserted."""
    count = 0
    statement = insert(model)
    for chunk in chunked(rows, size):
        connection.execute(statement, chunk)
        count += len(chunk)
    return count


def insert_returning_ids(
    connection: Connection, model: type[Base], rows: Sequence[Row]
) -> list[int]:
    """Insert `rows` and return their new ids, in the order of `rows`."""
    if not rows:
        return []
    table = model.__table__
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    ids: list[int] = []
    for chunk in chunked(rows):
        ids.extend(connection.execute(statement, chunk).scalars())
    return ids


UNIT_COLUMNS = (
    "id",
    "product_id",
    "scope_id",
    "serial",
    "serial_key",
    "status",
    "warehouse_id",
    "bin",
    "origin",
    "po_line_id",
    "receipt_id",
    "unit_cost",
    "received_at",
    "order_line_id",
    "shipment_id",
    "shipped_at",
    "rma_id",
    "rtv_id",
    "relabels_id",
    "adjustment_id",
)
EVENT_COLUMNS = (
    "unit_id",
    "kind",
    "at",
    "station",
    "user_name",
    "from_warehouse_id",
    "from_bin",
    "to_warehouse_id",
    "to_bin",
    "document_kind",
    "document_number",
)


def reserve_unit_ids(connection: Connection, count: int) -> list[int]:
    """`count` fresh unit ids: from the sequence on PostgreSQL; on SQLite past the
    largest id (the caller's transaction holds SQLite's write lock)."""
    if connection.dialect.name == "postgresql":
        query = text(
            "SELECT nextval(pg_get_serial_sequence('units', 'id')) FROM generate_series(1, :n)"
        )
        return list(connection.execute(query, {"n": count}).scalars())
    last = connection.scalar(select(func.max(Unit.id))) or 0
    return list(range(last + 1, last + 1 + count))


def _copy(connection: Connection, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    """PostgreSQL COPY … FROM STDIN of `rows` inside the connection's transaction. A
    failure raises SQLAlchemy's exception classes (IntegrityError, …), as an insert would."""
    driver = connection.connection.driver_connection
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
    except driver.Error as error:  # type: ignore[union-attr]
        # The same exception classes SQLAlchemy raises for an INSERT (IntegrityError, …).
        raise DBAPIError.instance(statement, None, error, type(driver).Error) from error  # type: ignore[arg-type]


def _write(
    connection: Connection, model: type[Base], columns: Sequence[str], rows: list[tuple]
) -> None:
    """Insert `rows` (tuples in the order of `columns`) into `model`'s table: COPY on
    PostgreSQL; elsewhere the driver's own executemany, each value converted as its
    column's type binds it (a datetime as SQLAlchemy stores it on SQLite), without
    SQLAlchemy building a parameter dict per row (0.1 s of a 10,000-unit posting)."""
    if connection.dialect.name == "postgresql":
        _copy(connection, model.__tablename__, columns, rows)
        return
    table = model.__table__
    convert = [
        (index, processor)
        for index, name in enumerate(columns)
        if (processor := table.c[name].type._cached_bind_processor(connection.dialect))
    ]
    if convert:
        rows = [list(row) for row in rows]
        for row in rows:
            for index, processor in convert:
                if row[index] is not None:
                    row[index] = processor(row[index])
    marks = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})",
        [tuple(row) for row in rows],
    )


def write_rows(
    connection: Connection,
    model: type[Base],
    rows: Sequence[Row],
    size: int = CHUNK,
    written: Written | None = None,
) -> None:
    """Insert rows that all carry the same columns, `size` per statement: COPY on
    PostgreSQL, executemany elsewhere; `written(rows so far)` after each."""
    if not rows:
        return
    columns = list(rows[0])
    count = 0
    for chunk in chunked(rows, size):
        _write(connection, model, columns, [tuple(row[name] for name in columns) for row in chunk])
        count += len(chunk)
        if written is not None:
            written(count)


def insert_units(
    connection: Connection,
    units: Iterable[Row],
    event: Row,
    size: int = CHUNK,
    written: Written | None = None,
) -> int:
    """Insert units in chunks, each with one event built from `event`; `written(units
    so far)` after each chunk.

    `event` holds the columns shared by every unit's event (kind, at, station,
    user_name, document_kind, document_number); where the unit is comes from each unit:
    a unit in stock (the default) or quarantined came to its warehouse and bin, one
    created gone (a serial shipped unvalidated) left its warehouse. Units may leave out
    the columns of their documents (po_line_id, receipt_id, unit_cost, order_line_id, …). The
    bins they are in become known bins (an import, the demo, a receipt). Ids are
    reserved first, so units and events go in with plain executemany (COPY on
    PostgreSQL) and no RETURNING.
    """
    shared = tuple(event.get(name) for name in EVENT_COLUMNS[1:5])
    known: set[tuple[int, str]] = set()
    document = (event.get("document_kind"), event.get("document_number"))
    count = 0
    for chunk in chunked(units, size):
        ids = reserve_unit_ids(connection, len(chunk))
        # the columns the units carry (every unit of a call carries the same; the rest
        # take their defaults): fewer to bind
        unit_columns = ("id", *(name for name in UNIT_COLUMNS[1:] if name in chunk[0]))
        if len(unit_columns) - 1 != len(chunk[0]):  # a column this writer would drop
            unknown = sorted(set(chunk[0]) - set(UNIT_COLUMNS))
            raise ValueError(f"insert_units cannot write the unit columns {unknown}")
        unit_rows = [
            (unit_id, *(unit.get(name) for name in unit_columns[1:]))
            for unit_id, unit in zip(ids, chunk, strict=True)
        ]
        places = [_place(unit) for unit in chunk]
        if all(place[0] is None for place in places):  # all came in: no from_ columns
            event_columns = tuple(c for c in EVENT_COLUMNS if not c.startswith("from_"))
            places = [place[2:] for place in places]
        else:
            event_columns = EVENT_COLUMNS
        event_rows = [
            (unit_id, *shared, *place, *document)
            for unit_id, place in zip(ids, places, strict=True)
        ]
        new_bins = {(unit["warehouse_id"], unit["bin"]) for unit in chunk} - known
        for warehouse_id in sorted({warehouse_id for warehouse_id, _ in new_bins}):
            codes = sorted(code for house, code in new_bins if house == warehouse_id)
            ensure_bins(connection, warehouse_id, codes)
        known |= new_bins
        _write(connection, Unit, unit_columns, unit_rows)
        _write(connection, Event, event_columns, event_rows)
        count += len(chunk)
        if written is not None:
            written(count)
    return count


def _place(unit: Row) -> tuple[Any, Any, Any, Any]:
    """A new unit's event: (from warehouse, from bin, to warehouse, to bin)."""
    if unit.get("status", "in_stock") in ("in_stock", "quarantined"):
        return None, None, unit["warehouse_id"], unit["bin"]
    return unit["warehouse_id"], None, None, None


def ensure_warehouses(
    connection: Connection, codes: Iterable[str], names: Mapping[str, str] | None = None
) -> tuple[dict[str, int], int]:
    """Ids of the warehouses with these codes, creating the missing ones (named from
    `names`, else after their code); and how many were created."""
    wanted = list(dict.fromkeys(codes))  # first named, first created: the default warehouse
    names = names or {}
    existing = dict(connection.execute(select(Warehouse.code, Warehouse.id)).all())
    missing = [code for code in wanted if code not in existing]
    if missing:
        rows = [{"code": code, "name": names.get(code, code)} for code in missing]
        insert_rows(connection, Warehouse, rows)
        existing = dict(connection.execute(select(Warehouse.code, Warehouse.id)).all())
    return {code: existing[code] for code in wanted}, len(missing)


def ensure_bins(
    connection: Connection, warehouse_id: int, codes: Iterable[str], by: str | None = None
) -> list[str]:
    """Make the bins of a warehouse not known yet (a bin is known by the serial key of
    its code: "a-01" is A-01); the codes made, in order. The known ones are read first,
    so a posting into a known bin writes (and waits for) nothing here; two transactions
    making one new bin at once are settled by ON CONFLICT DO NOTHING."""
    wanted: dict[str, str] = {}
    for code in codes:
        wanted.setdefault(serial_key(code), code)
    if not wanted:
        return []
    known = set(
        connection.scalars(
            select(Bin.key).where(Bin.warehouse_id == warehouse_id, Bin.key.in_(list(wanted)))
        )
    )
    made: list[str] = []
    for key, code in wanted.items():
        if key in known:
            continue
        inserted = connection.execute(
            upsert(connection, Bin)
            .values(warehouse_id=warehouse_id, code=code, key=key, created_by=by)
            .on_conflict_do_nothing(index_elements=["warehouse_id", "key"])
            .returning(Bin.id)
        ).first()
        if inserted is not None:
            made.append(code)
    return made


def ensure_vendors(connection: Connection, names: Iterable[str]) -> tuple[dict[str, int], int]:
    """Ids of the vendors with these names, creating the missing ones; and how many
    were created."""
    wanted = set(names)
    existing = dict(connection.execute(select(Vendor.name, Vendor.id)).all())
    missing = sorted(wanted - existing.keys())
    if missing:
        insert_rows(connection, Vendor, [{"name": name} for name in missing])
        existing = dict(connection.execute(select(Vendor.name, Vendor.id)).all())
    return {name: existing[name] for name in wanted}, len(missing)


def update_products(connection: Connection, rows: Sequence[Row]) -> int:
    """Update name, serialized flag and serial rules of products by id (`pid` key)."""
    if not rows:
        return 0
    statement = (
        update(Product.__table__)
        .where(Product.__table__.c.id == bindparam("pid"))
        .values(
            name=bindparam("name"),
            serialized=bindparam("serialized"),
            serial_length=bindparam("serial_length"),
            serial_pattern=bindparam("serial_pattern"),
        )
    )
    for chunk in chunked(rows):
        connection.execute(statement, chunk)
    return len(rows)


def add_stock(connection: Connection, quantities: Mapping[tuple[int, int], int]) -> None:
    """Add quantities on hand per (product_id, warehouse_id) of non-serialized products."""
    if not quantities:
        return
    table = StockLevel.__table__
    existing = {
        (product_id, warehouse_id)
        for product_id, warehouse_id in connection.execute(
            select(table.c.product_id, table.c.warehouse_id)
        )
    }
    new = [
        {"product_id": p, "warehouse_id": w, "qty": qty}
        for (p, w), qty in quantities.items()
        if (p, w) not in existing
    ]
    old = [{"p": p, "w": w, "add": qty} for (p, w), qty in quantities.items() if (p, w) in existing]
    insert_rows(connection, StockLevel, new)
    if old:
        connection.execute(
            update(table)
            .where(table.c.product_id == bindparam("p"), table.c.warehouse_id == bindparam("w"))
            .values(qty=table.c.qty + bindparam("add")),
            old,
        )


#: SQLite's ANALYZE reads at most about this many rows of each index (PRAGMA
#: analysis_limit): statistics good enough for the planner in a bounded time.
SQLITE_ANALYSIS_LIMIT = 1000


def analyze(engine: Engine, tables: Iterable[str]) -> bool:
    """Refresh the planner's statistics of the tables a bulk write filled, before the
    command returns: the next posting's plan must not depend on autovacuum having run
    (PostgreSQL's `ANALYZE t1, t2`; SQLite's `ANALYZE`, bounded by analysis_limit). It
    runs after the write committed and is best effort: False when the database refused
    (say, a role that does not own the tables); what was written stays written."""
    names = sorted(set(tables))
    if not names:
        return True
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("ANALYZE " + ", ".join(f'"{n}"' for n in names))
            else:
                connection.exec_driver_sql(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}")
                for name in names:
                    connection.exec_driver_sql(f'ANALYZE "{name}"')
    except DBAPIError:
        return False
    return True


def upsert(connection: Connection, table: Any) -> Any:
    """INSERT … ON CONFLICT of the connection's dialect (loaded on first use: the
    PostgreSQL dialect is large, and a SQLite station never needs it)."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)
