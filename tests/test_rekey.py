"""Migration 0003 re-keys an existing ledger with the one serial key: units that now
read as another unit's serial are reported, never merged (SPEC §2), on SQLite and
PostgreSQL."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select, text

from station.cli import main
from station.db.engine import current_revision, downgrade, head_revision, open_database, upgrade
from station.db.models import (
    AllocatedSerial,
    OrderLine,
    Product,
    SalesOrder,
    SerialKeyConflict,
    Unit,
    Warehouse,
)
from tests.seed import reset_sequences

NFC = unicodedata.normalize("NFC", "CAFÉ-1")
NFD = unicodedata.normalize("NFD", "CAFÉ-1")

#: (id, product, serial, key as 0002's code stored it: trimmed and upper-cased)
OLD_UNITS = [
    (1, 1, "SN 1", "SN 1"),
    (2, 1, "sn  1", "SN  1"),  # a whitespace run: reads as unit 1
    (3, 2, "SN  1", "SN  1"),  # the same on another product: re-keyed, no conflict
    (4, 1, "ｓｎ-2", "ＳＮ-2"),  # fullwidth, alone: re-keyed to SN-2
    (5, 1, NFC, NFC),
    (6, 1, NFD, NFD),  # decomposed: reads as unit 5
    (7, 1, "ＡＢ-3", "ＡＢ-3"),  # two new forms of one key nobody held: both kept
    (8, 1, "ＡB-3", "ＡB-3"),
    (9, 1, "straße-4", "STRASSE-4"),  # the new key equals the old one
    (10, 1, "OK-5", "OK-5"),
]


def _old_ledger(engine: Engine) -> None:
    """A ledger at revision 0002 with keys as 0002's code computed them."""
    downgrade(engine, "0002")
    with engine.begin() as c:
        c.execute(insert(Warehouse), [{"id": 1, "code": "MAIN", "name": "Main"}])
        c.execute(
            insert(Product),
            [
                {"id": 1, "sku": "W1", "name": "Widget", "serialized": True},
                {"id": 2, "sku": "G2", "name": "Gadget", "serialized": True},
            ],
        )
        c.execute(
            insert(Unit),
            [
                {
                    "id": unit_id,
                    "product_id": product,
                    "scope_id": product,
                    "serial": serial,
                    "serial_key": key,
                    "warehouse_id": 1,
                    "bin": "A-01",
                    "origin": "opening",
                }
                for unit_id, product, serial, key in OLD_UNITS
            ],
        )
        c.execute(
            insert(SalesOrder), [{"id": 1, "number": "SO-1", "customer": "C", "warehouse_id": 1}]
        )
        c.execute(
            insert(OrderLine), [{"id": 1, "order_id": 1, "line_no": 1, "product_id": 1, "qty": 3}]
        )
        c.execute(
            insert(AllocatedSerial),
            [
                {"order_line_id": 1, "serial_key": key}
                for key in ("WS 4", "WS  4", "ＷＳ-5", "WS-6")
            ],
        )
    reset_sequences(engine)


def _keys(engine: Engine) -> dict[int, str]:
    with engine.connect() as c:
        return dict(c.execute(select(Unit.id, Unit.serial_key).order_by(Unit.id)).all())


def test_an_old_ledger_is_rekeyed_and_collisions_are_reported_never_merged(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _old_ledger(engine)
    if engine.dialect.name == "sqlite":  # the app upgrades a SQLite file by itself
        open_database(db_url).dispose()
        assert len(list(Path(engine.url.database).parent.glob("station.db.before-0002-*"))) == 1
    else:
        upgrade(engine)
    assert current_revision(engine) == head_revision() >= "0003"  # 0003 re-keyed it
    assert _keys(engine) == {
        1: "SN 1",
        2: "SN  1",  # kept: reads as unit 1
        3: "SN 1",
        4: "SN-2",
        5: NFC,
        6: NFD,  # kept: reads as unit 5
        7: "ＡＢ-3",  # both kept: they read as each other
        8: "ＡB-3",
        9: "STRASSE-4",
        10: "OK-5",
    }
    with engine.connect() as c:
        recorded = c.execute(
            select(
                SerialKeyConflict.unit_id,
                SerialKeyConflict.serial,
                SerialKeyConflict.old_key,
                SerialKeyConflict.new_key,
                SerialKeyConflict.other_unit_id,
            ).order_by(SerialKeyConflict.unit_id)
        ).all()
        allocated = c.execute(select(AllocatedSerial.serial_key).order_by("serial_key")).scalars()
        assert list(allocated) == ["WS 4", "WS-5", "WS-6"]  # two spellings of WS 4 are one
        assert c.execute(text("SELECT count(*) FROM units")).scalar_one() == len(OLD_UNITS)
    assert [tuple(row) for row in recorded] == [
        (2, "sn  1", "SN  1", "SN 1", 1),
        (6, NFD, NFD, NFC, 5),
        (7, "ＡＢ-3", "ＡＢ-3", "AB-3", 8),
        (8, "ＡB-3", "ＡB-3", "AB-3", 7),
    ]

    # `station db upgrade` names every unit left at its old key.
    assert main(["--db", db_url, "db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert f"Schema is at revision {head_revision()}." in out
    assert "4 unit(s) keep their old serial key" in out
    assert "unit 2 W1 'sn  1' (in_stock): it reads as unit 1 ('SN 1')" in out
    assert f"unit 6 W1 '{NFD}' (in_stock): it reads as unit 5 ('{NFC}')" in out
    assert "unit 8 W1 'ＡB-3' (in_stock): it reads as unit 7 ('ＡＢ-3')" in out


def test_rekey_after_a_conflict_is_resolved_clears_it(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _old_ledger(engine)
    upgrade(engine)
    # A supervisor finds unit 2's label reads "SN 12": its serial is corrected.
    with engine.begin() as c:
        c.execute(text("UPDATE units SET serial = 'SN 12' WHERE id = 2"))
    assert main(["--db", db_url, "db", "rekey"]) == 0
    out = capsys.readouterr().out
    assert "1 unit key(s) and 0 allocated serial(s) re-keyed." in out
    assert "3 unit(s) keep their old serial key" in out and "unit 2 " not in out
    assert _keys(engine)[2] == "SN 12"
    with engine.connect() as c:
        ids = c.execute(select(SerialKeyConflict.unit_id).order_by("unit_id")).scalars()
        assert list(ids) == [6, 7, 8]


def test_rekey_moves_keys_that_block_each_other(engine: Engine) -> None:
    """Keys stored by hand against the rules: two units swap keys, and the unique
    constraints never see a duplicate on the way."""
    from station.db.rekey import rekey

    _old_ledger(engine)
    upgrade(engine)
    with engine.begin() as c:
        c.execute(text("UPDATE units SET serial_key = 'SWAP' WHERE id = 9"))
        c.execute(text("UPDATE units SET serial_key = 'STRASSE-4' WHERE id = 10"))
        c.execute(text("UPDATE units SET serial_key = 'OK-5' WHERE id = 9"))
        done = rekey(c)
    assert (done.units, done.conflicts) == (2, 4)
    assert _keys(engine)[9] == "STRASSE-4" and _keys(engine)[10] == "OK-5"
