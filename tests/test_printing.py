"""What prints after a posting: through `station scan` to a loopback network printer,
a file printer, a closed port and a missing template. The posting's result line comes
first (with its jobs rendered and recorded), the printing after; printing never undoes
or hides a posting."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from station.cli import main
from station.db import company
from station.journal import journal_path
from tests.devices.fake_printers import FakePrinter
from tests.seed import seed
from tests.workflow import ask, configure, start_scan


@pytest.fixture
def printer() -> FakePrinter:
    server = FakePrinter()
    yield server
    server.close()


def scan(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    db_url: str,
    args: list[str],
    scans: list[str],
) -> tuple[int, list[dict[str, Any]], str]:
    """`station scan` in-process: its exit status, its JSON lines and its stderr."""
    data = "".join(f"{s}\n" for s in scans).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    capsys.readouterr()
    status = main(["--db", db_url, "scan", *args])
    captured = capsys.readouterr()
    return status, [json.loads(line) for line in captured.out.splitlines()], captured.err


def jobs(engine: Engine) -> list[tuple[str, str, str, int]]:
    with engine.connect() as c:
        rows = c.execute(
            text("SELECT label, status, coalesce(error, ''), length(payload) FROM print_jobs")
        ).all()
    return [tuple(row) for row in rows]


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        return int(server.getsockname()[1])


def test_generated_serials_print_their_labels(
    db_url: str,
    engine: Engine,
    printer: FakePrinter,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed(engine)
    configure(
        engine, "DOCK-P", generate_serials=True, label_printer=f"zpl+tcp://127.0.0.1:{printer.port}"
    )
    status, out, err = scan(
        monkeypatch, capsys, db_url, ["--station", "DOCK-P", "--receive", "PO-1"],
        ["W1", "SCANNED-1", "W1", "W1", "CMD-SAVE"],
    )  # fmt: skip
    posted = out[-1]
    assert status == 0 and posted["posted"] is True and err == ""
    assert (posted["printing"], posted["print_jobs"]) == ("queued", 2)
    assert len(posted["generated"]) == 2
    sent = printer.wait_for(2)
    for serial, job in zip(posted["generated"], sent, strict=True):
        assert serial.encode() in job and job.count(b"^XA") == 1
    assert not any(b"SCANNED-1" in job for job in sent)  # it carries its label already
    with engine.connect() as c:
        recorded = c.execute(text("SELECT status, document_kind FROM print_jobs")).all()
    assert [tuple(r) for r in recorded] == [("printed", "receipt")] * 2


def test_packing_slip_after_shipping_and_a_dead_printer_is_reported(
    db_url: str,
    engine: Engine,
    printer: FakePrinter,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed(engine)
    configure(engine, "PACK-P", label_printer=f"zpl+tcp://127.0.0.1:{printer.port}")
    status, out, err = scan(
        monkeypatch, capsys, db_url, ["--station", "PACK-P", "--ship", "SO-1"],
        ["W1", "WS-1", "WS-2", "CABLE3", "CMD-SAVE"],
    )  # fmt: skip
    assert out[-1]["posted"] is True and out[-1]["printing"] == "queued"
    assert out[-1]["print_jobs"] == 1 and err == ""
    (slip,) = printer.wait_for(1)
    assert b"SO-1" in slip and b"WS-1" in slip and b"WS-2" in slip
    # A printer that is off: the shipment stands, the error is named, the job is kept.
    configure(engine, "PACK-P", label_printer=f"zpl+tcp://127.0.0.1:{closed_port()}?timeout=1")
    status, out, err = scan(
        monkeypatch, capsys, db_url, ["--station", "PACK-P", "--ship", "SO-2"],
        ["W1", "WS-4", "CMD-SAVE"],
    )  # fmt: skip
    assert status == 0 and out[-1]["posted"] is True and out[-1]["print_jobs"] == 1
    shipment = out[-1]["document"]
    assert err.startswith(f"station: PRINT_FAILED: 1 of 1 print job for {shipment} not printed")
    assert "refused the connection" in err
    assert f"station reprint {shipment} --station PACK-P" in err
    with engine.connect() as c:
        failed = c.execute(
            text("SELECT count(*) FROM print_jobs WHERE status = 'failed'")
        ).scalar_one()
    assert failed == 1


def test_a_shipment_at_a_station_without_a_printer_prints_and_reports_nothing(
    db_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """print_packing_slip is on by default; with no printer set at the station there is
    no slip to print and nothing to report (a receipt's labels are still asked for)."""
    seed(engine)
    status, out, err = scan(
        monkeypatch, capsys, db_url, ["--station", "PACK-N", "--ship", "SO-1"],
        ["W1", "WS-1", "WS-2", "CABLE3", "CMD-SAVE"],
    )  # fmt: skip
    assert status == 0 and err == "" and out[-1]["posted"] is True, out[-1]
    assert not {"printing", "print_jobs", "print_errors"} & set(out[-1]), out[-1]
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM print_jobs")).scalar_one() == 0


@pytest.mark.parametrize("printer_kind", ["closed port", "not a folder", "missing template"])
def test_a_posting_stands_whatever_the_printer_does(
    printer_kind: str,
    db_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """The bug: a station with a label printer crashed right after the posting
    committed, with no result line, no job recorded and the journal already cleared."""
    seed(engine)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    url = {
        "closed port": f"zpl+tcp://127.0.0.1:{closed_port()}?timeout=2",
        "not a folder": f"file://{blocker}/labels.zpl",
        "missing template": f"file://{tmp_path}/labels.zpl",
    }[printer_kind]
    if printer_kind == "missing template":
        monkeypatch.setenv("STATION_LABELS_DIR", str(tmp_path / "no-templates"))
    configure(engine, "DOCK-F", print_label_on_receive=True, label_printer=url)
    args = ["--station", "DOCK-F", "--receive", "PO-1"]
    scans = ["W1", "FAIL-1", "W1", "FAIL-2", "CMD-SAVE"]
    status, out, err = scan(monkeypatch, capsys, db_url, args, scans)

    assert status == 0  # the input was processed and the posting succeeded (SPEC §7)
    assert len(out) == len(scans)  # one line per input line, the posting's last
    posted = out[-1]
    assert posted["posted"] is True and posted["units"] == 2
    assert "Traceback" not in err
    assert not journal_path("receive", "DOCK-F", "PO-1").exists()
    with engine.connect() as c:
        units = c.execute(text("SELECT serial FROM units WHERE serial LIKE 'FAIL-%'")).scalars()
        assert sorted(units) == ["FAIL-1", "FAIL-2"]
    if printer_kind == "missing template":
        # nothing could be rendered: said in the result line, with its code and path
        assert (posted["printing"], posted["print_jobs"]) == ("failed", 0)
        [error] = posted["print_errors"]
        assert error["code"] == "LABEL_TEMPLATE_MISSING"
        assert "serial_label.zpl" in error["message"] and "no-templates" in error["message"]
        assert jobs(engine) == [] and err == ""
        return
    # rendered and recorded before the line; the printer's failure follows on stderr
    assert (posted["printing"], posted["print_jobs"]) == ("queued", 2)
    document = posted["document"]
    assert err.startswith(f"station: PRINT_FAILED: 2 of 2 print jobs for {document}")
    assert f"station reprint {document} --station DOCK-F" in err
    recorded = jobs(engine)
    assert [(label, status) for label, status, _e, _n in recorded] == [
        ("FAIL-1", "failed"),
        ("FAIL-2", "failed"),
    ]
    assert all(error and size > 0 for _l, _s, error, size in recorded)  # kept for a reprint


def test_the_result_line_comes_before_the_printer_answers(
    db_url: str, engine: Engine, printer: FakePrinter, tmp_path: Path
) -> None:
    """A hung printer: the posting's line is out while the job still waits for it."""
    seed(engine)
    printer.hanging.set()
    url = f"zpl+tcp://127.0.0.1:{printer.port}?timeout=60"
    configure(engine, "DOCK-H", print_label_on_receive=True, label_printer=url)
    process = start_scan(db_url, tmp_path / "data", "--station", "DOCK-H", "--receive", "PO-1")
    assert ask(process, "W1")["ok"] and ask(process, "HUNG-1")["ok"]
    posted = ask(process, "CMD-SAVE")
    assert posted["posted"] is True and posted["printing"] == "queued"
    assert printer.jobs == []  # nothing has reached the printer yet
    with engine.connect() as c:
        status = c.execute(text("SELECT status FROM print_jobs")).scalar_one()
    assert status == "queued"  # recorded before the line was written
    printer.wait_held(1)  # the job is at the printer, which does not answer
    printer.close()  # then goes away: the job fails, and stays for a reprint
    out, err = process.communicate(b"", timeout=60)
    assert process.returncode == 0 and out == b""
    assert b"PRINT_FAILED: 1 of 1 print job" in err and b"Traceback" not in err


def test_an_escpos_label_printer_and_an_emoji_serial(
    db_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """Its label is refused with LABEL_UNPRINTABLE in the result; the others print."""
    seed(engine)
    with engine.begin() as connection:
        company.set_serial_charset(connection, "unicode")
    out_file = tmp_path / "receipt-printer.bin"
    configure(
        engine, "DOCK-E", print_label_on_receive=True, label_printer=f"escpos+file://{out_file}"
    )
    args = ["--station", "DOCK-E", "--receive", "PO-1"]
    status, out, err = scan(
        monkeypatch, capsys, db_url, args, ["W1", "EMO-\U0001f600", "W1", "EMO-OK", "CMD-SAVE"]
    )
    assert status == 0 and err == "" and len(out) == 5
    posted = out[-1]
    assert posted["posted"] is True and posted["units"] == 2
    assert (posted["printing"], posted["print_jobs"]) == ("failed", 1)
    [error] = posted["print_errors"]
    assert error["code"] == "LABEL_UNPRINTABLE"
    assert "EMO-\U0001f600" in error["message"] and "U+1F600" in error["message"]
    printed = out_file.read_bytes()
    assert b"EMO-OK\n" in printed and printed.count(b"\x1dV") == 1  # one label, one cut
    assert [(label, status) for label, status, _e, _n in jobs(engine)] == [("EMO-OK", "printed")]


def run_station(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "station", *args],
        capture_output=True,
        timeout=60,
        env={**os.environ, "STATION_DATA_DIR": str(tmp_path / "data"), **env},
        check=False,
    )


def test_label_commands_name_an_unprintable_serial_or_a_missing_template(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    seed(engine)
    emoji = run_station(
        tmp_path, "--db", db_url, "label", "--sku", "W1", "--serial", "SN-\U0001f600",
        "--format", "escpos",
    )  # fmt: skip
    assert emoji.returncode == 1 and emoji.stdout == b""
    message = emoji.stderr.decode()
    assert message.startswith("station: LABEL_UNPRINTABLE: The serial 'SN-\U0001f600'")
    assert "Traceback" not in message
    nowhere = str(tmp_path / "no-templates")
    for args in (
        ("--db", db_url, "label", "--sku", "W1", "--serial", "SN-1"),
        ("--db", db_url, "label", "--sku", "W1", "--serial", "SN-1", "--format", "png"),
        ("print-test", f"file://{tmp_path}/test.zpl"),
    ):
        missing = run_station(tmp_path, *args, STATION_LABELS_DIR=nowhere)
        assert missing.returncode == 1 and missing.stdout == b"", args
        text_ = missing.stderr.decode()
        assert text_.startswith("station: LABEL_TEMPLATE_MISSING: The label template"), text_
        assert f"{nowhere}/serial_label.zpl" in text_ and "Traceback" not in text_


def test_a_site_template_with_an_unknown_field_is_named(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    seed(engine)
    site = tmp_path / "site-labels"
    site.mkdir()
    (site / "serial_label.zpl").write_text("^XA^FD$serial_number^FS^XZ\n")
    broken = run_station(
        tmp_path, "--db", db_url, "label", "--sku", "W1", "--serial", "SN-1",
        STATION_LABELS_DIR=str(site),
    )  # fmt: skip
    assert broken.returncode == 1 and broken.stdout == b""
    message = broken.stderr.decode()
    assert message.startswith("station: LABEL_TEMPLATE_INVALID: The label template")
    assert "(KeyError: 'serial_number')" in message
    assert "its fields are $barcode, $module, $name, $sku, $text" in message
