"""`station label`, `station devices` and `station print-test` through `station.cli.main`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import zxingcpp
from fake_printers import FakePrinter
from PIL import Image
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from station.cli import main
from station.db import print_jobs
from station.db.models import Barcode, Product
from station.devices.labels import SerialLabel, serial_label_zpl
from station.devices.print_queue import PrintQueue
from station.devices.printers import open_printer

HOSTILE = "AB^XA~JR\\é_>"


@pytest.fixture
def product(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        widget = Product(sku="W-1", name="Widget ^XZ", serialized=True)
        session.add_all([widget, Product(sku="G-1", name="Gadget", serialized=True)])
        session.flush()
        session.add(Barcode(product_id=widget.id, code="9506000134352", gtin="09506000134352"))


def test_label_zpl_to_stdout_for_a_hostile_serial(
    db_url: str, product: None, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    assert main(["--db", db_url, "label", "--sku", "G-1", "--serial", HOSTILE]) == 0
    zpl = capfdbinary.readouterr().out
    assert zpl == serial_label_zpl(SerialLabel("G-1", "Gadget", HOSTILE))
    assert zpl.count(b"^XA") == 1
    assert zpl.count(b"^XZ") == 1


@pytest.mark.parametrize("serial", ["SN-1", HOSTILE])
def test_label_png_decodes_to_the_exact_serial(
    db_url: str, product: None, tmp_path: Path, serial: str
) -> None:
    out = tmp_path / "label.png"
    args = ["--db", db_url, "label", "--sku", "G-1", "--serial", serial, "--format", "png"]
    assert main([*args, "--out", str(out)]) == 0
    [found] = zxingcpp.read_barcodes(Image.open(out))
    assert found.bytes.decode("utf-8") == serial


def test_label_with_gtin_is_gs1_and_png_goes_to_stdout(
    db_url: str, product: None, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    args = ["--db", db_url, "label", "--sku", "W-1", "--serial", "SN7", "--format", "png"]
    assert main(args) == 0
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(capfdbinary.readouterr().out)))
    assert found.text == "(01)09506000134352(21)SN7"


def test_label_escpos(db_url: str, product: None, tmp_path: Path) -> None:
    out = tmp_path / "label.bin"
    args = ["--db", db_url, "label", "--sku", "G-1", "--serial", "SN-1", "--format", "escpos"]
    assert main([*args, "--out", str(out)]) == 0
    assert b"\x1dkI\x06{BSN-1" in out.read_bytes()


def test_label_for_an_unknown_sku(db_url: str, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["--db", db_url, "label", "--sku", "NOPE", "--serial", "X"]) == 1
    assert b"UNKNOWN_ITEM" in capfdbinary.readouterr().err


def test_print_test_to_a_loopback_printer(
    printer_server: FakePrinter, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    assert main(["print-test", f"zpl+tcp://127.0.0.1:{printer_server.port}"]) == 0
    [job] = printer_server.wait_for(1)
    assert job.startswith(b"^XA") and b"TEST-0123456789" in job
    assert b"Test label sent" in capfdbinary.readouterr().out


def test_print_test_failures(refusing_port: int, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["print-test", f"escpos+tcp://127.0.0.1:{refusing_port}"]) == 1
    assert b"refused the connection" in capfdbinary.readouterr().err
    assert main(["print-test", "lpt://nowhere"]) == 2


def test_devices_lists_ports_and_the_station_devices(
    db_url: str, tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    assert main(["--db", db_url, "devices", "--station", "DOCK-1"]) == 0
    text = capfdbinary.readouterr().out.decode()
    assert "Serial ports:" in text
    assert "Station DOCK-1:" in text
    assert "scanner          keyboard  keyboard wedge" in text
    assert "label_printer    (none)" in text


def _set_printers(engine: Engine, station: str, **urls: str) -> None:
    from station import stations
    from station.db import admin

    station_id = stations.register(engine, station)
    with engine.begin() as connection:
        for key, url in urls.items():
            admin.write_option(connection, station_id, key, None, json.dumps(url), "test")


def test_reprint_sends_a_documents_jobs_to_the_station_printers(
    db_url: str,
    engine: Engine,
    printer_server: FakePrinter,
    tmp_path: Path,
    capfdbinary: pytest.CaptureFixture[bytes],
) -> None:
    old_labels = tmp_path / "gone" / "labels.zpl"  # the printer the jobs were recorded for
    receipts = tmp_path / "receipts.bin"
    with PrintQueue(open_printer(f"zpl+file://{old_labels}"), engine) as jobs:
        tickets = [
            jobs.submit("receipt", "PO-5", "SN-1", b"^XA^FDSN-1^FS^XZ"),
            jobs.submit("receipt", "PO-5", "SN-2", b"^XA^FDSN-2^FS^XZ"),
            jobs.submit("receipt", "PO-6", "SN-3", b"^XA^FDother^FS^XZ"),
        ]
        assert all(t.wait(10) for t in tickets)
    assert {t.status for t in tickets} == {"failed"}
    print_jobs.add_jobs(  # a receipt-printer job for the same number
        engine, [print_jobs.NewJob(f"escpos+file://{receipts}", "receipt", "PO-5", "slip", b"R")]
    )
    label_url = f"zpl+tcp://127.0.0.1:{printer_server.port}"
    _set_printers(engine, "DOCK-1", label_printer=label_url)

    assert main(["--db", db_url, "reprint", "PO-5", "--station", "DOCK-1"]) == 0
    lines = capfdbinary.readouterr().out.decode().splitlines()
    assert len(lines) == 3
    assert lines[0].endswith(f"receipt PO-5 SN-1 -> {label_url}: printed")
    assert lines[1].endswith(f"receipt PO-5 SN-2 -> {label_url}: printed")
    # no receipt printer set: the ESC/POS job goes to the printer it was recorded for
    assert lines[2].endswith(f"receipt PO-5 slip -> escpos+file://{receipts}: printed")
    assert printer_server.wait_for(2) == [b"^XA^FDSN-1^FS^XZ", b"^XA^FDSN-2^FS^XZ"]
    assert receipts.read_bytes() == b"R"
    records = print_jobs.jobs_for_number(engine, "PO-5")
    assert {r.status for r in records} == {"printed"}
    assert [r.status for r in print_jobs.jobs_for_number(engine, "PO-6")] == ["failed"]


def test_reprint_reports_each_failed_job_and_exits_1(
    db_url: str, engine: Engine, refusing_port: int, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    url = f"zpl+tcp://127.0.0.1:{refusing_port}"
    print_jobs.add_jobs(
        engine,
        [print_jobs.NewJob(url, "shipment", "SO-1", f"slip {n}", b"^XA^XZ") for n in range(3)],
    )
    _set_printers(engine, "DOCK-2", label_printer=url)
    assert main(["--db", db_url, "reprint", "SO-1", "--station", "DOCK-2"]) == 1
    lines = capfdbinary.readouterr().out.decode().splitlines()
    assert len(lines) == 3
    assert all("refused the connection" in line for line in lines)
    records = print_jobs.jobs_for_number(engine, "SO-1", "shipment")
    assert {(r.status, r.attempts) for r in records} == {("failed", 1)}


def test_reprint_of_a_document_without_jobs(
    db_url: str, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    assert main(["--db", db_url, "reprint", "PO-404", "--station", "DOCK-1"]) == 1
    assert b"no print jobs" in capfdbinary.readouterr().err
