"""Serial scanners read with pyserial: one reader thread per port, reconnecting on unplug.

The station option `scanner` names each scanner as `keyboard` or `serial:PORT[@BAUD]`.
A `SerialScanner` reads bytes, reassembles scans split over several reads, cuts them at
the terminator, strips the configured prefix/suffix and hands each complete scan to its
callback: a `str` when the bytes are UTF-8, else the raw `bytes` (so `read_scan` gives the
"unreadable" verdict). Nothing raised by the port or by the callback escapes the thread.
When the port disappears (a closed pty raises `SerialException`, an unplugged USB adapter
raises `OSError`), the scanner reports `disconnected` and polls for the port with backoff.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, quote_from_bytes, unquote_to_bytes

import serial

from station.devices.errors import BadDeviceSetting

log = logging.getLogger(__name__)

DEFAULT_BAUD = 9600
#: Longest scan kept while waiting for a terminator; longer input is delivered as is
#: (the scan reader refuses it as too long) so a scanner without terminator can't grow
#: the buffer forever.
MAX_PENDING = 4096
TERMINATORS = {"any": None, "cr": b"\r", "lf": b"\n", "crlf": b"\r\n"}

_SETTING = re.compile(r"^serial:(?P<port>[^@?\s]+)(?:@(?P<baud>\d{3,7}))?(?:\?(?P<query>\S*))?$")
_FRAMING = ("term", "prefix", "suffix")

CONNECTED = "connected"
DISCONNECTED = "disconnected"
STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class SerialScannerConfig:
    """A port and how its scanner frames a scan. `terminator`: any, cr, lf or crlf
    (`any` ends a scan at CR or LF and ignores the empty line between CR and LF)."""

    port: str
    baudrate: int = DEFAULT_BAUD
    terminator: str = "any"
    prefix: bytes = b""
    suffix: bytes = b""

    def __post_init__(self) -> None:
        if self.terminator not in TERMINATORS:
            raise BadDeviceSetting(
                self.port, f"terminator {self.terminator!r} is not one of any, cr, lf, crlf"
            )

    @property
    def setting(self) -> str:
        framing = {
            key: value
            for key, value in (
                ("term", "" if self.terminator == "any" else self.terminator),
                ("prefix", quote_from_bytes(self.prefix)),
                ("suffix", quote_from_bytes(self.suffix)),
            )
            if value
        }
        query = "?" + "&".join(f"{k}={v}" for k, v in framing.items()) if framing else ""
        return f"serial:{self.port}@{self.baudrate}{query}"


def parse_scanner_setting(text: str) -> SerialScannerConfig | None:
    """`serial:PORT[@BAUD][?term=cr|lf|crlf&prefix=…&suffix=…]` → its config (prefix and
    suffix percent-encoded, e.g. `%02` for STX); `keyboard` → None (the GUI's wedge)."""
    text = text.strip()
    if text == "keyboard":
        return None
    match = _SETTING.match(text)
    if not match:
        raise BadDeviceSetting(
            text, "a scanner is 'keyboard' or 'serial:PORT[@BAUD][?term=…&prefix=…&suffix=…]'"
        )
    baud = int(match["baud"]) if match["baud"] else DEFAULT_BAUD
    framing = {key: values[-1] for key, values in parse_qs(match["query"] or "").items()}
    unknown = set(framing) - set(_FRAMING)
    if unknown:
        raise BadDeviceSetting(
            text, f"unknown framing {', '.join(sorted(unknown))}; use term, prefix, suffix"
        )
    return SerialScannerConfig(
        port=match["port"],
        baudrate=baud,
        terminator=framing.get("term", "any"),
        prefix=unquote_to_bytes(framing.get("prefix", "")),
        suffix=unquote_to_bytes(framing.get("suffix", "")),
    )


class ScanFramer:
    """Turns a stream of byte chunks into complete scans (terminator, prefix, suffix cut)."""

    def __init__(self, config: SerialScannerConfig) -> None:
        self.config = config
        self._pending = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        self._pending += chunk
        terminator = TERMINATORS[self.config.terminator]
        if terminator is None:
            parts = re.split(rb"[\r\n]", self._pending)
        else:
            parts = self._pending.split(terminator)
        self._pending = parts.pop()
        scans = [self._strip(part) for part in parts if part]
        if len(self._pending) > MAX_PENDING:
            scans.append(self._pending)
            self._pending = b""
        return scans

    def reset(self) -> None:
        self._pending = b""

    def _strip(self, scan: bytes) -> bytes:
        prefix, suffix = self.config.prefix, self.config.suffix
        if prefix and scan.startswith(prefix):
            scan = scan[len(prefix) :]
        if suffix and scan.endswith(suffix):
            scan = scan[: -len(suffix)]
        return scan


def as_scan(data: bytes) -> str | bytes:
    """UTF-8 text as `str`; anything else stays `bytes` for `read_scan` to refuse."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data


class SerialScanner:
    """A reader thread for one serial scanner, with explicit `start()` and `stop()`.

    `on_scan(scan)` gets each complete scan; `on_state(state, detail)` gets `connected`,
    `disconnected` (with the reason) and `stopped`. Both run on the reader thread.
    """

    def __init__(
        self,
        config: SerialScannerConfig,
        on_scan: Callable[[str | bytes], None],
        on_state: Callable[[str, str], None] | None = None,
        *,
        read_timeout: float = 0.1,
        retry_min: float = 0.05,
        retry_max: float = 2.0,
    ) -> None:
        self.config = config
        self.on_scan = on_scan
        self.on_state = on_state
        self.read_timeout = read_timeout
        self.retry_min = retry_min
        self.retry_max = retry_max
        self.state = STOPPED
        self.detail = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._framer = ScanFramer(config)

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"scanner {self.config.port}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> SerialScanner:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _set_state(self, state: str, detail: str = "") -> None:
        if (state, detail) == (self.state, self.detail):
            return
        self.state, self.detail = state, detail
        if self.on_state is not None:
            try:
                self.on_state(state, detail)
            except Exception:
                log.exception("scanner %s: state callback failed", self.config.port)

    def _open(self) -> serial.SerialBase:
        port = serial.serial_for_url(
            self.config.port,
            baudrate=self.config.baudrate,
            timeout=self.read_timeout,
            do_not_open=True,
        )
        port.open()  # pyserial ignores ENOTTY from modem lines on a pty; open flushes input
        return port

    def _run(self) -> None:
        delay = self.retry_min
        while not self._stop.is_set():
            try:
                port = self._open()
            except (serial.SerialException, OSError, ValueError) as error:
                self._set_state(DISCONNECTED, f"cannot open {self.config.port}: {error}")
                self._stop.wait(delay)
                delay = min(delay * 2, self.retry_max)
                continue
            delay = self.retry_min
            self._framer.reset()
            self._set_state(CONNECTED)
            try:
                self._read(port)
            except (serial.SerialException, OSError) as error:
                self._set_state(DISCONNECTED, f"{self.config.port} went away: {error}")
            finally:
                with contextlib.suppress(serial.SerialException, OSError):
                    port.close()
        self._set_state(STOPPED)

    def _read(self, port: serial.SerialBase) -> None:
        while not self._stop.is_set():
            chunk = port.read(port.in_waiting or 1)
            if not chunk:
                continue
            for scan in self._framer.feed(chunk):
                try:
                    self.on_scan(as_scan(scan))
                except Exception:
                    log.exception("scanner %s: scan callback failed", self.config.port)
