"""Printers by URL: loopback TCP printers, a pty serial printer, files, a fake `lpr`."""

from __future__ import annotations

import os
import select
import stat
from pathlib import Path

import pytest
from fake_printers import ZPL_STATUS_PAPER_OUT, FakePrinter

from station.devices.errors import (
    BadDeviceSetting,
    DeviceError,
    DeviceOffline,
    DeviceRefused,
    DeviceTimeout,
    PrinterNotReady,
)
from station.devices.labels import SerialLabel, serial_label_escpos, serial_label_zpl
from station.devices.printers import open_printer
from station.devices.printers.file import EscposFilePrinter, ZplFilePrinter
from station.devices.printers.serial_port import EscposSerialPrinter
from station.devices.printers.spool import ZplQueuePrinter
from station.devices.printers.tcp import EscposTcpPrinter, ZplTcpPrinter
from station.devices.printers.usb import EscposUsbPrinter

LABEL = SerialLabel("SKU-1", "Widget", "AB^XA~JR")


def test_zpl_tcp_printer_receives_the_exact_bytes(printer_server: FakePrinter) -> None:
    printer = open_printer(f"zpl+tcp://127.0.0.1:{printer_server.port}")
    printer.send(printer.serial_label(LABEL))
    assert printer_server.wait_for(1) == [serial_label_zpl(LABEL)]


def test_escpos_tcp_printer_receives_the_exact_bytes(printer_server: FakePrinter) -> None:
    printer = open_printer(f"escpos+tcp://127.0.0.1:{printer_server.port}")
    printer.send(printer.serial_label(LABEL))
    assert printer_server.wait_for(1) == [serial_label_escpos(LABEL)]


@pytest.mark.parametrize("protocol", ["zpl", "escpos"])
def test_refused_connection(protocol: str, refusing_port: int) -> None:
    printer = open_printer(f"{protocol}+tcp://127.0.0.1:{refusing_port}")
    with pytest.raises(DeviceRefused, match="refused the connection"):
        printer.send(b"x")


@pytest.mark.parametrize("protocol", ["zpl", "escpos"])
def test_hanging_printer_times_out(protocol: str, hanging_port: int) -> None:
    printer = open_printer(f"{protocol}+tcp://127.0.0.1:{hanging_port}?timeout=0.3")
    with pytest.raises(DeviceTimeout, match=r"did not answer|no answer"):
        printer.send(b"x")


def test_zpl_printer_out_of_paper_is_not_ready() -> None:
    server = FakePrinter(zpl_status=ZPL_STATUS_PAPER_OUT)
    try:
        with pytest.raises(PrinterNotReady, match="out of paper"):
            open_printer(f"zpl+tcp://127.0.0.1:{server.port}").send(b"^XA^XZ")
    finally:
        server.close()


def test_file_transports_append_jobs(tmp_path: Path) -> None:
    path = tmp_path / "labels.zpl"
    zpl = open_printer(f"zpl+file://{path}")
    zpl.send(b"one")
    zpl.send(b"two")
    assert path.read_bytes() == b"onetwo"
    receipt = tmp_path / "receipt.bin"
    escpos = open_printer(f"file://{receipt}", default_protocol="escpos")
    assert isinstance(escpos, EscposFilePrinter)
    escpos.send(escpos.serial_label(LABEL))
    assert receipt.read_bytes() == serial_label_escpos(LABEL)


def test_file_in_a_missing_directory_is_offline(tmp_path: Path) -> None:
    with pytest.raises(DeviceOffline, match="no such device or file"):
        open_printer(f"zpl+file://{tmp_path}/gone/x.zpl").send(b"x")


def test_escpos_serial_printer_on_a_pty() -> None:
    master, slave = os.openpty()
    try:
        printer = open_printer(f"escpos+serial://{os.ttyname(slave)}?baudrate=19200")
        assert isinstance(printer, EscposSerialPrinter)
        assert printer.baudrate == 19200
        data = printer.serial_label(LABEL)
        printer.send(data)
        received = b""
        while len(received) < len(data):
            ready, _, _ = select.select([master], [], [], 5)
            assert ready, "the serial printer got nothing"
            received += os.read(master, 65536)
        assert received == data
    finally:
        os.close(master)
        os.close(slave)


def test_missing_serial_port_is_offline(tmp_path: Path) -> None:
    with pytest.raises(DeviceOffline):
        open_printer(f"escpos+serial://{tmp_path}/ttyNOPE").send(b"x")


def test_usb_printer_that_is_not_there_is_a_device_error() -> None:
    printer = open_printer("escpos+usb://04b8:0202")
    assert isinstance(printer, EscposUsbPrinter)
    assert (printer.vendor_id, printer.product_id) == (0x04B8, 0x0202)
    with pytest.raises(DeviceError):
        printer.send(b"x")


def fake_lpr(tmp_path: Path, exit_code: int) -> Path:
    """A real `lpr` executable on PATH that records its arguments and stdin."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    lpr = bindir / "lpr"
    lpr.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > "{tmp_path}/lpr.args"\n'
        f'cat > "{tmp_path}/lpr.stdin"\n'
        f'[ {exit_code} -eq 0 ] || echo "lpr: The printer or class does not exist." >&2\n'
        f"exit {exit_code}\n"
    )
    lpr.chmod(lpr.stat().st_mode | stat.S_IEXEC)
    return bindir


def test_zpl_queue_sends_raw_bytes_through_lpr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{fake_lpr(tmp_path, 0)}{os.pathsep}{os.environ['PATH']}")
    printer = open_printer("zpl+queue://Zebra_GK420d")
    assert isinstance(printer, ZplQueuePrinter)
    data = serial_label_zpl(SerialLabel("S", "Ünï", "é~^"))
    printer.send(data)
    assert (tmp_path / "lpr.stdin").read_bytes() == data
    assert (tmp_path / "lpr.args").read_text().split() == ["-PZebra_GK420d", "-oraw"]


def test_zpl_queue_failure_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{fake_lpr(tmp_path, 1)}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(DeviceRefused, match="does not exist"):
        open_printer("zpl+queue://nope").send(b"^XA^XZ")


def test_open_printer_urls(tmp_path: Path) -> None:
    assert isinstance(open_printer("zpl+tcp://10.0.0.5"), ZplTcpPrinter)
    tcp = open_printer("escpos+tcp://printer.local:9101?timeout=2&status=0")
    assert isinstance(tcp, EscposTcpPrinter)
    assert (tcp.host, tcp.port, tcp.timeout, tcp.status) == ("printer.local", 9101, 2.0, False)
    assert isinstance(open_printer(f"file://{tmp_path}/x"), ZplFilePrinter)
    for bad in ("lpt://x", "zpl+usb://04b8:0202", "escpos+queue://Q", "zpl+tcp://", "x+tcp://h"):
        with pytest.raises(BadDeviceSetting):
            open_printer(bad)
