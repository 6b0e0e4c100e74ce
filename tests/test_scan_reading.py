"""Scan reading and session correctness (issue 7): GS1 fills the awaited unit, global
serial scope in a session, commands in every state, verdicts that state the facts, the
posting's options read from the database, and CMD-NOTFOUND as a journaled mode with its
own atomic posting — through the session and through `station scan`, on both databases."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from station.app import open_session
from station.codes import Code
from station.db import company
from station.session import ScanSession
from station.ship.posting import mark_not_found
from tests.seed import GTIN_W1, seed
from tests.workflow import ask, configure, run_scan, start_scan

GS1_W1 = f"(01){GTIN_W1}(21)"


def _open(engine: Engine, kind: str, document: str, station: str = "ST-1") -> ScanSession:
    return open_session(engine, station, kind, document, journal=False).session


def _units(engine: Engine, where: str = "1=1") -> list[tuple[Any, ...]]:
    with engine.connect() as c:
        rows = c.execute(text(f"SELECT serial, status FROM units WHERE {where} ORDER BY serial"))
        return [tuple(row) for row in rows]


# --- GS1 (01)+(21) while a serial of the same product is awaited ----------------------


def test_gs1_fills_the_awaited_unit_on_receive(engine: Engine) -> None:
    seed(engine)
    session = _open(engine, "receive", "PO-1")
    assert session.scan("W1").ok
    verdict = session.scan(GS1_W1 + "GS-1")
    assert verdict.ok and verdict.kind == "gs1" and verdict.serial == "GS-1", verdict.message
    assert [(e.line, e.serial) for e in session.entries] == [(0, "GS-1")]
    assert "1 of 3" in verdict.message
    result = session.save()
    assert result.posted and result.units == 1, result.message
    assert _units(engine, "serial = 'GS-1'") == [("GS-1", "in_stock")]


def test_gs1_fills_the_awaited_unit_on_ship(engine: Engine) -> None:
    seed(engine)
    configure(engine, "PACK-1", allow_partial_ship=True)
    session = _open(engine, "ship", "SO-1", "PACK-1")
    assert session.scan("W1").ok
    assert session.scan(GS1_W1 + "WS-1").ok
    assert session.scan(GS1_W1 + "WS-2").ok
    assert [e.serial for e in session.entries] == ["WS-1", "WS-2"]
    assert session.scan(GS1_W1 + "WS-3").code == Code.OVER_PACK
    assert session.save().posted
    assert _units(engine, "serial IN ('WS-1', 'WS-2')") == [
        ("WS-1", "shipped"),
        ("WS-2", "shipped"),
    ]


def test_gs1_of_another_item_drops_the_unit_waiting_for_a_serial(engine: Engine) -> None:
    seed(engine)
    with engine.begin() as c:  # a GTIN for the Printer Four line
        c.execute(text("INSERT INTO barcodes (product_id, code, gtin) VALUES (4, 'P4', NULL)"))
        c.execute(
            text("INSERT INTO barcodes (product_id, code, gtin) VALUES (4, :c, :c)"),
            {"c": "00000000000017"},
        )
    session = _open(engine, "receive", "PO-1")
    assert session.scan("W1").ok  # a Widget One unit now waits for its serial
    verdict = session.scan("(01)00000000000017(21)PR123456")
    assert verdict.ok and "Widget One unit waiting for a serial was dropped" in verdict.message
    assert [(e.line, e.serial) for e in session.entries] == [(3, "PR123456")]
    assert session.save().posted  # no orphan unit: no SERIAL_REQUIRED


def test_gs1_fills_the_awaited_unit_through_station_scan(
    engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(engine)
    args = ["--station", "DOCK-1", "--receive", "PO-1"]
    status, out = run_scan(
        monkeypatch, capsys, db_url, args, ["W1", GS1_W1 + "GS-7", "W1", "SN-8", "CMD-SAVE"]
    )
    assert status == 0, out
    assert out[-1]["posted"] is True and out[-1]["units"] == 2, out[-1]
    assert _units(engine, "serial IN ('GS-7', 'SN-8')") == [
        ("GS-7", "in_stock"),
        ("SN-8", "in_stock"),
    ]


# --- serial_scope = global: one serial, two products, one session --------------------


def _go_global(engine: Engine) -> None:
    with engine.begin() as c:
        company.set_serial_scope(c, "global")


def test_global_scope_refuses_a_serial_twice_in_one_session(engine: Engine) -> None:
    seed(engine)
    _go_global(engine)
    session = _open(engine, "receive", "PO-1")
    assert session.scan("W1").ok and session.scan("SAME-00001").ok
    assert session.scan("G2").ok
    verdict = session.scan("same-00001")
    assert verdict.code == Code.SERIAL_DUPLICATE_IN_SESSION
    assert "Widget One" in verdict.message and "serial_scope = global" in verdict.message
    assert session.save().code == Code.SERIAL_REQUIRED  # the G2 unit still needs a serial


def test_product_scope_takes_one_serial_on_two_products(engine: Engine) -> None:
    seed(engine)
    session = _open(engine, "receive", "PO-1")
    for scan in ["W1", "SAME-00001", "G2", "SAME-00001"]:
        assert session.scan(scan).ok, scan
    assert session.save().posted


def test_global_scope_duplicate_through_station_scan(
    engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(engine)
    _go_global(engine)
    scans = ["W1", "SAME-00001", "G2", "SAME-00001", "SAME-00002", "CMD-SAVE"]
    status, out = run_scan(
        monkeypatch, capsys, db_url, ["--station", "D", "--receive", "PO-1"], scans
    )
    assert out[3]["code"] == "SERIAL_DUPLICATE_IN_SESSION", out[3]
    assert out[-1]["posted"] is True and out[-1]["units"] == 2
    assert status == 0


# --- a command is a command in every state --------------------------------------------

# SAVE last: it may post, and every other command starts from the same ledger.
COMMANDS = [
    "CMD-UNDO",
    "CMD-RESCAN",
    "CMD-CANCEL",
    "CMD-NOTFOUND",
    "CMD-NOLABEL",
    "CMD-LAUNCH",
    "cmd-undo",
    "]C0CMD-CANCEL",
    "ＣＭＤ－ＵＮＤＯ",  # fullwidth: NFKC reads it as CMD-UNDO
    "CMD-SAVE",
]
# Scans that put a session into each of its states.
STATES = {
    "receive": {
        "idle": [],
        "awaiting a serial": ["W1"],
        "after a serial": ["W1", "SN-1"],
        "non-serialized line": ["CABLE3"],
        "line full": ["W1", "F-1", "W1", "F-2", "W1", "F-3"],
        "after a refusal": ["W1", "W1-BOX"],
        "not found": ["CMD-NOTFOUND"],
    },
    "ship": {
        "idle": [],
        "awaiting a serial": ["W1"],
        "after a serial": ["W1", "WS-1"],
        "non-serialized line": ["CABLE3"],
        "after a refusal": ["W1", "NOPE-1"],
        "not found": ["CMD-NOTFOUND"],
        "not found after a serial": ["W1", "WS-1", "CMD-NOTFOUND"],
    },
}
CASES = [(kind, state) for kind, states in STATES.items() for state in states]


@pytest.mark.parametrize(("kind", "state"), CASES)
def test_every_command_in_every_state(engine: Engine, kind: str, state: str) -> None:
    seed(engine)
    units = _units(engine)
    for command in COMMANDS:
        session = _open(engine, kind, "PO-1" if kind == "receive" else "SO-1")
        for scan in STATES[kind][state]:
            session.scan(scan)
        before = [(e.line, e.serial, e.qty) for e in session.entries]
        verdict = session.scan(command)
        assert verdict.kind == "command", (command, verdict)
        after = [(e.line, e.serial, e.qty) for e in session.entries]
        name = unicodedata.normalize("NFKC", command).upper().rsplit("-", 1)[-1]
        assert session.mode is None or name == "NOTFOUND", command
        if name == "SAVE":
            assert verdict.posting is not None  # a posting result, never a serial verdict
            continue
        assert _units(engine) == units, command  # nothing marked, received or shipped
        if name in ("LAUNCH", "NOLABEL") or (name == "NOTFOUND" and kind == "receive"):
            assert verdict.code == Code.UNKNOWN_COMMAND and after == before, command
        elif name == "NOTFOUND":
            assert verdict.ok and session.mode == "not_found" and after == before
            assert session.prompt().startswith("Not found")
        elif name == "RESCAN":
            assert verdict.ok and after == []
        elif name == "CANCEL":
            assert verdict.ok and all(serial is not None or qty for _, serial, qty in after)
        elif name == "UNDO":
            assert len(after) == max(len(before) - 1, 0) or verdict.code == Code.NOTHING_TO_UNDO


def test_commands_after_not_found_through_station_scan(
    engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(engine)
    configure(engine, "PACK-1", allow_partial_ship=True)
    scans = ["W1", "WS-1", "CMD-NOTFOUND", "CMD-SAVE", "CMD-NOTFOUND", "CMD-UNDO", "WS-2"]
    args = ["--station", "PACK-1", "--ship", "SO-1"]
    status, out = run_scan(monkeypatch, capsys, db_url, args, scans)
    assert out[3]["posted"] is True and out[3]["units"] == 1, out[3]  # CMD-SAVE saved
    assert out[5]["kind"] == "command" and out[5]["code"] == "NOTHING_TO_UNDO"
    assert out[6]["code"] == "NO_ITEM_SELECTED"  # WS-2 is no not-found target: mode ended
    assert _units(engine, "status = 'not_found'") == []
    assert status == 0


# --- verdicts and prompts state the facts ---------------------------------------------


def test_a_full_line_says_what_this_session_holds(engine: Engine) -> None:
    seed(engine)
    session = _open(engine, "receive", "PO-1")
    for scan in ["W1", "F-1", "F-2", "F-3"]:
        assert session.scan(scan).ok
    assert session.prompt() == "Widget One is complete — scan the next item"
    verdict = session.scan("ZZ-UNKNOWN")
    assert verdict.code == Code.OVER_RECEIPT
    assert "3 ordered, none received before, 3 scanned in this session" in verdict.message
    assert "received already" not in verdict.message


def test_a_fully_received_po_does_not_open(
    engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(engine)
    with pytest.raises(Exception) as refused:
        _open(engine, "receive", "PO-0")
    assert getattr(refused.value, "code", None) == Code.PO_NOT_OPEN
    assert "fully received" in str(refused.value)
    status = run_scan(monkeypatch, capsys, db_url, ["--station", "ST-1", "--receive", "PO-0"], [])
    assert status == (1, [])
    configure(engine, "OVER-1", allow_over_receipt=True)
    session = _open(engine, "receive", "PO-0", "OVER-1")
    assert session.scan("W1").ok and session.scan("EXTRA-1").ok
    assert session.save().posted


# --- the posting judges by the options in the database --------------------------------


def test_posting_rechecks_the_options_as_they_are_now(engine: Engine) -> None:
    seed(engine)
    configure(engine, "PACK-1", allow_partial_ship=True)
    session = _open(engine, "ship", "SO-1", "PACK-1")
    assert session.scan("W1").ok and session.scan("WS-1").ok
    configure(engine, "PACK-1", allow_partial_ship=False)  # a supervisor changed it meanwhile
    result = session.save()
    assert result.code == Code.ORDER_INCOMPLETE, result.message

    receive = _open(engine, "receive", "PO-1", "DOCK-1")
    assert receive.scan("W1").ok and receive.scan("SN-123456").ok
    configure(engine, "DOCK-1", serial_length=5)
    assert receive.save().code == Code.SERIAL_BAD_LENGTH
    assert _units(engine, "serial = 'SN-123456'") == []


def test_station_scan_posts_by_the_options_of_the_moment(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    seed(engine)
    configure(engine, "PACK-7", allow_partial_ship=True)
    process = start_scan(db_url, tmp_path / "data", "--station", "PACK-7", "--ship", "SO-1")
    assert ask(process, "W1")["ok"] and ask(process, "WS-1")["ok"]
    configure(engine, "PACK-7", allow_partial_ship=False)
    result = ask(process, "CMD-SAVE")
    process.communicate(b"", timeout=20)
    assert result["posted"] is False and result["code"] == "ORDER_INCOMPLETE", result
    assert _units(engine, "serial = 'WS-1'") == [("WS-1", "in_stock")]


# --- CMD-NOTFOUND ---------------------------------------------------------------------


def test_not_found_is_a_mode_the_next_scan_ends(engine: Engine) -> None:
    seed(engine)
    session = _open(engine, "ship", "SO-1")
    assert session.scan("CMD-NOTFOUND").ok and session.mode == "not_found"
    verdict = session.scan("NOPE-1")
    assert verdict.code == Code.SERIAL_UNKNOWN and session.mode is None
    assert session.scan("W1").ok  # an item again, not a not-found target
    assert session.scan("CMD-NOTFOUND").ok
    assert session.scan("WS-EAST").code == Code.SERIAL_WRONG_WAREHOUSE
    assert session.scan("CMD-NOTFOUND").ok
    assert session.scan("WS-GONE").code == Code.SERIAL_NOT_IN_STOCK
    assert session.scan("CMD-NOTFOUND").ok
    assert session.scan("GSN0000001").code == Code.SERIAL_WRONG_PRODUCT
    assert _units(engine, "status = 'not_found'") == []


def test_a_scanned_unit_marked_not_found_leaves_the_session(engine: Engine) -> None:
    seed(engine)
    session = _open(engine, "ship", "SO-1")
    assert session.scan("W1").ok and session.scan("WS-1").ok
    assert session.scan("CMD-NOTFOUND").ok
    verdict = session.scan("ws-1")
    assert (
        verdict.ok
        and "marked not found" in verdict.message
        and "left this session" in verdict.message
    )
    assert verdict.sku == "W1" and verdict.serial == "WS-1"
    assert session.entries == []
    assert _units(engine, "serial = 'WS-1'") == [("WS-1", "not_found")]
    with engine.connect() as c:
        events = c.execute(
            text("SELECT kind, station, document_number FROM events WHERE kind = 'not_found'")
        ).all()
    assert [tuple(e) for e in events] == [("not_found", "ST-1", "SO-1")]


def test_not_found_is_idempotent_after_a_lost_answer(engine: Engine) -> None:
    seed(engine)
    session = _open(engine, "ship", "SO-1")
    first = mark_not_found(
        engine, station=session.station, order=session.document, user="pat", serial="WS-2"
    )
    again = mark_not_found(
        engine, station=session.station, order=session.document, user="pat", serial="WS-2"
    )
    assert first.posted and not first.already_posted
    assert again.posted and again.already_posted
    with engine.connect() as c:
        count = c.execute(text("SELECT count(*) FROM events WHERE kind = 'not_found'")).scalar()
    assert count == 1


def test_not_found_with_the_database_gone_is_database_unavailable(engine: Engine) -> None:
    from station.db.engine import make_engine

    seed(engine)
    session = _open(engine, "ship", "SO-1")
    assert session.scan("CMD-NOTFOUND").ok
    session.engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    verdict = session.scan("WS-3")
    assert verdict.code == Code.DATABASE_UNAVAILABLE and session.mode is None
    assert _units(engine, "serial = 'WS-3'") == [("WS-3", "in_stock")]


def test_not_found_mode_is_journaled(engine: Engine) -> None:
    seed(engine)
    session = open_session(engine, "PACK-2", "ship", "SO-1").session
    assert session.scan("W1").ok and session.scan("WS-1").ok and session.scan("CMD-NOTFOUND").ok
    session.close()
    again = open_session(engine, "PACK-2", "ship", "SO-1")
    assert again.session.mode == "not_found"
    assert again.session.prompt().startswith("Not found")
    assert again.session.scan("WS-3").ok
    assert _units(engine, "serial = 'WS-3'") == [("WS-3", "not_found")]
    again.session.close()


def test_not_found_through_station_scan(
    engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(engine)
    configure(engine, "PACK-1", allow_partial_ship=True)
    args = ["--station", "PACK-1", "--ship", "SO-1"]
    scans = ["W1", "WS-1", "CMD-NOTFOUND", "WS-1", "CMD-NOTFOUND", "WS-EAST", "WS-2", "W1"]
    status, out = run_scan(monkeypatch, capsys, db_url, args, scans)
    assert status == 0
    assert out[3]["ok"] and "left this session" in out[3]["message"], out[3]
    assert out[5]["code"] == "SERIAL_WRONG_WAREHOUSE"
    # The refused target ended the mode: WS-2 is the next Widget One serial to pack.
    assert out[6]["ok"] and out[6]["kind"] == "serial" and "1 of 2" in out[6]["message"]
    assert _units(engine, "serial = 'WS-2'") == [("WS-2", "in_stock")]
    status, out = run_scan(monkeypatch, capsys, db_url, args, ["CMD-SAVE"])
    assert status == 0 and out[0]["restored"] > 0
    assert out[-1]["posted"] is True and out[-1]["units"] == 1
    assert _units(engine, "serial IN ('WS-1', 'WS-2', 'WS-EAST')") == [
        ("WS-1", "not_found"),
        ("WS-2", "shipped"),
        ("WS-EAST", "in_stock"),
    ]


def test_a_serial_that_reads_as_an_item_code_is_refused(
    engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(engine)
    session = _open(engine, "receive", "PO-1")
    assert session.scan("W1").ok
    verdict = session.scan("w1-box")  # the box barcode W1-BOX, read in lower case
    assert verdict.code == Code.SERIAL_EQUALS_ITEM_CODE and "Widget One" in verdict.message
    args = ["--station", "PACK-1", "--ship", "SO-1"]
    status, out = run_scan(monkeypatch, capsys, db_url, args, ["W1", "w1-box"])
    assert status == 0 and out[1]["code"] == "SERIAL_EQUALS_ITEM_CODE", out


def test_not_found_mode_survives_a_compacted_journal(engine: Engine) -> None:
    seed(engine)
    session = _open(engine, "ship", "SO-1")
    assert session.scan("W1").ok and session.scan("WS-1").ok and session.scan("CMD-NOTFOUND").ok
    records = session.compacted()
    fresh = _open(engine, "ship", "SO-1")
    assert fresh.restore(records) == len(records)
    assert fresh.mode == "not_found" and [e.serial for e in fresh.entries] == ["WS-1"]


def test_a_gs1_serial_that_reads_as_a_command_is_refused(
    engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(engine)
    session = _open(engine, "receive", "PO-1")
    verdict = session.scan(GS1_W1 + "CMD-RESCAN")
    assert verdict.code == Code.SERIAL_INVALID and "command prefix" in verdict.message
    assert session.entries == []
    args = ["--station", "DOCK-1", "--receive", "PO-1"]
    status, out = run_scan(monkeypatch, capsys, db_url, args, ["W1", GS1_W1 + "cmd-save"])
    assert status == 0 and out[1]["code"] == "SERIAL_INVALID", out
    assert _units(engine, "serial LIKE 'cmd%' OR serial LIKE 'CMD%'") == []
