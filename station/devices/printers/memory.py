"""A printer in memory, `zpl+memory://NAME` or `escpos+memory://NAME`: the "no hardware"
mode and a stand-in for tests. Jobs are kept per name in `MemoryPrinter.jobs`."""

from __future__ import annotations

import threading
from typing import ClassVar

from station.devices.printers.base import EscposPrinter, Printer, ZplPrinter


class MemoryPrinter(Printer):
    jobs: ClassVar[dict[str, list[bytes]]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, url: str, name: str) -> None:
        super().__init__(url)
        self.name = name

    def _send(self, data: bytes) -> None:
        with self._lock:
            self.jobs.setdefault(self.name, []).append(data)


class ZplMemoryPrinter(MemoryPrinter, ZplPrinter):
    pass


class EscposMemoryPrinter(MemoryPrinter, EscposPrinter):
    def _send(self, data: bytes) -> None:
        MemoryPrinter._send(self, data)
