"""Authorization and identity (SPEC §2, §4, §7): every command that changes the ledger
outside a scan session needs a supervisor, `station scan --user` names a user whose role
may, PINs are throttled per user in the database, the first supervisor is created once,
and no PIN, hash or salt is ever shown. Through the command line, on SQLite and
PostgreSQL."""

from __future__ import annotations

import multiprocessing
import os
import re
import subprocess
import sys
import threading
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from station import users
from station.cli import EXIT_FAILED, main
from station.codes import Code, StationError
from station.db import admin
from station.db.models import utcnow
from tests.seed import (
    OPERATOR_PIN,
    SUPERVISOR,
    SUPERVISOR_PIN,
    add_operators,
    add_supervisor,
    seed,
)
from tests.workflow import run_scan

WRONG_PIN = "0000"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _write(path: Path, text_: str) -> str:
    path.write_text(text_)
    return str(path)


def _files(folder: Path) -> dict[str, str]:
    return {
        "products": _write(
            folder / "products.csv",
            "sku,name,barcodes,serialized,serial_length,serial_pattern\nN-1,New One,N100,yes,,\n",
        ),
        "pos": _write(
            folder / "pos.csv",
            "po_number,vendor,warehouse,sku,qty,unit_cost\nPO-NEW,Acme Supply,MAIN,W1,2,1.50\n",
        ),
        "orders": _write(
            folder / "orders.csv",
            "order_number,customer,warehouse,sku,qty\nSO-NEW,Northwind,MAIN,W1,1\n",
        ),
        "stock": _write(
            folder / "stock.csv", "sku,serial,warehouse,bin,unit_cost\nW1,OPEN-9,MAIN,A-01,2\n"
        ),
    }


STATE = {
    "products": "SELECT count(*) FROM products",
    "purchase orders": "SELECT count(*) FROM purchase_orders",
    "sales orders": "SELECT count(*) FROM sales_orders",
    "units": "SELECT count(*) FROM units",
    "settings": "SELECT count(*) FROM settings WHERE key <> 'first_supervisor'",
    "option changes": "SELECT count(*) FROM option_changes",
    "users": "SELECT count(*) FROM users",
}


def _state(engine: Engine) -> dict[str, int]:
    with engine.connect() as c:
        return {name: c.execute(text(sql)).scalar_one() for name, sql in STATE.items()}


def test_every_command_that_changes_the_ledger_needs_a_supervisor(
    db_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(engine)
    add_supervisor(engine)
    add_operators(engine, carl="clerk")
    files = _files(tmp_path)
    commands = {
        "import products": ["import", "products", files["products"]],
        "import pos": ["import", "pos", files["pos"]],
        "import orders": ["import", "orders", files["orders"]],
        "import stock": ["import", "stock", files["stock"]],
        "demo": ["demo"],
        "settings set": ["settings", "set", "serial_scope=global"],
        "options set": ["options", "set", "--station", "DOCK-1", "serial_length=10"],
        "users add": ["users", "add", "eve", "--role", "clerk"],
        "db rekey": ["db", "rekey"],
    }
    before = _state(engine)
    monkeypatch.setenv("STATION_PIN", OPERATOR_PIN)
    monkeypatch.setenv("STATION_SUPERVISOR_PIN", OPERATOR_PIN)
    for name, argv in commands.items():
        status, out, err = _run(capsys, "--db", db_url, *argv)
        assert status == EXIT_FAILED and out == "", name
        assert err.startswith("station: NOT_AUTHORIZED: "), (name, err)
        by = "--by" if name == "users add" else "--user"
        status, out, err = _run(capsys, "--db", db_url, *argv, by, "carl")  # a clerk's PIN
        assert status == EXIT_FAILED and out == "", name
        assert err == (
            "station: NOT_AUTHORIZED: 'carl' is a clerk; only a supervisor may do this.\n"
        ), name
    assert _state(engine) == before

    monkeypatch.setenv("STATION_PIN", SUPERVISOR_PIN)
    monkeypatch.setenv("STATION_SUPERVISOR_PIN", SUPERVISOR_PIN)
    for name, argv in commands.items():
        by = "--by" if name == "users add" else "--user"
        status, _, err = _run(capsys, "--db", db_url, *argv, by, SUPERVISOR)
        assert status == 0, (name, err)
    with engine.connect() as c:
        done = c.execute(
            text(
                "SELECT (SELECT count(*) FROM products WHERE sku IN ('N-1', 'W-100')),"
                " (SELECT count(*) FROM purchase_orders WHERE number IN ('PO-NEW', 'PO-9001')),"
                " (SELECT count(*) FROM sales_orders WHERE number = 'SO-NEW'),"
                " (SELECT count(*) FROM units WHERE serial = 'OPEN-9'),"
                " (SELECT value FROM settings WHERE key = 'serial_scope'),"
                " (SELECT user_name FROM option_changes),"
                " (SELECT role FROM users WHERE name = 'eve')"
            )
        ).one()
    assert tuple(done) == (2, 2, 1, 1, "global", SUPERVISOR, "clerk")


def test_the_demo_goes_into_an_empty_ledger_from_anyone_and_into_data_from_a_supervisor(
    db_url: str,
    engine: Engine,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The README's first run: the demo, then a receipt without any user named.
    status, out, _ = _run(capsys, "--db", db_url, "demo")
    assert status == 0 and out.startswith("Demo data loaded: 2 warehouses")
    status, verdicts = run_scan(
        monkeypatch,
        capsys,
        db_url,
        ["--station", "DOCK-1", "--receive", "PO-9001"],
        ["W-100", "SN-0001", "CMD-SAVE"],
    )
    assert status == 0 and verdicts[-1]["posted"] is True
    with engine.connect() as c:
        assert c.execute(text("SELECT user_name FROM receipts WHERE station = 'DOCK-1'")).one() == (
            None,
        )

    status, out, err = _run(capsys, "--db", db_url, "demo")
    assert status == EXIT_FAILED and out == ""
    assert err.startswith("station: NOT_AUTHORIZED: The ledger holds data (2 warehouses, 2 vendors")
    assert "only a supervisor may load the demo into it (station demo --user NAME" in err
    monkeypatch.setenv("STATION_PIN", SUPERVISOR_PIN)
    assert _run(capsys, "--db", db_url, "users", "add", "sue", "--role", "supervisor")[0] == 0
    status, out, _ = _run(capsys, "--db", db_url, "demo", "--user", "sue")
    assert status == 0 and out == "Demo data loaded: already loaded; nothing added\n"


def test_the_serialized_flag_cannot_change_while_units_stock_or_open_lines_hold_it(
    db_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(engine)
    add_supervisor(engine)
    monkeypatch.setenv("STATION_PIN", SUPERVISOR_PIN)
    header = "sku,name,barcodes,serialized,serial_length,serial_pattern\n"
    products = tmp_path / "products.csv"
    products.write_text(
        header
        + "W1,Widget One,,false,,\n"  # 7 units, on open PO-1 and SO-1, SO-2
        + "C3,Cable Three,CABLE3,true,,\n"  # on open PO-1 and SO-1
        + "X9,Other Thing,,false,,\n"  # nothing holds it
    )
    status, out, err = _run(
        capsys, "--db", db_url, "import", "products", str(products), "--user", SUPERVISOR
    )
    assert status == EXIT_FAILED and out == ""
    assert err == (
        "station: SERIALIZED_IN_USE: products.csv: 2 rows are bad; nothing was imported:\n"
        "  line 2: SERIALIZED_IN_USE: serialized of W1 cannot change from true to false"
        " while it has 7 unit(s), 1 line(s) on open POs, 2 line(s) on open orders\n"
        "  line 3: SERIALIZED_IN_USE: serialized of C3 cannot change from false to true"
        " while it has 1 line(s) on open POs, 1 line(s) on open orders\n"
    )
    with engine.connect() as c:
        flags = dict(c.execute(text("SELECT sku, serialized FROM products")).all())
    assert (flags["W1"], flags["C3"], flags["X9"]) == (True, False, True)

    # Pieces on hand hold a non-serialized product's flag too; nothing holds X9's.
    with engine.begin() as c:
        c.execute(text("INSERT INTO stock_levels (product_id, warehouse_id, qty) VALUES (3, 1, 4)"))
        c.execute(text("UPDATE purchase_orders SET status = 'closed' WHERE number = 'PO-1'"))
        c.execute(text("UPDATE sales_orders SET status = 'cancelled' WHERE number = 'SO-1'"))
    products.write_text(header + "C3,Cable Three,CABLE3,true,,\n")
    status, _, err = _run(
        capsys, "--db", db_url, "import", "products", str(products), "--user", SUPERVISOR
    )
    assert status == EXIT_FAILED
    assert "line 2: SERIALIZED_IN_USE: serialized of C3 cannot change from false to true" in err
    assert "while it has 4 piece(s) on hand\n" in err
    products.write_text(header + "X9,Other Thing,,false,,\n")
    status, out, _ = _run(
        capsys, "--db", db_url, "import", "products", str(products), "--user", SUPERVISOR
    )
    assert status == 0 and "1 updated" in out
    with engine.connect() as c:
        flag = c.execute(text("SELECT serialized FROM products WHERE sku = 'X9'")).scalar()
    assert flag in (False, 0)


def _scan(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    db_url: str,
    *args: str,
    scans: str = "",
) -> tuple[int, str, str]:
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(scans.encode())))
    return _run(capsys, "--db", db_url, "scan", *args)


def test_station_scan_names_a_user_whose_role_may_do_the_workflow(
    db_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(engine)
    add_supervisor(engine)
    add_operators(engine, kim="clerk", pat="packer")
    receive, ship = ("--station", "DOCK-1", "--receive", "PO-1"), ("--station", "PACK-1")
    refusals = [
        (
            (*receive, "--user", "nobody"),
            "station: UNKNOWN_USER: No user named 'nobody'; a supervisor adds users"
            " (station users add).\n",
        ),
        (
            (*receive, "--user", "pat"),
            "station: NOT_AUTHORIZED: pat is a packer; receive is done by a clerk or a"
            " supervisor.\n",
        ),
        (
            (*ship, "--ship", "SO-2", "--user", "kim"),
            "station: NOT_AUTHORIZED: kim is a clerk; ship is done by a packer or a supervisor.\n",
        ),
        ((*receive, "--user", ""), "station: UNKNOWN_USER: No user named ''; a supervisor"),
    ]
    for args, message in refusals:
        status, out, err = _scan(capsys, monkeypatch, db_url, *args, scans="W1\nSN-X\n")
        assert status == EXIT_FAILED and out == "" and err.startswith(message), err
    assert not list((tmp_path / "data").glob("journal/*.jsonl"))  # refused before opening

    # As a real process: refused at start, exit status 1, no traceback.
    process = subprocess.run(
        [sys.executable, "-m", "station", "--db", db_url, "scan", *receive, "--user", "Kim"],
        input=b"W1\n",
        capture_output=True,
        timeout=60,
        env={**os.environ, "STATION_DATA_DIR": str(tmp_path / "data")},
    )
    assert process.returncode == 1 and process.stdout == b""
    assert process.stderr.decode().startswith("station: UNKNOWN_USER: No user named 'Kim'")

    status, out, _ = _scan(
        capsys, monkeypatch, db_url, *receive, "--user", "kim", scans="W1\nSN-K\nCMD-SAVE\n"
    )
    assert status == 0 and '"posted": true' in out
    status, out, _ = _scan(
        capsys,
        monkeypatch,
        db_url,
        *ship,
        "--ship",
        "SO-2",
        "--user",
        "pat",
        scans="W1\nWS-4\nCMD-SAVE\n",
    )
    assert status == 0 and '"posted": true' in out
    status, out, _ = _scan(
        capsys, monkeypatch, db_url, *receive, "--user", "sue", scans="W1\nSN-S\nCMD-SAVE\n"
    )
    assert status == 0 and '"posted": true' in out
    status, out, _ = _scan(capsys, monkeypatch, db_url, *receive, scans="W1\nSN-N\nCMD-SAVE\n")
    assert status == 0 and '"posted": true' in out  # no --user: the posting names nobody
    with engine.connect() as c:
        posted = c.execute(
            text(
                "SELECT u.serial, e.user_name FROM units u JOIN events e ON e.unit_id = u.id"
                " WHERE u.serial IN ('SN-K', 'SN-S', 'SN-N', 'WS-4') AND e.kind IN"
                " ('received', 'shipped') AND e.station IN ('DOCK-1', 'PACK-1')"
            )
        ).all()
    assert sorted(posted, key=lambda row: row[0]) == [
        ("SN-K", "kim"),
        ("SN-N", None),
        ("SN-S", "sue"),
        ("WS-4", "pat"),
    ]


def _locked_until(engine: Engine, name: str) -> Any:
    with engine.connect() as c:
        return admin.user(c, name).locked_until  # type: ignore[union-attr]


def _rewind(engine: Engine, name: str) -> None:
    """The lock runs out: as if its time had passed."""
    with engine.begin() as c:
        c.execute(
            text("UPDATE users SET locked_until = :t WHERE name = :n"),
            {"t": utcnow() - timedelta(seconds=1), "n": name},
        )


def test_wrong_pins_lock_the_user_for_a_growing_time_and_every_failure_is_audited(
    db_url: str,
    engine: Engine,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(engine)
    add_supervisor(engine)
    args = ("--db", db_url, "options", "set", "--station", "DOCK-1", "--user", SUPERVISOR)
    monkeypatch.setenv("STATION_PIN", WRONG_PIN)
    for _ in range(users.PIN_TRIES - 1):
        status, _, err = _run(capsys, *args, "serial_length=10")
        assert (
            status == EXIT_FAILED
            and err == "station: NOT_AUTHORIZED: Wrong user or PIN for 'sue'.\n"
        )
    status, _, err = _run(capsys, *args, "serial_length=10")
    until = _locked_until(engine, SUPERVISOR)
    assert status == EXIT_FAILED and err.startswith(
        "station: USER_LOCKED: Wrong PIN; sue is locked after 5 wrong PINs in a row: try again"
        f" after {until:%Y-%m-%d %H:%M:%S} UTC (in "
    )
    assert err.endswith(" s), or have a supervisor reset the PIN.\n")
    assert timedelta(seconds=20) < until - utcnow() <= users.FIRST_LOCK

    monkeypatch.setenv("STATION_PIN", SUPERVISOR_PIN)  # the right PIN, while locked
    status, _, err = _run(capsys, *args, "serial_length=10")
    assert status == EXIT_FAILED and err.startswith(
        "station: USER_LOCKED: sue is locked after 5 wrong PINs in a row: try again after"
        f" {until:%Y-%m-%d %H:%M:%S} UTC (in "
    )
    status, out, _ = _run(capsys, "--db", db_url, "users", "list")
    assert f"{'sue':<24} supervisor  locked until {until:%Y-%m-%d %H:%M:%S} UTC\n" in out
    with engine.connect() as c:
        failures = admin.pin_failures(c, SUPERVISOR)
        assert c.execute(text("SELECT count(*) FROM option_changes")).scalar_one() == 0
    assert [(f["reason"], f["station"]) for f in failures] == [("wrong_pin", "DOCK-1")] * 5 + [
        ("locked", "DOCK-1")
    ]
    assert all(abs(f["at"] - utcnow()) < timedelta(minutes=5) for f in failures)

    # Once the lock has run out, five more wrong PINs lock for twice as long.
    _rewind(engine, SUPERVISOR)
    monkeypatch.setenv("STATION_PIN", WRONG_PIN)
    codes = [_run(capsys, *args, "serial_length=10")[2].split(":")[1].strip() for _ in range(5)]
    assert codes == ["NOT_AUTHORIZED"] * 4 + ["USER_LOCKED"]
    second = _locked_until(engine, SUPERVISOR) - utcnow()
    assert timedelta(seconds=50) < second <= 2 * users.FIRST_LOCK

    # The right PIN after the lock: accepted, and the count starts again from nothing.
    _rewind(engine, SUPERVISOR)
    monkeypatch.setenv("STATION_PIN", SUPERVISOR_PIN)
    status, out, _ = _run(capsys, *args, "serial_length=10")
    assert status == 0 and "serial_length: 0 -> 10" in out
    with engine.connect() as c:
        found = admin.user(c, SUPERVISOR)
    assert found is not None
    assert (found.failed_pins, found.lockouts, found.locked_until) == (0, 0, None)


def test_an_attacker_gets_35_guesses_in_the_first_hour_then_5_an_hour(engine: Engine) -> None:
    """Guessing without pause, with each lock taken as having run its full time."""
    add_supervisor(engine)
    guesses = [0, 0, 0]  # per hour
    elapsed = timedelta()
    candidates = (f"{n:04d}" for n in range(10_000) if f"{n:04d}" != SUPERVISOR_PIN)
    while elapsed < timedelta(hours=len(guesses)):
        with pytest.raises(StationError) as refused:
            users.verify_pin(engine, SUPERVISOR, next(candidates))
        guesses[int(elapsed / timedelta(hours=1))] += 1
        if refused.value.code == Code.USER_LOCKED:
            with engine.connect() as c:
                found = admin.user(c, SUPERVISOR)
            assert found is not None and found.locked_until is not None
            lock = users.lock_time(found.lockouts - 1)  # the lock this try began
            assert lock - timedelta(seconds=10) < found.locked_until - utcnow() <= lock
            elapsed += lock
            _rewind(engine, SUPERVISOR)
    # Locks of 30 s, 1, 2, 4, 8, 16 min begin within the first hour (seven rounds of five
    # guesses), then the 32 min lock and every later one of an hour: five guesses an hour.
    assert guesses == [35, 5, 5]


def _guess(url: str, pin: str, barrier: threading.Barrier, out: list[str]) -> None:
    from station.db.engine import make_engine

    engine = make_engine(url)
    barrier.wait(timeout=30)
    try:
        users.verify_pin(engine, SUPERVISOR, pin, station="T")
        out.append("OK")
    except StationError as error:
        out.append(str(error.code) + (" judged" if "Wrong" in error.message else ""))
    finally:
        engine.dispose()


def test_guessers_in_parallel_get_no_more_tries_than_one(db_url: str, engine: Engine) -> None:
    add_supervisor(engine)
    guessers = 8
    barrier, out = threading.Barrier(guessers), []  # type: ignore[var-annotated]
    threads = [
        threading.Thread(target=_guess, args=(db_url, f"{1000 + n}", barrier, out))
        for n in range(guessers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    judged = [o for o in out if o.endswith("judged")]
    assert len(out) == guessers and len(judged) == users.PIN_TRIES, out
    assert out.count("USER_LOCKED") == guessers - users.PIN_TRIES
    with engine.connect() as c:
        reasons = [f["reason"] for f in admin.pin_failures(c, SUPERVISOR)]
    assert reasons.count("wrong_pin") == users.PIN_TRIES
    assert reasons.count("locked") == guessers - users.PIN_TRIES


def test_guessing_processes_at_once_get_no_more_tries_than_one(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    add_supervisor(engine)
    env = {**os.environ, "STATION_DATA_DIR": str(tmp_path / "data"), "STATION_PIN": WRONG_PIN}
    command = [sys.executable, "-m", "station", "--db", db_url, "settings", "set"]
    processes = [
        subprocess.Popen(
            [*command, "serial_scope=global", "--user", SUPERVISOR],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for _ in range(7)
    ]
    results = [(p.wait(timeout=120), p.communicate()[1].decode()) for p in processes]
    assert all(status == 1 and "Traceback" not in err for status, err in results)
    codes = sorted(err.split(":")[1].strip() for _, err in results)
    assert codes == ["NOT_AUTHORIZED"] * 4 + ["USER_LOCKED"] * 3  # the 5th wrong PIN locks
    with engine.connect() as c:
        reasons = [f["reason"] for f in admin.pin_failures(c, SUPERVISOR)]
    assert sorted(reasons) == ["locked"] * 2 + ["wrong_pin"] * 5


def _first_run(url: str, name: str, barrier: Any, results: Any) -> None:
    """`station users add NAME --role supervisor` on an empty ledger, in a process of its
    own; both processes have counted no user when either writes."""
    import io
    from contextlib import redirect_stderr

    import station.users

    hash_pin = station.users.hash_pin

    def counted_then_hash(pin: str) -> str:
        barrier.wait(timeout=60)  # the other process has counted no user too
        return hash_pin(pin)

    station.users.hash_pin = counted_then_hash
    os.environ["STATION_PIN"] = "5555"
    err = io.StringIO()
    with redirect_stderr(err):
        status = main(["--db", url, "users", "add", name, "--role", "supervisor"])
    results.put((name, status, err.getvalue()))


def test_two_first_runs_at_once_create_one_first_supervisor(db_url: str, engine: Engine) -> None:
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=_first_run, args=(db_url, name, barrier, results))
        for name in ("ann", "bea")
    ]
    for worker in workers:
        worker.start()
    outcomes = sorted(results.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(status for _, status, _ in outcomes) == [0, 1]
    [(loser, _, err)] = [o for o in outcomes if o[1] == 1]
    assert err == (
        "station: NOT_AUTHORIZED: Another first supervisor was created at the same moment;"
        f" '{loser}' was not added: that supervisor adds the next users.\n"
    )
    with engine.connect() as c:
        rows = c.execute(text("SELECT name, role FROM users")).all()
        claimed = c.execute(text("SELECT value FROM settings WHERE key = 'first_supervisor'"))
        first = claimed.scalar_one()
    assert [tuple(r) for r in rows] == [(first, "supervisor")] and first != loser


def test_no_pin_hash_or_salt_is_ever_shown(db_url: str, engine: Engine, tmp_path: Path) -> None:
    pins = {"sue": "58213974", "carl": "61739285"}
    data = tmp_path / "data"
    env = {**os.environ, "STATION_DATA_DIR": str(data)}
    files = _files(tmp_path)
    seen: list[str] = []

    def station(*argv: str, pin: str | None = None, by_pin: str | None = None) -> None:
        extra = {"STATION_PIN": pin or "", "STATION_SUPERVISOR_PIN": by_pin or ""}
        done = subprocess.run(
            [sys.executable, "-m", "station", "--db", db_url, *argv],
            input=b"W-100\nSN-1\nCMD-SAVE\n",
            capture_output=True,
            timeout=120,
            env={**env, **extra},
        )
        seen.append(done.stdout.decode() + done.stderr.decode())
        assert "Traceback" not in seen[-1], seen[-1]

    station("users", "add", "sue", "--role", "supervisor", pin=pins["sue"])
    station("users", "add", "carl", "--role", "clerk", "--by", "sue", pin=pins["carl"])
    station("users", "add", "carl", "--role", "clerk", "--by", "sue", pin="12", by_pin=pins["sue"])
    station("users", "add", "x" * 101, "--role", "clerk", "--by", "sue", pin="1234", by_pin="1")
    station(
        "users",
        "add",
        "carl",
        "--role",
        "clerk",
        "--by",
        "sue",
        pin=pins["carl"],
        by_pin=pins["sue"],
    )
    station("import", "products", files["products"], "--user", "sue", pin=pins["sue"])
    station("demo", "--user", "sue", pin=pins["sue"])
    station("import", "stock", files["stock"], "--user", "carl", pin=pins["carl"])
    station("import", "stock", files["stock"], "--user", "sue", pin=pins["sue"])
    station("options", "set", "--station", "D", "--user", "sue", "serial_length=x", pin=pins["sue"])
    station("settings", "set", "serial_scope=global", "--user", "sue", pin=pins["carl"])
    station("scan", "--station", "D", "--receive", "PO-9001", "--user", "carl")
    station("users", "list")
    station("trace", "WS-0001", "--json")
    station("export", "serials", "--out", str(tmp_path / "serials.xlsx"))
    for _ in range(users.PIN_TRIES + 1):
        station("options", "set", "--station", "D", "--user", "carl", "sounds=no", pin="9999")
    assert any("USER_LOCKED" in text_ for text_ in seen)
    with zipfile.ZipFile(tmp_path / "serials.xlsx") as workbook:
        seen += [workbook.read(name).decode("utf-8", "replace") for name in workbook.namelist()]
    seen += [p.read_text("utf-8", "replace") for p in data.rglob("*") if p.is_file()]
    with engine.connect() as c:
        stored = dict(c.execute(text("SELECT name, pin_hash FROM users")).all())
        carl = admin.user(c, "carl")
    assert set(stored) == {"sue", "carl"}
    secrets = [*pins.values()]
    for pin_hash in stored.values():
        _, _n, _r, _p, salt, digest = pin_hash.split("$")
        secrets += [pin_hash, salt, digest]
    seen.append(repr(carl))
    try:  # a database error about a user's row names no value of it
        with engine.begin() as c:
            admin.add_user(c, "carl", "clerk", stored["carl"])
    except Exception as error:
        seen.append(f"{error!r} {error}")
    assert "carl" in seen[-1] or "users" in seen[-1]
    everything = "\n".join(seen)
    for secret in secrets:
        assert secret not in everything
    assert re.search(r"[0-9a-f]{32}", repr(carl)) is None


def test_a_pin_reset_unlocks_and_an_unknown_name_is_audited_as_such(engine: Engine) -> None:
    add_supervisor(engine)
    add_operators(engine, kim="clerk")
    for _ in range(users.PIN_TRIES):
        with pytest.raises(StationError):
            users.sign_in(engine, "kim", WRONG_PIN, station="PACK-2")
    with pytest.raises(StationError) as refused:
        users.sign_in(engine, "kim", OPERATOR_PIN, station="PACK-2")
    assert refused.value.code == Code.USER_LOCKED
    users.reset_pin(engine, "kim", "8642", by=SUPERVISOR, by_pin=SUPERVISOR_PIN)
    assert users.sign_in(engine, "kim", "8642", station="PACK-2") == "clerk"
    with pytest.raises(StationError) as refused:
        users.sign_in(engine, "nobody", "8642", station="PACK-2")
    assert refused.value.code == Code.NOT_AUTHORIZED
    assert refused.value.message == "Wrong user or PIN for 'nobody'."
    with engine.connect() as c:
        assert [f["reason"] for f in admin.pin_failures(c, "nobody")] == ["unknown_user"]
        assert [f["reason"] for f in admin.pin_failures(c, "kim")] == ["wrong_pin"] * 5 + ["locked"]


def test_a_user_name_that_reads_as_another_users_is_refused(
    capsys: pytest.CaptureFixture[str], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Postings and the audit name their user: `Boss`, `boss`, `ＢＯＳＳ` and `bоss` (a
    Cyrillic о) would be four accounts a reader cannot tell apart."""
    monkeypatch.setenv("STATION_PIN", "1234")
    assert _run(capsys, "--db", db_url, "users", "add", "Boss", "--role", "supervisor")[0] == 0
    monkeypatch.setenv("STATION_SUPERVISOR_PIN", "1234")
    monkeypatch.setenv("STATION_PIN", "5678")
    add = ["--db", db_url, "users", "add"]
    for name, says in (
        ("boss", "USER_EXISTS: A user named 'Boss' exists already, and 'boss' reads the same"),
        ("ＢＯＳＳ", "USER_EXISTS: A user named 'Boss' exists already, and 'ＢＯＳＳ' reads the"),
        ("bоss", "BAD_OPTION_VALUE: The name bоss mixes look-alike scripts (Cyrillic, Latin)"),
        ("Васк", "BAD_OPTION_VALUE: The name Васк is written in Cyrillic letters that look"),
    ):
        status, _, err = _run(capsys, *add, name, "--role", "clerk", "--by", "Boss")
        assert status == EXIT_FAILED and err.startswith(f"station: {says}"), err
    for name in ("José", "Маша", "Bo Ss"):  # other people's names are fine
        assert _run(capsys, *add, name, "--role", "clerk", "--by", "Boss")[0] == 0
    _, out, _ = _run(capsys, "--db", db_url, "users", "list")
    assert [line.split()[0] for line in out.splitlines()] == ["Bo", "Boss", "José", "Маша"]
