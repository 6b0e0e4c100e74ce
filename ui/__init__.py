"""The Station desktop app (PySide6). The only package that imports Qt; it shows the
Qt-free sessions of `station` and feeds them scans."""
