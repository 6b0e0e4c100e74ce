"""The headless station's throughput (SPEC §7, §8): group commit of the scans already
waiting on stdin, and start-up that loads only what a command needs."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, event, insert, text

from station.app import open_session
from station.cli import GROUP_MAX, waiting_lines
from station.db.engine import head_revision, newest_migration
from station.db.models import POLine, PurchaseOrder
from tests.seed import UPC_OTHER, add_operators, seed

ARGS = ("--station", "PIPE-1", "--receive", "PO-PIPE", "--user", "kim")
HEAVY = ("sqlalchemy", "alembic", "biip", "escpos", "PIL", "barcode", "openpyxl", "serial")


def _big_po(engine: Engine, qty: int = 5000) -> None:
    """The seed ledger plus PO-PIPE: `qty` units of Widget One (W1) to receive."""
    seed(engine)
    add_operators(engine, kim="clerk")
    with engine.begin() as c:
        po = c.execute(
            insert(PurchaseOrder)
            .values(number="PO-PIPE", vendor_id=1, warehouse_id=1, status="open")
            .returning(PurchaseOrder.id)
        ).scalar_one()
        c.execute(insert(POLine).values(po_id=po, line_no=1, product_id=1, qty_ordered=qty))


def _start(db_url: str, data_dir: Path, stdin: object = subprocess.PIPE) -> subprocess.Popen:
    env = {**os.environ, "STATION_DATA_DIR": str(data_dir)}
    return subprocess.Popen(
        [sys.executable, "-m", "station", "--db", db_url, "scan", *ARGS],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def _line(process: subprocess.Popen, timeout: float = 30.0) -> dict[str, object]:
    """The next JSON line, failing instead of hanging when none comes."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, "no verdict within the timeout"
    return json.loads(process.stdout.readline())


def _received(engine: Engine) -> set[str]:
    with engine.connect() as c:
        return set(c.execute(text("SELECT serial FROM units WHERE serial LIKE 'PIPE%'")).scalars())


def test_sigkill_after_n_piped_verdicts_restores_at_least_those_n_scans(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    _big_po(engine)
    serials = [f"PIPE{i:05d}".encode() for i in range(3000)]
    scans = [b"W1", *serials]
    first = _start(db_url, tmp_path / "data")
    assert first.stdin is not None and first.stdout is not None
    first.stdin.write(b"".join(s + b"\n" for s in scans))  # all waiting before the first read
    first.stdin.flush()
    printed = [_line(first) for _ in range(700)]  # several groups of GROUP_MAX
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert all(v["ok"] for v in printed), [v for v in printed if not v["ok"]][:3]
    assert [v["scan"] for v in printed] == [s.decode() for s in scans[:700]]

    second = _start(db_url, tmp_path / "data")
    restored = _line(second)["restored"]
    assert isinstance(restored, int) and len(printed) <= restored <= len(scans)
    posted = json.loads(second.communicate(b"CMD-SAVE\n", timeout=60)[0])
    assert posted["posted"] is True and posted["units"] == restored - 1, posted  # W1 + serials
    assert _received(engine) == {s.decode() for s in serials[: restored - 1]}


def test_a_save_inside_a_group_posts_in_turn_and_the_scans_after_it_are_journaled(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    _big_po(engine)
    scans = [b"W1", b"PIPE-A1", b"PIPE-A2", b"CMD-SAVE", b"W1", b"PIPE-B1", b"", b"PIPE-B2"]
    path = tmp_path / "scans.txt"
    path.write_bytes(b"\r\n".join(scans))  # CRLF, and the last line has no line end
    with path.open("rb") as stdin:
        process = _start(db_url, tmp_path / "data", stdin)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0 and err == b"", err.decode()
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line.get("scan") for line in lines] == [
        "W1", "PIPE-A1", "PIPE-A2", None, "W1", "PIPE-B1", "PIPE-B2"
    ]  # fmt: skip
    assert lines[3]["posted"] is True and lines[3]["units"] == 2, lines[3]
    assert all(line["ok"] for i, line in enumerate(lines) if i != 3)
    assert _received(engine) == {"PIPE-A1", "PIPE-A2"}

    again = _start(db_url, tmp_path / "data")  # what followed the posting was journaled
    assert _line(again) == {"restored": 3}
    posted = json.loads(again.communicate(b"CMD-SAVE\n", timeout=60)[0])
    assert posted["posted"] is True and posted["units"] == 2, posted
    assert _received(engine) == {"PIPE-A1", "PIPE-A2", "PIPE-B1", "PIPE-B2"}


def test_waiting_scans_are_looked_up_together_and_judged_as_one_at_a_time(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    """A group's look-ups are read in one go: the verdicts are those of scans sent one
    by one — a serial posted by a CMD-SAVE inside the group exists for the scans after it,
    another product's barcode is still named — and 200 serials cost a few queries."""
    _big_po(engine)
    scans = [
        UPC_OTHER, "W1", "WS-1", "PIPE-A", "pipe-a", "PIPE-B", "CMD-SAVE",
        "W1", "PIPE-A", "PIPE-C", *(f"PIPE-{n:03d}" for n in range(200)), "CMD-SAVE",
    ]  # fmt: skip
    path = tmp_path / "scans.txt"
    path.write_text("".join(f"{scan}\n" for scan in scans))
    with path.open("rb") as stdin:
        process = _start(db_url, tmp_path / "data", stdin)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0 and err == b"", err.decode()
    lines = [json.loads(line) for line in out.splitlines()]
    codes = [line.get("code", "posted" if line.get("posted") else line) for line in lines]
    assert codes[:11] == [
        "ITEM_NOT_ON_PO", "OK", "SERIAL_ALREADY_EXISTS", "OK", "SERIAL_DUPLICATE_IN_SESSION",
        "OK", "posted", "OK", "SERIAL_ALREADY_EXISTS", "OK", "OK",
    ], lines[:11]  # fmt: skip
    assert "Other Thing" in lines[0]["message"]
    assert lines[-1]["posted"] is True and lines[-1]["units"] == 201, lines[-1]
    assert _received(engine) == {"PIPE-A", "PIPE-B", "PIPE-C"} | {
        f"PIPE-{n:03d}" for n in range(200)
    }

    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    group = [b"W1", *(b"PIPE-X%03d" % n for n in range(200))]
    session = open_session(engine, "PIPE-2", "receive", "PO-PIPE", journal=False).session
    event.listen(engine, "before_cursor_execute", count)
    try:
        session.look_ahead(group)
        verdicts = [session.scan(scan) for scan in group]
    finally:
        event.remove(engine, "before_cursor_execute", count)
        session.close()
    assert all(verdict.ok for verdict in verdicts), [v for v in verdicts if not v.ok][:3]
    assert len(statements) <= 5, statements


def test_a_ship_group_looked_up_together_gets_the_verdicts_of_one_scan_at_a_time(
    engine: Engine,
) -> None:
    seed(engine)
    group = [
        "W1-BOX", "WS-1", "W1-BOX", "WS-GONE", "ws-1", "WS-EAST", "WS-2", UPC_OTHER,
        "CABLE3", "NO-SUCH", "WS-3", "CMD-UNDO", "WS-3",
    ]  # fmt: skip
    verdicts = []
    for ahead in (True, False):
        session = open_session(engine, "PACK-9", "ship", "SO-1", journal=False).session
        if ahead:
            session.look_ahead(group)
        verdicts.append([session.scan(scan).as_dict() for scan in group])
        session.close()
    assert verdicts[0] == verdicts[1]
    assert [v["code"] for v in verdicts[0]] == [
        "OK", "OK", "OK", "SERIAL_NOT_IN_STOCK", "SERIAL_DUPLICATE_IN_SESSION",
        "SERIAL_WRONG_WAREHOUSE", "OK", "ITEM_NOT_ON_ORDER", "OK", "UNKNOWN_ITEM",
        "UNKNOWN_ITEM", "OK", "OVER_PACK",
    ]  # fmt: skip


def test_one_scan_at_a_time_gets_its_verdict_without_waiting_for_more(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    _big_po(engine)
    process = _start(db_url, tmp_path / "data")
    assert process.stdin is not None
    for scan in (b"W1", b"PIPE-1", b"PIPE-2", b"PIPE-1"):
        process.stdin.write(scan + b"\n")
        process.stdin.flush()  # and nothing more until its verdict is read
        verdict = _line(process, timeout=20)
        assert verdict["scan"] == scan.decode()
    assert verdict["code"] == "SERIAL_DUPLICATE_IN_SESSION"
    process.stdin.close()
    assert process.wait(timeout=20) == 0


def test_waiting_lines_groups_what_one_read_returned() -> None:
    read, write = os.pipe()
    with os.fdopen(read, "rb") as source, os.fdopen(write, "wb") as sink:
        sink.write(b"".join(b"S%d\n" % i for i in range(300)) + b"PART")
        sink.flush()
        groups = waiting_lines(source)
        first = [next(groups), next(groups), next(groups)]  # returned without more input
        sink.write(b"IAL\n\n")
        sink.close()
        rest = list(groups)
    assert [len(g) for g in first] == [GROUP_MAX, GROUP_MAX, 300 - 2 * GROUP_MAX]
    assert [line for g in first for line in g] == [b"S%d" % i for i in range(300)]
    assert rest == [[b"PARTIAL", b""]]


def _modules_after(code: str, *args: str, stdin: bytes = b"", env: dict[str, str]) -> set[str]:
    """The top-level packages loaded after `code` ran in a fresh interpreter."""
    script = f"import sys\n{code}\nprint(' '.join({{m.split('.')[0] for m in sys.modules}}))"
    done = subprocess.run(
        [sys.executable, "-c", script, *args], input=stdin, capture_output=True, env=env
    )
    assert done.returncode == 0, done.stderr.decode()
    return set(done.stdout.decode().splitlines()[-1].split())


def test_help_loads_no_heavy_package_and_a_scan_loads_no_printer_or_migration_code(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "STATION_DATA_DIR": str(tmp_path / "data")}
    parser = _modules_after("from station.cli import build_parser\nbuild_parser()", env=env)
    assert parser.isdisjoint(HEAVY), parser & set(HEAVY)

    _big_po(engine)
    scan = _modules_after(
        "from station.cli import main\nmain(sys.argv[1:])",
        *("--db", db_url, "scan", *ARGS),
        stdin=b"W1\nPIPE-1\n",
        env=env,
    )
    assert "sqlalchemy" in scan
    assert scan.isdisjoint({"alembic", "biip", "escpos", "PIL", "barcode", "openpyxl"}), scan


def test_the_newest_migration_file_is_alembics_head() -> None:
    """Opening a current database skips Alembic by comparing with the newest file."""
    assert newest_migration() == head_revision()
