"""Printers by URL (SPEC §6). `open_printer(url)` builds the printer a setting names:

| URL | printer |
| --- | --- |
| `zpl+tcp://HOST[:9100][?timeout=5&status=1]` | Zebra on its raw network port |
| `zpl+queue://QUEUE` | a CUPS or Windows print queue, via the `zebra` package |
| `escpos+tcp://HOST[:9100][?timeout=5&status=1]` | receipt printer on its raw network port |
| `escpos+usb://VID:PID` | receipt printer on USB (hex ids, e.g. `04b8:0202`) |
| `escpos+serial://PORT[?baudrate=9600]` | receipt printer on a serial port |
| `zpl+file://PATH`, `escpos+file://PATH`, `file://PATH` | append jobs to a file or device node |
| `zpl+memory://NAME`, `escpos+memory://NAME` | keep jobs in memory (no hardware) |

A bare `file://` takes the protocol of the setting it is in (`default_protocol`).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from station.devices.errors import BadDeviceSetting
from station.devices.printers.base import EscposPrinter, Printer, ZplPrinter
from station.devices.printers.file import EscposFilePrinter, ZplFilePrinter
from station.devices.printers.memory import EscposMemoryPrinter, ZplMemoryPrinter
from station.devices.printers.serial_port import EscposSerialPrinter
from station.devices.printers.spool import ZplQueuePrinter
from station.devices.printers.tcp import DEFAULT_PORT, EscposTcpPrinter, ZplTcpPrinter
from station.devices.printers.usb import EscposUsbPrinter

EXAMPLES = (
    "zpl+tcp://HOST:9100, zpl+queue://QUEUE, escpos+tcp://HOST:9100, escpos+usb://VID:PID, "
    "escpos+serial://PORT?baudrate=9600, zpl+file://PATH, escpos+file://PATH"
)


def _flag(query: dict[str, list[str]], key: str, default: bool) -> bool:
    values = query.get(key)
    return default if not values else values[-1].lower() not in ("0", "false", "no", "off")


def open_printer(url: str, *, default_protocol: str = "zpl") -> Printer:
    """The printer for a URL; nothing is connected until the first `send()`."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    protocol, _, transport = scheme.rpartition("+")
    if not protocol and transport == "file":
        protocol = default_protocol
    query = parse_qs(parts.query)
    location = unquote(parts.netloc + parts.path)

    def bad(problem: str) -> BadDeviceSetting:
        return BadDeviceSetting(url, f"{problem}; printer URLs look like {EXAMPLES}")

    if protocol not in ("zpl", "escpos"):
        raise bad("the protocol must be zpl or escpos")
    if not location:
        raise bad("the URL names no host, queue, port or file")
    try:
        if transport == "tcp":
            timeout = float(query.get("timeout", ["5"])[-1])
            cls = ZplTcpPrinter if protocol == "zpl" else EscposTcpPrinter
            return cls(
                url,
                parts.hostname or "",
                parts.port or DEFAULT_PORT,
                timeout=timeout,
                status=_flag(query, "status", True),
            )
        if transport == "file":
            cls_file = ZplFilePrinter if protocol == "zpl" else EscposFilePrinter
            return cls_file(url, Path(location))
        if transport == "memory":
            cls_mem = ZplMemoryPrinter if protocol == "zpl" else EscposMemoryPrinter
            return cls_mem(url, location)
        if transport == "queue" and protocol == "zpl":
            return ZplQueuePrinter(url, location)
        if transport == "usb" and protocol == "escpos":
            vendor, _, product = parts.netloc.partition(":")
            return EscposUsbPrinter(url, int(vendor, 16), int(product, 16))
        if transport == "serial" and protocol == "escpos":
            baudrate = int(query.get("baudrate", ["9600"])[-1])
            return EscposSerialPrinter(url, location, baudrate)
    except ValueError as error:
        raise bad(f"it has a bad number ({error})") from None
    raise bad(f"{protocol} printers have no transport {transport!r}")


__all__ = ["EscposPrinter", "Printer", "ZplPrinter", "open_printer"]
