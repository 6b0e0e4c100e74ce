"""Every verdict code of SPEC §3.0–3.3, provoked through the session object and through
`station scan`, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine, text

from station import stations
from station.app import open_session
from station.codes import Code
from station.generated import MAX_ROUNDS
from station.workflows import facts
from tests.seed import UPC_OTHER, seed, seed_returns
from tests.workflow import configure, run_scan


@dataclass
class Case:
    code: Code
    kind: str  # a registered workflow: receive | ship | return
    document: str
    scans: list[str | bytes]
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.code}"


CASES = [
    Case(Code.NO_ITEM_SELECTED, "receive", "PO-1", ["SN-A"]),
    Case(Code.UNKNOWN_ITEM, "receive", "PO-1", ["CABLE3", "NOT-A-THING"]),
    Case(Code.ITEM_NOT_ON_PO, "receive", "PO-1", [UPC_OTHER]),
    Case(Code.OVER_RECEIPT, "receive", "PO-1", ["CABLE3", "CABLE3", "CABLE3"]),
    Case(Code.SERIAL_INVALID, "receive", "PO-1", ["W1", "S" * 65]),
    Case(Code.SERIAL_EQUALS_ITEM_CODE, "receive", "PO-1", ["W1", "W1-BOX"]),
    Case(Code.SERIAL_BAD_LENGTH, "receive", "PO-1", ["G2", "SHORT"]),
    Case(Code.SERIAL_BAD_LENGTH, "receive", "PO-1", ["W1", "SN-1234"], {"serial_length": 8}),
    Case(Code.SERIAL_BAD_FORMAT, "receive", "PO-1", ["PR400", "XX123456"]),
    Case(Code.SERIAL_DUPLICATE_IN_SESSION, "receive", "PO-1", ["W1", "SN-A", "sn-a"]),
    Case(Code.SERIAL_ALREADY_EXISTS, "receive", "PO-1", ["W1", "ws-1"]),
    Case(Code.SERIAL_REQUIRED, "receive", "PO-1", ["W1", "SN-1", "W1", "CMD-SAVE"]),
    # Every number the bounded rounds reserve (1, 2-3, 4-7, …) is a serial scanned here.
    Case(
        Code.SERIAL_GENERATION_FAILED,
        "receive",
        "PO-1",
        ["W1", *(f"W1-{n}" for n in range(1, 2**MAX_ROUNDS)), "W1", "CMD-SAVE"],
        {"generate_serials": True, "allow_over_receipt": True, "serial_pattern": "{sku}-{seq}"},
    ),
    Case(Code.SCAN_UNREADABLE, "receive", "PO-1", [b"\xff\xfe\xfa"]),
    Case(Code.GS1_INVALID, "receive", "PO-1", ["]C1019501"]),
    Case(Code.NOTHING_TO_UNDO, "receive", "PO-1", ["CMD-UNDO"]),
    Case(Code.UNKNOWN_COMMAND, "receive", "PO-1", ["CMD-LAUNCH"]),
    Case(Code.NOTHING_TO_POST, "receive", "PO-1", ["CMD-SAVE"]),
    Case(Code.NO_ITEM_SELECTED, "ship", "SO-1", ["WS-1"]),
    Case(Code.UNKNOWN_ITEM, "ship", "SO-1", ["CABLE3", "NOT-A-THING"]),
    Case(Code.ITEM_NOT_ON_ORDER, "ship", "SO-1", ["G2"]),
    Case(Code.OVER_PACK, "ship", "SO-1", ["CABLE3", "CABLE3"]),
    Case(Code.OVER_PACK, "ship", "SO-1", ["W1", "WS-1", "WS-2", "WS-3"]),
    Case(Code.SERIAL_INVALID, "ship", "SO-1", ["W1", "WS\x07-1"]),
    Case(Code.SERIAL_EQUALS_ITEM_CODE, "ship", "SO-1", ["W1", "012345678905"]),
    Case(Code.SERIAL_UNKNOWN, "ship", "SO-1", ["W1", "NOPE-1"]),
    Case(Code.SERIAL_WRONG_PRODUCT, "ship", "SO-1", ["W1", "GSN0000001"]),
    Case(Code.SERIAL_NOT_IN_STOCK, "ship", "SO-1", ["W1", "WS-GONE"]),
    Case(Code.SERIAL_WRONG_WAREHOUSE, "ship", "SO-1", ["W1", "WS-EAST"]),
    Case(Code.SERIAL_NOT_FROM_PO, "ship", "SO-1", ["W1", "WS-OPEN"]),
    Case(Code.SERIAL_NOT_ALLOCATED, "ship", "SO-2", ["W1", "WS-1"]),
    Case(Code.SERIAL_DUPLICATE_IN_SESSION, "ship", "SO-1", ["W1", "WS-1", "WS-1"]),
    Case(Code.ORDER_INCOMPLETE, "ship", "SO-1", ["W1", "WS-1", "CMD-SAVE"]),
    # customer returns on SO-3 (tests.seed.seed_returns)
    Case(Code.ITEM_NOT_ON_ORDER, "return", "SO-3", ["P4"]),
    Case(Code.UNKNOWN_ITEM, "return", "SO-3", ["(01)09501101530003(21)SN-1"]),
    Case(Code.OVER_RETURN, "return", "SO-3", ["CABLE3", "CABLE3", "CABLE3"]),
    Case(Code.OVER_RETURN, "return", "SO-3", ["WS-OUT", "W1"]),
    Case(Code.SERIAL_NOT_ON_ORDER, "return", "SO-3", ["WS-1"]),
    Case(Code.SERIAL_NOT_ON_ORDER, "return", "SO-3", ["WS-GONE"]),
    Case(Code.SERIAL_NOT_ON_ORDER, "return", "SO-3", ["NEVER-SEEN"]),
    Case(Code.SERIAL_NOT_SHIPPED, "return", "SO-3", ["WS-BACK"]),
    Case(Code.SERIAL_WRONG_PRODUCT, "return", "SO-3", ["G2", "WS-OUT"]),
    Case(Code.SERIAL_DUPLICATE_IN_SESSION, "return", "SO-3", ["GSNOUT0001", "gsnout0001"]),
    Case(Code.SERIAL_INVALID, "return", "SO-3", ["WS\x07-OUT"]),
    Case(Code.NOTHING_TO_POST, "return", "SO-3", ["CMD-SAVE"]),
    # CMD-NOLABEL: the next scan is the item of a unit whose label was lost
    Case(Code.ITEM_NOT_ON_ORDER, "return", "SO-3", ["CMD-NOLABEL", "P4"]),
    Case(Code.UNKNOWN_ITEM, "return", "SO-3", ["CMD-NOLABEL", "WS-OUT"]),
    Case(Code.NO_ITEM_SELECTED, "return", "SO-3", ["CMD-NOLABEL", "CABLE3"]),
    Case(Code.OVER_RETURN, "return", "SO-3", ["WS-OUT", "CMD-NOLABEL", "W1"]),
    # free returns (no order): the item, then a serial that must not exist
    Case(Code.NO_ITEM_SELECTED, "free_return", "FREE", ["NEW-1"]),
    Case(Code.SERIAL_ALREADY_EXISTS, "free_return", "FREE", ["W1", "ws-1"]),
    Case(Code.SERIAL_EQUALS_ITEM_CODE, "free_return", "FREE", ["W1", "CABLE3"]),
    Case(Code.SERIAL_BAD_LENGTH, "free_return", "FREE", ["G2", "SHORT"]),
    Case(Code.SERIAL_BAD_FORMAT, "free_return", "FREE", ["PR400", "XX123456"]),
    Case(Code.SERIAL_DUPLICATE_IN_SESSION, "free_return", "FREE", ["W1", "FR-1", "W1", "fr-1"]),
    Case(Code.SERIAL_REQUIRED, "free_return", "FREE", ["W1", "CMD-SAVE"]),
    # supplier returns to Acme Supply: units in stock here, bought from it
    Case(Code.SERIAL_NOT_FROM_VENDOR, "supplier_return", "Acme Supply", ["WS-OPEN"]),
    Case(Code.SERIAL_WRONG_WAREHOUSE, "supplier_return", "Acme Supply", ["WS-EAST"]),
    Case(Code.SERIAL_NOT_IN_STOCK, "supplier_return", "Acme Supply", ["WS-GONE"]),
    Case(Code.SERIAL_UNKNOWN, "supplier_return", "Acme Supply", ["NOPE-1"]),
    Case(Code.SERIAL_WRONG_PRODUCT, "supplier_return", "Acme Supply", ["G2", "WS-1"]),
    Case(Code.SERIAL_DUPLICATE_IN_SESSION, "supplier_return", "Acme Supply", ["WS-1", "ws-1"]),
    Case(Code.NOT_ENOUGH_STOCK, "supplier_return", "Acme Supply", ["CABLE3"]),
    # adjustments (a supervisor, with a reason): scrap, release from quarantine
    Case(Code.SERIAL_NOT_IN_STOCK, "scrap", "SCRAP", ["WS-GONE"]),
    Case(Code.SERIAL_WRONG_WAREHOUSE, "scrap", "SCRAP", ["WS-EAST"]),
    Case(Code.SERIAL_UNKNOWN, "scrap", "SCRAP", ["NOPE-1"]),
    Case(Code.NOT_ENOUGH_STOCK, "scrap", "SCRAP", ["CABLE3"]),
    Case(Code.SERIAL_NOT_QUARANTINED, "release", "A-02", ["WS-1"]),
    Case(Code.SERIAL_DUPLICATE_IN_SESSION, "release", "A-02", ["WS-QC", "ws-qc"]),
    Case(Code.BIN_UNKNOWN, "release", "A-02", ["LOC-Q-99"]),
    # bin moves and transfers: units in stock here, each named by its serial
    Case(Code.SERIAL_NOT_IN_STOCK, "move", "A-02", ["WS-GONE"]),
    Case(Code.SERIAL_WRONG_WAREHOUSE, "move", "A-02", ["WS-EAST"]),
    Case(Code.SERIAL_UNKNOWN, "move", "A-02", ["NOPE-1"]),
    Case(Code.SERIAL_WRONG_PRODUCT, "move", "A-02", ["G2", "WS-1"]),
    Case(Code.SERIAL_DUPLICATE_IN_SESSION, "move", "A-02", ["WS-1", "ws-1"]),
    Case(Code.NOT_ENOUGH_STOCK, "move", "A-02", ["CABLE3"]),
    Case(Code.BIN_UNKNOWN, "move", "A-02", ["WS-1", "LOC-Z-99"]),
    Case(Code.SERIAL_NOT_IN_STOCK, "transfer", "EAST/B-07", ["WS-GONE"]),
    Case(Code.SERIAL_WRONG_WAREHOUSE, "transfer", "EAST/B-07", ["WS-EAST"]),
    Case(Code.NOT_ENOUGH_STOCK, "transfer", "EAST/B-07", ["CABLE3"]),
    # a location barcode names a bin of the warehouse the units go to (EAST's: B-07)
    Case(Code.BIN_UNKNOWN, "transfer", "EAST/B-07", ["LOC-A-01"]),
    # location barcodes where units arrive: a known bin, and never instead of a serial
    Case(Code.BIN_UNKNOWN, "receive", "PO-1", ["LOC-NOWHERE"]),
    Case(Code.BIN_UNKNOWN, "receive", "PO-1", ["LOC-" + "B" * 65]),
    Case(Code.BIN_UNKNOWN, "receive", "PO-1", ["LOC-\u0410-01"]),  # a Cyrillic А: no A-01
    Case(Code.LOCATION_NOT_HERE, "receive", "PO-1", ["W1", "LOC-A-02"]),
    Case(Code.LOCATION_NOT_HERE, "ship", "SO-1", ["LOC-A-01"]),
    Case(Code.LOCATION_NOT_HERE, "scrap", "SCRAP", ["LOC-A-01"]),
    Case(Code.BIN_UNKNOWN, "return", "SO-3", ["LOC-NOWHERE"]),
    # cycle counts of A-01: what is there, named by serial
    Case(Code.SERIAL_UNKNOWN, "count", "A-01", ["NOPE-1"]),
    Case(Code.SERIAL_NOT_IN_STOCK, "count", "A-01", ["WS-GONE"]),
    Case(Code.SERIAL_DUPLICATE_IN_SESSION, "count", "A-01", ["WS-1", "ws-1"]),
    Case(Code.SERIAL_WRONG_PRODUCT, "count", "A-01", ["G2", "WS-1"]),
    Case(Code.LOCATION_NOT_HERE, "count", "A-01", ["LOC-A-02"]),
    Case(Code.NOTHING_TO_POST, "count", "A-01", ["CMD-SAVE"]),
    # a serial whose own label would read as a location (it came inside a GS1 scan)
    Case(Code.SERIAL_INVALID, "receive", "PO-1", ["(01)00012345678905(21)LOC-A-01"]),
]


def _unit_count(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(text("SELECT count(*) FROM units")).scalar_one())


def _seed(engine: Engine, case: Case) -> int:
    """The seed ledger for the case; the number of units in it."""
    seed(engine)
    if case.kind not in ("receive", "ship"):
        seed_returns(engine)
    configure(engine, "ST-1", **case.options)
    return _unit_count(engine)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_code_through_the_session(engine: Engine, case: Case) -> None:
    units = _seed(engine, case)
    reason = "test" if facts(case.kind).needs_reason else None
    session = open_session(
        engine, "ST-1", case.kind, case.document, journal=False, reason=reason
    ).session
    verdicts = [session.scan(scan) for scan in case.scans]
    assert all(v.ok for v in verdicts[:-1]), [v.message for v in verdicts]
    last = verdicts[-1]
    assert (last.ok, last.code) == (False, case.code), last.message
    assert last.message and "Traceback" not in last.message
    assert _unit_count(engine) == units  # nothing written by a refused scan or posting


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_code_through_station_scan(
    db_url: str,
    engine: Engine,
    case: Case,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    units = _seed(engine, case)
    known = facts(case.kind)
    document = [] if known.fixed_number else [case.document]
    reason = ["--reason", "test"] if known.needs_reason else []
    args = ["--station", "ST-1", known.flag, *document, *reason]
    status, out = run_scan(monkeypatch, capsys, db_url, args, case.scans)
    assert len(out) == len(case.scans)
    last = out[-1]
    if case.scans[-1] == "CMD-SAVE":
        assert last["posted"] is False and last["code"] == case.code
        assert status != 0
    else:
        assert last["ok"] is False and last["code"] == case.code, last
        assert set(last) >= {"scan", "ok", "code", "kind", "sku", "serial", "message"}
        assert status == 0
    assert _unit_count(engine) == units


def test_whole_receive_posts_units_events_and_quantities(engine: Engine) -> None:
    seed(engine)
    session = open_session(engine, "DOCK-1", "receive", "PO-1", user="ann").session
    scans = ["W1", "SN-A", "SN-B", "012345678905", "SN-C", "CABLE3", "CABLE3"]
    scans += ["G2", "G2SERIAL01", "G2SERIAL02", "PR400", "PR123456"]
    verdicts = [session.scan(s) for s in scans]
    assert all(v.ok for v in verdicts), [(v.code, v.message) for v in verdicts]
    assert session.prompt().startswith("All lines done")
    result = session.save()
    assert result.posted and result.units == 8 and result.document
    with engine.connect() as c:
        units = c.execute(
            text(
                "SELECT serial, status, bin, origin FROM units WHERE receipt_id > 1 ORDER BY serial"
            )
        ).all()
        assert [u[0] for u in units] == [
            "G2SERIAL01",
            "G2SERIAL02",
            "PR123456",
            "SN-A",
            "SN-B",
            "SN-C",
        ]
        assert {(u[1], u[2], u[3]) for u in units} == {("in_stock", "RECEIVING", "po")}
        events = c.execute(
            text("SELECT count(*) FROM events WHERE kind = 'received' AND document_number = :n"),
            {"n": result.document},
        ).scalar_one()
        assert events == 6
        received = dict(
            c.execute(text("SELECT line_no, qty_received FROM po_lines WHERE po_id = 1")).all()
        )
        assert received == {1: 3, 2: 2, 3: 2, 4: 1}
        assert (
            c.execute(text("SELECT status FROM purchase_orders WHERE id = 1")).scalar_one()
            == "received"
        )
        assert (
            c.execute(text("SELECT qty FROM stock_levels WHERE product_id = 3")).scalar_one() == 2
        )


def test_gs1_scan_is_item_and_serial_at_once(engine: Engine) -> None:
    seed(engine)
    session = open_session(engine, "DOCK-1", "receive", "PO-1", journal=False).session
    verdict = session.scan("]C1010001234567890521GS1-SN-1")
    assert (verdict.ok, verdict.kind, verdict.sku, verdict.serial) == (
        True,
        "gs1",
        "W1",
        "GS1-SN-1",
    )
    verdict = session.scan("(01)00012345678905(21)GS1-SN-2")
    assert verdict.ok and verdict.serial == "GS1-SN-2"
    assert [e.serial for e in session.entries] == ["GS1-SN-1", "GS1-SN-2"]


def test_item_then_serials_without_rescanning_the_item(engine: Engine) -> None:
    seed(engine)
    session = open_session(engine, "DOCK-1", "receive", "PO-1", journal=False).session
    verdicts = [session.scan(s) for s in ["W1", "A-1", "A-2", "A-3"]]
    assert [v.ok for v in verdicts] == [True] * 4
    assert session.prompt() != "Scan an item"


def test_generated_serials_never_repeat(engine: Engine) -> None:
    seed(engine)
    configure(engine, "DOCK-1", generate_serials=True, allow_over_receipt=True)
    serials: list[str] = []
    for scans in (["W1", "W1", "W1"], ["W1", "W1"]):
        session = open_session(engine, "DOCK-1", "receive", "PO-1", journal=False).session
        assert all(session.scan(s).ok for s in scans)
        result = session.save()
        assert result.posted, result.message
        serials += result.generated
    assert len(serials) == 5 and len(set(serials)) == 5
    assert all(s.startswith("W1-") for s in serials)


def test_whole_ship_posts_and_closes_the_order(engine: Engine) -> None:
    seed(engine)
    session = open_session(engine, "PACK-1", "ship", "SO-1", user="pat").session
    assert all(session.scan(s).ok for s in ["W1", "WS-1", "WS-2", "CABLE3"])
    result = session.save()
    assert result.posted and result.units == 3
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT serial, status FROM units WHERE shipment_id IS NOT NULL"
                " AND serial LIKE 'WS-%' AND serial <> 'WS-GONE' ORDER BY serial"
            )
        ).all()
        assert rows == [("WS-1", "shipped"), ("WS-2", "shipped")]
        assert (
            c.execute(text("SELECT status FROM sales_orders WHERE id = 1")).scalar_one()
            == "shipped"
        )
        assert (
            c.execute(
                text("SELECT count(*) FROM events WHERE kind = 'shipped' AND document_number = :n"),
                {"n": result.document},
            ).scalar_one()
            == 2
        )


def test_unknown_serial_ships_unvalidated_when_validation_is_off(engine: Engine) -> None:
    seed(engine)
    configure(engine, "PACK-1", require_serial_validation=False, allow_partial_ship=True)
    session = open_session(engine, "PACK-1", "ship", "SO-1", journal=False).session
    assert session.scan("W1").ok
    verdict = session.scan("FOREIGN-1")
    assert verdict.ok, verdict.message
    assert session.save().posted
    with engine.connect() as c:
        row = c.execute(text("SELECT status, origin FROM units WHERE serial = 'FOREIGN-1'")).one()
    assert tuple(row) == ("shipped", "unvalidated")


def test_not_found_leaves_stock_at_once(engine: Engine) -> None:
    seed(engine)
    session = open_session(engine, "PACK-1", "ship", "SO-1", journal=False).session
    assert session.scan("CMD-NOTFOUND").ok
    verdict = session.scan("WS-3")
    assert verdict.ok and "not found" in verdict.message
    assert session.scan("W1").ok
    assert session.scan("WS-3").code == Code.SERIAL_NOT_IN_STOCK


def test_undo_remove_and_rescan(engine: Engine) -> None:
    seed(engine)
    session = open_session(engine, "DOCK-1", "receive", "PO-1", journal=False).session
    for scan in ["W1", "A-1", "A-2", "CABLE3"]:
        assert session.scan(scan).ok
    assert session.scan("CMD-UNDO").ok
    assert [e.serial for e in session.entries] == ["A-1", "A-2"]
    session.remove(0)
    assert [e.serial for e in session.entries] == ["A-2"]
    assert session.scan("CMD-RESCAN").ok
    assert session.entries == [] and session.prompt() == "Scan an item"


def test_option_changes_need_a_supervisor_and_are_audited(engine: Engine) -> None:
    from station.codes import StationError
    from station.db import admin
    from station.users import add_user

    add_user(engine, "sue", "supervisor", "2468")
    add_user(engine, "carl", "clerk", "1357", by="sue", by_pin="2468")
    with pytest.raises(StationError) as refused:
        stations.set_options(engine, "DOCK-1", {"serial_length": "12"}, user="carl", pin="1357")
    assert refused.value.code == Code.NOT_AUTHORIZED
    with pytest.raises(StationError) as wrong_pin:
        stations.set_options(engine, "DOCK-1", {"serial_length": "12"}, user="sue", pin="0000")
    assert wrong_pin.value.code == Code.NOT_AUTHORIZED
    with pytest.raises(StationError) as bad:
        stations.set_options(engine, "DOCK-1", {"serial_length": "x"}, user="sue", pin="2468")
    assert bad.value.code == Code.BAD_OPTION_VALUE
    with pytest.raises(StationError) as unknown:
        stations.set_options(engine, "DOCK-1", {"colour": "red"}, user="sue", pin="2468")
    assert unknown.value.code == Code.UNKNOWN_OPTION
    done = stations.set_options(engine, "DOCK-1", {"serial_length": "12"}, user="sue", pin="2468")
    assert done == [("serial_length", 0, 12)]
    assert stations.load(engine, "DOCK-1")["serial_length"] == 12
    with engine.connect() as c:
        changes = admin.option_changes(c, admin.station_id(c, "DOCK-1"))
    assert [(x["key"], x["old"], x["new"], x["user"]) for x in changes] == [
        ("serial_length", None, "12", "sue")
    ]


SPEC_CODES = {
    Code.NO_ITEM_SELECTED, Code.UNKNOWN_ITEM, Code.SERIAL_EQUALS_ITEM_CODE,
    Code.ITEM_NOT_ON_PO, Code.OVER_RECEIPT, Code.SERIAL_INVALID, Code.SERIAL_BAD_LENGTH,
    Code.SERIAL_BAD_FORMAT, Code.SERIAL_DUPLICATE_IN_SESSION, Code.SERIAL_ALREADY_EXISTS,
    Code.SERIAL_REQUIRED, Code.ITEM_NOT_ON_ORDER, Code.OVER_PACK, Code.SERIAL_UNKNOWN,
    Code.SERIAL_WRONG_PRODUCT, Code.SERIAL_NOT_IN_STOCK, Code.SERIAL_WRONG_WAREHOUSE,
    Code.SERIAL_NOT_FROM_PO, Code.SERIAL_NOT_ALLOCATED, Code.ORDER_INCOMPLETE,
}  # fmt: skip


def test_every_spec_code_is_provoked_by_a_case() -> None:
    assert SPEC_CODES - {case.code for case in CASES} == set()


@pytest.mark.parametrize("kind,document,scans,finish", [
    ("receive", "PO-1", ["W1", "J-1", "J-2", "CABLE3", "CMD-UNDO", "G2", "JSERIAL001", "W1",
                         "CMD-CANCEL", "PR400", "PR000001", "CABLE3"], ["W1", "J-2", "J-1"]),
    ("ship", "SO-1", ["W1", "WS-1", "CABLE3", "CMD-UNDO", "WS-2", "CABLE3"],
     ["W1", "WS-2", "WS-1"]),
])  # fmt: skip
def test_a_new_session_over_the_journal_holds_every_scan(
    engine: Engine, kind: str, document: str, scans: list[str], finish: list[str]
) -> None:
    seed(engine)
    first = open_session(engine, "ST-J", kind, document).session
    assert all(first.scan(s).ok for s in scans)
    first.remove(0)
    expected = [(e.line, e.serial, e.qty) for e in first.entries]
    state = (first.current, first.awaiting, first.prompt(), first.session_id)
    # The first session is simply abandoned, as in a crash.
    again = open_session(engine, "ST-J", kind, document)
    assert again.restored == len(scans) + 1  # every accepted scan and the removal
    second = again.session
    assert [(e.line, e.serial, e.qty) for e in second.entries] == expected
    assert (second.current, second.awaiting, second.prompt(), second.session_id) == state
    # The restored session knows its serials: a duplicate is refused, the removed one is
    # welcome again, and the session posts.
    item, duplicate, removed = finish
    assert second.scan(item).ok
    assert second.scan(duplicate).code == Code.SERIAL_DUPLICATE_IN_SESSION
    assert second.scan(removed).ok
    assert second.save().posted
