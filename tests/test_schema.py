"""The ledger's invariants hold in the database itself, even when the code is bypassed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from station.db.engine import current_revision, head_revision
from station.db.models import Barcode, Event, Product, Unit, Warehouse


def _seed(engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(insert(Warehouse), [{"id": 1, "code": "MAIN", "name": "Main"}])
        c.execute(
            insert(Product),
            [
                {"id": 1, "sku": "W1", "name": "Widget", "serialized": True},
                {"id": 2, "sku": "W2", "name": "Gadget", "serialized": True},
            ],
        )


def _unit(product_id: int, serial: str, scope_id: int | None = None) -> dict[str, object]:
    return {
        "product_id": product_id,
        "scope_id": product_id if scope_id is None else scope_id,
        "serial": serial,
        "serial_key": serial.strip().upper(),
        "warehouse_id": 1,
        "bin": "RECEIVING",
        "origin": "opening",
    }


def test_schema_is_at_the_newest_revision(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()


def test_raw_insert_of_a_duplicate_serial_fails_at_the_database(engine: Engine) -> None:
    _seed(engine)
    with engine.begin() as c:
        c.execute(insert(Unit), [_unit(1, "SN-1")])
    with pytest.raises(IntegrityError), engine.begin() as c:
        c.execute(insert(Unit), [_unit(1, "sn-1 ".strip().upper())])
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM units")).scalar() == 1


def test_global_scope_refuses_the_same_serial_on_two_products(engine: Engine) -> None:
    _seed(engine)
    with engine.begin() as c:
        c.execute(insert(Unit), [_unit(1, "SN-1", scope_id=0)])
        c.execute(insert(Unit), [_unit(2, "SN-2", scope_id=0)])
    with pytest.raises(IntegrityError), engine.begin() as c:
        c.execute(insert(Unit), [_unit(2, "SN-1", scope_id=0)])
    # Under product scope the same serial on another product is fine.
    with engine.begin() as c:
        c.execute(insert(Unit), [_unit(2, "SN-3", scope_id=2), _unit(1, "SN-3", scope_id=1)])


def test_barcodes_are_unique_across_products(engine: Engine) -> None:
    _seed(engine)
    with engine.begin() as c:
        c.execute(insert(Barcode), [{"product_id": 1, "code": "012345678905"}])
    with pytest.raises(IntegrityError), engine.begin() as c:
        c.execute(insert(Barcode), [{"product_id": 2, "code": "012345678905"}])


def test_events_are_append_only(engine: Engine) -> None:
    _seed(engine)
    with engine.begin() as c:
        c.execute(insert(Unit), [_unit(1, "SN-1")])
        c.execute(insert(Event), [{"unit_id": 1, "kind": "received", "station": "D1"}])
    with pytest.raises(DBAPIError), engine.begin() as c:
        c.execute(update(Event).values(station="forged"))
    with pytest.raises(DBAPIError), engine.begin() as c:
        c.execute(text("DELETE FROM events"))
    with engine.connect() as c:
        assert c.execute(text("SELECT station FROM events")).scalar() == "D1"


def test_an_old_ledger_is_migrated_with_its_data(engine: Engine) -> None:
    from station.db.engine import downgrade, open_database, upgrade

    downgrade(engine, "0001")
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO print_jobs (printer, document_kind, document_number, label,"
                " payload, status, attempts, created_at)"
                " VALUES ('zpl+tcp://p:9100', 'receipt', 'RCV-1', 'SN-1', :b, 'queued', 0,"
                " CURRENT_TIMESTAMP)"
            ),
            {"b": b"^XA^XZ"},
        )
    assert current_revision(engine) == "0001"
    if engine.dialect.name == "sqlite":  # the app upgrades a SQLite file by itself
        upgraded = open_database(str(engine.url))
        kept = list(Path(engine.url.database).parent.glob("station.db.before-0001-*"))
        assert len(kept) == 1  # kept before migrating
        upgraded.dispose()
    else:
        upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as c:
        row = c.execute(text("SELECT document_number, station FROM print_jobs")).one()
    assert tuple(row) == ("RCV-1", None)


def test_the_migrations_build_the_schema_the_models_describe(engine: Engine) -> None:
    """Tables, columns, indexes, unique and foreign keys of the migrated ledger are the
    models' (Alembic's autogenerate finds nothing to add, drop or change)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from station.db.models import Base

    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_a_unit_may_be_quarantined_and_a_return_never_exceeds_what_shipped(
    engine: Engine,
) -> None:
    _seed(engine)
    with engine.begin() as c:
        c.execute(insert(Unit), [{**_unit(1, "Q1"), "status": "quarantined"}])
        c.execute(
            text(
                "INSERT INTO sales_orders (id, number, customer, warehouse_id, status,"
                " created_at) VALUES (1, 'SO-1', 'C', 1, 'open', CURRENT_TIMESTAMP)"
            )
        )
        c.execute(
            text(
                "INSERT INTO order_lines (order_id, line_no, product_id, qty, qty_shipped,"
                " qty_returned) VALUES (1, 1, 1, 3, 2, 2)"
            )
        )
    with pytest.raises(IntegrityError), engine.begin() as c:
        c.execute(text("UPDATE order_lines SET qty_returned = 3"))
    with pytest.raises(IntegrityError), engine.begin() as c:
        c.execute(update(Unit).values(status="returned"))
