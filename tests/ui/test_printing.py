"""Labels after a receive, the packing slip after a shipment, and the one-click preview."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, text

from station.codes import Code
from station.db import print_jobs
from station.devices.printers.memory import MemoryPrinter
from tests.seed import seed
from tests.ui.conftest import keyboard
from tests.workflow import configure
from ui.main_window import MainWindow
from ui.preview import PreviewDialog


def test_labels_print_after_receive_and_slip_after_ship(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    labels, slips = f"dock-{uuid.uuid4().hex[:6]}", f"pack-{uuid.uuid4().hex[:6]}"
    configure(
        engine,
        "DOCK-1",
        print_label_on_receive=True,
        label_printer=f"zpl+memory://{labels}",
        receipt_printer=f"escpos+memory://{slips}",
    )
    window = make_window()
    keys = keyboard(window)
    keys.scan("PO-1")
    page = window.scan_page
    assert page is not None
    for scan in ["W1", "SN-LBL-1", "SN-LBL-2"]:
        keys.scan(scan)

    page.entries_view.selectRow(1)
    page.preview()  # F6: the label of the selected unit
    dialog = page.findChild(PreviewDialog)
    assert dialog is not None and "SN-LBL-2" in dialog.windowTitle()
    pixmap = dialog.image.pixmap()
    assert pixmap is not None and not pixmap.isNull()
    dialog.close()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)

    keys.scan("CMD-SAVE")
    chooser = window.choose["receive"]
    qtbot.waitUntil(lambda: window.current_page() is chooser)
    assert "2 labels sent to the label printer" in chooser.banner.text()
    qtbot.waitUntil(lambda: len(MemoryPrinter.jobs.get(labels, [])) == 2)
    jobs = MemoryPrinter.jobs[labels]
    assert b"SN-LBL-1" in jobs[0] and b"SN-LBL-2" in jobs[1]
    qtbot.waitUntil(lambda: "Printer:" in window.printer_label.text())
    with engine.connect() as c:
        qtbot.waitUntil(
            lambda: (
                c.execute(
                    text("SELECT count(*) FROM print_jobs WHERE status = 'printed'")
                ).scalar_one()
                == 2
            )
        )

    window.go_home()
    keys.scan("SO-1")
    page = window.scan_page
    assert page is not None
    for scan in ["W1", "WS-1", "WS-2", "CABLE3"]:
        keys.scan(scan)
    page.preview()
    dialog = page.findChild(PreviewDialog)
    assert dialog is not None and "SO-1" in dialog.windowTitle()
    dialog.close()
    keys.scan("CMD-SAVE")
    chooser = window.choose["ship"]
    qtbot.waitUntil(lambda: window.current_page() is chooser)
    assert "Packing slip sent" in chooser.banner.text()
    qtbot.waitUntil(lambda: len(MemoryPrinter.jobs.get(slips, [])) == 1)
    slip = MemoryPrinter.jobs[slips][0]
    assert b"WS-1" in slip and b"WS-2" in slip
    assert QApplication.activeModalWidget() is None


def test_generated_serials_get_their_labels(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    labels = f"gen-{uuid.uuid4().hex[:6]}"
    configure(engine, "DOCK-1", generate_serials=True, label_printer=f"zpl+memory://{labels}")
    window = make_window()
    keys = keyboard(window)
    keys.scan("PO-1")
    page = window.scan_page
    assert page is not None
    keys.scan("W1")
    keys.scan("W1")  # with generate_serials, each item scan is one more unit
    assert page.entries_model.rowCount() == 2
    keys.scan("CMD-SAVE")
    chooser = window.choose["receive"]
    qtbot.waitUntil(lambda: window.current_page() is chooser)
    assert "2 labels sent" in chooser.banner.text()
    qtbot.waitUntil(lambda: len(MemoryPrinter.jobs.get(labels, [])) == 2)
    with engine.connect() as c:
        serials = c.execute(
            text("SELECT serial FROM units WHERE receipt_id > 1 ORDER BY serial")
        ).scalars()
        made = list(serials)
    assert len(made) == 2
    for serial, job in zip(made, MemoryPrinter.jobs[labels], strict=True):
        assert serial.encode() in job


def test_a_failed_print_shows_in_the_status_bar_and_keeps_the_posting(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on: the printer is off
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    seed(engine)
    configure(
        engine,
        "DOCK-1",
        print_label_on_receive=True,
        label_printer=f"zpl+tcp://127.0.0.1:{port}?timeout=1",
    )
    window = make_window()
    keys = keyboard(window)
    keys.scan("PO-1")
    for scan in ["W1", "SN-OFF-1", "CMD-SAVE"]:
        keys.scan(scan)
    chooser = window.choose["receive"]
    qtbot.waitUntil(lambda: window.current_page() is chooser)
    assert chooser.banner.state == "good"
    qtbot.waitUntil(lambda: "last job failed" in window.printer_label.text(), timeout=10_000)
    assert window.printer_label.property("state") == "bad"
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM units WHERE serial = 'SN-OFF-1'")).scalar() == 1
        failed = c.execute(text("SELECT status FROM print_jobs")).scalars().all()
    assert failed == ["failed"]  # recorded with its bytes: it can be retried


def test_a_label_that_cannot_be_rendered_after_posting_is_named_not_a_crash(
    qtbot: QtBot,
    engine: Engine,
    make_window: Callable[..., MainWindow],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Templates missing (an install without them): the receipt is posted, the preview
    and the labels are refused with LABEL_TEMPLATE_MISSING, and the window goes on."""
    seed(engine)
    name = f"dock-{uuid.uuid4().hex[:6]}"
    configure(engine, "DOCK-1", print_label_on_receive=True, label_printer=f"zpl+memory://{name}")
    monkeypatch.setenv("STATION_LABELS_DIR", str(tmp_path / "no-templates"))
    window = make_window()
    keys = keyboard(window)
    keys.scan("PO-1")
    page = window.scan_page
    assert page is not None
    for scan in ["W1", "SN-NOTPL-1"]:
        keys.scan(scan)
    page.preview()
    assert page.findChild(PreviewDialog) is None
    assert (page.banner.state, page.banner.code) == ("bad", Code.LABEL_TEMPLATE_MISSING)
    keys.scan("CMD-SAVE")
    chooser = window.choose["receive"]
    qtbot.waitUntil(lambda: window.current_page() is chooser)
    assert (chooser.banner.state, chooser.banner.code) == ("bad", Code.PRINT_FAILED)
    assert "Received 1 unit(s)" in chooser.banner.text()
    assert "serial_label.zpl cannot be read" in chooser.banner.text()
    with engine.connect() as c:
        units = c.execute(text("SELECT serial FROM units WHERE serial = 'SN-NOTPL-1'")).all()
    assert len(units) == 1 and MemoryPrinter.jobs.get(name, []) == []


def test_jobs_left_queued_are_read_on_the_database_worker_when_a_printer_is_set(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    """Setting a printer sends the jobs the ledger still holds queued for it (a station
    that stopped mid-print); reading them is the database worker's, not the GUI
    thread's: while the worker is busy, setting the printer returns at once and the job
    waits its turn, then prints."""
    seed(engine)
    window = make_window()
    name = f"left-{uuid.uuid4().hex[:6]}"
    url = f"zpl+memory://{name}"
    print_jobs.add_jobs(
        engine, [print_jobs.NewJob(url, "receipt", "RCV-000009", "serial_label", b"LEFT", "DOCK-1")]
    )
    worker = window.services.worker
    release = threading.Event()
    worker.submit(lambda: release.wait(10))  # the worker busy with something else
    window.services.printing.configure(url, "", "DOCK-1")
    time.sleep(0.2)
    QApplication.processEvents()
    assert MemoryPrinter.jobs.get(name, []) == []  # not read on the GUI thread meanwhile
    release.set()
    qtbot.waitUntil(lambda: MemoryPrinter.jobs.get(name, []) == [b"LEFT"])
    qtbot.waitUntil(lambda: _statuses(engine, url) == ["printed"])


def _statuses(engine: Engine, url: str) -> list[str]:
    with engine.connect() as connection:
        query = text("SELECT status FROM print_jobs WHERE printer = :url")
        return list(connection.execute(query, {"url": url}).scalars())
