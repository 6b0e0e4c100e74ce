"""Take the README's screenshots: the app on the demo data, driven by wedge key bursts.

    xvfb-run -s "-screen 0 1366x768x24" python docs/screenshots/take_screenshots.py

Runs on a temporary data directory and SQLite file; writes docs/screenshots/*.png.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))


def main() -> int:
    data = Path(tempfile.mkdtemp(prefix="station-shots-"))
    os.environ["STATION_DATA_DIR"] = str(data)
    from PySide6.QtCore import QEvent, Qt, QTimer
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    from station import stations
    from station.app import connect
    from station.demo import load_demo
    from station.users import add_user
    from ui.app import _application, build_window
    from ui.wedge import key_for

    app = _application()
    engine = connect(f"sqlite:///{data / 'station.db'}")
    load_demo(engine)
    add_user(engine, "sue", "supervisor", "2468")
    add_user(engine, "dana", "clerk", "1357", by="sue", by_pin="2468")
    stations.register(engine, "DOCK-1")
    stations.set_options(engine, "DOCK-1", {"warehouse": "MAIN"}, user="sue", pin="2468")
    window = build_window(engine, station="DOCK-1", user="dana", sounds="record")
    window.resize(1366, 768)
    window.show()
    window.activateWindow()
    clock = [1_000_000]

    def settle() -> None:
        for _ in range(5):
            app.processEvents()

    def scan(code: str) -> None:
        clock[0] += 1000
        for ch in code + "\r":
            clock[0] += 5
            event = QKeyEvent(QEvent.Type.KeyPress, key_for(ch), Qt.KeyboardModifier.NoModifier, ch)
            event.setTimestamp(clock[0])
            QApplication.sendEvent(QApplication.focusWidget() or window, event)
        settle()

    def shot(name: str) -> None:
        settle()
        path = HERE / f"{name}.png"
        window.grab().save(str(path))
        print(path)

    import time

    for _ in range(400):  # the station's options load off the GUI thread: wait for them
        settle()
        if "Loading" not in window.home.banner.text():
            break
        time.sleep(0.05)
    shot("home")
    scan("PO-9001")
    for code in ["W-100", "WS-1001", "WS-1002", "0705632441947", "0705632441947", "G-200"]:
        scan(code)
    scan("G2-SHORT")  # too short for Gadget Two's 10-character rule: refused
    scan("G2SN000001")
    page = window.scan_page
    assert page is not None
    page.entries_view.selectRow(1)
    shot("receive")
    scan("W-100")
    scan("012345678905")  # the UPC printed next to the serial, scanned by mistake: refused
    shot("receive-refused")
    window.go_home()
    scan("SO-5001")
    for code in ["W100", "WS-0001", "WS-0002"]:
        scan(code)
    scan("CMD-SAVE")  # the cable line is not packed yet: refused with the reason
    shot("ship")
    window.go_home()
    window.do("lookup")
    scan("WS-0003")
    shot("lookup")
    window.go_home()
    window.do("free_return")  # goods back with no order: the item, then its serial
    for code in ["W-100", "FR-0001", "W-100", "WS-0003"]:  # WS-0003 exists: refused
        scan(code)
    shot("free-return")
    window.go_home()
    window.do("move")  # a bin move: the units, and a location barcode between them
    for code in ["A-02", "WS-0004", "LOC-B-01", "WS-0005", "WS-0006", "LOC-Z-9"]:
        scan(code)  # LOC-Z-9 is no bin of MAIN: refused
    shot("move")
    window.go_home()

    def grab_dialog() -> None:  # the options dialog, once it has loaded
        dialog = QApplication.activeModalWidget()
        if dialog is None or not dialog.isVisible():
            QTimer.singleShot(100, grab_dialog)
            return
        settle()
        path = HERE / "options.png"
        dialog.grab().save(str(path))
        print(path)
        dialog.reject()

    QTimer.singleShot(1500, grab_dialog)
    window.do("options")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
