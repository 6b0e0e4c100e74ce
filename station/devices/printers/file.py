"""Printing to a file or device node: `zpl+file://PATH`, `escpos+file://PATH`, or `file://PATH`
(the protocol of the setting it is in: ZPL for label_printer, ESC/POS for receipt_printer).

Each job is appended, so a regular file collects every job and a device node
(`/dev/usb/lp0`) gets each job as it is written.
"""

from __future__ import annotations

from pathlib import Path

from station.devices.printers.base import EscposPrinter, ZplPrinter


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as out:
        out.write(data)
        out.flush()


class ZplFilePrinter(ZplPrinter):
    def __init__(self, url: str, path: Path) -> None:
        super().__init__(url)
        self.path = path

    def _send(self, data: bytes) -> None:
        _append(self.path, data)


class EscposFilePrinter(EscposPrinter):
    def __init__(self, url: str, path: Path) -> None:
        super().__init__(url)
        self.path = path

    def _send(self, data: bytes) -> None:
        _append(self.path, data)
