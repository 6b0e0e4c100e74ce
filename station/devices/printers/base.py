"""One abstract printer per protocol (ZPL, ESC/POS) with one low-level method, `_send`.

Transports (TCP, print queue, USB, serial port, file, memory) each live in a module of
their own and only implement `_send` (ESC/POS transports build a python-escpos device and
inherit `_send`). `send()` is the one public way to print: it wraps every vendor and OS
error in the `DeviceError` family with a message naming the printer.
"""

from __future__ import annotations

import errno
import socket
from abc import ABC, abstractmethod
from typing import ClassVar

from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError
from escpos.exceptions import Error as EscposError

from station.devices import labels
from station.devices.errors import (
    DeviceError,
    DeviceOffline,
    DeviceRefused,
    DeviceTimeout,
    PrinterNotReady,
)

TEST_LABEL = labels.SerialLabel("TEST", "Station test print", "TEST-0123456789")


class Printer(ABC):
    """A printer at `url` that takes whole documents as bytes in its `protocol`."""

    protocol: ClassVar[str]

    def __init__(self, url: str) -> None:
        self.url = url

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def send(self, data: bytes) -> None:
        """Print one document; raises a `DeviceError` (never a vendor error) on failure."""
        try:
            self._send(data)
        except DeviceError:
            raise
        except Exception as error:
            raise wrap_error(self.url, error) from error

    @abstractmethod
    def _send(self, data: bytes) -> None:
        """Deliver the bytes to the device, or raise."""

    @abstractmethod
    def serial_label(self, label: labels.SerialLabel) -> bytes: ...

    @abstractmethod
    def packing_slip(self, slip: labels.PackingSlip) -> bytes: ...

    def test_label(self) -> bytes:
        return self.serial_label(TEST_LABEL)


class ZplPrinter(Printer):
    protocol = "zpl"

    def serial_label(self, label: labels.SerialLabel) -> bytes:
        return labels.serial_label_zpl(label)

    def packing_slip(self, slip: labels.PackingSlip) -> bytes:
        return labels.packing_slip_zpl(slip)


class EscposPrinter(Printer):
    protocol = "escpos"

    def serial_label(self, label: labels.SerialLabel) -> bytes:
        return labels.serial_label_escpos(label)

    def packing_slip(self, slip: labels.PackingSlip) -> bytes:
        return labels.packing_slip_escpos(slip)

    def _device(self) -> Escpos:
        raise NotImplementedError

    def _check(self, device: Escpos) -> None:
        """Ask the printer for its state before printing (transports that can answer)."""

    def _send(self, data: bytes) -> None:
        device = self._device()
        device.open()
        try:
            self._check(device)
            device._raw(data)
        finally:
            device.close()


def wrap_error(device: str, error: BaseException) -> DeviceError:
    """A vendor or OS error as a `DeviceError` with a message the operator can act on."""
    cause = error.__cause__ or error.__context__
    if isinstance(error, DeviceNotFoundError) and isinstance(cause, OSError):
        error = cause
    if isinstance(error, ConnectionRefusedError):
        return DeviceRefused(device, "the printer refused the connection (is it busy or off?)")
    if isinstance(error, (TimeoutError, socket.timeout)):
        return DeviceTimeout(device, "the printer did not answer in time")
    if isinstance(error, ConnectionError | BrokenPipeError):
        return DeviceOffline(device, f"the connection to the printer broke ({error})")
    if isinstance(error, FileNotFoundError):
        return DeviceOffline(device, f"no such device or file ({error.filename})")
    if isinstance(error, PermissionError):
        return DeviceRefused(device, f"no permission to use the device ({error})")
    if isinstance(error, OSError):
        if error.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return DeviceOffline(device, "the printer's network cannot be reached")
        return DeviceOffline(device, f"the printer is not reachable ({error})")
    if isinstance(error, DeviceNotFoundError):
        return DeviceOffline(device, f"the printer is not connected ({error})")
    if isinstance(error, EscposError):
        return DeviceRefused(device, f"the printer refused the job ({error})")
    return DeviceError(device, f"printing failed ({type(error).__name__}: {error})")


__all__ = ["EscposPrinter", "Printer", "PrinterNotReady", "ZplPrinter", "wrap_error"]
