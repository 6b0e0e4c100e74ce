"""Station: receiving and scan-and-ship for serial-tracked inventory (Qt-free core)."""

__version__ = "0.1.0"
