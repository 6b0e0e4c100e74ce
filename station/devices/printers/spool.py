"""ZPL to a system print queue, `zpl+queue://QUEUE`, through the `zebra` package: CUPS
(`lpr -oraw`) on Linux and macOS, the Windows spooler on Windows.

`zebra` pipes to `lpr` without checking how it ended and encodes text as cp437, so the
job goes in as bytes and the Unix path is replaced by one that checks `lpr`'s exit status.
"""

from __future__ import annotations

import subprocess

import zebra

from station.devices.errors import DeviceOffline, DeviceRefused, DeviceTimeout
from station.devices.printers.base import ZplPrinter

LPR_TIMEOUT = 30.0


class _CheckedZebra(zebra.Zebra):  # type: ignore[misc]
    def __init__(self, queue: str, url: str) -> None:
        super().__init__(queue)
        self.url = url

    def _output_unix(self, commands: bytes) -> None:
        try:
            result = subprocess.run(
                ["lpr", f"-P{self.queue}", "-oraw"],
                input=commands,
                capture_output=True,
                timeout=LPR_TIMEOUT,
                check=False,
            )
        except FileNotFoundError:
            raise DeviceOffline(self.url, "lpr is not installed (CUPS is needed)") from None
        except subprocess.TimeoutExpired:
            raise DeviceTimeout(self.url, "lpr did not finish in time") from None
        if result.returncode != 0:
            detail = result.stderr.decode("utf-8", "replace").strip() or "no message"
            raise DeviceRefused(
                self.url,
                f"queue {self.queue!r} refused the job (lpr exit {result.returncode}: {detail})",
            )


class ZplQueuePrinter(ZplPrinter):
    def __init__(self, url: str, queue: str) -> None:
        super().__init__(url)
        self.queue = queue

    def _send(self, data: bytes) -> None:
        _CheckedZebra(self.queue, self.url).output(data)
