"""`station label`, `station devices` and `station print-test` through `station.cli.main`."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import zxingcpp
from fake_printers import FakePrinter
from PIL import Image
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from station.cli import main
from station.db.models import Barcode, Product
from station.devices.labels import SerialLabel, serial_label_zpl

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
