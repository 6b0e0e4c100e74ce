"""The administration commands of SPEC §7, run as a user would type them."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from station.cli import EXIT_DATABASE, EXIT_FAILED, main
from station.db.engine import make_engine
from tests.seed import seed
from tests.workflow import run_scan


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_users_options_and_stations(
    db_url: str, engine: Engine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATION_PIN", "1234")
    status, _, err = _run(capsys, "--db", db_url, "users", "add", "carl", "--role", "clerk")
    assert status == EXIT_FAILED and "first user must be a supervisor" in err
    assert _run(capsys, "--db", db_url, "users", "add", "sue", "--role", "supervisor")[0] == 0
    status, _, err = _run(capsys, "--db", db_url, "users", "add", "carl", "--role", "clerk")
    assert status == EXIT_FAILED and "NOT_AUTHORIZED" in err
    monkeypatch.setenv("STATION_PIN", "5678")
    monkeypatch.setenv("STATION_SUPERVISOR_PIN", "1234")
    status, out, _ = _run(
        capsys, "--db", db_url, "users", "add", "carl", "--role", "clerk", "--by", "sue"
    )
    assert status == 0 and "carl added as clerk" in out
    with engine.connect() as c:
        stored = c.execute(text("SELECT pin_hash FROM users WHERE name = 'carl'")).scalar_one()
    assert "5678" not in stored and stored.startswith("scrypt$")

    # A clerk cannot change options; a supervisor can, and the change is audited.
    status, _, err = _run(
        capsys, "--db", db_url, "options", "set", "--station", "DOCK-1", "--user", "carl",
        "serial_length=10",
    )  # fmt: skip
    assert status == EXIT_FAILED and "NOT_AUTHORIZED" in err
    monkeypatch.setenv("STATION_PIN", "1234")
    status, out, _ = _run(
        capsys, "--db", db_url, "options", "set", "--station", "DOCK-1", "--user", "sue",
        "serial_length=10", "allow_over_receipt=yes",
    )  # fmt: skip
    assert status == 0 and "serial_length: 0 -> 10" in out and "allow_over_receipt" in out
    status, _, err = _run(
        capsys, "--db", db_url, "options", "set", "--station", "DOCK-1", "--user", "sue",
        "serial_length=ten",
    )  # fmt: skip
    assert status == EXIT_FAILED and "BAD_OPTION_VALUE" in err
    status, out, _ = _run(
        capsys, "--db", db_url, "options", "show", "--station", "DOCK-1", "--json"
    )
    shown = json.loads(out)
    assert shown["serial_length"] == 10 and shown["allow_over_receipt"] is True
    assert shown["require_serial"] is True
    with engine.connect() as c:
        audit = c.execute(text("SELECT key, user_name FROM option_changes ORDER BY id")).all()
    assert [tuple(a) for a in audit] == [("serial_length", "sue"), ("allow_over_receipt", "sue")]
    status, out, _ = _run(capsys, "--db", db_url, "stations")
    assert status == 0 and "DOCK-1" in out and "last seen" in out


def test_serial_scope_global_refuses_the_same_serial_on_another_product(
    db_url: str,
    engine: Engine,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(engine)
    monkeypatch.setenv("STATION_PIN", "1234")
    assert _run(capsys, "--db", db_url, "users", "add", "sue", "--role", "supervisor")[0] == 0
    # GSN0000001 is a G2; under product scope a W1 may carry it too.
    _, verdicts = run_scan(
        monkeypatch, capsys, db_url, ["--station", "D", "--receive", "PO-1"], ["W1", "GSN0000001"]
    )
    assert verdicts[1]["ok"] is True
    status, out, _ = _run(
        capsys, "--db", db_url, "settings", "set", "serial_scope=global", "--user", "sue"
    )
    assert status == 0 and "global" in out
    _, verdicts = run_scan(
        monkeypatch, capsys, db_url, ["--station", "D2", "--receive", "PO-1"], ["W1", "GSN0000001"]
    )
    assert verdicts[1]["code"] == "SERIAL_ALREADY_EXISTS" and "G2" in verdicts[1]["message"]


def test_unreachable_database_and_unknown_documents_are_clear_errors(
    db_url: str, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(engine)
    status, _, err = _run(capsys, "--db", db_url, "scan", "--station", "D", "--receive", "PO-404")
    assert status == EXIT_FAILED and "PO_NOT_FOUND" in err
    status, _, err = _run(capsys, "--db", db_url, "scan", "--station", "D", "--ship", "SO-0")
    assert status == EXIT_FAILED and "ORDER_NOT_OPEN" in err
    dead = "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2"
    status, _, err = _run(capsys, "--db", dead, "stations")
    assert status == EXIT_DATABASE and "DATABASE_UNAVAILABLE" in err
    assert "Traceback" not in err


def test_codes_lists_every_code(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(capsys, "codes")
    assert status == 0 and "SERIAL_ALREADY_EXISTS" in out and "ORDER_INCOMPLETE" in out


def test_an_old_sqlite_file_is_backed_up_before_migrating(tmp_path: Path) -> None:
    from station.db.engine import back_up_sqlite

    path = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE marker (x INTEGER)"))
        c.execute(text("INSERT INTO marker VALUES (42)"))
    kept = back_up_sqlite(engine, "0000")
    engine.dispose()
    assert kept is not None and kept.parent == tmp_path
    assert re.fullmatch(r"old\.db\.before-0000-\d{8}T\d{6}Z", kept.name), kept.name
    copy = sqlite3.connect(kept)
    assert copy.execute("SELECT x FROM marker").fetchall() == [(42,)]
    copy.close()


def test_import_reports_every_bad_row_and_stock_needs_a_supervisor(
    db_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    products = tmp_path / "products.csv"
    products.write_text(
        "sku,name,barcodes,serialized,serial_length,serial_pattern\n"
        "A-1,Alpha,111;222,yes,,\n"
        ",No SKU,,yes,,\n"
        "A-3,Gamma,333,maybe,,\n"
    )
    monkeypatch.setenv("STATION_PIN", "1234")
    assert _run(capsys, "--db", db_url, "users", "add", "sue", "--role", "supervisor")[0] == 0
    sue = ("--user", "sue")
    status, _, err = _run(capsys, "--db", db_url, "import", "products", str(products), *sue)
    assert status == EXIT_FAILED and "IMPORT_INVALID" in err
    assert "line 3" in err and "line 4" in err
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM products")).scalar_one() == 0
    products.write_text(
        "sku,name,barcodes,serialized,serial_length,serial_pattern\nA-1,Alpha,111;222,yes,,\n"
    )
    assert _run(capsys, "--db", db_url, "import", "products", str(products), *sue)[0] == 0
    stock = tmp_path / "stock.csv"
    stock.write_text("sku,serial,warehouse,bin,unit_cost\nA-1,OPEN-1,MAIN,A-01,9.50\n")
    status, _, err = _run(capsys, "--db", db_url, "import", "stock", str(stock))
    assert status == EXIT_FAILED and "NOT_AUTHORIZED" in err
    status, out, _ = _run(capsys, "--db", db_url, "import", "stock", str(stock), *sue)
    assert status == 0
    status, out, _ = _run(capsys, "--db", db_url, "trace", "OPEN-1", "--json")
    traced = json.loads(out)
    assert traced["status"] == "in_stock" and traced["sku"] == "A-1"


def test_station_options_come_from_the_local_cache_when_the_database_is_down(
    engine: Engine,
) -> None:
    from station import stations
    from tests.workflow import configure

    seed(engine)
    configure(engine, "DOCK-C", serial_length=12, receiving_bin="DOCK-IN")
    online = stations.load(engine, "DOCK-C")
    dead = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2")
    offline = stations.load(dead, "DOCK-C")
    assert offline.options == online.options
    assert offline["serial_length"] == 12 and offline["receiving_bin"] == "DOCK-IN"
    assert (offline.warehouse_id, offline.warehouse) == (online.warehouse_id, online.warehouse)


def test_two_stations_whose_names_differ_in_punctuation_keep_their_own_cache(
    engine: Engine,
) -> None:
    from station import stations
    from tests.workflow import configure

    seed(engine)
    configure(engine, "A 7", receiving_bin="SPACE-BIN")
    configure(engine, "A_7", receiving_bin="UNDERSCORE-BIN")
    stations.load(engine, "A 7")
    stations.load(engine, "A_7")
    dead = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2")
    assert stations.load(dead, "A 7")["receiving_bin"] == "SPACE-BIN"
    assert stations.load(dead, "A_7")["receiving_bin"] == "UNDERSCORE-BIN"


def test_a_station_name_with_control_characters_is_refused_and_never_shown_raw(
    capsys: pytest.CaptureFixture[str], db_url: str, engine: Engine
) -> None:
    """A name with ESC sequences cleared and recoloured the terminal of whoever listed
    the stations; one with U+0001 went into the ledger."""
    evil = "EVIL\x1b[2J\x1b[31mX"
    for argv in (["options", "show", "--station", evil], ["stations"]):
        status, out, err = _run(capsys, "--db", db_url, *argv)
        assert "\x1b" not in out + err
    assert status == 0 and out == "No stations yet.\n"
    status, out, err = _run(capsys, "--db", db_url, "options", "show", "--station", evil)
    assert status == EXIT_FAILED and err == (
        "station: UNKNOWN_STATION: A station name is printable text;"
        " EVIL\\x1b[2J\\x1b[31mX holds '\\x1b' (U+001B).\n"
    )
    with engine.begin() as c:  # one written by an older version
        c.execute(text("INSERT INTO stations (name, kind) VALUES (:n, 'both')"), {"n": evil})
    status, out, _ = _run(capsys, "--db", db_url, "stations")
    assert status == 0 and out.startswith("EVIL\\x1b[2J\\x1b[31mX ") and "\x1b" not in out


def test_a_station_name_that_reads_as_another_is_refused(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    """`ＤＯＣＫ-1` (fullwidth) and `DОCK-1` (a Cyrillic О) would be stations of their own,
    with their own options, that a supervisor reads as DOCK-1."""
    for name, says in (
        ("ＤＯＣＫ-1", "has other forms of letters (width, compatibility characters): write"
         " it as DOCK-1."),
        ("DОCK-1", "mixes look-alike scripts (Cyrillic, Latin)"),
    ):  # fmt: skip
        status, out, err = _run(capsys, "--db", db_url, "options", "show", "--station", name)
        assert status == EXIT_FAILED and out == "", out
        assert err.startswith(f"station: UNKNOWN_STATION: The station name {name} ")
        assert says in err, err
    for name in ("Dock Süd", "Склад-1"):  # names in one script are names
        assert _run(capsys, "--db", db_url, "options", "show", "--station", name)[0] == 0
    _, out, _ = _run(capsys, "--db", db_url, "stations")
    assert sorted(line.split("  ")[0] for line in out.splitlines()) == ["Dock Süd", "Склад-1"]
