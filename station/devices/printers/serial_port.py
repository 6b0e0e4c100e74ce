"""ESC/POS over a serial port, `escpos+serial://PORT?baudrate=N` (default 9600 8N1)."""

from __future__ import annotations

from escpos.escpos import Escpos
from escpos.printer import Serial

from station.devices.printers.base import EscposPrinter


class EscposSerialPrinter(EscposPrinter):
    def __init__(self, url: str, port: str, baudrate: int = 9600, timeout: float = 5.0) -> None:
        super().__init__(url)
        self.port, self.baudrate, self.timeout = port, baudrate, timeout

    def _device(self) -> Escpos:
        return Serial(
            devfile=self.port,
            baudrate=self.baudrate,
            timeout=self.timeout,
            dsrdtr=False,
            profile="TM-T88V",
        )
