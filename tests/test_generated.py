"""Serials the station generates (SPEC §3.1 step 6, §4 serial_pattern, §8): numbers
reserved in one block before the posting, existing serials skipped in bounded rounds,
patterns checked when they are set, never a repeated serial across stations."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert, text

from station import generated
from station.app import open_session
from station.cli import EXIT_FAILED, main
from station.db.engine import make_engine
from station.db.models import POLine, Product, PurchaseOrder, Unit, Vendor, Warehouse
from tests.seed import seed
from tests.workflow import configure, run_scan

PATTERN = "{sku}-{seq:06}"  # no date in it: the serials a test expects are exact
VIA = ["session", "station scan"]

Receive = Callable[[list[str]], dict[str, Any]]


@pytest.fixture
def receive(
    engine: Engine,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> Receive:
    """Receive scans on PO-1 at DOCK-1 and save, through a session or `station scan`;
    returns the posting result as `station scan` prints it."""
    via = request.param

    def run(scans: list[str]) -> dict[str, Any]:
        if via == "session":
            session = open_session(engine, "DOCK-1", "receive", "PO-1", journal=False).session
            assert all(session.scan(s).ok for s in scans)
            return session.save().as_dict()
        status, lines = run_scan(
            monkeypatch, capsys, db_url, ["--station", "DOCK-1", "--receive", "PO-1"],
            [*scans, "CMD-SAVE", "CMD-RESCAN"],  # a refused posting leaves no journal behind
        )  # fmt: skip
        *scanned, result, _ = lines
        assert all(line["ok"] for line in scanned)
        assert status == (0 if result["posted"] else EXIT_FAILED)
        return result

    return run


def _generating(engine: Engine, **values: Any) -> None:
    seed(engine)
    values = {
        "generate_serials": True,
        "allow_over_receipt": True,
        "serial_pattern": PATTERN,
        **values,
    }
    configure(engine, "DOCK-1", **values)


def _add_units(engine: Engine, product_id: int, serials: list[str]) -> None:
    """Units that came in some other way (an opening balance, an import)."""
    with engine.begin() as c:
        c.execute(
            insert(Unit),
            [
                {
                    "product_id": product_id,
                    "scope_id": product_id,
                    "serial": s,
                    "serial_key": s.upper(),
                    "status": "in_stock",
                    "warehouse_id": 1,
                    "bin": "A-01",
                    "origin": "opening",
                }
                for s in serials
            ],
        )


def _counter(engine: Engine, name: str) -> int | None:
    with engine.connect() as c:
        return c.execute(
            text("SELECT last_value FROM serial_sequences WHERE name = :n"), {"n": name}
        ).scalar()


def _ledger(engine: Engine) -> tuple[int, ...]:
    with engine.connect() as c:
        return tuple(
            c.execute(
                text(
                    "SELECT (SELECT count(*) FROM units), (SELECT count(*) FROM events),"
                    " (SELECT count(*) FROM receipts), (SELECT sum(qty_received) FROM po_lines)"
                )
            ).one()
        )


# --- one block, its own transaction -------------------------------------------------


@pytest.mark.parametrize("receive", VIA, indirect=True)
def test_numbers_are_reserved_in_one_statement_committed_before_the_posting(
    engine: Engine, receive: Receive
) -> None:
    _generating(engine)
    log: list[tuple[str, str, list[Any]]] = []

    def statement(_c: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        values = params.values() if isinstance(params, dict) else params or ()
        log.append((sql.split()[0].upper(), sql, list(values)))

    def commit(_c: Any) -> None:
        log.append(("COMMIT", "", []))

    # On every engine: `station scan` makes its own.
    event.listen(Engine, "before_cursor_execute", statement)
    event.listen(Engine, "commit", commit)
    try:
        result = receive(["W1"] * 25)
    finally:
        event.remove(Engine, "before_cursor_execute", statement)
        event.remove(Engine, "commit", commit)
    assert result["posted"], result
    assert result["generated"] == [f"W1-{n:06d}" for n in range(1, 26)]

    def on_counters(entry: tuple[str, str, list[Any]]) -> bool:
        return "serial_sequences" in entry[1] and any(
            str(v).startswith("serial:") for v in entry[2]
        )

    reserving = [i for i, entry in enumerate(log) if on_counters(entry)]
    assert len(reserving) == 1  # one statement for the whole block
    posting = next(i for i, entry in enumerate(log) if "INSERT INTO receipts" in entry[1])
    assert any(log[i][0] == "COMMIT" for i in range(reserving[0], posting))
    assert _counter(engine, "serial:W1-000000") == 25  # advanced by 25 in one go

    assert receive(["W1"] * 3)["generated"] == ["W1-000026", "W1-000027", "W1-000028"]
    assert _counter(engine, "serial:W1-000000") == 28


def test_the_default_pattern_carries_the_sku_and_the_date(engine: Engine) -> None:
    seed(engine)
    configure(engine, "DOCK-1", generate_serials=True)
    session = open_session(engine, "DOCK-1", "receive", "PO-1", journal=False).session
    assert session.scan("W1").ok and session.scan("W1").ok
    result = session.save()
    assert result.posted
    assert [re.sub(r"-\d{6}-", "-DATE-", s) for s in result.generated] == [
        "W1-DATE-000001",
        "W1-DATE-000002",
    ]


# --- existing serials skipped, in bounded rounds ------------------------------------


@pytest.mark.parametrize("receive", VIA, indirect=True)
def test_serials_that_exist_already_are_skipped(engine: Engine, receive: Receive) -> None:
    _generating(engine)
    _add_units(engine, 1, ["W1-000002", "w1-000004"])  # imported; the key ignores case
    result = receive(["W1", "W1", "W1", "W1", "W1"])
    assert result["posted"], result
    assert result["generated"] == ["W1-000001", "W1-000003", "W1-000005", "W1-000006", "W1-000007"]
    with engine.connect() as c:
        serials = c.execute(
            text("SELECT serial FROM units WHERE receipt_id IS NOT NULL AND product_id = 1")
        ).scalars()
        assert set(serials) >= set(result["generated"])
    # Round 1 reserved 1-5 (2 and 4 taken), round 2 two numbers per unit left: 6-9.
    assert _counter(engine, "serial:W1-000000") == 9


@pytest.mark.parametrize("receive", VIA, indirect=True)
def test_a_serial_scanned_in_the_session_is_not_generated_again(
    engine: Engine, receive: Receive
) -> None:
    _generating(engine)
    result = receive(["W1", "W1", "W1-000001", "W1"])
    assert result["posted"], result
    assert result["generated"] == ["W1-000002", "W1-000003"]


@pytest.mark.parametrize("receive", VIA, indirect=True)
def test_generation_gives_up_after_its_rounds_and_writes_nothing(
    engine: Engine, receive: Receive
) -> None:
    _generating(engine)
    # Round r reserves 2**r numbers for the one unit: every one of them exists.
    crossed = 2**generated.MAX_ROUNDS - 1
    _add_units(engine, 1, [f"W1-{n:06d}" for n in range(1, crossed + 1)])
    before = _ledger(engine)
    result = receive(["W1"])
    assert result["posted"] is False
    assert result["code"] == "SERIAL_GENERATION_FAILED"
    assert result["message"] == (
        "Nothing posted: 1 unit(s) got no serial — every serial generated for them in"
        f" {generated.MAX_ROUNDS} rounds of new numbers exists already or is scanned in this"
        f" session (the last: W1-{crossed:06d}). Change the station's serial_pattern"
        f" ({PATTERN}) and save again."
    )
    assert _ledger(engine) == before
    assert _counter(engine, "serial:W1-000000") == 0  # the numbers are given back


# --- product rules at posting time (a product changed after the pattern was set) ----


@pytest.mark.parametrize("receive", VIA, indirect=True)
def test_a_generated_serial_a_product_rule_refuses_is_a_clear_verdict(
    engine: Engine, receive: Receive
) -> None:
    _generating(engine)  # stored directly: G2 (length 10) and P4 (PR + 6 digits) exist
    before = _ledger(engine)
    result = receive(["G2"])
    assert (result["posted"], result["code"]) == (False, "SERIAL_BAD_LENGTH")
    assert result["message"] == (
        f"Nothing posted: the station's serial_pattern {PATTERN} makes serials G2 refuses."
        " Serial G2-000001 has 9 characters; G2 serials have 10. Change serial_pattern or"
        " scan the serials of G2."
    )
    result = receive(["PR400"])
    assert (result["posted"], result["code"]) == (False, "SERIAL_BAD_FORMAT")
    assert "Serial P4-000001 does not fit P4's serial format (PR[0-9]{6})" in result["message"]
    assert _ledger(engine) == before


@pytest.mark.parametrize("receive", VIA, indirect=True)
def test_a_sequence_that_outgrows_the_length_rule_is_refused_at_posting(
    engine: Engine, receive: Receive
) -> None:
    _generating(engine, serial_pattern="{sku}{seq:08}")
    assert receive(["G2"])["generated"] == ["G200000001"]
    with engine.begin() as c:  # the sequence has come a long way
        c.execute(
            text(
                "UPDATE serial_sequences SET last_value = 99999999 WHERE name = 'serial:G200000000'"
            )
        )
    result = receive(["G2"])
    assert result["code"] == "SERIAL_BAD_LENGTH"
    assert "Serial G2100000000 has 11 characters; G2 serials have 10." in result["message"]


# --- another station inserts a generated serial meanwhile ---------------------------


@pytest.mark.parametrize("receive", VIA, indirect=True)
def test_a_generated_serial_taken_before_the_posting_is_explained(
    engine: Engine, receive: Receive, monkeypatch: pytest.MonkeyPatch
) -> None:
    _generating(engine)
    make = generated.generate

    def raced(*args: Any) -> dict[int, str]:
        made = make(*args)
        _add_units(engine, 1, [next(iter(made.values()))])  # committed by "someone else"
        return made

    monkeypatch.setattr(generated, "generate", raced)
    before = _ledger(engine)
    result = receive(["W1", "W1"])
    assert (result["posted"], result["code"]) == (False, "SERIAL_ALREADY_EXISTS")
    assert result["message"].startswith(
        "Nothing posted: 1 serial(s) generated for this receipt were received elsewhere"
        " meanwhile — save again (new serials are generated). Serial W1-000001 already exists"
    )
    assert _ledger(engine) == (before[0] + 1, *before[1:])  # only the other station's unit
    monkeypatch.setattr(generated, "generate", make)
    result = receive(["W1", "W1"])
    assert result["posted"] and result["generated"] == ["W1-000003", "W1-000004"]


# --- two stations at once -----------------------------------------------------------


def test_two_stations_generating_at_once_never_share_a_serial(engine: Engine, db_url: str) -> None:
    seed(engine)
    rounds, units = 3, 120
    with engine.begin() as c:
        for number in ("PO-A", "PO-B"):
            po = c.execute(
                insert(PurchaseOrder)
                .values(number=number, vendor_id=1, warehouse_id=1)
                .returning(PurchaseOrder.id)
            ).scalar_one()
            c.execute(insert(POLine).values(po_id=po, line_no=1, product_id=1, qty_ordered=10**6))
    for station in ("DOCK-A", "DOCK-B"):
        configure(engine, station, generate_serials=True, serial_pattern=PATTERN)
    barrier = threading.Barrier(2)
    made: dict[str, list[str]] = {}
    failures: list[str] = []

    def station(name: str, po: str) -> None:
        own = make_engine(db_url)
        try:
            for _ in range(rounds):
                session = open_session(own, name, "receive", po, journal=False).session
                assert all(session.scan("W1").ok for _ in range(units))
                barrier.wait(timeout=60)
                result = session.save()
                if not result.posted:
                    failures.append(result.message)
                made.setdefault(name, []).extend(result.generated)
        except Exception as error:  # reported by the assertions below
            failures.append(repr(error))
            barrier.abort()
        finally:
            own.dispose()

    threads = [
        threading.Thread(target=station, args=(name, po))
        for name, po in (("DOCK-A", "PO-A"), ("DOCK-B", "PO-B"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert failures == []
    every = made["DOCK-A"] + made["DOCK-B"]
    assert len(every) == 2 * rounds * units and len(set(every)) == len(every)
    assert set(every) == {f"W1-{n:06d}" for n in range(1, len(every) + 1)}
    with engine.connect() as c:
        stored = c.execute(text("SELECT count(*) FROM units WHERE serial LIKE 'W1-0%'")).scalar()
    assert stored == len(every)


# --- serial_pattern checked when it is set ------------------------------------------


def _set(capsys: pytest.CaptureFixture[str], db_url: str, *values: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(
        ["--db", db_url, "options", "set", "--station", "DOCK-1", "--user", "sue", *values]
    )
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def supervisor(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATION_PIN", "1234")
    capsys.readouterr()
    assert main(["--db", db_url, "users", "add", "sue", "--role", "supervisor"]) == 0


def _shown(capsys: pytest.CaptureFixture[str], db_url: str) -> str:
    import json

    capsys.readouterr()
    assert main(["--db", db_url, "options", "show", "--station", "DOCK-1", "--json"]) == 0
    return str(json.loads(capsys.readouterr().out)["serial_pattern"])


FIELDS = "fields: {sku} {yymmdd} {yyyymmdd} {station} {seq}"
REFUSED = [
    ("{sku}-{yymmdd}", "must contain {seq} (or {seq:06}) so generated serials never repeat"),
    ("{{seq}}", "must contain {seq} (or {seq:06}) so generated serials never repeat"),
    ("{seq}-{seq:04}", "has {seq} 2 times; it must appear exactly once"),
    ("{seq.real}", "uses attribute or index access in {seq.real}; fields are plain names: {sku}"),
    ("A-{seq[0]}", "uses attribute or index access in {seq[0]}; fields are plain names:"),
    ("{sku.__class__}{seq}", "uses attribute or index access in {sku.__class__}"),
    ("{seq!r}", "converts a field ({seq!r}); fields take no !r, !s or !a"),
    ("{sku!s}{seq}", "converts a field ({sku!s}); fields take no !r, !s or !a"),
    ("{seq:{width}}", "nests a field in a format ({seq:{width}})"),
    ("{seq:x}", "formats {seq} as {seq:x}; use an integer format: {seq}, {seq:06} or {seq:06d}"),
    ("{seq:>8}", "formats {seq} as {seq:>8}; use an integer format"),
    ("{seq:6}", "formats {seq} as {seq:6}; use an integer format"),
    ("{seq:,}", "formats {seq} as {seq:,}; use an integer format"),
    ("{sku:>10}-{seq}", "formats {sku} as {sku:>10}; only {seq} takes a format"),
    ("{colour}-{seq}", f"has an unknown field {{colour}}; {FIELDS}"),
    ("{}-{seq}", "has a positional field {}; name a field: {sku}"),
    ("{0}-{seq}", "has a positional field {0}; name a field: {sku}"),
    ("A}{seq}", f"is not a valid pattern (Single '}}' encountered in format string); {FIELDS}"),
    ("{seq", "is not a valid pattern (expected '}' before end of string)"),
    ("S\x01{seq}", "has the character '\\x01'; a serial is printable ASCII"),
    ("Sé-{seq}", "has the character 'é'; a serial is printable ASCII"),
    ("{seq:065}", "makes serials of up to 65 characters even with no SKU and station name"),
    (
        "X" * 52 + "{seq}",
        "makes serials of up to 65 characters even with no SKU and station name ({seq} up to"
        " 13 digits); a serial has at most 64",
    ),
]


@pytest.mark.parametrize(("pattern", "reason"), REFUSED)
def test_bad_patterns_are_refused_by_options_set(
    db_url: str,
    engine: Engine,
    supervisor: None,
    capsys: pytest.CaptureFixture[str],
    pattern: str,
    reason: str,
) -> None:
    status, _, err = _set(capsys, db_url, f"serial_pattern={pattern}")
    assert status == EXIT_FAILED
    assert f"BAD_OPTION_VALUE: Option serial_pattern={pattern!r} {reason}" in err
    assert "Traceback" not in err
    assert _shown(capsys, db_url) == "{sku}-{yymmdd}-{seq:06}"
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM option_changes")).scalar() == 0


@pytest.mark.parametrize(
    "good", ["{seq}", "{seq:d}", "{seq:06d}", "SN{yyyymmdd}{seq:08}", "{seq:064}", "{{A}}{seq}"]
)
def test_integer_formats_and_documented_fields_are_taken(
    db_url: str, supervisor: None, capsys: pytest.CaptureFixture[str], good: str
) -> None:
    status, _, err = _set(capsys, db_url, f"serial_pattern={good}")
    assert status == 0, err
    assert _shown(capsys, db_url) == good


def _catalog(engine: Engine, products: list[dict[str, Any]]) -> None:
    with engine.begin() as c:
        c.execute(insert(Warehouse).values(id=1, code="MAIN", name="Main"))
        c.execute(insert(Vendor).values(id=1, name="Acme"))
        for product in products:
            c.execute(insert(Product).values(name=product["sku"], serialized=True, **product))


def test_a_pattern_too_long_with_the_catalogs_skus_is_refused(
    db_url: str, engine: Engine, supervisor: None, capsys: pytest.CaptureFixture[str]
) -> None:
    sku = "L" * 40
    _catalog(engine, [{"sku": "AB"}, {"sku": sku}])
    assert _set(capsys, db_url, "serial_pattern={sku}-{yyyymmdd}-{seq:06}")[0] == 0  # 63
    status, _, err = _set(capsys, db_url, "serial_pattern={sku}-{yyyymmdd}-{station}{seq:06}")
    assert status == EXIT_FAILED
    assert (
        "BAD_OPTION_VALUE: Option serial_pattern='{sku}-{yyyymmdd}-{station}{seq:06}' makes"
        f" serials of up to 69 characters for {sku} ({{seq}} up to 13 digits); a serial has"
        " at most 64." in err
    )
    status, _, err = _set(capsys, db_url, f"serial_pattern={'S' * 45}-{{station}}-{{seq}}")
    assert status == EXIT_FAILED
    assert "makes serials of up to 66 characters with station name 'DOCK-1'" in err


def test_a_pattern_that_breaks_a_products_rule_is_refused_when_set(
    db_url: str, engine: Engine, supervisor: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _catalog(
        engine,
        [
            {"sku": "AB", "serial_length": 10},
            {"sku": "CD", "serial_pattern": "CD[0-9]{8}"},
            {"sku": "EF"},
            {"sku": "GH", "serial_min_length": 4, "serial_max_length": 10},
        ],
    )
    status, _, err = _set(capsys, db_url, "serial_pattern={sku}{seq:08}")
    assert status == 0, err  # AB00000001, CD00000001, EF00000001, GH00000001: all fit
    status, _, err = _set(capsys, db_url, "serial_pattern={sku}-{seq:07}")
    assert status == EXIT_FAILED
    assert (
        "BAD_OPTION_VALUE: Option serial_pattern='{sku}-{seq:07}' makes serials that CD"
        " refuses (Serial CD-0000001 does not fit CD's serial format (CD[0-9]{8}))." in err
    )
    status, _, err = _set(capsys, db_url, "serial_pattern={sku}-{yymmdd}-{seq:06}")
    assert status == EXIT_FAILED
    assert "makes serials that AB refuses (Serial AB-" in err
    assert "has 16 characters; AB serials have 10; 2 more product(s) too)." in err
    # The station's own serial_length binds the products that set no length.
    status, _, err = _set(capsys, db_url, "serial_length=12", "serial_pattern={sku}{seq:08}")
    assert status == EXIT_FAILED
    assert "makes serials that CD refuses (Serial CD00000001 has 10 characters; CD serials" in err
    assert _shown(capsys, db_url) == "{sku}{seq:08}"


def test_numbers_go_back_only_while_nobody_took_one_since(engine: Engine) -> None:
    from station.db import documents

    with engine.begin() as c:
        first = documents.reserve_numbers(c, {"serial:A": 5, "serial:B": 2})
    with engine.begin() as c:
        other = documents.reserve_numbers(c, {"serial:A": 3})  # another station, meanwhile
    assert (first["serial:A"], other["serial:A"]) == (range(1, 6), range(6, 9))
    with engine.begin() as c:
        documents.release_numbers(c, [first])
    assert (_counter(engine, "serial:A"), _counter(engine, "serial:B")) == (8, 0)
    with engine.begin() as c:
        documents.release_numbers(c, [first, other])  # newest first: both blocks go back
    assert _counter(engine, "serial:A") == 0


def test_a_pattern_is_checked_under_the_companys_serial_charset(
    db_url: str, engine: Engine, supervisor: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from station.db import company

    _catalog(engine, [{"sku": "WÜ-1"}])
    status, _, err = _set(capsys, db_url, "serial_pattern={sku}-{seq:04}")
    assert status == EXIT_FAILED  # ascii: the SKU's Ü cannot be in a serial
    assert "(U+00DC LATIN CAPITAL LETTER U WITH DIAERESIS)" in err
    with engine.begin() as c:
        company.set_serial_charset(c, "unicode")
    status, _, err = _set(capsys, db_url, "serial_pattern={sku}-{seq:04}")
    assert status == 0, err  # unicode: WÜ-1-0001 is a serial the posting accepts
    assert _shown(capsys, db_url) == "{sku}-{seq:04}"
