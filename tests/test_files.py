"""Files the station writes (`station export --out`, `station label --out`): written whole
into the target's folder, and only over a regular file that is not the ledger, a journal
or anything else of the station's (SPEC §8; issue 8, "Files"). On SQLite and PostgreSQL,
through the command line."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, text

from station.cli import EXIT_FAILED, main
from station.journal import journal_path
from tests.disks import a_device, fill, read_only, tmpfs
from tests.seed import seed
from tests.workflow import run_scan

#: The commands that write a file, given the file.
WRITERS: dict[str, Callable[[str], list[str]]] = {
    "export": lambda out: ["export", "serials", "--out", out],
    "label": lambda out: ["label", "--sku", "W1", "--serial", "SN-1", "--out", out],
}


@pytest.fixture
def seeded(engine: Engine, db_url: str) -> str:
    seed(engine)
    return db_url


def _run(
    capsys: pytest.CaptureFixture[str], db_url: str | None, *argv: str
) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main([*(["--db", db_url] if db_url else []), *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _refused(capsys: pytest.CaptureFixture[str], db_url: str | None, argv: list[str]) -> str:
    status, out, err = _run(capsys, db_url, *argv)
    assert status == EXIT_FAILED and out == "", (out, err)
    assert err.startswith("station: EXPORT_FAILED: ") and err.count("\n") == 1, err
    return err.removeprefix("station: EXPORT_FAILED: ").rstrip("\n")


def _leftovers(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob(".*.partial")]


def _units(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM units")).scalar_one()


# --- never over the ledger ---------------------------------------------------------------


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_nothing_is_written_over_the_sqlite_ledger(
    engine: Engine,
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    """Today `station export serials --out station.db` replaced the ledger with a workbook."""
    if not db_url.startswith("sqlite"):
        pytest.skip("a SQLite ledger's files")
    seed(engine)
    units = _units(engine)
    ledger = Path(db_url.removeprefix("sqlite:///"))
    (tmp_path / "to-ledger").symlink_to(ledger)
    os.link(ledger, tmp_path / "hard-link.db")
    monkeypatch.chdir(tmp_path)
    what = "the station's ledger (its SQLite database)"
    targets = {
        str(ledger): what,
        f"{ledger}-wal": "the ledger's write-ahead log",
        f"{ledger}-shm": "the ledger's shared-memory index",
        f"{ledger}-journal": "the ledger's rollback journal",
        "station.db": what,  # relative to the working folder
        f"{tmp_path}/data/../station.db": what,
        str(tmp_path / "to-ledger"): what,  # a symlink to it
        str(tmp_path / "hard-link.db"): what,  # another name of the same file
    }
    for target, is_what in targets.items():
        message = _refused(capsys, db_url, WRITERS[command](target))
        assert message == f"{target} is {is_what}: it is never overwritten. Choose another file."
    assert sqlite3.connect(ledger).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert _units(engine) == units and not _leftovers(tmp_path)
    assert (tmp_path / "to-ledger").is_symlink() and (
        tmp_path / "hard-link.db"
    ).stat().st_nlink == 2
    assert _run(capsys, db_url, "stations")[0] == 0


def test_a_ledger_named_by_a_sqlite_uri_and_a_file_printer_never_write_onto_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sqlite:///file:/…/ledger.db?uri=true` names the same file as `sqlite:////…`; and a
    `file://` printer (a test print opens no database) never appends to the ledger."""
    from station.db.engine import make_engine, upgrade

    ledger = tmp_path / "ledger.db"
    uri = f"sqlite:///file:{ledger}?uri=true"
    engine = make_engine(uri)
    upgrade(engine)
    seed(engine)
    units = _units(engine)
    for command in sorted(WRITERS):
        message = _refused(capsys, uri, WRITERS[command](str(ledger)))
        assert message == f"{ledger} is the station's ledger (its SQLite database): it is never"\
            " overwritten. Choose another file."  # fmt: skip
    for url in (uri, f"sqlite:///{ledger}"):
        for target in (ledger, Path(f"{ledger}-wal")):
            status, out, err = _run(capsys, url, "print-test", f"file://{target}")
            assert status != 0 and "Traceback" not in err, (out, err)
            assert f"{target} is the" in err and "nothing is printed onto it" in err, err
    assert sqlite3.connect(ledger).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert _units(engine) == units
    engine.dispose()
    assert _run(capsys, uri, "stations")[0] == 0


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_nothing_is_written_into_the_data_folder(
    seeded: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    """The data folder holds the default ledger, the session journals and the stations'
    cache: a journal of unsaved scans, a file beside it, a symlink to it — all refused."""
    args = ["--station", "DOCK-1", "--receive", "PO-1"]
    status, verdicts = run_scan(monkeypatch, capsys, seeded, args, ["W1", "SN-FILES-1"])
    assert status == 0 and all(v["ok"] for v in verdicts)
    journal = journal_path("receive", "DOCK-1", "PO-1")
    kept = journal.read_bytes()
    data = tmp_path / "data"
    (tmp_path / "to-journal.xlsx").symlink_to(journal)
    for target in (journal, data / "new.xlsx", data, tmp_path / "to-journal.xlsx"):
        message = _refused(capsys, seeded, WRITERS[command](str(target)))
        assert message == (
            f"{target} is inside the station's data folder (its ledger, session journals and"
            f" station cache), {data}: nothing is written there. Choose a file in another"
            " folder."
        )
    assert journal.read_bytes() == kept and not (data / "new.xlsx").exists()
    status, verdicts = run_scan(monkeypatch, capsys, seeded, args, ["CMD-SAVE"])
    assert verdicts[0] == {"restored": 2} and verdicts[1]["posted"] is True


def test_the_default_ledger_is_in_the_data_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --db: the ledger is the data folder's station.db."""
    assert _run(capsys, None, "stations")[0] == 0
    ledger = tmp_path / "data" / "station.db"
    assert ledger.is_file()
    message = _refused(capsys, None, WRITERS["export"](str(ledger)))
    assert message == (
        f"{ledger} is the station's ledger (its SQLite database): it is never overwritten."
        " Choose another file."
    )
    message = _refused(capsys, None, WRITERS["export"](f"{ledger}.xlsx"))
    assert message.startswith(f"{ledger}.xlsx is inside the station's data folder")
    assert _run(capsys, None, "stations")[0] == 0


# --- only over a regular file, whole or not at all --------------------------------------------


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_only_a_regular_file_is_written(
    seeded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """Today, as root, `--out /dev/null` replaced the device with a file, and a missing
    folder or a folder as the target ended in a traceback."""
    out = tmp_path / "out"
    out.mkdir()
    device = a_device(tmp_path)
    fifo = out / "pipe"
    os.mkfifo(fifo)
    a_file = out / "a-file.txt"
    a_file.write_text("keep")
    cases = {
        str(device): f"{device} is not a regular file (a device, a named pipe or a socket):"
        " give a file name.",
        str(fifo): f"{fifo} is not a regular file (a device, a named pipe or a socket):"
        " give a file name.",
        str(out): f"{out} is a folder: give a file name in it, such as {out}/export.xlsx.",
        str(out / "missing" / "x.xlsx"): f"Cannot write {out}/missing/x.xlsx: its folder"
        f" {out}/missing does not exist. Create it, or choose another folder. Nothing was"
        " written.",
        str(a_file / "x.xlsx"): f"Cannot write {a_file}/x.xlsx: a part of its folder path is a"
        " file.",
        "": "No file name was given: name the file to write.",
    }
    for target, expected in cases.items():
        assert _refused(capsys, seeded, WRITERS[command](target)) == expected
    assert stat.S_ISCHR(os.stat(device).st_mode) and stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert a_file.read_text() == "keep" and not (out / "missing").exists()
    assert not _leftovers(out) and sorted(p.name for p in out.iterdir()) == ["a-file.txt", "pipe"]


def test_an_export_replaces_a_file_whole_and_keeps_its_mode(
    seeded: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "shared" / "serials.xlsx"
    real.parent.mkdir()
    real.write_text("last week's export")
    real.chmod(0o640)
    link = tmp_path / "serials-link.xlsx"
    link.symlink_to(real)
    status, out, err = _run(capsys, seeded, *WRITERS["export"](str(link)))
    assert status == 0 and err == "", err
    units = _units(engine)
    assert out == f"Exported {units} serials row(s) to {link}.\n"
    rows = list(load_workbook(real, read_only=True).active.iter_rows(values_only=True))
    assert len(rows) == units + 1 and rows[0][:3] == ("SKU", "Product", "Serial")
    assert link.is_symlink() and stat.S_IMODE(real.stat().st_mode) == 0o640
    assert not _leftovers(tmp_path)
    status, out, _ = _run(capsys, seeded, *WRITERS["label"](str(real.with_suffix(".zpl"))))
    assert status == 0 and real.with_suffix(".zpl").read_bytes().startswith(b"^XA")


def test_a_file_name_that_is_not_utf8_is_written_and_shown(
    seeded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = os.fsdecode(bytes(tmp_path) + b"/caf\xe9.xlsx")  # Latin-1 bytes in a name
    status, out, err = _run(capsys, seeded, *WRITERS["export"](name))
    assert status == 0 and err == "" and os.path.isfile(name)
    assert out.endswith(f"row(s) to {tmp_path}/caf\\xe9.xlsx.\n")


# --- a full disk, a read-only folder -------------------------------------------------------


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_a_full_disk_leaves_the_old_file_and_no_partial_one(
    seeded: str, tmp_path: Path, command: str
) -> None:
    """As a real process: nothing on stderr but the one line (no complaint from the
    workbook writer it left half done)."""
    from escpos import capabilities

    env = {
        **os.environ,
        "ESCPOS_CAPABILITIES_PICKLE_DIR": os.path.dirname(capabilities.pickle_path),
    }
    with tmpfs(tmp_path / "small", "64k") as disk:
        target = disk / "out.bin"
        target.write_bytes(b"the previous file")
        fill(disk, leave=0)
        done = subprocess.run(
            [sys.executable, "-m", "station", "--db", seeded, *WRITERS[command](str(target))],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert (done.returncode, done.stdout) == (EXIT_FAILED, "")
        assert done.stderr == (
            f"station: EXPORT_FAILED: Cannot write {target}: the disk of {disk} is full (No"
            " space left on device). Free space, or choose another. Nothing was written.\n"
        )
        assert target.read_bytes() == b"the previous file"
        assert sorted(p.name for p in disk.iterdir()) == ["filler", "out.bin"]


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_a_read_only_folder_is_named(
    seeded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    with read_only(tmp_path / "ro") as folder:
        target = folder / "out.xlsx"
        message = _refused(capsys, seeded, WRITERS[command](str(target)))
        if os.geteuid() == 0:  # a read-only disk
            assert message == (
                f"Cannot write {target}: {folder} is on a read-only disk. Choose another"
                " folder. Nothing was written."
            )
        else:
            assert message.startswith(f"Cannot write {target}: no permission to write in")
        assert list(folder.iterdir()) == []
