"""The journal through the session and `station scan` (SPEC §8): a journal belongs to one
(workflow, station, document); a damaged one is set aside and what it held before the
damage restored; a scan that cannot be journaled is refused and taken back; the journal
stays proportional to the session; a session is finished by the user who started it."""

from __future__ import annotations

import io
import random
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, text

from station.app import open_session
from station.cli import EXIT_FAILED, main
from station.codes import Code, StationError
from station.db.models import POLine, PurchaseOrder
from station.journal import Journal, journal_path, legacy_journal_path
from station.session import ScanSession
from tests.seed import add_operators, seed
from tests.workflow import run_scan

RECEIVE = ["W1", "J-1", "J-2", "CABLE3", "W1", "J-3"]  # 6 records: header + lines 2-7


def add_po(engine: Engine, number: str, *lines: tuple[int, int]) -> None:
    """An open PO of (product id, qty) lines (seed's products: 1 W1, 3 CABLE3)."""
    with engine.begin() as c:
        po = c.execute(
            insert(PurchaseOrder)
            .values(number=number, vendor_id=1, warehouse_id=1, status="open")
            .returning(PurchaseOrder.id)
        ).scalar_one()
        for line_no, (product, qty) in enumerate(lines, 1):
            c.execute(
                insert(POLine).values(
                    po_id=po, line_no=line_no, product_id=product, qty_ordered=qty
                )
            )


def grid(session: ScanSession) -> tuple[Any, ...]:
    rows = [(e.line, e.serial, e.qty) for e in session.entries]
    return rows, session.current, session.awaiting, session.prompt()


def scanned(engine: Engine, scans: list[str], station: str = "DOCK-1") -> tuple[Any, ...]:
    """The grid a session shows after `scans` (no journal)."""
    session = open_session(engine, station, "receive", "PO-1", journal=False).session
    assert all(session.scan(s).ok for s in scans)
    return grid(session)


def journal_of(station: str = "DOCK-1", document: str = "PO-1", kind: str = "receive") -> Path:
    return journal_path(kind, station, document)


def kept_aside(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.damaged-*"))


# --- one journal per (workflow, station, document) -----------------------------------


@pytest.mark.parametrize(
    "first,second",
    [(("A-7", "PO-7"), ("A_7", "PO-7")), (("DOCK-1", "A-7"), ("DOCK-1", "A_7"))],
    ids=["stations", "documents"],
)
def test_names_that_differ_in_punctuation_never_share_scans(
    engine: Engine, first: tuple[str, str], second: tuple[str, str]
) -> None:
    seed(engine)
    for number in {"PO-7", first[1], second[1]}:
        add_po(engine, number, (1, 3), (3, 5))
    one = open_session(engine, first[0], "receive", first[1]).session
    assert all(one.scan(s).ok for s in ["W1", "A7-1", "A7-2", "CABLE3"])
    mine = grid(one)

    other = open_session(engine, second[0], "receive", second[1])  # one is still open
    assert other.restored == 0 and other.damaged is None and other.session.entries == []
    assert other.session.scan("W1").ok and other.session.scan("B7-1").ok
    theirs = grid(other.session)

    again = open_session(engine, first[0], "receive", first[1])
    assert again.restored == 4 and again.damaged is None and grid(again.session) == mine
    assert again.session.save().posted
    restored = grid(open_session(engine, second[0], "receive", second[1]).session)
    assert restored[:3] == theirs[:3]  # the same rows; the prompt knows what was posted since
    if first[1] == second[1]:
        assert restored[3] == "Widget One is complete — scan the next item"
    else:
        assert restored[3] == theirs[3]


def test_station_scan_keeps_each_stations_journal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], engine: Engine, db_url: str
) -> None:
    seed(engine)
    a, b = ["--station", "A-7", "--receive", "PO-1"], ["--station", "A_7", "--receive", "PO-1"]
    status, out = run_scan(monkeypatch, capsys, db_url, a, ["W1", "A7-1", "A7-2"])
    assert status == 0 and all(v["ok"] for v in out)
    status, out = run_scan(monkeypatch, capsys, db_url, b, ["W1", "B7-1"])
    assert status == 0 and [v.get("scan") for v in out] == ["W1", "B7-1"]  # no "restored"
    status, out = run_scan(monkeypatch, capsys, db_url, a, ["CMD-SAVE"])
    assert out[0] == {"restored": 3} and out[1]["posted"] and out[1]["units"] == 2
    status, out = run_scan(monkeypatch, capsys, db_url, b, ["CMD-SAVE"])
    assert out[0] == {"restored": 2} and out[1]["posted"] and out[1]["units"] == 1


def test_a_journal_whose_header_names_another_session_is_not_restored_into_this_one(
    engine: Engine,
) -> None:
    seed(engine)
    theirs = open_session(engine, "DOCK-2", "receive", "PO-1").session
    assert all(theirs.scan(s).ok for s in RECEIVE)
    mine = journal_of("DOCK-1")
    mine.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(journal_of("DOCK-2"), mine)  # a file in the wrong place

    opened = open_session(engine, "DOCK-1", "receive", "PO-1")
    assert opened.restored == 0 and opened.session.entries == []
    assert opened.damaged is not None and opened.damaged.unrestored == len(RECEIVE)
    assert opened.damaged.message.startswith(
        "The journal of PO-1 on station DOCK-1 was damaged (it belongs to another session"
        " (receive DOCK-2 PO-1)): 0 scans restored, 6 could not be"
    )
    [kept] = kept_aside(mine)
    assert kept.read_bytes() == journal_of("DOCK-2").read_bytes() and not mine.exists()
    assert open_session(engine, "DOCK-2", "receive", "PO-1").restored == len(RECEIVE)


def test_a_header_of_the_wrong_shape_is_damage(engine: Engine) -> None:
    seed(engine)
    first = open_session(engine, "DOCK-1", "receive", "PO-1").session
    assert all(first.scan(s).ok for s in RECEIVE)
    path = journal_of()
    data = path.read_bytes()
    path.write_bytes(
        data.replace(b'"session_id": "', b'"session_id": ["', 1).replace(
            b'", "kind"', b'"], "kind"', 1
        )
    )
    opened = open_session(engine, "DOCK-1", "receive", "PO-1")
    assert opened.restored == 0 and opened.damaged is not None
    assert "(its header is not a session's): 0 scans restored, 6 could not be" in (
        opened.damaged.message
    )
    assert opened.session.scan("W1").ok


def test_a_journal_named_the_old_way_is_adopted_by_its_own_session_only(
    engine: Engine,
) -> None:
    seed(engine)
    old = open_session(engine, "A-7", "receive", "PO-1").session
    assert all(old.scan(s).ok for s in RECEIVE)
    expected = grid(old)
    old.close()
    legacy = legacy_journal_path("receive", "A-7", "PO-1")
    journal_of("A-7").rename(legacy)  # as a version before this one left it

    assert legacy == legacy_journal_path("receive", "A_7", "PO-1")  # the collision
    other = open_session(engine, "A_7", "receive", "PO-1")
    assert other.restored == 0 and other.damaged is None and legacy.exists()
    adopted = open_session(engine, "A-7", "receive", "PO-1")
    assert adopted.restored == len(RECEIVE) and grid(adopted.session) == expected
    assert not legacy.exists() and journal_of("A-7").exists()


# --- a damaged journal ---------------------------------------------------------------


def _damage(path: Path, how: str) -> None:
    lines = path.read_bytes().split(b"\n")  # header, 6 records, then the zero padding
    if how == "torn in the middle":
        lines[4] = lines[4][:12] + b"\xffgarbage"
        data = b"\n".join(lines)
    elif how == "wrong shape":
        lines[4] = b'{"op": "scan", "entry": [99, "J-9", 1, null], "state": [3, 99, null]}'
        data = b"\n".join(lines)
    elif how == "data past its end":  # 3 records, the zero padding, then 3 more
        data = b"\n".join(lines[:4]) + b"\n" + bytes(100) + b"\n".join(lines[4:7]) + b"\n"
    else:
        raise AssertionError(how)
    path.write_bytes(data)


@pytest.mark.parametrize("how", ["torn in the middle", "wrong shape", "data past its end"])
def test_a_damaged_journal_restores_what_it_held_before_the_damage(
    engine: Engine, how: str
) -> None:
    seed(engine)
    first = open_session(engine, "DOCK-1", "receive", "PO-1").session
    assert all(first.scan(s).ok for s in RECEIVE)
    path = journal_of()
    _damage(path, how)
    damaged = path.read_bytes()

    opened = open_session(engine, "DOCK-1", "receive", "PO-1")
    assert opened.restored == 3 and grid(opened.session) == scanned(engine, RECEIVE[:3])
    assert opened.damaged is not None and opened.damaged.code == Code.JOURNAL_DAMAGED
    assert opened.damaged.unrestored == 3
    assert "3 scans restored, 3 could not be — check the scanned rows" in opened.damaged.message
    [kept] = kept_aside(path)
    assert kept.read_bytes() == damaged and opened.damaged.kept == kept
    assert str(kept) in opened.damaged.message

    # The journal is whole again: the next scans go on it and a restart restores them.
    session = opened.session
    assert session.scan("CABLE3").ok and session.scan("W1").ok and session.scan("J-3").ok
    again = open_session(engine, "DOCK-1", "receive", "PO-1")
    assert again.damaged is None and again.restored == 6
    assert grid(again.session) == grid(session)
    assert again.session.save().posted


def test_a_directory_in_place_of_the_journal_is_moved_aside(engine: Engine) -> None:
    seed(engine)
    path = journal_of()
    path.mkdir(parents=True)
    (path / "something").write_text("left here")
    opened = open_session(engine, "DOCK-1", "receive", "PO-1")
    assert opened.restored == 0 and opened.damaged is not None
    assert opened.damaged.unrestored is None
    assert "0 scans restored, an unknown number could not be" in opened.damaged.message
    [kept] = kept_aside(path)
    assert (kept / "something").read_text() == "left here"
    assert opened.session.scan("W1").ok and path.is_file()
    assert open_session(engine, "DOCK-1", "receive", "PO-1").restored == 1


def test_station_scan_reports_a_damaged_journal_first_and_carries_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], engine: Engine, db_url: str
) -> None:
    seed(engine)
    args = ["--station", "DOCK-1", "--receive", "PO-1"]
    status, out = run_scan(monkeypatch, capsys, db_url, args, RECEIVE)
    assert status == 0 and all(v["ok"] for v in out)
    _damage(journal_of(), "torn in the middle")
    status, out = run_scan(monkeypatch, capsys, db_url, args, ["CABLE3", "W1", "J-3", "CMD-SAVE"])
    first = out[0]
    assert first["restored"] == 3 and first["code"] == "JOURNAL_DAMAGED"
    assert first["unrestored"] == 3 and "line 5 cannot be read" in first["message"]
    assert set(first) == {"restored", "code", "unrestored", "message"}
    assert [v["ok"] for v in out[1:4]] == [True, True, True]
    assert out[4]["posted"] and out[4]["units"] == 4 and status == 0

    journal_of().mkdir(parents=True)
    status, out = run_scan(monkeypatch, capsys, db_url, args, ["G2"])
    assert out[0]["restored"] == 0 and out[0]["unrestored"] == "unknown"
    assert out[0]["code"] == "JOURNAL_DAMAGED" and out[1]["ok"] and status == 0, out


# --- a journal that cannot be written ----------------------------------------------


class Broken:
    """The journal file replaced by a directory while the session has it closed (as after
    a database error): every write fails until `repair()`."""

    def __init__(self, session: ScanSession) -> None:
        assert session.journal is not None
        self.path = session.journal.path
        self.aside = self.path.with_name("moved")
        session.close()
        self.path.rename(self.aside)
        self.path.mkdir()

    def repair(self) -> None:
        self.path.rmdir()
        self.aside.rename(self.path)


def _refused(verdict: Any) -> None:
    assert not verdict.ok and verdict.code == Code.JOURNAL_UNAVAILABLE, verdict
    assert verdict.message.startswith("The journal cannot be written (Is a directory): ")


def test_what_cannot_be_journaled_is_refused_and_the_session_stays_as_it_was(
    engine: Engine,
) -> None:
    seed(engine)
    add_po(engine, "PO-9", (1, 10), (3, 10))
    session = open_session(engine, "DOCK-1", "receive", "PO-9").session
    assert all(session.scan(s).ok for s in ["W1", "U-1", "CABLE3", "W1"])  # W1 awaits
    before = grid(session)
    broken = Broken(session)
    for scan in ["U-2", "CMD-CANCEL", "CMD-UNDO", "CMD-RESCAN"]:
        _refused(session.scan(scan))
        assert grid(session) == before, scan
    _refused(session.undo())
    for action in (lambda: session.remove(0), session.rescan):
        with pytest.raises(StationError) as refused:
            action()
        assert refused.value.code == Code.JOURNAL_UNAVAILABLE
        assert grid(session) == before
    broken.repair()
    assert session.scan("CMD-CANCEL").ok  # the pending unit goes
    assert session.scan("CABLE3").ok
    before = grid(session)
    broken = Broken(session)
    _refused(session.scan("CABLE3"))
    _refused(session.add_quantity(3))
    _refused(session.scan("W1"))
    assert grid(session) == before
    broken.repair()
    assert session.add_quantity(3).ok
    expected = grid(session)
    reopened = open_session(engine, "DOCK-1", "receive", "PO-9").session
    assert grid(reopened) == expected  # nothing refused came back


def test_a_ship_scan_that_cannot_be_journaled_is_refused(engine: Engine) -> None:
    seed(engine)
    session = open_session(engine, "PACK-1", "ship", "SO-1").session
    assert session.scan("W1").ok and session.scan("WS-1").ok and session.scan("W1").ok
    before = grid(session)
    broken = Broken(session)
    _refused(session.scan("WS-2"))
    assert grid(session) == before
    broken.repair()
    assert session.scan("WS-2").ok
    assert grid(open_session(engine, "PACK-1", "ship", "SO-1").session) == grid(session)


def test_after_a_posting_whose_journal_cannot_be_removed_the_next_scan_starts_anew(
    engine: Engine,
) -> None:
    seed(engine)
    session = open_session(engine, "DOCK-1", "receive", "PO-1").session
    assert session.scan("W1").ok and session.scan("P-1").ok
    posted_id = session.session_id
    broken = Broken(session)
    assert session.save().posted  # the posting stands; its journal could not be removed
    broken.repair()  # the posted session's journal is back in its place
    assert session.scan("G2").ok and session.session_id != posted_id
    again = open_session(engine, "DOCK-1", "receive", "PO-1")
    assert again.restored == 1 and again.session.session_id == session.session_id


def test_station_scan_refuses_scans_when_the_journal_folder_cannot_be_made(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], engine: Engine, db_url: str
) -> None:
    seed(engine)
    folder = journal_of().parent
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("a file where the journal folder goes")
    args = ["--station", "DOCK-1", "--receive", "PO-1"]
    status, out = run_scan(monkeypatch, capsys, db_url, args, ["W1", "U-1", "CMD-SAVE"])
    assert status == EXIT_FAILED  # the posting: nothing to post
    # W1 was refused and taken back: U-1 then finds no item selected.
    assert [v.get("code") for v in out] == [
        "JOURNAL_UNAVAILABLE",
        "NO_ITEM_SELECTED",
        "NOTHING_TO_POST",
    ]
    assert out[0]["message"].startswith("The journal cannot be written (")
    folder.unlink()
    status, out = run_scan(monkeypatch, capsys, db_url, args, ["W1"])
    assert status == 0 and out[0]["scan"] == "W1" and out[0]["ok"]  # nothing to restore


# --- the journal stays proportional to the session ------------------------------------


def most(rows: int) -> int:
    """The most records a journal of `rows` rows holds (and a restart restores)."""
    return 3 * rows + 64 + 1


def records(station: str = "DOCK-1", document: str = "PO-1") -> int:
    return len(Journal(journal_of(station, document)).read()[1])


def test_undo_remove_and_rescan_keep_the_journal_proportional(engine: Engine) -> None:
    seed(engine)
    add_po(engine, "PO-BIG", (3, 5000), (1, 100))
    session = open_session(engine, "DOCK-1", "receive", "PO-BIG").session
    for _ in range(600):
        assert session.scan("CABLE3").ok
    for _ in range(500):
        assert session.scan("CMD-UNDO").ok
    assert len(session.entries) == 100 and records(document="PO-BIG") <= most(100)
    for index in range(90):
        session.remove(index % len(session.entries))
    assert len(session.entries) == 10 and records(document="PO-BIG") <= most(10)
    expected = grid(session)
    opened = open_session(engine, "DOCK-1", "receive", "PO-BIG")
    assert opened.restored <= most(10) and grid(opened.session) == expected

    session = opened.session
    for _ in range(600):
        assert session.scan("CABLE3").ok
    assert session.scan("CMD-RESCAN").ok
    assert all(session.scan(s).ok for s in ["W1", "R-1", "CABLE3"])
    again = open_session(engine, "DOCK-1", "receive", "PO-BIG")
    assert again.restored == 3 and grid(again.session) == grid(session)


def test_a_restored_session_equals_the_live_one_after_any_edits(engine: Engine) -> None:
    """Random scans, undos, cancels and removals at any row: the journal, compacted or
    not, restores exactly the grid the operator sees."""
    seed(engine)
    add_po(engine, "PO-BIG", (3, 5000), (1, 5000))
    session = open_session(engine, "DOCK-1", "receive", "PO-BIG").session
    rng = random.Random(7)
    for step in range(1500):
        roll = rng.random()
        if roll < 0.4:
            session.scan("CABLE3")
        elif roll < 0.6:
            session.scan("W1")
        elif roll < 0.7:
            session.scan(f"RND-{step}")
        elif roll < 0.8:
            session.scan("CMD-UNDO")
        elif roll < 0.85:
            session.scan("CMD-CANCEL")
        elif session.entries:
            session.remove(rng.randrange(len(session.entries)))
        if step % 250 == 249:
            session.close()
            reopened = open_session(engine, "DOCK-1", "receive", "PO-BIG").session
            assert grid(reopened) == grid(session), step
            session = reopened


def test_restore_replays_removals_anywhere_without_a_journal(engine: Engine) -> None:
    """20,000 records of additions, undos and removals at random rows, as a long session
    without compaction would leave them: restore rebuilds the same rows."""
    seed(engine)
    add_po(engine, "PO-BIG", (3, 50_000))
    rng = random.Random(11)
    rows: list[list[Any]] = []
    journal: list[dict[str, Any]] = []
    for number in range(20_000):
        roll = rng.random()
        if roll < 0.6 or not rows:
            rows.append([0, None, number % 7 + 1, None])
            journal.append({"op": "qty", "entry": rows[-1], "state": [len(rows), 0, None]})
        elif roll < 0.8:
            rows.pop()
            journal.append({"op": "undo", "state": [len(rows), 0, None]})
        else:
            index = rng.randrange(len(rows))
            del rows[index]
            journal.append({"op": "remove", "index": index, "state": [len(rows), 0, None]})
    session = open_session(engine, "DOCK-1", "receive", "PO-BIG", journal=False).session
    assert session.restore(journal) == len(journal)
    assert [[e.line, e.serial, e.qty, e.unit_id] for e in session.entries] == rows
    assert session.lines[0].session == sum(row[2] for row in rows)


def test_station_scan_restores_an_undone_session_compacted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], engine: Engine, db_url: str
) -> None:
    seed(engine)
    add_po(engine, "PO-BIG", (3, 5000))
    args = ["--station", "DOCK-1", "--receive", "PO-BIG"]
    scans = ["CABLE3"] * 400 + ["CMD-UNDO"] * 350
    status, out = run_scan(monkeypatch, capsys, db_url, args, scans)
    assert status == 0 and all(v["ok"] for v in out)
    status, out = run_scan(monkeypatch, capsys, db_url, args, ["CMD-SAVE"])
    assert out[0]["restored"] <= most(50)
    assert out[1]["posted"] and out[1]["units"] == 50


# --- a session is finished by the user who started it -------------------------------


def test_another_user_cannot_take_over_a_journaled_session(engine: Engine) -> None:
    seed(engine)
    alice = open_session(engine, "DOCK-1", "receive", "PO-1", user="alice").session
    assert all(alice.scan(s).ok for s in ["W1", "AL-1", "AL-2"])
    for other in ("bob", None):
        with pytest.raises(StationError) as refused:
            open_session(engine, "DOCK-1", "receive", "PO-1", user=other)
        assert refused.value.code == Code.SESSION_OTHER_USER
        assert refused.value.message == (
            "PO-1 on station DOCK-1 has 3 unsaved scans by alice: continue as alice, or have"
            " alice open it and clear it (CMD-RESCAN) first. A session is finished by the user"
            " who started it."
        )
    resumed = open_session(engine, "DOCK-1", "receive", "PO-1", user="alice")
    assert resumed.restored == 3 and resumed.session.user == "alice"
    assert resumed.session.scan("CMD-RESCAN").ok  # alice clears it: bob may start over
    bob = open_session(engine, "DOCK-1", "receive", "PO-1", user="bob").session
    assert all(bob.scan(s).ok for s in ["W1", "BO-1"]) and bob.save().posted
    with engine.connect() as c:
        who = c.execute(text("SELECT user_name FROM receipts WHERE station = 'DOCK-1'"))
        assert who.scalar_one() == "bob"


def test_station_scan_refuses_another_user_and_keeps_the_journal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], engine: Engine, db_url: str
) -> None:
    seed(engine)
    add_operators(engine)
    args = ["--station", "DOCK-1", "--receive", "PO-1"]
    status, _ = run_scan(monkeypatch, capsys, db_url, [*args, "--user", "alice"], RECEIVE)
    assert status == 0
    for other in (["--user", "bob"], []):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"W1\n")))
        capsys.readouterr()
        status = main(["--db", db_url, "scan", *args, *other])
        captured = capsys.readouterr()
        assert status == EXIT_FAILED and captured.out == ""
        assert captured.err.startswith(
            "station: SESSION_OTHER_USER: PO-1 on station DOCK-1 has 6 unsaved scans by alice:"
            " continue as alice"
        )
        assert "Traceback" not in captured.err
    status, out = run_scan(monkeypatch, capsys, db_url, [*args, "--user", "alice"], ["CMD-SAVE"])
    assert out[0] == {"restored": 6} and out[1]["posted"] and status == 0
    with engine.connect() as c:
        who = c.execute(text("SELECT user_name FROM receipts WHERE station = 'DOCK-1'"))
        assert who.scalar_one() == "alice"


@pytest.mark.parametrize(
    ("kind", "number", "scans", "close", "refusal"),
    [
        ("receive", "PO-1", RECEIVE, "UPDATE purchase_orders SET status = 'closed'", "PO_NOT_OPEN"),
        ("ship", "SO-1", ["W1", "WS-1"], "UPDATE sales_orders SET status = 'cancelled'",
         "ORDER_NOT_OPEN"),
    ],
)  # fmt: skip
def test_unsaved_scans_of_a_document_closed_meanwhile_are_set_aside_and_named(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    engine: Engine,
    db_url: str,
    kind: str,
    number: str,
    scans: list[str],
    close: str,
    refusal: str,
) -> None:
    """Another station (or the office) finished the document while this station had
    unsaved scans of it: they can never be posted, so the next start names them and where
    they were kept, and the station is no longer stuck on them."""
    seed(engine)
    args = ["--station", "DOCK-1", f"--{kind}", number]
    status, out = run_scan(monkeypatch, capsys, db_url, args, scans)
    assert status == 0 and all(line["ok"] for line in out), out
    path = journal_path(kind, "DOCK-1", number)
    assert path.exists()
    with engine.begin() as c:
        c.execute(text(f"{close} WHERE number = '{number}'"))

    messages = []
    for _ in range(2):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"W1\n")))
        capsys.readouterr()
        status = main(["--db", db_url, "scan", *args])
        captured = capsys.readouterr()
        assert status == EXIT_FAILED and captured.out == "" and "Traceback" not in captured.err
        messages.append(captured.err)
    assert messages[0].startswith(f"station: {refusal}: ")
    assert f"This station's {len(scans)} unsaved scans of it were never posted" in messages[0]
    kept = Path(messages[0].split("were kept as ")[1].split(": check")[0])
    assert kept.name.startswith(f"{path.name}.closed-") and kept.exists()
    assert len(Journal(kept).read()[1]) == len(scans)  # the scans are in the kept file
    assert not path.exists()
    assert messages[1].startswith(f"station: {refusal}: ") and "unsaved" not in messages[1]
