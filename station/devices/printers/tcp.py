"""Network printers on a raw port (9100): `zpl+tcp://HOST[:PORT]`, `escpos+tcp://HOST[:PORT]`.

Before each job the printer is asked for its state (ZPL `~HS`; ESC/POS `DLE EOT`), so a
printer that is out of paper, has its head open, or hangs is reported instead of being
silently fed; `?status=0` turns that off for printers that do not answer. A raw port
serves one connection at a time: a busy printer shows up as a timeout. `?timeout=SECONDS`.
"""

from __future__ import annotations

import socket

from escpos.escpos import Escpos
from escpos.printer import Network

from station.devices.errors import DeviceTimeout, PrinterNotReady
from station.devices.printers.base import EscposPrinter, ZplPrinter

DEFAULT_PORT = 9100
DEFAULT_TIMEOUT = 5.0
STX, ETX = b"\x02", b"\x03"


def read_host_status(sock: socket.socket, device: str) -> list[list[str]]:
    """Send `~HS` and read its three STX…ETX strings (no reply at all means not ready)."""
    sock.sendall(b"~HS")
    reply = b""
    while reply.count(ETX) < 3:
        try:
            chunk = sock.recv(1024)
        except TimeoutError:
            raise DeviceTimeout(
                device, "no answer to the status request (~HS): head open, media out or busy"
            ) from None
        if not chunk:
            raise DeviceTimeout(device, "the printer closed the connection during ~HS")
        reply += chunk
    strings = [part.split(ETX)[0] for part in reply.split(STX)[1:4]]
    return [s.decode("ascii", "replace").split(",") for s in strings]


def zpl_problems(status: list[list[str]]) -> list[str]:
    first = status[0] if status else []
    second = status[1] if len(status) > 1 else []
    problems = []
    if len(first) > 2 and first[1] == "1":
        problems.append("out of paper")
    if len(first) > 2 and first[2] == "1":
        problems.append("paused")
    if len(second) > 3 and second[2] == "1":
        problems.append("head open")
    if len(second) > 3 and second[3] == "1":
        problems.append("ribbon out")
    return problems


class ZplTcpPrinter(ZplPrinter):
    def __init__(
        self,
        url: str,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        status: bool = True,
    ) -> None:
        super().__init__(url)
        self.host, self.port, self.timeout, self.status = host, port, timeout, status

    def _send(self, data: bytes) -> None:
        with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
            if self.status:
                problems = zpl_problems(read_host_status(sock, self.url))
                if problems:
                    raise PrinterNotReady(self.url, "the printer is " + ", ".join(problems))
            sock.sendall(data)


class EscposTcpPrinter(EscposPrinter):
    def __init__(
        self,
        url: str,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        status: bool = True,
    ) -> None:
        super().__init__(url)
        self.host, self.port, self.timeout, self.status = host, port, timeout, status

    def _device(self) -> Escpos:
        return Network(self.host, self.port, timeout=self.timeout, profile="TM-T88V")

    def _check(self, device: Escpos) -> None:
        if not self.status:
            return
        if not device.is_online():
            raise PrinterNotReady(self.url, "the printer is offline (cover open or paper out)")
        if device.paper_status() == 0:
            raise PrinterNotReady(self.url, "the printer is out of paper")
