"""Input hygiene (issue 8): numbers as a warehouse writes them, serial formats that can
never hang a scan, codes that resolve one way, and huge or malformed files refused fast
and whole. Everything through `station import` and `station scan`, on SQLite and
PostgreSQL; the big files in a real process whose peak memory is measured."""

from __future__ import annotations

import base64
import codecs
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine, func, select

from station.cli import EXIT_FAILED, main
from station.db import company
from station.db.models import Barcode, POLine, Product, PurchaseOrder, Unit
from tests.workflow import ask, configure, start_scan

PIN = "1234"
PRODUCTS = "sku,name,barcodes,serialized,serial_length,serial_pattern\n"
POS = "po_number,vendor,warehouse,sku,qty,unit_cost\n"
STOCK = "sku,serial,warehouse,bin,unit_cost\n"
#: The catastrophic-backtracking pattern and the serial that hangs Python's re on it.
EVIL_PATTERN = "(a+)+$"
EVIL_SERIAL = "a" * 28 + "!"
#: Peak memory of one `station import` refusing a hostile file (the 300 MB shared
#: string table took 725 MB before the workbook was checked ahead of openpyxl).
MAX_PEAK_MB = 200


@pytest.fixture
def station(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """`station --db URL ARGS…` in-process, a supervisor `sue` created first; returns
    (exit status, stdout, stderr)."""
    monkeypatch.setenv("STATION_PIN", PIN)
    assert main(["--db", db_url, "users", "add", "sue", "--role", "supervisor"]) == 0

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        status = main(["--db", db_url, *args])
        out, err = capsys.readouterr()
        return status, out, err

    return run


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return str(path)


def count(engine: Engine, model: type) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(model)) or 0


def bad_lines(err: str) -> dict[int, str]:
    """The `  line N: reason` lines an IMPORT_INVALID lists."""
    found: dict[int, str] = {}
    for row in err.splitlines():
        if row.startswith("  line "):
            number, _, reason = row[len("  line ") :].partition(": ")
            found[int(number)] = reason
    return found


def load_catalog(station: Callable[..., tuple[int, str, str]], tmp_path: Path) -> None:
    products = write(
        tmp_path,
        "catalog.csv",
        PRODUCTS
        + "W-100,Widget,012345678905;W100,yes,,\n"
        + "G-200,Gadget,G200,yes,,\n"
        + "C-300,Cable,C300,no,,\n"
        + "4006381333931,Numbered,N400,yes,,\n",
    )
    assert station("import", "products", products, "--user", "sue")[0] == 0


# --- 1. quantities and costs are plain numbers -------------------------------------------

NUMBERS = [  # (qty, unit_cost) of a PO line, each refused
    ("1_000", "12.50"),
    ("\u0663", "12.50"),  # Arabic-Indic 3
    ("\uff15", "12.50"),  # fullwidth 5
    ("+5", "12.50"),
    ("1e3", "12.50"),
    ("1,000", "12.50"),
    ("2", "1_000.5"),
    ("2", "\u0967\u0968"),  # Devanagari 12
    ("2", "\uff11\uff12.5"),  # fullwidth 12.5
    ("2", "inf"),
    ("2", "nan"),
    ("2", "1e3"),
    ("2", "+5"),
    ("2", "1,50"),
    ("2", ".5"),
    ("2", "5."),
]


def test_numbers_not_written_plainly_are_refused_with_line_and_column(
    station: Callable[..., tuple[int, str, str]], engine: Engine, tmp_path: Path
) -> None:
    load_catalog(station, tmp_path)
    rows = "".join(
        f'PO-{n},Acme,MAIN,W-100,"{qty}","{cost}"\n' for n, (qty, cost) in enumerate(NUMBERS)
    )
    status, _, err = station(
        "import", "pos", write(tmp_path, "pos.csv", POS + rows), "--user", "sue"
    )
    assert status == EXIT_FAILED and "IMPORT_INVALID" in err and "Traceback" not in err
    got = bad_lines(err)
    assert sorted(got) == list(range(2, 2 + len(NUMBERS)))
    for line, (qty, cost) in enumerate(NUMBERS, start=2):
        column, value = ("qty", qty) if cost == "12.50" else ("unit_cost", cost)
        assert got[line].startswith(f"{column} must be "), (line, got[line])
        assert repr(value) in got[line], (line, got[line])
    assert "qty must be a whole number written with the digits 0-9 only" in got[2]
    assert got[11] == "unit_cost must be a number, not 'inf'"
    assert count(engine, PurchaseOrder) == 0
    # The rule's own examples import.
    good = write(tmp_path, "good.csv", POS + "PO-OK,Acme,MAIN,W-100,1200,1250.50\n")
    assert station("import", "pos", good, "--user", "sue")[0] == 0
    with engine.connect() as connection:
        line = connection.execute(select(POLine.qty_ordered, POLine.unit_cost)).one()
    assert (line.qty_ordered, line.unit_cost) == (1200, Decimal("1250.50"))


def test_xlsx_number_cells_count_text_cells_follow_the_rule_booleans_are_not_numbers(
    station: Callable[..., tuple[int, str, str]], engine: Engine, tmp_path: Path
) -> None:
    load_catalog(station, tmp_path)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(POS.strip().split(","))
    sheet.append(["PO-1", "Acme", "MAIN", "W-100", 3, 12.5])
    sheet.append(["PO-1", "Acme", "MAIN", "G-200", 2.0, 0.00001])
    sheet.append(["PO-2", "Acme", "MAIN", "W-100", True, 1])
    sheet.append(["PO-3", "Acme", "MAIN", "W-100", "1_000", 1])
    sheet.append(["PO-4", "Acme", "MAIN", "W-100", 1, "\u0661\u0662"])
    sheet.append(["PO-5", "Acme", "MAIN", "W-100", 1, False])
    path = tmp_path / "pos.xlsx"
    workbook.save(path)
    status, _, err = station("import", "pos", str(path), "--user", "sue")
    assert status == EXIT_FAILED
    assert bad_lines(err) == {
        4: "qty must be a whole number, not 'true'",
        5: "qty must be a whole number written with the digits 0-9 only, no sign, separator"
        " or space (like 1200), not '1_000'",
        6: "unit_cost must be a number written with the digits 0-9 and at most one decimal"
        " point, no sign, exponent, separator or space (like 1250.50), not '١٢'",
        7: "unit_cost must be a number, not 'false'",
    }
    sheet.delete_rows(4, 4)
    workbook.save(path)
    assert station("import", "pos", str(path), "--user", "sue")[0] == 0
    with engine.connect() as connection:
        lines = connection.execute(
            select(POLine.qty_ordered, POLine.unit_cost).order_by(POLine.line_no)
        ).all()
    assert [tuple(line) for line in lines] == [(3, Decimal("12.5")), (2, Decimal(0))]


def test_an_option_number_in_other_digits_is_refused(
    station: Callable[..., tuple[int, str, str]],
) -> None:
    for value in ("\uff11\uff12", "1_2", "\u0661\u0662", "+12"):
        status, _, err = station(
            "options", "set", "--station", "DOCK-1", "--user", "sue", f"serial_length={value}"
        )
        assert status == EXIT_FAILED, value
        assert "BAD_OPTION_VALUE" in err and "digits 0-9" in err and "Traceback" not in err
    assert (
        station("options", "set", "--station", "DOCK-1", "--user", "sue", "serial_length=12")[0]
        == 0
    )


# --- 2. no serial format can hang a scan -------------------------------------------------


def _evil_catalog(station: Callable[..., tuple[int, str, str]], tmp_path: Path) -> None:
    products = write(tmp_path, "evil.csv", PRODUCTS + f"EV-1,Evil,EV1,yes,,{EVIL_PATTERN}\n")
    assert station("import", "products", products, "--user", "sue")[0] == 0
    pos = write(tmp_path, "evil-po.csv", POS + "PO-EV,Acme,MAIN,EV-1,5,\n")
    assert station("import", "pos", pos, "--user", "sue")[0] == 0


def test_a_catastrophic_pattern_gets_its_verdict_at_once_through_station_scan(
    station: Callable[..., tuple[int, str, str]], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    _evil_catalog(station, tmp_path)
    scan = start_scan(
        db_url, tmp_path / "journals", "--station", "DOCK-1", "--receive", "PO-EV", "--user", "sue"
    )
    try:
        assert ask(scan, "EV1")["ok"]
        started = time.monotonic()
        verdict = ask(scan, EVIL_SERIAL)
        elapsed = time.monotonic() - started
        assert verdict["code"] == "SERIAL_BAD_FORMAT", verdict
        assert "does not fit EV-1's serial format ((a+)+$)" in verdict["message"]
        assert elapsed < 2, f"the verdict took {elapsed:.1f} s"  # Python's re: minutes
        assert ask(scan, "aaaa")["ok"]
        posted = ask(scan, "CMD-SAVE")  # the posting checks the format again
        assert posted["posted"] is True and posted["units"] == 1, posted
    finally:
        scan.kill()
        scan.wait()
    # The opening-balance import checks every serial against the format too.
    stock = write(tmp_path, "stock.csv", STOCK + f"EV-1,{EVIL_SERIAL},MAIN,,\nEV-1,aaab,MAIN,,\n")
    status, _, err = station("import", "stock", stock, "--user", "sue")
    assert status == EXIT_FAILED
    assert bad_lines(err) == {
        2: f"serial '{EVIL_SERIAL}' does not fit EV-1's serial format ((a+)+$)",
        3: "serial 'aaab' does not fit EV-1's serial format ((a+)+$)",
    }
    assert count(engine, Unit) == 1


def test_a_pattern_re2_cannot_run_is_refused_at_import_with_its_line(
    station: Callable[..., tuple[int, str, str]], engine: Engine, tmp_path: Path
) -> None:
    patterns = [
        r"(a)\1",  # backreference
        "(?=PR)PR[0-9]+",  # lookahead
        "(?<!X)[0-9]+",  # lookbehind
        "(?P<n>a)(?P=n)",  # named backreference
        "a{1001}",  # over RE2's repetition limit
        r"[0-9]+\Z",  # Python's spelling of \z
        r"(\p{L}{1,64}){1,15}",  # a program over RE2's memory budget
        "x" * 401,
        "[A-",
    ]
    rows = "".join(f'P-{n},Part,,yes,,"{p}"\n' for n, p in enumerate(patterns))
    status, _, err = station(
        "import", "products", write(tmp_path, "p.csv", PRODUCTS + rows), "--user", "sue"
    )
    assert status == EXIT_FAILED and "IMPORT_INVALID" in err
    assert "Traceback" not in err and "re2.cc" not in err  # RE2 logs nothing of its own
    got = bad_lines(err)
    assert sorted(got) == list(range(2, 2 + len(patterns)))
    for line in range(2, 9):
        assert "is not a regular expression Station can run" in got[line], got[line]
        assert "RE2 syntax, without backreferences or lookaround" in got[line]
    assert "invalid escape sequence: \\1" in got[2]
    assert "(pattern too large - compile failed)" in got[8]
    assert got[9].endswith("is longer than 400 characters")
    assert got[10].startswith("serial_pattern '[A-' is not a regular expression")
    assert count(engine, Product) == 0


def test_a_stored_pattern_re2_cannot_run_is_a_clear_verdict(
    station: Callable[..., tuple[int, str, str]], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    _evil_catalog(station, tmp_path)
    with engine.begin() as connection:  # stored before patterns were checked by RE2
        connection.execute(Product.__table__.update().values(serial_pattern=r"(a)\1"))
    scan = start_scan(
        db_url, tmp_path / "journals", "--station", "DOCK-1", "--receive", "PO-EV", "--user", "sue"
    )
    try:
        assert ask(scan, "EV1")["ok"]
        verdict = ask(scan, "aa")
        assert verdict["code"] == "SERIAL_BAD_FORMAT"
        assert "EV-1's serial format ((a)\\1) is not a regular expression" in verdict["message"]
        assert "Import EV-1 again with a pattern in RE2 syntax" in verdict["message"]
    finally:
        scan.kill()
        scan.wait()


def test_unicode_serials_match_character_by_character(
    station: Callable[..., tuple[int, str, str]], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    with engine.begin() as connection:
        company.set_serial_charset(connection, "unicode")
    products = write(
        tmp_path,
        "u.csv",
        PRODUCTS + "HAN-1,Han,HAN1,yes,,\\p{Han}{3}\nDOT-1,Dots,DOT1,yes,,.{3}-[0-9]+\n",
    )
    assert station("import", "products", products, "--user", "sue")[0] == 0
    pos = POS + "PO-U,Acme,MAIN,HAN-1,5,\nPO-U,Acme,MAIN,DOT-1,5,\n"
    assert station("import", "pos", write(tmp_path, "u-po.csv", pos), "--user", "sue")[0] == 0
    scan = start_scan(
        db_url, tmp_path / "journals", "--station", "DOCK-1", "--receive", "PO-U", "--user", "sue"
    )
    try:
        assert ask(scan, "HAN1")["ok"]
        assert ask(scan, "日本語")["ok"]  # three characters, nine UTF-8 bytes
        assert ask(scan, "DOT1")["ok"]
        assert ask(scan, "Äöüß-12")["code"] == "SERIAL_BAD_FORMAT"
        assert ask(scan, "Äöü-12")["ok"]
        assert ask(scan, "HAN1")["ok"]
        assert ask(scan, "日本")["code"] == "SERIAL_BAD_FORMAT"
    finally:
        scan.kill()
        scan.wait()


# --- 3. codes resolve one way ----------------------------------------------------------


def test_a_barcode_equal_to_another_products_sku_is_refused_with_its_line(
    station: Callable[..., tuple[int, str, str]], engine: Engine, tmp_path: Path
) -> None:
    load_catalog(station, tmp_path)
    before = count(engine, Product)
    rows = (
        "N-1,New One,G-200,yes,,\n"  # a barcode that is a SKU in the ledger
        "N-2,New Two,N-3,yes,,\n"  # a barcode that is a SKU further down the file
        "N-3,New Three,N3,yes,,\n"
        "W100,New Four,,yes,,\n"  # a SKU that is a barcode in the ledger
        "N-5,New Five,04006381333931,yes,,\n"  # the GTIN-14 form of a SKU in the ledger
        "N-6,New Six,N-6,yes,,\n"  # its own SKU: one way
        "N-7,New Seven,G200,yes,,\n"  # a barcode of another product (as before)
        "N-8,New Eight,cmd-n8,yes,,\n"  # read as a command, never as the item
        "CMD-SAVE,New Nine,N9,yes,,\n"  # a SKU read as a command too
    )
    status, _, err = station(
        "import", "products", write(tmp_path, "p.csv", PRODUCTS + rows), "--user", "sue"
    )
    assert status == EXIT_FAILED and "Traceback" not in err
    two = ": a scan of it would name two products"
    assert bad_lines(err) == {
        2: f"barcode 'G-200' is the SKU of G-200 already{two}",
        3: f"barcode 'N-3' is the SKU of N-3 on line 4{two}",
        5: f"SKU 'W100' is a barcode of W-100 already{two}",
        6: f"barcode '04006381333931' is the SKU of 4006381333931 already{two}",
        8: "barcode 'G200' belongs to G-200 already",
        9: "barcode 'cmd-n8' starts with the command prefix CMD-: a scan of it would be read"
        " as a command",
        10: "SKU 'CMD-SAVE' starts with the command prefix CMD-: a scan of it would be read"
        " as a command",
    }
    assert count(engine, Product) == before


def test_a_clash_already_in_the_ledger_does_not_block_updating_the_catalog(
    station: Callable[..., tuple[int, str, str]], engine: Engine, tmp_path: Path
) -> None:
    load_catalog(station, tmp_path)
    with engine.begin() as connection:  # stored before imports checked it
        gadget = connection.scalar(select(Product.id).where(Product.sku == "G-200"))
        connection.execute(Barcode.__table__.insert().values(product_id=gadget, code="W-100"))
    update = PRODUCTS + "G-200,Gadget (v2),G200;W-100,yes,,\nW-100,Widget (v2),W100,yes,,\n"
    status, out, err = station(
        "import", "products", write(tmp_path, "update.csv", update), "--user", "sue"
    )
    assert status == 0, err
    assert "2 updated" in out
    # A new code clashing with it is still refused.
    new = PRODUCTS + "G-200,Gadget,G-NEW;C-300,yes,,\n"
    status, _, err = station("import", "products", write(tmp_path, "new.csv", new), "--user", "sue")
    assert status == EXIT_FAILED
    assert bad_lines(err) == {
        2: "barcode 'C-300' is the SKU of C-300 already: a scan of it would name two products"
    }


def test_an_opening_serial_equal_to_an_item_code_or_a_command_is_refused(
    station: Callable[..., tuple[int, str, str]], engine: Engine, tmp_path: Path
) -> None:
    load_catalog(station, tmp_path)
    configure(engine, "DOCK-Z", command_prefix="ZZ-")
    rows = (
        "W-100,OPEN-1,MAIN,,\n"  # good
        "W-100,W100,MAIN,,\n"  # a barcode of its own product
        "W-100,g-200,MAIN,,\n"  # another product's SKU, by serial key
        "W-100,00012345678905,MAIN,,\n"  # the GTIN-14 of a barcode
        "G-200,CMD-SAVE,MAIN,,\n"  # a command barcode
        "G-200,cmd-7,MAIN,,\n"  # the command prefix, as a scan compares it
        "G-200,ZZ-1,MAIN,,\n"  # a station's own command prefix
        "G-200,OPEN-2,MAIN,,\n"  # good
    )
    status, _, err = station(
        "import", "stock", write(tmp_path, "s.csv", STOCK + rows), "--user", "sue"
    )
    assert status == EXIT_FAILED and "Traceback" not in err
    item = ": a scan of it would select the item, not this unit"
    command = ": a scan of it would be read as a command"
    assert bad_lines(err) == {
        3: f"serial 'W100' is the barcode of W-100{item}",
        4: f"serial 'g-200' is the SKU of G-200{item}",
        5: f"serial '00012345678905' is the barcode of W-100{item}",
        6: f"serial 'CMD-SAVE' starts with the command prefix CMD-{command}",
        7: f"serial 'cmd-7' starts with the command prefix CMD-{command}",
        8: f"serial 'ZZ-1' starts with the command prefix ZZ-{command}",
    }
    assert count(engine, Unit) == 0


# --- 4. huge or malformed files are refused fast and whole -------------------------------


@dataclass(frozen=True)
class Outcome:
    status: int
    out: str
    err: str
    peak_mb: float


#: Runs a command as its child and reports the child's peak RSS (KB) and exit status, as
#: /usr/bin/time does: a process forked from pytest itself would carry pytest's own peak
#: (Linux keeps a process's peak across exec).
_MEASURE = """
import os, subprocess, sys, threading
report, timeout, *command = sys.argv[1:]
child = subprocess.Popen(command)
timer = threading.Timer(float(timeout), child.kill)
timer.start()
_, status, usage = os.wait4(child.pid, 0)
timer.cancel()
child.returncode = os.waitstatus_to_exitcode(status)
with open(report, "w") as file:
    file.write(f"{usage.ru_maxrss} {child.returncode}")
"""


def run_measured(db_url: str, data_dir: Path, *args: str, timeout: float = 60) -> Outcome:
    """`station ARGS…` as a real process: its exit status, output and peak RSS. A
    process still running after `timeout` seconds is killed (and the test fails)."""
    data_dir.mkdir(exist_ok=True)
    report = data_dir / "measured.txt"
    env = {**os.environ, "STATION_DATA_DIR": str(data_dir), "STATION_PIN": PIN}
    station = [sys.executable, "-m", "station", "--db", db_url, *args]
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(report), str(timeout), *station],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=env,
        timeout=timeout + 30,
        check=True,
    )
    peak_kb, status = map(int, report.read_text().split())
    assert status != -9, f"station {' '.join(args)} ran over {timeout} s"
    return Outcome(status, done.stdout.decode(), done.stderr.decode(), peak_kb / 1024)


_NS = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
_END = b"</sheetData></worksheet>"


def workbook(
    path: Path,
    sheet: bytes | Iterable[bytes],
    strings: Iterable[bytes] = (b"sku",),
    level: int = 1,
) -> None:
    """A minimal XLSX: one worksheet and a shared string table, streamed in chunks."""
    main_ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    rels = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        z.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package'
            '.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{main_ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{main_ct}'
            '.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType='
            f'"{main_ct}.sharedStrings+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rels}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        z.writestr(
            "xl/workbook.xml",
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
            f' xmlns:r="{rels}"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>'
            "</workbook>",
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rels}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rels}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>",
        )
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            for chunk in [sheet] if isinstance(sheet, bytes) else sheet:
                part.write(chunk)
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            part.write(b"<si><t>")
            for chunk in strings:
                part.write(chunk)
            part.write(b"</t></si></sst>")


def _header_of_100000_columns(path: Path) -> None:
    path.write_text(",".join(f"c{n}" for n in range(100_000)) + "\nx\n")


def _field_of_10_mb(path: Path) -> None:
    path.write_text(PRODUCTS + 'A-1,"' + "x" * 10_000_000 + '",,no,,\n')


def _shared_string_of_300_mb(path: Path) -> None:
    block = b"x" * (1 << 20)
    workbook(path, _NS + _END, (block for _ in range(300)))


def _zip_bomb(path: Path) -> None:  # 200 MB of empty rows, packed about 700 times
    rows = b"<row/>" * (1 << 20)
    workbook(path, [_NS, *(rows for _ in range(32)), _END], level=9)


def _cell_of_5_mb(path: Path) -> None:  # random text: packs barely, as a real cell would
    text = base64.b64encode(os.urandom(3_750_000))
    cell = b'<row r="1"><c r="A1" t="inlineStr"><is><t>' + text + b"</t></is></c></row>"
    workbook(path, _NS + cell + _END)


def _row_of_20_mb(path: Path) -> None:
    cells = (b'<c t="n"><v>%d</v></c>' % n for n in range(1_000_000))
    workbook(path, [_NS, b'<row r="1">', *cells, b"</row>", _END])


def _entity_expansion(path: Path) -> None:  # "billion laughs" in the shared strings
    entities = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10 if n else "lol"}">' for n in range(10))
    doctype = f"<!DOCTYPE sst [{entities}]>".encode()
    workbook(path, _NS + _END)
    with zipfile.ZipFile(path) as old:
        parts = {info.filename: old.read(info) for info in old.infolist()}
    parts["xl/sharedStrings.xml"] = (
        doctype + b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<si><t>&l9;</t></si></sst>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for name, data in parts.items():
            new.writestr(name, data)


HUGE = {
    "header_100000_columns.csv": (
        _header_of_100000_columns,
        "line 1: the header must be sku,name,barcodes,serialized,serial_length,serial_pattern"
        " (found c0,c1,c2,c3,c4,c5,c6,c7,c8,c9,c10,c11,… (100,000 columns))",
    ),
    "field_10_mb.csv": (
        _field_of_10_mb,
        "is not a readable CSV file: line 2 is longer than 1,048,576 characters",
    ),
    "shared_string_300_mb.xlsx": (
        _shared_string_of_300_mb,
        "is too large to import: the shared string table (xl/sharedStrings.xml) unpacks to"
        " 300 MB, more than 64 MB; split the file or save it as CSV",
    ),
    "zip_bomb.xlsx": (
        _zip_bomb,
        "is not a workbook Station reads: xl/worksheets/sheet1.xml unpacks",
    ),
    "cell_5_mb.xlsx": (
        _cell_of_5_mb,
        "is not a workbook Station reads: xl/worksheets/sheet1.xml holds a text of more than"
        " 1 MB (a cell holds at most 32,767 characters)",
    ),
    "row_20_mb.xlsx": (
        _row_of_20_mb,
        "is not a workbook Station reads: xl/worksheets/sheet1.xml holds a row of more than 16 MB",
    ),
    "entity_expansion.xlsx": (
        _entity_expansion,
        "is not a workbook Station reads: xl/sharedStrings.xml declares a DOCTYPE (entities),"
        " which spreadsheets never do",
    ),
}


@pytest.fixture(scope="module")
def huge_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hostile files, made once for both databases."""
    folder = tmp_path_factory.mktemp("huge")
    for name, (make, _) in HUGE.items():
        make(folder / name)
    return folder


@pytest.mark.parametrize("name", list(HUGE))
def test_a_huge_file_is_refused_fast_whole_and_in_bounded_memory(
    station: Callable[..., tuple[int, str, str]],
    db_url: str,
    engine: Engine,
    tmp_path: Path,
    huge_files: Path,
    name: str,
) -> None:
    outcome = run_measured(
        db_url, tmp_path / "data", "import", "products", str(huge_files / name), "--user", "sue"
    )
    assert outcome.status == EXIT_FAILED, outcome
    assert outcome.err.startswith(f"station: IMPORT_INVALID: {name}: "), outcome.err
    assert HUGE[name][1] in outcome.err, outcome.err
    assert "Traceback" not in outcome.err and not outcome.out
    assert len(outcome.err.splitlines()) == 1, outcome.err
    assert outcome.peak_mb < MAX_PEAK_MB, f"{name}: peak RSS {outcome.peak_mb:.0f} MB"
    assert count(engine, Product) == 0


HEAD = PRODUCTS.encode()
ROWS = "".join(f"M-{n},Part {n},,no,,\n" for n in range(400)).encode()  # past 4 KB
MALFORMED = {
    "utf16.csv": (
        (PRODUCTS + "A-1,Alpha,,no,,\n").encode("utf-16"),
        "is UTF-16 text; save it as CSV UTF-8 or as an XLSX workbook",
    ),
    "utf16_without_bom.csv": (
        (PRODUCTS + "A-1,Alpha,,no,,\n").encode("utf-16-le"),
        "is UTF-16 text; save it as CSV UTF-8 or as an XLSX workbook",
    ),
    "utf32.csv": (
        (PRODUCTS + "A-1,Alpha,,no,,\n").encode("utf-32"),
        "is UTF-32 text; save it as CSV UTF-8 or as an XLSX workbook",
    ),
    "latin1.csv": (
        HEAD + ROWS + "A-1,Caf\xe9,,no,,\n".encode("latin-1"),
        "is not UTF-8 text (line 402 holds the byte 0xE9); save it as CSV UTF-8",
    ),
    "cut_utf8.csv": (
        HEAD + "A-1,Caf\xe9".encode()[:-1],
        "is not UTF-8 text (line 2 holds the byte 0xC3)",
    ),
    "nul_after_4k.csv": (
        HEAD + ROWS + b"A-1,Al\x00pha,,no,,\n",
        "is not a CSV or XLSX file: line 402 holds a NUL byte (binary data)",
    ),
    "binary.csv": (
        bytes(range(256)) * 64,
        "is not a CSV or XLSX file (it holds binary data)",
    ),
    "empty.csv": (
        b"",
        "is empty; the first line must be the header sku,name,barcodes,serialized",
    ),
    "header_only.csv": (HEAD, "has a header but no rows"),
    "bom_twice.csv": (
        codecs.BOM_UTF8 + HEAD + codecs.BOM_UTF8 + b"A-1,Alpha,,no,,\n",
        "line 2: sku '\\ufeffA-1' holds control characters",
    ),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_malformed_file_gets_one_clear_message_and_nothing_is_written(
    station: Callable[..., tuple[int, str, str]], engine: Engine, tmp_path: Path, name: str
) -> None:
    content, expected = MALFORMED[name]
    status, out, err = station(
        "import", "products", write(tmp_path, name, content), "--user", "sue"
    )
    assert status == EXIT_FAILED and not out
    assert err.startswith(f"station: IMPORT_INVALID: {name}: "), err
    assert expected in err, err
    assert "Traceback" not in err
    assert count(engine, Product) == 0


def test_a_file_with_a_bom_imports(
    station: Callable[..., tuple[int, str, str]], engine: Engine, tmp_path: Path
) -> None:
    path = write(tmp_path, "bom.csv", codecs.BOM_UTF8 + HEAD + b"A-1,Alpha,,no,,\n")
    status, out, _ = station("import", "products", path, "--user", "sue")
    assert status == 0 and "1 products" in out
    assert count(engine, Product) == 1
