"""The `DeviceError` family: every vendor or OS error from a device, wrapped with a message
that says which device failed and what the operator can do about it."""

from __future__ import annotations


class DeviceError(Exception):
    """A device could not do what was asked. `kind` is a stable word for the status bar."""

    kind = "error"

    def __init__(self, device: str, message: str) -> None:
        super().__init__(f"{device}: {message}")
        self.device = device
        self.message = message


class BadDeviceSetting(DeviceError):
    """A scanner or printer setting (URL) that Station cannot use."""

    kind = "bad_setting"


class DeviceOffline(DeviceError):
    """The device is not there: unplugged, switched off, no such port, queue or host."""

    kind = "offline"


class DeviceRefused(DeviceError):
    """The device is there but refused the connection or the job."""

    kind = "refused"


class DeviceTimeout(DeviceError):
    """The device did not answer in time (a hung printer, a busy raw port)."""

    kind = "timeout"


class PrinterNotReady(DeviceError):
    """The printer answered but cannot print: out of paper, head open, paused."""

    kind = "not_ready"
