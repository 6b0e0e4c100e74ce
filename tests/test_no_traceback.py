"""No command ends in a Python traceback, whatever its arguments, files or environment
(SPEC §8; issue 8, "Files").

Every subcommand that `station.cli.build_parser()` knows (the device commands too) runs
as a real `python -m station` process with hostile arguments — empty, 100 kB, bytes that
are not UTF-8, shell and terminal garbage — hostile files in its file arguments (missing,
a folder, a device, a named pipe with no writer, an unreadable file, the ledger itself,
a path under a file) and hostile environments (a data folder that is a file, under a file
or read-only; database URLs that name no database). Each run must end within a generous
bound, without a traceback, and a failure must say `station…: ` what went wrong. The cases
run in parallel; a test lists every case that failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from station.cli import EXIT_BROKEN_PIPE, EXIT_DATABASE, EXIT_INTERRUPTED, build_parser
from station.db.engine import make_engine
from tests.disks import a_device, fill, mount_tmpfs, read_only, unmount
from tests.seed import seed

WORKERS = 4
#: Seconds one case may take; longer is a hang (a named pipe waited on, a lock held).
CASE_TIMEOUT = 30.0
TEXT = {
    "empty": "",
    "huge": "x" * 100_000,
    "bytes": os.fsdecode(b"SN\xff\xfe\x80-1"),  # not UTF-8: a surrogate-escaped argument
    "garbage": "'; DROP TABLE units; --\x1b[2J\t%s%n{0}\u202e",
}
#: The hostile text that reaches the database (the bytes are refused before it).
DATABASE_TEXT = ("empty", "huge", "garbage")
#: A plain value for each kind of argument, so that the other arguments are reached.
PLAIN = {
    "station": "DOCK-1",
    "receive": "PO-1",
    "ship": "SO-1",
    "sku": "W1",
    "serial": "SN-1",
    "user": "sue",
    "by": "sue",
    "document": "PO-1",
    "printer": "zpl+tcp://127.0.0.1:1",
}
#: Arguments that name a file the command reads or writes (a printer URL: file://PATH).
FILE_ARGS = {"file", "out", "printer"}
#: A case's own files, filled in when it runs: its ledger, and a file in its data folder.
OWN_FILES = {"ledger": "{ledger}", "ledger-wal": "{ledger}-wal", "data folder": "{data}/x.xlsx"}
STATION_MESSAGE = re.compile(r"^station[^\n]*: ", re.MULTILINE)


@dataclass
class Case:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    db: bool = True  # run on the test's ledger (else the default one in its data folder)
    stdin: bytes = b""


@dataclass
class Outcome:
    case: Case
    status: int | None
    err: str
    out: str = ""

    def problem(self) -> str | None:
        if self.status is None:
            return f"no answer within {CASE_TIMEOUT:.0f} s"
        if "Traceback" in self.err or "Exception ignored" in self.err:
            return "traceback:\n" + self.err[-1500:]
        if self.status < 0:
            return f"killed by signal {-self.status}"
        if self.status != 0 and not STATION_MESSAGE.search(self.err):
            return f"exit {self.status} without a 'station: ' message: {self.err[-300:]!r}"
        return None


# --- the subcommands, from the parser ------------------------------------------------


def leaf_commands() -> list[list[str]]:
    """Every runnable command path: ['db', 'upgrade'], ['scan'], ['label'], …"""
    found: list[list[str]] = []

    def walk(node: argparse.ArgumentParser, path: list[str]) -> None:
        subs = [a for a in node._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            found.append(path)
            return
        for name, child in subs[0].choices.items():
            walk(child, [*path, name])

    walk(build_parser(), [])
    return [path for path in found if path]


def _leaf_parser(path: list[str]) -> argparse.ArgumentParser:
    node = build_parser()
    for name in path:
        sub = next(a for a in node._actions if isinstance(a, argparse._SubParsersAction))
        node = sub.choices[name]
    return node


def _slots(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    skip = (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)
    return [a for a in parser._actions if not isinstance(a, skip)]


def _flag(action: argparse.Action) -> bool:
    return isinstance(action, argparse._StoreConstAction | argparse._StoreTrueAction)


def command_line(path: list[str], value: dict[str, str], turn: int, every: bool) -> list[str]:
    """`path` with its arguments: `value[dest]` (else PLAIN, else "X1") for each value,
    choices and one member of each exclusive group picked by `turn`; the optional
    arguments only when `every` or named in `value`."""
    parser = _leaf_parser(path)
    picked: dict[int, argparse.Action] = {}  # exclusive group → its member used
    required: set[int] = set()
    for group in parser._mutually_exclusive_groups:
        members = list(group._group_actions)
        picked[id(group)] = members[turn % len(members)]
        if group.required:
            required.add(id(group))
    group_of = {
        id(action): id(group)
        for group in parser._mutually_exclusive_groups
        for action in group._group_actions
    }
    argv, tail = list(path), []
    for action in _slots(parser):
        group = group_of.get(id(action))
        if group is not None and picked[group] is not action:
            continue
        needed = action.required or group in required
        if not (needed or every or action.dest in value):
            continue
        if _flag(action):
            argv.append(action.option_strings[0])
            continue
        if action.choices:
            choices = list(action.choices)
            text = value.get(action.dest, choices[turn % len(choices)])
        else:
            text = value.get(action.dest, PLAIN.get(action.dest, "X1"))
        words = [text, f"k={text}"] if action.nargs in ("*", "+") else [text]
        if action.option_strings:
            argv += [action.option_strings[-1], *words]
        else:
            tail += words
    return [*argv, "--", *tail] if any(word.startswith("-") for word in tail) else argv + tail


def argument_cases(
    paths: list[list[str]], texts: tuple[str, ...], files: dict[str, str]
) -> list[Case]:
    """Each command with every argument set to each hostile text at once, then each
    argument hostile alone; each file argument given each hostile file."""
    cases: dict[tuple[str, ...], Case] = {}

    def add(name: str, argv: list[str]) -> None:
        cases.setdefault(tuple(argv), Case(name, argv))

    for path in paths:
        command = " ".join(path)
        dests = [a.dest for a in _slots(_leaf_parser(path)) if not _flag(a)]
        for turn, label in enumerate(texts):
            every = dict.fromkeys(dests, TEXT[label])
            add(f"{command} all={label}", command_line(path, every, turn, True))
        for turn, dest in enumerate(dests):
            label = texts[turn % len(texts)]
            add(f"{command} {dest}={label}", command_line(path, {dest: TEXT[label]}, turn, False))
        for dest in (d for d in dests if d in FILE_ARGS):
            for turn, (label, target) in enumerate(files.items()):
                given = f"file://{target}" if dest == "printer" else target
                add(f"{command} {dest}={label}", command_line(path, {dest: given}, turn, False))
    return list(cases.values())


# --- running them ------------------------------------------------------------------------


def _env(home: Path) -> dict[str, str]:
    from escpos import capabilities

    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STATION_", "XDG_", "PG"))
    }
    return {
        **inherited,
        "HOME": str(home),
        "STATION_DATA_DIR": str(home / "data"),
        "STATION_PIN": "1234",
        "STATION_SUPERVISOR_PIN": "1234",
        "PGHOST": str(home / "no-postgres-here"),  # `postgresql://` reaches no server
        "PGCONNECT_TIMEOUT": "3",
        # python-escpos's cache as this process made it (else each run builds its own)
        "ESCPOS_CAPABILITIES_PICKLE_DIR": os.path.dirname(capabilities.pickle_path),
    }


def run_cases(cases: list[Case], root: Path, db_url: str | None = None) -> list[Outcome]:
    """Run every case in a folder of its own (on SQLite with a copy of the ledger, so no
    case waits on another), several at once."""
    sqlite = db_url is not None and db_url.startswith("sqlite:///")
    template = Path(db_url.removeprefix("sqlite:///")) if sqlite and db_url else None

    def one(numbered: tuple[int, Case]) -> Outcome:
        number, case = numbered
        home = root / f"case-{number}"
        home.mkdir()
        argv = list(case.argv)
        if case.db and db_url:
            url = db_url
            if template is not None:
                shutil.copy(template, home / "ledger.db")
                url = f"sqlite:///{home / 'ledger.db'}"
            argv = ["--db", url, *argv]
        own = {"{ledger}": str(home / "ledger.db"), "{data}": str(home / "data")}
        for mark, path in own.items():
            argv = [word.replace(mark, path) for word in argv]
        process = subprocess.Popen(
            [sys.executable, "-m", "station", *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**_env(home), **case.env},
            cwd=home,
            start_new_session=True,
        )
        try:
            out, err = process.communicate(case.stdin, timeout=CASE_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return Outcome(case, None, "")
        text = {"encoding": "utf-8", "errors": "replace"}
        return Outcome(case, process.returncode, err.decode(**text), out.decode(**text))

    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(one, enumerate(cases)))


def assert_no_problem(outcomes: list[Outcome]) -> None:
    """Every case ended in time, without a traceback, and said what went wrong."""
    problems = []
    for outcome in outcomes:
        problem = outcome.problem()
        if problem:
            argv = " ".join(a if len(a) < 60 else f"{a[:20]}…({len(a)})" for a in outcome.case.argv)
            problems.append(f"[{outcome.case.name}] station {argv!r}: {problem}")
    assert outcomes
    assert not problems, f"{len(problems)} of {len(outcomes)} cases failed:\n" + "\n\n".join(
        problems
    )


def _station(
    *argv: str, env: dict[str, str] | None = None, home: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    home.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "station", *argv],
        capture_output=True,
        text=True,
        errors="replace",
        env={**_env(home), **(env or {})},
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def seeded(engine: Engine, db_url: str) -> str:
    """The URL of a seeded ledger (SQLite: a file each case copies)."""
    seed(engine)
    engine.dispose()  # SQLite: the last connection checkpoints the WAL into the file
    return db_url


@pytest.fixture
def hostile_files(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Paths no file argument may trip on, by name."""
    root = tmp_path / "hostile"
    root.mkdir()
    fifo = root / "fifo"
    os.mkfifo(fifo)
    plain = root / "plain.txt"
    plain.write_text("sku,name\n")
    files = {
        "missing": str(root / "missing" / "x.csv"),
        "folder": str(root),
        "device": str(a_device(root)),
        "fifo": str(fifo),
        "under-a-file": str(plain / "x.csv"),
        "not-utf8-name": os.fsdecode(bytes(root) + b"/\xff\xfe.xlsx"),
        "empty": "",
        **OWN_FILES,
    }
    locked = root / "locked.csv"
    locked.write_text("sku,name\nA,B\n")
    locked.chmod(0)
    try:
        locked.read_bytes()  # root reads it anyway: no unreadable variant then
    except PermissionError:
        files["unreadable"] = str(locked)
    yield files
    locked.chmod(0o644)


# --- the matrix ------------------------------------------------------------------------------


def test_every_subcommand_is_enumerated() -> None:
    paths = {" ".join(p) for p in leaf_commands()}
    expected = {"db upgrade", "users add", "scan", "export", "import", "label", "reprint"}
    assert expected <= paths and "devices" in paths and "print-test" in paths


def test_no_subcommand_prints_a_traceback_for_hostile_arguments(
    seeded: str, db_url: str, tmp_path: Path, hostile_files: dict[str, str]
) -> None:
    """SQLite: every hostile text in every argument, every hostile file in every file
    argument. PostgreSQL: every command with all its arguments set to the hostile text
    that reaches the database (the files do not depend on the database)."""
    paths = leaf_commands()
    if db_url.startswith("sqlite"):
        cases = argument_cases(paths, tuple(TEXT), hostile_files)
    else:
        cases = [c for c in argument_cases(paths, DATABASE_TEXT, {}) if " all=" in c.name]
    assert_no_problem(run_cases(cases, tmp_path, seeded))


def test_no_traceback_for_a_hostile_data_folder_or_database_url(
    tmp_path: Path, sqlite_template: Path
) -> None:
    """The default ledger in a data folder that cannot hold it, --db URLs that name no
    database, and a SQLite ledger whose write lock another program holds (past the
    station's timeout): none ends in a traceback, and the lock says busy."""
    root = tmp_path / "env"
    root.mkdir()
    a_file = root / "a-file"
    a_file.write_text("not a folder")
    not_sqlite = root / "not-a-ledger.db"
    not_sqlite.write_text("this is not a SQLite file\n" * 100)
    fifo = root / "fifo.db"
    os.mkfifo(fifo)
    locked = root / "locked.db"
    shutil.copy(sqlite_template, locked)
    ledger = make_engine(f"sqlite:///{locked}")
    seed(ledger)
    ledger.dispose()
    commands = [
        ["stations"],
        ["export", "serials", "--out", str(root / "out.xlsx")],
        ["scan", "--station", "DOCK-1", "--receive", "PO-1"],
        ["users", "add", "sue", "--role", "supervisor"],
    ]
    broken = {"a file": str(a_file), "under a file": str(a_file / "data")}
    usable = {"empty": "", "relative": "relative/data", "not utf-8": os.fsdecode(b"\xff-data")}
    cases = [
        Case(f"data folder {label}: {argv[0]}", argv, {"STATION_DATA_DIR": folder}, db=False)
        for label, folder in broken.items()
        for argv in commands
    ]
    cases += [
        Case(f"data folder {label}", ["stations"], {"STATION_DATA_DIR": folder}, db=False)
        for label, folder in usable.items()
    ]
    urls = {
        "nonsense": "nonsense",
        "bare postgresql": "postgresql://",
        "no driver": "mysql://u@127.0.0.1/x",
        "bad port": "postgresql+psycopg://u@127.0.0.1:port/x",
        "no folder": "sqlite:////nonexistent/dir/x.db",
        "a folder path": str(root),
        "a sqlite folder": f"sqlite:///{root}",
        "a sqlite fifo": f"sqlite:///{fifo}",
        "not a ledger": f"sqlite:///{not_sqlite}",
        "a device": f"sqlite:///{a_device(root)}",
        "a sqlite file under a file": f"sqlite:///{a_file}/x.db",
        "closed port": "postgresql+psycopg://postgres@127.0.0.1:1/x",
        "huge": "sqlite:///" + "x" * 100_000,
        "not utf-8": "sqlite:///" + os.fsdecode(bytes(root) + b"/\xff.db"),
    }
    cases += [
        Case(f"--db {label}", ["--db", url, "stations"], db=False) for label, url in urls.items()
    ]
    cases += [
        Case(f"--db {label}: export", ["--db", url, *commands[1]], db=False)
        for label, url in urls.items()
        if label in ("nonsense", "a sqlite fifo", "not a ledger")
    ]
    cases += [
        Case(f"STATION_DATABASE_URL {label}", ["stations"], {"STATION_DATABASE_URL": url}, db=False)
        for label, url in urls.items()
        if label in ("nonsense", "no folder", "not utf-8")
    ]
    pin = {"STATION_PIN": os.fsdecode(b"\xff\xfe12")}
    cases.append(Case("PIN not utf-8", ["users", "add", "sue", "--role", "supervisor"], pin, False))
    full = root / "full-disk"  # a data folder on a full disk, where a tmpfs can be mounted
    full_disk = mount_tmpfs(full, "64k") is None
    if full_disk:
        fill(full, leave=0)
        on_ledger = ["--db", f"sqlite:///{locked}"]
        cases += [
            Case(f"full data folder: {label}", argv, {"STATION_DATA_DIR": str(full)}, db=False)
            for label, argv in (
                ("default ledger", ["stations"]),
                ("options", [*on_ledger, "options", "show", "--station", "FULL-1"]),
                ("export", [*on_ledger, *commands[1]]),
            )
        ]
    busy = Case("locked", ["--db", f"sqlite:///{locked}", *commands[3]], db=False)
    posting: dict[str, Any] = {}
    scanning = threading.Thread(target=_post_while_locked, args=(locked, tmp_path, posting))
    scanning.start()  # its lock is held past the busy timeout while the cases run
    holder = sqlite3.connect(locked, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # held while every case runs
    try:
        outcomes = run_cases([busy, *cases], tmp_path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        scanning.join()
        if full_disk:
            unmount(full)
    assert_no_problem(outcomes)
    assert outcomes[0].status == EXIT_DATABASE
    assert outcomes[0].err == (
        f"station: DATABASE_BUSY: The database {locked} is busy: another station or program"
        " held a lock it needs for too long, or it answered too slowly (database is locked)."
        " Nothing was changed; try again in a moment.\n"
    )
    assert posting["result"] == {
        "posted": False,
        "code": "DATABASE_BUSY",
        "message": "The database is busy (another station holds its lock, or it is too"
        " slow): nothing posted; the session is kept — try again.",
    }
    assert posting["status"] == 1 and posting["err"] == b""


def _post_while_locked(template: Path, root: Path, found: dict[str, Any]) -> None:
    """`station scan` on a ledger of its own: two scans, then its write lock is taken by
    another program, then CMD-SAVE. Records the posting result, the exit and stderr."""
    ledger = root / "scan-locked.db"
    shutil.copy(template, ledger)
    env = _env(root / "scan-locked")
    args = ["--db", f"sqlite:///{ledger}", "scan", "--station", "DOCK-2", "--receive", "PO-1"]
    process = subprocess.Popen(
        [sys.executable, "-m", "station", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(b"W1\nSN-BUSY-1\n")
        process.stdin.flush()
        verdicts = [json.loads(process.stdout.readline()) for _ in range(2)]
        holder = sqlite3.connect(ledger, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            out, err = process.communicate(b"CMD-SAVE\n", timeout=CASE_TIMEOUT)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if all(verdict["ok"] for verdict in verdicts) and out:
        result = json.loads(out.splitlines()[-1])
        found["result"] = {k: result.get(k) for k in ("posted", "code", "message")}
    found.update(status=process.returncode, err=err)


# --- what the messages say ----------------------------------------------------------------


def test_a_data_folder_that_cannot_be_used_is_named_with_a_fix(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for folder, reason in (
        (a_file, "it is a file, not a folder"),
        (a_file / "data", "a part of its path is a file, not a folder"),
        ("~no-such-user-here/x", "its ~ names no user's home folder on this machine"),
    ):
        done = _station("stations", env={"STATION_DATA_DIR": str(folder)}, home=tmp_path / "h")
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert done.stderr == (
            f"station: DATA_FOLDER_UNAVAILABLE: The data folder {folder} cannot be used:"
            f" {reason}. Set STATION_DATA_DIR to a folder this user can write (or unset it"
            " for the default), or fix that path.\n"
        )


def test_a_read_only_data_folder_is_named_with_a_fix(tmp_path: Path) -> None:
    with read_only(tmp_path / "ro") as folder:
        done = _station("stations", env={"STATION_DATA_DIR": str(folder)}, home=tmp_path / "h")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(
        f"station: DATA_FOLDER_UNAVAILABLE: The data folder {folder} cannot be used: it is"
        " read-only for this user. Set STATION_DATA_DIR"
    )


@pytest.mark.parametrize(
    ("url", "code", "says"),
    [
        ("nonsense", "DATABASE_URL_INVALID", "'nonsense' is not a database URL"),
        ("{folder}", "DATABASE_URL_INVALID", "is not a database URL Station can use"),
        ("mysql://u@h/x", "DATABASE_URL_INVALID", "(No module named 'MySQLdb')"),
        ("postgresql://", "DATABASE_UNAVAILABLE", "Cannot reach the database"),
        (
            "sqlite:////nonexistent/dir/x.db",
            "DATABASE_UNAVAILABLE",
            "Cannot open the SQLite ledger /nonexistent/dir/x.db: its folder /nonexistent/dir"
            " does not exist. Fix --db or STATION_DATABASE_URL",
        ),
        ("sqlite:///{folder}", "DATABASE_UNAVAILABLE", "{folder}: it is a folder. Fix --db"),
        ("sqlite:///{text}", "DATABASE_UNAVAILABLE", "{text} cannot be read: it is not a SQLite"),
        (
            "postgresql+psycopg://postgres@127.0.0.1/test?connect_timeout=abc",
            "DATABASE_URL_INVALID",
            "(bad value for connect_timeout: 'abc')",
        ),
        (
            "postgresql+psycopg://pg:SeCrEt@127.0.0.1/test?colour=red",
            "DATABASE_URL_INVALID",
            "'postgresql+psycopg://pg:***@127.0.0.1/test?colour=red' is not a database URL"
            ' Station can use (invalid connection option "colour")',
        ),
        (
            "postgresql+psycopg://pg:Se@Cr:Et@127.0.0.1:x/test",
            "DATABASE_URL_INVALID",
            "'postgresql+psycopg://pg:***@127.0.0.1:x/test' is not a database URL Station can"
            " use (it is malformed)",
        ),
    ],
)
def test_a_database_url_that_names_no_database_gets_a_clear_message(
    tmp_path: Path, url: str, code: str, says: str
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a ledger\n" * 50)
    marks = {"{folder}": str(tmp_path), "{text}": str(text)}
    for mark, path in marks.items():
        url, says = url.replace(mark, path), says.replace(mark, path)
    done = _station("--db", url, "stations", home=tmp_path / "h")
    assert done.returncode == EXIT_DATABASE and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"station: {code}: ") and says in done.stderr, done.stderr
    assert "SeCrEt" not in done.stderr and "Cr:Et" not in done.stderr


def test_a_reader_that_goes_away_is_no_traceback(tmp_path: Path) -> None:
    """`station codes | head -1`, and a stdout closed before anything was written."""
    env = _env(tmp_path)
    piped = subprocess.run(
        f"{sys.executable} -m station codes | head -1",
        shell=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert piped.stdout.startswith("OK ") and piped.stdout.count("\n") == 1
    assert piped.stderr == ""
    process = subprocess.Popen(
        [sys.executable, "-m", "station", "codes"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # gone before the command writes a line
    err = process.stderr.read()
    assert process.wait(timeout=60) == EXIT_BROKEN_PIPE and err == b""


def test_ctrl_c_ends_a_scan_quietly_and_keeps_its_scans(seeded: str, tmp_path: Path) -> None:
    args = ["--db", seeded, "scan", "--station", "DOCK-1", "--receive", "PO-1"]
    env = _env(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "station", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        # as from a terminal: a test run started in the background (`pytest &`) has
        # SIGINT ignored, and a child would inherit that and never see the Ctrl-C
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(b"W1\nSN-CTRL-C\n")
    process.stdin.flush()
    first, second = process.stdout.readline(), process.stdout.readline()
    assert b'"ok": true' in first and b'"ok": true' in second
    process.send_signal(signal.SIGINT)  # waiting for the next scan
    _out, err = process.communicate(timeout=60)
    assert process.returncode == EXIT_INTERRUPTED
    assert err.decode() == "station: interrupted.\n"
    again = subprocess.run(
        [sys.executable, "-m", "station", *args],
        input=b"CMD-SAVE\n",
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0] == b'{"restored": 2}'


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["trace", "SN-{bad}"], "argument serial: 'SN-\\xff1'"),
        (["scan", "--station", "SN-{bad}", "--receive", "PO-1"], "argument --station: 'SN-\\xff1'"),
        (["--db", "sqlite:///{bad}.db", "stations"], "argument --db: 'sqlite:///\\xff1.db'"),
    ],
)
def test_an_argument_that_is_not_utf8_is_named(tmp_path: Path, argv: list[str], says: str) -> None:
    """Names, numbers and URLs are text; a file name may hold any bytes (tests/test_files)."""
    bad = os.fsdecode(b"\xff1")
    done = _station(*(word.replace("{bad}", bad) for word in argv), home=tmp_path / "h")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.endswith(f"station: error: {says} holds bytes that are not UTF-8 text\n")
