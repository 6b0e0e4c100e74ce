"""Serial scanners on a real pseudo-terminal pair: the test writes to the master end as a
scanner would; the reader thread on the slave end yields the scans."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.devices.errors import BadDeviceSetting
from station.devices.serial_scanner import (
    CONNECTED,
    DISCONNECTED,
    STOPPED,
    ScanFramer,
    SerialScanner,
    SerialScannerConfig,
    parse_scanner_setting,
)
from station.scanning import read_scan

TIMEOUT = 5.0


class Pty:
    """A pseudo-terminal; `path` is a symlink to its slave so it can be "replugged"."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.master = -1
        self.plug()

    def plug(self) -> None:
        master, slave = os.openpty()
        name = os.ttyname(slave)
        os.close(slave)
        self.master = master
        tmp = self.path.with_suffix(".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(name)
        tmp.replace(self.path)

    def unplug(self) -> None:
        os.close(self.master)
        self.master = -1

    def write(self, data: bytes) -> None:
        os.write(self.master, data)


class Reader:
    """A started SerialScanner whose scans and states land in queues."""

    def __init__(self, config: SerialScannerConfig) -> None:
        self.scans: queue.Queue[str | bytes] = queue.Queue()
        self.states: queue.Queue[str] = queue.Queue()
        self.connected = threading.Event()
        self.scanner = SerialScanner(
            config, self.scans.put, self._state, retry_min=0.01, retry_max=0.1
        )

    def _state(self, state: str, _detail: str) -> None:
        self.states.put(state)
        if state == CONNECTED:
            self.connected.set()
        else:
            self.connected.clear()

    def wait_state(self, wanted: str) -> None:
        while True:
            if self.states.get(timeout=TIMEOUT) == wanted:
                return

    def next_scan(self) -> str | bytes:
        return self.scans.get(timeout=TIMEOUT)


@pytest.fixture
def pty(tmp_path: Path) -> Iterator[Pty]:
    device = Pty(tmp_path / "scanner")
    yield device
    if device.master >= 0:
        device.unplug()


def start(pty: Pty, **settings: object) -> Reader:
    reader = Reader(SerialScannerConfig(port=str(pty.path), **settings))  # type: ignore[arg-type]
    reader.scanner.start()
    reader.wait_state(CONNECTED)  # open() flushes input: write only after it
    return reader


def test_scans_split_over_writes_are_reassembled(pty: Pty) -> None:
    reader = start(pty)
    try:
        for piece in (b"SN-0", b"00", b"1\rSN-0002", b"\r"):
            pty.write(piece)
        assert reader.next_scan() == "SN-0001"
        assert reader.next_scan() == "SN-0002"
    finally:
        reader.scanner.stop()


@pytest.mark.parametrize(
    ("terminator", "data"),
    [
        ("any", b"A1\rB2\nC3\r\n"),
        ("cr", b"A1\rB2\rC3\r"),
        ("lf", b"A1\nB2\nC3\n"),
        ("crlf", b"A1\r\nB2\r\nC3\r\n"),
    ],
)
def test_terminators(pty: Pty, terminator: str, data: bytes) -> None:
    reader = start(pty, terminator=terminator)
    try:
        pty.write(data)
        assert [reader.next_scan() for _ in range(3)] == ["A1", "B2", "C3"]
    finally:
        reader.scanner.stop()


def test_gs1_with_group_separators_and_prefix_suffix(pty: Pty) -> None:
    reader = start(pty, prefix=b"<", suffix=b">")
    try:
        pty.write(b"<]C10109506000134352\x1d21SER-77\x1d10LOT1>\r\n")
        scan = reader.next_scan()
        assert scan == "]C10109506000134352\x1d21SER-77\x1d10LOT1"
        read = read_scan(scan)
        assert (read.kind, read.gtin, read.serial) == ("gs1", "09506000134352", "SER-77")
    finally:
        reader.scanner.stop()


def test_garbage_bytes_arrive_as_bytes_and_read_as_unreadable(pty: Pty) -> None:
    reader = start(pty)
    try:
        pty.write(b"\xff\xfe\x80bad\rGOOD-1\r")
        garbage = reader.next_scan()
        assert garbage == b"\xff\xfe\x80bad"
        assert read_scan(garbage).kind == "unreadable"
        assert reader.next_scan() == "GOOD-1"  # the thread lives on
    finally:
        reader.scanner.stop()


def test_unplug_and_replug_reconnects(pty: Pty) -> None:
    reader = start(pty)
    try:
        pty.write(b"BEFORE\r")
        assert reader.next_scan() == "BEFORE"
        pty.unplug()
        reader.wait_state(DISCONNECTED)
        pty.plug()  # a new device appears at the same path
        reader.wait_state(CONNECTED)
        pty.write(b"AFTER\r")
        assert reader.next_scan() == "AFTER"
    finally:
        reader.scanner.stop()
    reader.wait_state(STOPPED)


def test_missing_port_reports_disconnected_until_it_appears(tmp_path: Path) -> None:
    path = tmp_path / "later"
    reader = Reader(SerialScannerConfig(port=str(path)))
    reader.scanner.start()
    try:
        reader.wait_state(DISCONNECTED)
        assert "cannot open" in reader.scanner.detail
        device = Pty(path)
        reader.wait_state(CONNECTED)
        device.write(b"LATE\r")
        assert reader.next_scan() == "LATE"
        device.unplug()
    finally:
        reader.scanner.stop()


def test_a_failing_callback_does_not_kill_the_reader(pty: Pty) -> None:
    seen: queue.Queue[str | bytes] = queue.Queue()

    def explode(scan: str | bytes) -> None:
        seen.put(scan)
        raise RuntimeError("session bug")

    scanner = SerialScanner(SerialScannerConfig(port=str(pty.path)), explode)
    connected = threading.Event()
    scanner.on_state = lambda state, _d: connected.set() if state == CONNECTED else None
    scanner.start()
    try:
        assert connected.wait(TIMEOUT)
        pty.write(b"ONE\rTWO\r")
        assert [seen.get(timeout=TIMEOUT), seen.get(timeout=TIMEOUT)] == ["ONE", "TWO"]
    finally:
        scanner.stop()


def test_parse_scanner_setting() -> None:
    assert parse_scanner_setting("keyboard") is None
    assert parse_scanner_setting("serial:/dev/ttyACM0") == SerialScannerConfig("/dev/ttyACM0")
    config = parse_scanner_setting("serial:COM3@115200")
    assert config is not None
    assert (config.port, config.baudrate, config.setting) == ("COM3", 115200, "serial:COM3@115200")
    with pytest.raises(BadDeviceSetting):
        parse_scanner_setting("usb:1234")
    with pytest.raises(BadDeviceSetting):
        SerialScannerConfig("COM1", terminator="semicolon")


def test_scanner_setting_with_framing() -> None:
    config = parse_scanner_setting("serial:/dev/ttyUSB0@115200?term=crlf&prefix=%02&suffix=%03")
    assert config == SerialScannerConfig("/dev/ttyUSB0", 115200, "crlf", b"\x02", b"\x03")
    assert parse_scanner_setting(config.setting) == config  # the setting round-trips
    framer = ScanFramer(config)
    assert framer.feed(b"\x02SN-1\x03\r\n\x02SN") == [b"SN-1"]
    assert framer.feed(b"-2\x03\r\n") == [b"SN-2"]
    with pytest.raises(BadDeviceSetting):
        parse_scanner_setting("serial:COM3?parity=E")
    with pytest.raises(BadDeviceSetting):
        parse_scanner_setting("serial:COM3?term=semicolon")
    from station.options import parse_value

    assert parse_value("scanner", "keyboard, serial:COM3@9600?term=cr") == [
        "keyboard",
        "serial:COM3@9600?term=cr",
    ]
