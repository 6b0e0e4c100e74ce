"""Printing to a file or device node: `zpl+file://PATH`, `escpos+file://PATH`, or `file://PATH`
(the protocol of the setting it is in: ZPL for label_printer, ESC/POS for receipt_printer).

Each job is appended, so a regular file collects every job and a device node
(`/dev/usb/lp0`) gets each job as it is written. A named pipe that no program reads is
offline (opening it never waits), and nothing is ever written into the station's data
folder, where its ledger and journals live.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from station.codes import Code, StationError
from station.devices.errors import DeviceRefused
from station.devices.printers.base import EscposPrinter, ZplPrinter
from station.files import inside_data_folder, refuse_protected, shown


def _append(url: str, path: Path, data: bytes) -> None:
    folder = inside_data_folder(path)
    if folder is not None:
        raise DeviceRefused(
            url,
            f"{shown(path)} is in the station's data folder {shown(folder)}, which holds its"
            " ledger and journals: print to a file or device elsewhere",
        )
    try:  # the SQLite ledger (or a file beside it) named as a printer
        refuse_protected(
            path, Code.PRINT_FAILED, why="nothing is printed onto it; print to a file elsewhere"
        )
    except StationError as refused:
        raise DeviceRefused(url, refused.message) from None
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as error:
        if error.errno == errno.ENXIO:  # a named pipe with no reader: never wait for one
            raise OSError(errno.ENXIO, "no program reads that named pipe", str(path)) from None
        raise
    with os.fdopen(fd, "ab") as out:
        if hasattr(os, "O_NONBLOCK"):  # opened without waiting; a printer takes its time
            os.set_blocking(fd, True)
        out.write(data)
        out.flush()


class ZplFilePrinter(ZplPrinter):
    def __init__(self, url: str, path: Path) -> None:
        super().__init__(url)
        self.path = path

    def _send(self, data: bytes) -> None:
        _append(self.url, self.path, data)


class EscposFilePrinter(EscposPrinter):
    def __init__(self, url: str, path: Path) -> None:
        super().__init__(url)
        self.path = path

    def _send(self, data: bytes) -> None:
        _append(self.url, self.path, data)
