"""ESC/POS over USB, `escpos+usb://VID:PID` (hex ids), through python-escpos (pyusb).

Linux needs a udev rule giving the station's user access to the device; Windows needs a
WinUSB driver (Zadig). Without pyusb installed the printer reports itself offline.
"""

from __future__ import annotations

from escpos.escpos import Escpos
from escpos.printer import Usb

from station.devices.errors import DeviceOffline
from station.devices.printers.base import EscposPrinter


class EscposUsbPrinter(EscposPrinter):
    def __init__(self, url: str, vendor_id: int, product_id: int) -> None:
        super().__init__(url)
        self.vendor_id, self.product_id = vendor_id, product_id

    def _device(self) -> Escpos:
        if not Usb.is_usable():
            raise DeviceOffline(self.url, "USB printing needs pyusb (pip install pyusb)")
        return Usb(self.vendor_id, self.product_id, profile="TM-T88V")
