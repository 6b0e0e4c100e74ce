"""One label is one unit (SPEC §2, issue 7): two spellings of one printed serial are
one key, under `serial_charset = ascii` the non-ASCII spelling is refused naming its
character, and under `unicode` one spelling finds the unit the other created. Through
the session object and through `station scan`, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from station.app import open_session
from station.cli import main
from station.codes import Code
from station.db import company
from station.db.models import POLine, PurchaseOrder, Unit
from station.imports import ImportInvalid, import_stock
from station.scanning import serial_key
from station.serials import describe, serial_problem
from tests.seed import put, seed
from tests.workflow import configure, run_scan

# --- the key and the text rule, without a database ------------------------------------


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=30))
def test_the_key_is_idempotent(serial: str) -> None:
    assert serial_key(serial_key(serial)) == serial_key(serial)


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30))
def test_an_ascii_key_is_the_serial_trimmed_upper_cased_whitespace_collapsed(serial: str) -> None:
    assert serial_key(serial) == " ".join(serial.strip().upper().split())
    if "  " not in serial.strip():
        assert serial_key(serial) == serial.strip().upper()  # what 0002's ledger holds


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (unicodedata.normalize("NFC", "CAFÉ-1"), unicodedata.normalize("NFD", "café-1")),
        ("AB-12", "ＡＢ－１２"),
        ("STRASSE-7", "straße-7"),
        ("FILE-9", "ﬁle-9"),
        ("K-5", "\u212a-5"),  # KELVIN SIGN
        ("SN 1 A", " sn \u3000 1\u00a0\u00a0a "),
    ],
)
def test_spellings_of_one_label_are_one_key(one: str, other: str) -> None:
    assert serial_key(one) == serial_key(other)


@pytest.mark.parametrize(
    ("serial", "charset", "expected"),
    [
        ("ＡB-1", "ascii", "has 'Ａ' (U+FF21 FULLWIDTH LATIN CAPITAL LETTER A): serials are"),
        ("SN\u200b1", "unicode", "has '\\u200b' (U+200B ZERO WIDTH SPACE): serials are printable"),
        ("SN\x071", "ascii", "has '\\x07' (U+0007 unnamed character)"),
        ("AВC-1", "unicode", "mixes look-alike scripts (Cyrillic, Latin): 'В' (U+0412 CYRILLIC"),
        ("АВС123", "unicode", "is written in Cyrillic letters that look like Latin ones"),
        ("㎏" * 40, "unicode", "is 80 characters long once normalized (at most 64)"),
        ("S" * 65, "ascii", "is 65 characters long (at most 64)"),
        ("   ", "unicode", "The serial is empty."),
    ],
)
def test_a_refused_serial_text_names_why(serial: str, charset: str, expected: str) -> None:
    problem = serial_problem(serial, charset)
    assert problem is not None and expected in problem


@pytest.mark.parametrize(
    "serial", ["AB-1 x", "ÄBC-é", "Жук-1", "ΑΒΓ-1", "製品ロ-1", "ABCテスト", "한국A1", "SN\u3000 1"]
)
def test_unicode_serials_of_one_writing_are_welcome(serial: str) -> None:
    assert serial_problem(serial, "unicode") is None


# --- through the session and through `station scan` -----------------------------------


@dataclass(frozen=True)
class Point:
    """One way two scans of one label differ: the label's form and another spelling."""

    name: str
    label: str
    other: str
    #: The character an ascii station names when the other spelling is scanned.
    offending: str

    @property
    def one_key(self) -> bool:
        return serial_key(self.label) == serial_key(self.other)


NFC = unicodedata.normalize("NFC", "CAFÉ-1")
POINTS = [
    Point("nfc-nfd", NFC, unicodedata.normalize("NFD", NFC), "\u0301"),
    Point("fullwidth", "AB-12", "ＡＢ-１２", "Ａ"),
    Point("case", "STRASSE-7", "straße-7", "ß"),
    Point("whitespace", "SN 1 A", "sn \u3000 1  a", "\u3000"),
    Point("mixed-script", "ABC-1", "AВC-1", "В"),
]
WAYS = ("session", "scan")


class Driver:
    """Scans through the session object or through `station scan`; a verdict is
    (ok, code, message, serial) either way."""

    def __init__(self, way: str, engine: Engine, db_url: str, monkeypatch: Any, capsys: Any):
        self.way, self.engine, self.db_url = way, engine, db_url
        self.monkeypatch, self.capsys = monkeypatch, capsys
        self.runs = 0

    def __call__(self, kind: str, document: str, scans: list[str]) -> list[tuple[Any, ...]]:
        self.runs += 1
        station = f"ST-{self.runs}"  # a station of its own: no journal carries over
        configure(self.engine, station, allow_partial_ship=True)
        if self.way == "session":
            session = open_session(self.engine, station, kind, document, journal=False).session
            verdicts = [session.scan(scan) for scan in scans]
            session.close()
            return [(v.ok, v.code, v.message, v.serial) for v in verdicts]
        flag = "--receive" if kind == "receive" else "--ship"
        _, out = run_scan(
            self.monkeypatch,
            self.capsys,
            self.db_url,
            ["--station", station, flag, document],
            scans,
        )
        return [
            (v.get("ok", v.get("posted")), v.get("code", "OK"), v["message"], v.get("serial"))
            for v in out
        ]


@pytest.fixture(params=WAYS)
def drive(
    request: pytest.FixtureRequest,
    engine: Engine,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Driver:
    seed(engine)
    return Driver(request.param, engine, db_url, monkeypatch, capsys)


def _set_charset(engine: Engine, charset: str) -> None:
    with engine.begin() as connection:
        company.set_serial_charset(connection, charset)


def _units(engine: Engine, *serials: str) -> list[tuple[str, str]]:
    """(serial, status) of the units whose key is one of these serials' keys."""
    keys = {serial_key(s) for s in serials}
    with engine.connect() as c:
        rows = c.execute(select(Unit.serial, Unit.status).where(Unit.serial_key.in_(keys)))
        return sorted((serial, status) for serial, status in rows)


@pytest.mark.parametrize("point", POINTS, ids=[p.name for p in POINTS])
def test_ascii_refuses_the_other_spelling_naming_its_character(
    drive: Driver, engine: Engine, point: Point
) -> None:
    verdicts = drive("receive", "PO-1", ["W1", point.other])
    ok, code, message, _ = verdicts[-1]
    assert (ok, code) == (False, Code.SERIAL_INVALID), message
    assert describe(point.offending) in message and "printable ASCII" in message
    if not point.label.isascii():  # no spelling of the label is ASCII: none is a serial
        assert drive("receive", "PO-1", ["W1", point.label])[-1][:2] == (False, Code.SERIAL_INVALID)
        assert _units(engine, point.label, point.other) == []
        return
    verdicts = drive("receive", "PO-1", ["W1", point.label, "CMD-SAVE"])
    assert [v[0] for v in verdicts] == [True, True, True], verdicts
    # A packer scanning the other spelling is told what is wrong with it, not
    # SERIAL_UNKNOWN: the unit is there under its ASCII spelling.
    ok, code, message, _ = drive("ship", "SO-1", ["W1", point.other])[-1]
    assert (ok, code) == (False, Code.SERIAL_INVALID) and describe(point.offending) in message
    assert _units(engine, point.label, point.other) == [(point.label, "in_stock")]


def test_ascii_collapses_a_run_of_spaces(drive: Driver, engine: Engine) -> None:
    verdicts = drive("receive", "PO-1", ["W1", "SN 1", "sn   1", "CMD-SAVE"])
    assert verdicts[2][:2] == (False, Code.SERIAL_DUPLICATE_IN_SESSION)
    ok, code, message, serial = drive("ship", "SO-1", ["W1", "SN  1", "CMD-SAVE"])[1]
    assert (ok, code, serial) == (True, Code.OK, "SN  1"), message
    assert _units(engine, "SN 1") == [("SN 1", "shipped")]


@pytest.mark.parametrize("point", POINTS, ids=[p.name for p in POINTS])
def test_unicode_finds_one_unit_for_both_spellings(
    drive: Driver, engine: Engine, point: Point
) -> None:
    _set_charset(engine, "unicode")
    verdicts = drive("receive", "PO-1", ["W1", point.label, point.other, "CMD-SAVE"])
    assert verdicts[1][:2] == (True, Code.OK) and verdicts[3][0] is True, verdicts
    expected = Code.SERIAL_DUPLICATE_IN_SESSION if point.one_key else Code.SERIAL_INVALID
    assert verdicts[2][:2] == (False, expected), verdicts[2]
    # Another session, another day: the other spelling is the unit already received.
    expected = Code.SERIAL_ALREADY_EXISTS if point.one_key else Code.SERIAL_INVALID
    assert drive("receive", "PO-1", ["W1", point.other])[-1][:2] == (False, expected)
    # The packer scans the other spelling: it ships the unit (or is refused as text).
    verdicts = drive("ship", "SO-1", ["W1", point.other, "CMD-SAVE"])
    if point.one_key:
        assert verdicts[1][:2] == (True, Code.OK) and verdicts[2][0] is True, verdicts
        assert _units(engine, point.label) == [(point.label, "shipped")]
    else:
        assert verdicts[1][:2] == (False, Code.SERIAL_INVALID), verdicts
        assert "looks like a Latin letter" in verdicts[1][2]
        assert _units(engine, point.label, point.other) == [(point.label, "in_stock")]


def test_the_posting_checks_the_charset_again(engine: Engine) -> None:
    """A session opened under unicode posts nothing once the company went back to ascii
    with a non-ASCII serial scanned (the posting reads the setting in its transaction)."""
    seed(engine)
    _set_charset(engine, "unicode")
    configure(engine, "ST-S", allow_partial_ship=True)
    receive = open_session(engine, "ST-R", "receive", "PO-1", journal=False).session
    ship = open_session(engine, "ST-S", "ship", "SO-1", journal=False).session
    assert receive.scan("W1").ok and receive.scan("ＮＥＷ-1").ok
    assert ship.scan("W1").ok and ship.scan("ｗｓ-1").ok
    _set_charset(engine, "ascii")
    for session in (receive, ship):
        result = session.save()
        assert (result.posted, result.code) == (False, Code.SERIAL_INVALID), result.message
        assert "'Ｎ'" in result.message or "'ｗ'" in result.message
    assert _units(engine, "NEW-1") == [] and _units(engine, "WS-1") == [("WS-1", "in_stock")]


def test_settings_switch_the_charset_and_refuse_ascii_over_unicode_serials(
    db_url: str,
    engine: Engine,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(engine)
    monkeypatch.setenv("STATION_PIN", "1234")
    assert main(["--db", db_url, "users", "add", "sue", "--role", "supervisor"]) == 0
    capsys.readouterr()
    assert main(["--db", db_url, "settings", "show"]) == 0
    assert "serial_charset = ascii" in capsys.readouterr().out
    args = ["--db", db_url, "settings", "set", "--user", "sue"]
    assert main([*args, "serial_charset=latin1"]) == 1
    assert "BAD_OPTION_VALUE" in capsys.readouterr().err
    assert main([*args, "serial_charset=unicode"]) == 0
    assert capsys.readouterr().out == "serial_charset = unicode\n"
    _, verdicts = run_scan(
        monkeypatch,
        capsys,
        db_url,
        ["--station", "D", "--receive", "PO-1"],
        ["W1", "Жук-1", "CMD-SAVE"],
    )
    assert [v["code"] for v in verdicts[:2]] == ["OK", "OK"] and verdicts[2]["posted"]
    assert main([*args, "serial_charset=ascii"]) == 1
    err = capsys.readouterr().err
    assert "serial_charset=ascii refused: these serials are not printable ASCII: Жук-1." in err
    assert main(["--db", db_url, "settings", "show"]) == 0
    assert "serial_charset = unicode" in capsys.readouterr().out


# --- property: generated look-alike pairs, never two units ------------------------------

#: Latin capitals and their Cyrillic and Greek look-alikes.
LOOK_ALIKES = {
    "A": "АΑ",
    "B": "ВΒ",
    "C": "С",
    "E": "ЕΕ",
    "H": "НΗ",
    "K": "КΚ",
    "M": "МΜ",
    "O": "ОΟ",
    "P": "РΡ",
    "T": "ТΤ",
    "X": "ХΧ",
}
RUNS = ["  ", "   ", "\u3000", "\u00a0", " \u2003", "\u2002\u00a0 "]


def _fullwidth(char: str) -> str:
    return chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else "\u3000"


@st.composite
def look_alike_pairs(draw: st.DrawFn) -> tuple[str, str, str]:
    """(way, label, other): two spellings a person reads as the same serial."""
    letters = sorted(LOOK_ALIKES)
    base = draw(st.sampled_from(letters)) + "".join(
        draw(st.lists(st.sampled_from([*letters, *"0123456789-"]), min_size=1, max_size=9))
    )
    way = draw(
        st.sampled_from(["nfd", "width", "case", "sharp-s", "space", "script", "whole", "mixed"])
    )
    at = draw(st.integers(1, len(base) - 1))
    label = base
    if way == "nfd":
        label = base[:at] + draw(st.sampled_from("ÉÅÑÖÇ")) + base[at:]
        other = unicodedata.normalize("NFD", label)
    elif way == "width":
        other = _fullwidth(base[0]) + "".join(
            _fullwidth(c) if draw(st.booleans()) else c for c in base[1:]
        )
    elif way == "case":
        other = base.lower()
    elif way == "sharp-s":
        label, other = base + "SS", base.lower() + "ß"
    elif way == "space":
        label = base[:at] + " " + base[at:]
        other = base[:at] + draw(st.sampled_from(RUNS)) + base[at:]
    elif way == "script":
        other = base[0].replace(base[0], draw(st.sampled_from(LOOK_ALIKES[base[0]]))) + base[1:]
    elif way == "whole":
        other = "".join(LOOK_ALIKES[c][0] if c in LOOK_ALIKES else c for c in base)
    else:  # width, case and spaces at once
        label = base[:at] + " " + base[at:]
        other = "".join(
            draw(st.sampled_from([c, c.lower(), _fullwidth(c), _fullwidth(c.lower())]))
            if c != " "
            else draw(st.sampled_from(RUNS))
            for c in label
        )
    return way, label, other


@pytest.mark.parametrize("charset", ["ascii", "unicode"])
def test_look_alike_pairs_make_one_unit_or_a_refusal_never_two(
    engine: Engine, charset: str
) -> None:
    seed(engine)
    _set_charset(engine, charset)
    with engine.begin() as c:
        put(c, PurchaseOrder, [{"id": 9, "number": "PO-PAIRS", "vendor_id": 1, "warehouse_id": 1}])
        put(c, POLine, [{"id": 9, "po_id": 9, "line_no": 1, "product_id": 1, "qty_ordered": 10**6}])
    numbers = iter(range(10**6))

    @settings(
        max_examples=30,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(look_alike_pairs(), st.booleans())
    def one_label_one_unit(pair: tuple[str, str, str], label_first: bool) -> None:
        way, label, other = pair
        prefix = f"{next(numbers):05d}-"  # digits: no script of their own
        first, second = (label, other) if label_first else (other, label)
        first, second = prefix + first, prefix + second
        verdicts = []
        for scans in (("W1", first, second), ("W1", second, first)):  # then another day
            session = open_session(engine, "ST-P", "receive", "PO-PAIRS", journal=False).session
            try:
                verdicts += [session.scan(scan) for scan in scans]
                serials = any(entry.serial for entry in session.entries)
                posted = session.save() if serials else None
            finally:
                session.close()
            assert posted is None or posted.posted, posted.message
        accepted = [v.serial for v in verdicts if v.ok and v.serial is not None]
        units = _units(engine, first, second)
        assert len(units) == len(accepted) <= 1, (way, first, second, verdicts)
        if charset == "unicode" and way not in ("script", "whole"):
            assert len(units) == 1, (way, first, second, verdicts)  # one key: one unit

    one_label_one_unit()


# --- GS1, imports and trace use the same key ----------------------------------------------


def test_a_gs1_serial_is_keyed_like_any_other(drive: Driver, engine: Engine) -> None:
    ok, code, message, serial = drive("ship", "SO-1", ["]C1010001234567890521ws-1", "CMD-SAVE"])[0]
    assert (ok, code, serial) == (True, Code.OK, "ws-1"), message
    assert _units(engine, "WS-1") == [("WS-1", "shipped")]


@pytest.mark.parametrize("charset", ["ascii", "unicode"])
def test_the_stock_import_keys_and_checks_serials_with_the_line(
    engine: Engine, tmp_path: Path, charset: str
) -> None:
    seed(engine)
    _set_charset(engine, charset)
    path = tmp_path / "stock.csv"
    path.write_text(
        "sku,serial,warehouse,bin,unit_cost\n"
        "W1,ＡB-1,MAIN,,\n"
        "W1,sn 9,MAIN,,\n"
        "W1,SN  9,MAIN,,\n"
        "W1,ｗｓ-1,MAIN,,\n"
        "W1,AВC-1,MAIN,,\n"
        "W1,ab-1,MAIN,,\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportInvalid) as caught:
        import_stock(engine, path)
    got = {error.line: error.reason for error in caught.value.errors}
    assert got[4] == "serial 'SN  9' for W1 is also on line 3"
    if charset == "ascii":
        assert got[2] == (
            "serial ＡB-1 has 'Ａ' (U+FF21 FULLWIDTH LATIN CAPITAL LETTER A):"
            " serials are printable ASCII (serial_charset = ascii)"
        )
        assert got[5].startswith("serial ｗｓ-1 has 'ｗ' (U+FF57 FULLWIDTH LATIN SMALL LETTER W)")
        assert got[6].startswith("serial AВC-1 has 'В' (U+0412 CYRILLIC CAPITAL LETTER VE)")
        assert set(got) == {2, 4, 5, 6}
    else:
        assert got[5].startswith("serial 'ｗｓ-1' exists already: W1, in_stock at MAIN/A-01")
        assert got[6].startswith("serial AВC-1 mixes look-alike scripts (Cyrillic, Latin)")
        assert got[7] == "serial 'ab-1' for W1 is also on line 2"
        assert set(got) == {4, 5, 6, 7}
    assert _units(engine, "AB-1", "SN 9") == []


def test_trace_finds_a_unit_by_any_spelling_of_its_serial(
    db_url: str, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(engine)
    assert main(["--db", db_url, "trace", "ｗｓ-1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["serial"] == "WS-1"
    assert main(["--db", db_url, "trace", "ws  gone"]) == 1
    assert "SERIAL_UNKNOWN" in capsys.readouterr().err
