"""`station scan` as a real process: crash recovery and hostile input (SPEC §7, §8)."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from tests.seed import add_operators, seed
from tests.workflow import ask, start_scan

LEDGER = (
    "SELECT (SELECT count(*) FROM units), (SELECT count(*) FROM events),"
    " (SELECT count(*) FROM receipts), (SELECT sum(qty_received) FROM po_lines)"
)


def _ledger(engine: Engine) -> tuple[int, ...]:
    with engine.connect() as c:
        return tuple(c.execute(text(LEDGER)).one())


def test_sigkill_mid_session_restores_every_acknowledged_scan(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    seed(engine)
    add_operators(engine, kim="clerk")
    before = _ledger(engine)
    args = ("--station", "DOCK-9", "--receive", "PO-1", "--user", "kim")
    first = start_scan(db_url, tmp_path / "data", *args)
    scans = [b"W1", b"KILL-1", b"KILL-2", b"CABLE3", b"G2", b"KILLSN0001"]
    verdicts = [ask(first, s) for s in scans]
    assert all(v["ok"] for v in verdicts), verdicts
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert _ledger(engine) == before  # nothing posted yet

    second = start_scan(db_url, tmp_path / "data", *args)
    assert second.stdout is not None
    assert json.loads(second.stdout.readline()) == {"restored": len(scans)}
    more = ask(second, b"KILLSN0002")
    assert more["ok"], more
    posted = ask(second, b"CMD-SAVE")
    assert posted["posted"] is True and posted["units"] == 5, posted
    second.stdin.close()  # type: ignore[union-attr]
    assert second.wait(timeout=20) == 0
    with engine.connect() as c:
        serials = set(
            c.execute(text("SELECT serial FROM units WHERE serial LIKE 'KILL%'")).scalars()
        )
        user = c.execute(
            text("SELECT user_name FROM receipts WHERE station = 'DOCK-9'")
        ).scalar_one()
    assert serials == {"KILL-1", "KILL-2", "KILLSN0001", "KILLSN0002"}
    assert user == "kim"

    third = start_scan(db_url, tmp_path / "data", *args)  # the journal is gone after posting
    out, err = third.communicate(b"", timeout=20)
    assert third.returncode == 0 and out == b"" and err == b""


def test_hostile_input_gets_one_verdict_per_line_and_changes_nothing(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    seed(engine)
    before = _ledger(engine)
    lines = [
        b"\xff\xfe\x00garbage",
        b"\xc3\x28",  # invalid UTF-8
        b"A" * 10_000,
        b"W1",
        b"B" * 10_000,
        b"SN\x07\x1b[2J",
        b"\x1d\x1d\x1d",
        b"]C101123",
        b"(01)123(21)",
        b"]C10100012345678905\x1d21" + b"X" * 200,
        b"'; DROP TABLE units; --",
        b"CMD-\xff",
        bytes(range(1, 32)).replace(b"\n", b"").replace(b"\r", b""),
        "серийный-№1".encode(),
    ]
    process = start_scan(db_url, tmp_path / "data", "--station", "DOCK-X", "--receive", "PO-1")
    out, err = process.communicate(b"\n".join(lines) + b"\n", timeout=60)
    assert process.returncode == 0, err.decode()
    assert b"Traceback" not in err and err == b""
    verdicts = [json.loads(line) for line in out.decode().splitlines()]
    assert len(verdicts) == len(lines)
    assert all(set(v) >= {"scan", "ok", "code", "message"} for v in verdicts)
    assert verdicts[3]["ok"] is True  # W1 selects the item
    refused = [v for i, v in enumerate(verdicts) if i not in (3, 10, 13)]
    assert all(v["ok"] is False and v["message"] for v in refused), refused
    assert _ledger(engine) == before
    with engine.connect() as c:  # the SQL-looking serial was data, nothing else
        assert c.execute(text("SELECT count(*) FROM units")).scalar_one() == before[0]


def test_a_client_encoding_other_than_utf8_never_fails_a_scan(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PGCLIENTENCODING=LATIN1 (or `?client_encoding=latin1`) made the first scan of a
    character outside Latin-1 end the headless station with a traceback."""
    seed(engine)
    monkeypatch.setenv("PGCLIENTENCODING", "LATIN1")
    url = f"{db_url}?client_encoding=latin1" if "postgresql" in db_url else db_url
    process = start_scan(url, tmp_path / "data", "--station", "DOCK-E", "--receive", "PO-1")
    verdict = ask(process, "日本")  # looked up in the catalog: sent to the database
    assert verdict["code"] == "NO_ITEM_SELECTED", verdict
    assert ask(process, "W1")["ok"]
    assert ask(process, "J-1")["ok"]
    out, err = process.communicate(b"CMD-SAVE\n", timeout=60)
    assert json.loads(out)["posted"] is True and b"Traceback" not in err, err
