"""The journal when it matters: `station scan` killed, its journal damaged, its disk full,
its folder read-only, its session taken up by another user (SPEC §8)."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, make_url, text

from station.journal import BLOCK, journal_path
from tests.seed import add_operators, seed
from tests.test_journal_sessions import add_po
from tests.workflow import ask as _ask
from tests.workflow import run_scan
from tests.workflow import start_scan as _start

ARGS = ("--station", "DOCK-9", "--receive", "PO-1")
SCANS = [b"W1", b"CR-1", b"CR-2", b"CABLE3", b"G2", b"CRSERIAL01"]


def _lines(out: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.decode().splitlines()]


def _killed(db_url: str, data: Path, *args: str) -> None:
    """A station that acknowledged every scan of SCANS, then was killed."""
    process = _start(db_url, data, *args)
    assert all(_ask(process, s)["ok"] for s in SCANS)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def test_killed_then_damaged_the_station_restores_what_it_can_and_says_so(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    seed(engine)
    add_operators(engine)
    data = tmp_path / "data"
    _killed(db_url, data, *ARGS, "--user", "kim")
    [path] = (data / "journal").glob("*.jsonl")
    lines = path.read_bytes().split(b"\n")
    lines[5] = b'{"scan": "G2", "op": "sc'  # record 5 of 6 damaged on disk
    path.write_bytes(b"\n".join(lines))

    again = _start(db_url, data, *ARGS, "--user", "kim")
    out, err = again.communicate(b"G2\nCRSERIAL01\nCMD-SAVE\n", timeout=60)
    assert again.returncode == 0 and err == b"", err.decode()
    first, *verdicts, posted = _lines(out)
    assert first["restored"] == 4 and first["unrestored"] == 2
    assert first["code"] == "JOURNAL_DAMAGED" and "line 6 cannot be read" in first["message"]
    assert [v["ok"] for v in verdicts] == [True, True]
    assert posted["posted"] and posted["units"] == 4  # CR-1, CR-2, 1 × C3, CRSERIAL01
    assert len(list(path.parent.glob(f"{path.name}.damaged-*"))) == 1


def test_killed_then_opened_by_another_user_the_station_refuses(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    seed(engine)
    add_operators(engine)
    data = tmp_path / "data"
    _killed(db_url, data, *ARGS, "--user", "alice")
    bob = _start(db_url, data, *ARGS, "--user", "bob")
    out, err = bob.communicate(b"W1\nCR-3\n", timeout=60)
    assert bob.returncode == 1 and out == b""
    assert err.decode() == (
        "station: SESSION_OTHER_USER: PO-1 on station DOCK-9 has 6 unsaved scans by alice:"
        " continue as alice, or have alice open it and clear it (CMD-RESCAN) first. A session"
        " is finished by the user who started it.\n"
    )
    alice = _start(db_url, data, *ARGS, "--user", "alice")
    out, err = alice.communicate(b"CMD-SAVE\n", timeout=60)
    assert alice.returncode == 0 and err == b""
    restored, posted = _lines(out)
    assert restored == {"restored": 6} and posted["posted"] and posted["units"] == 4
    with engine.connect() as c:
        who = c.execute(text("SELECT user_name FROM receipts WHERE station = 'DOCK-9'"))
        assert who.scalar_one() == "alice"


def _env(data: Path) -> dict[str, str]:
    """The station's data folder, and python-escpos's capabilities cache as this process
    made it (else every import writes a new one to a new temporary folder)."""
    from escpos import capabilities

    cache = os.path.dirname(capabilities.pickle_path)
    return {**os.environ, "STATION_DATA_DIR": str(data), "ESCPOS_CAPABILITIES_PICKLE_DIR": cache}


def _file_limit(db_url: str) -> int:
    """A file size limit the journal reaches after one block or a few (never the SQLite
    file's: it is written where it already is)."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        return BLOCK
    size = max(p.stat().st_size for p in Path(url.database).parent.glob("station.db*"))
    return BLOCK * (size // BLOCK + 2)


def test_a_full_disk_refuses_the_scan_and_acknowledges_nothing_not_on_disk(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    """RLIMIT_FSIZE in the station's process: writing past the limit fails with EFBIG (the
    interpreter ignores SIGXFSZ) just as a full disk fails with ENOSPC."""
    seed(engine)
    add_po(engine, "PO-BIG", (1, 20_000))
    limit = _file_limit(db_url)
    serials = [f"FULL-{n:06d}-" + "x" * 48 for n in range(limit // 150 + 200)]

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    data = tmp_path / "data"
    args = ["--station", "DOCK-9", "--receive", "PO-BIG"]
    process = subprocess.Popen(
        [sys.executable, "-m", "station", "--db", db_url, "scan", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(data),
        preexec_fn=limited,
    )
    out, err = process.communicate("\n".join(["W1", *serials, ""]).encode())
    assert process.returncode == 0 and err == b"", err.decode()
    verdicts = _lines(out)
    assert len(verdicts) == len(serials) + 1
    accepted = [v for v in verdicts if v["ok"]]
    refused = verdicts[len(accepted) :]
    assert len(accepted) > 300 and all(v["ok"] for v in verdicts[: len(accepted)])
    assert {v["code"] for v in refused} == {"JOURNAL_UNAVAILABLE"}
    assert refused[0]["message"].startswith("The journal cannot be written (File too large): ")

    status = subprocess.run(
        [sys.executable, "-m", "station", "--db", db_url, "scan", *args],
        input=b"CMD-SAVE\n",
        capture_output=True,
        env=_env(data),
        timeout=120,
    )
    restored, posted = _lines(status.stdout)
    assert restored == {"restored": len(accepted)}  # every acknowledged scan, no other
    assert posted["posted"] and posted["units"] == len(accepted) - 1  # W1 was the item
    with engine.connect() as c:
        units = c.execute(text("SELECT serial FROM units WHERE serial LIKE 'FULL-%'"))
        assert set(units.scalars()) == {v["serial"] for v in accepted[1:]}


# --- a real small disk (tmpfs), where this machine lets the tests mount one -----------


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """The journal folder on a 96 KiB tmpfs: room for the journal's first block only."""
    folder = journal_path("receive", "DOCK-9", "PO-BIG").parent
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=96k,mode=0755", "tmpfs", str(folder)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_small_disk_refuses_scans_and_a_read_only_one_too(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    engine: Engine,
    db_url: str,
    small_disk: Path,
) -> None:
    seed(engine)
    add_po(engine, "PO-BIG", (1, 5000), (3, 5000))
    args = ["--station", "DOCK-9", "--receive", "PO-BIG"]
    serials = [f"DISK-{n:05d}" for n in range(1500)]
    status, out = run_scan(monkeypatch, capsys, db_url, args, ["W1", *serials])
    accepted = [v for v in out if v["ok"]]
    refused = out[len(accepted) :]
    assert status == 0 and len(accepted) > 300 and refused
    assert {v["code"] for v in refused} == {"JOURNAL_UNAVAILABLE"}
    assert "(No space left on device)" in refused[0]["message"]

    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    status, out = run_scan(monkeypatch, capsys, db_url, args, ["CABLE3", "CMD-RESCAN"])
    assert out[0] == {"restored": len(accepted)}
    assert [v["code"] for v in out[1:]] == ["JOURNAL_UNAVAILABLE"] * 2
    assert "(Read-only file system)" in out[1]["message"]

    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    status, out = run_scan(monkeypatch, capsys, db_url, args, ["CMD-SAVE"])
    assert out[0] == {"restored": len(accepted)}
    assert out[1]["posted"] and out[1]["units"] == len(accepted) - 1
    assert not list(small_disk.iterdir())  # posted: the journal is gone
