"""Never frozen: the window's database work runs on one worker thread (ui.worker) while
a timer on the GUI thread keeps firing — a posting over a slow network, a posting and a
lookup over a silent one (a TCP proxy in front of PostgreSQL that the test slows or
silences: tests/netproxy.py). The operator sees a "working…" banner, then the verdict,
which comes back by signal; a scan made meanwhile is judged after it, in order.

The longest gap between ticks is printed (`pytest -s`), not asserted to the millisecond:
a loaded test machine stalls any process now and then. What is asserted is that ticks
kept arriving all the while the answer was awaited.
"""

from __future__ import annotations

import itertools
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, make_url, text

from station import exports
from station.codes import Code, Verdict
from station.db import bulk
from station.db.engine import make_engine
from tests.conftest import _empty_pg
from tests.netproxy import SilentProxy
from tests.seed import seed
from tests.ui.conftest import keyboard
from ui.app import build_window
from ui.main_window import MainWindow
from ui.resources import stylesheet
from ui.scan_page import ScanPage
from ui.sounds import BAD, GOOD
from ui.widgets import VerdictBanner
from ui.worker import DatabaseWorker, Job


class Ticks:
    """A 10 ms timer on the GUI thread; each tick notes when, and what `banner` shows."""

    def __init__(self, banner: Callable[[], VerdictBanner]) -> None:
        self.banner = banner
        self.seen: list[tuple[float, str, str]] = []
        self.on_tick: Callable[[], None] | None = None
        self.timer = QTimer()
        self.timer.timeout.connect(self._tick)
        self.timer.start(10)

    def _tick(self) -> None:
        shown = self.banner()
        self.seen.append((time.monotonic(), shown.state, shown.text()))
        if self.on_tick is not None:
            self.on_tick()

    def stop(self) -> None:
        self.timer.stop()

    def between(self, start: float, end: float) -> list[tuple[float, str, str]]:
        return [tick for tick in self.seen if start <= tick[0] <= end]

    def longest_gap(self, start: float, end: float) -> float:
        moments = [start, *(tick[0] for tick in self.between(start, end)), end]
        return max(later - earlier for earlier, later in itertools.pairwise(moments))


def _through(url: str, proxy: SilentProxy) -> str:
    return make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(False)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    url = request.getfixturevalue("pg_database")
    _empty_pg(url)
    return url


@pytest.fixture
def pg(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    seed(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def proxy(pg_url: str) -> Iterator[SilentProxy]:
    server = make_url(pg_url)
    with SilentProxy(server.host or "127.0.0.1", server.port or 5432) as running:
        yield running


@pytest.fixture
def window(qtbot: QtBot, pg: Engine, pg_url: str, proxy: SilentProxy) -> Iterator[MainWindow]:
    """The window over PostgreSQL through the proxy."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setStyleSheet(stylesheet())
    engine = make_engine(_through(pg_url, proxy))
    shown = build_window(engine, station="DOCK-1", sounds="record", watch_interval_ms=60_000)
    qtbot.addWidget(shown)
    shown.show()
    shown.activateWindow()
    qtbot.waitExposed(shown)
    yield shown
    proxy.heal()
    shown.close()
    engine.dispose()


def _results(worker: DatabaseWorker) -> list[Job]:
    """The jobs whose answers came back by the worker's signal."""
    arrived: list[Job] = []
    worker.finished.connect(arrived.append)
    return arrived


def _receipts(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM receipts")).scalar_one()


def test_a_posting_over_a_slow_network_keeps_the_window_live_and_a_scan_meanwhile_waits(
    window: MainWindow, proxy: SilentProxy, pg: Engine, qtbot: QtBot
) -> None:
    receipts = _receipts(pg)
    page = window.open_document("receive", "PO-1")
    assert isinstance(page, ScanPage)
    keys = keyboard(window)
    keys.scan("W1")
    keys.scan("SLOW-1")
    assert page.banner.state == "good", page.banner.text()
    worker = window.services.worker
    arrived = _results(worker)
    ticks = Ticks(window.banner)
    held_while_pending: list[int] = []

    def scan_while_posting() -> None:  # a scan made while the posting is under way
        if page.banner.state == "busy" and not held_while_pending:
            keys.scan("SLOW-2")
            held_while_pending.append(worker.held())

    ticks.on_tick = scan_while_posting
    proxy.slow(0.05)  # every chunk 50 ms late, both ways: the posting takes seconds
    start = time.monotonic()
    verdict = page.save()  # the window waits for the answer; the event loop runs
    end = time.monotonic()
    proxy.slow(0)
    assert verdict is not None and verdict.ok, verdict
    during = ticks.between(start, end)
    print(
        f"posting over a slow network: {end - start:.2f} s, {len(during)} ticks,"
        f" longest gap {ticks.longest_gap(start, end) * 1000:.0f} ms",
        file=sys.stderr,
    )
    assert len(during) >= 10  # the timer kept firing while the posting was awaited
    working = [shown for _at, state, shown in during if state == "busy"]
    assert working and "Posting 1 unit(s) — working…" in working[0], during[:3]
    assert held_while_pending == [1]  # SLOW-2 waited; it was not judged during the posting
    posted = [job.result for job in arrived if isinstance(job.result, Verdict)]
    assert posted and posted[0].ok and posted[0].posting is not None  # by the signal

    chooser = window.choose["receive"]
    qtbot.waitUntil(lambda: window.current_page() is chooser and worker.held() == 0)
    # the posting first (its page closed), then SLOW-2, judged where it now lands
    assert window.services.sounds.played[-2:] == [GOOD, BAD]
    assert (chooser.banner.state, chooser.banner.code) == ("bad", Code.PO_NOT_FOUND)
    assert "SLOW-2" in chooser.banner.text()
    ticks.stop()
    assert _receipts(pg) == receipts + 1  # posted once; SLOW-2 was never received


def test_a_posting_and_a_lookup_over_a_silent_network_say_so_and_never_freeze(
    window: MainWindow, proxy: SilentProxy, pg: Engine
) -> None:
    receipts = _receipts(pg)
    page = window.open_document("receive", "PO-1")
    assert isinstance(page, ScanPage)
    keys = keyboard(window)
    keys.scan("W1")
    keys.scan("QUIET-1")
    worker = window.services.worker
    arrived = _results(worker)
    ticks = Ticks(window.banner)

    proxy.silence()  # no byte passes either way; no socket is closed
    start = time.monotonic()
    verdict = page.save()
    end = time.monotonic()
    during = ticks.between(start, end)
    print(
        f"posting, silent network: {end - start:.2f} s, {len(during)} ticks,"
        f" longest gap {ticks.longest_gap(start, end) * 1000:.0f} ms",
        file=sys.stderr,
    )
    assert verdict is not None and not verdict.ok
    assert (page.banner.state, page.banner.code) == ("bad", Code.DATABASE_UNAVAILABLE)
    assert "nothing posted" in page.banner.text()
    assert len(during) >= 10
    assert any(state == "busy" and "Posting 1 unit(s)" in shown for _at, state, shown in during)
    assert any(isinstance(job.result, Verdict) and not job.result.ok for job in arrived)
    assert len(page.session.entries) == 1  # the session is kept

    page.closed.emit()  # leave it (kept in the journal); look a serial up, still silent
    window.do("lookup")
    lookup = window.lookup
    assert window.current_page() is lookup
    arrived.clear()
    start = time.monotonic()
    lookup.look_up("WS-1")
    end = time.monotonic()
    during = ticks.between(start, end)
    ticks.stop()
    print(
        f"lookup, silent network: {end - start:.2f} s, {len(during)} ticks,"
        f" longest gap {ticks.longest_gap(start, end) * 1000:.0f} ms",
        file=sys.stderr,
    )
    assert (lookup.banner.state, lookup.banner.code) == ("bad", Code.DATABASE_UNAVAILABLE)
    assert len(during) >= 10
    assert any(state == "busy" and "Looking up WS-1" in shown for _at, state, shown in during)
    assert arrived and arrived[-1].error is not None  # the error came back by the signal
    assert _receipts(pg) == receipts


def test_the_worker_runs_calls_in_order_and_sends_each_answer_by_signal(qtbot: QtBot) -> None:
    worker = DatabaseWorker(quick_ms=0)
    arrived = _results(worker)
    threads: list[str] = []
    order: list[int] = []

    def slow(n: int) -> int:
        threads.append(threading.current_thread().name)
        time.sleep(0.05)
        order.append(n)
        return n

    for n in range(3):
        worker.submit(lambda n=n: slow(n))
    assert worker.run(lambda: slow(3)) == 3  # after the three queued before it
    assert order == [0, 1, 2, 3] and [job.result for job in arrived] == [0, 1, 2, 3]
    assert set(threads) == {"database worker"}

    def refuse() -> None:
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):  # the error is raised where it is awaited
        worker.run(refuse)
    assert isinstance(arrived[-1].error, ValueError)

    # calls held while an answer is awaited run after it, in order; `first` before them
    held: list[str] = []
    worker.submit(lambda: time.sleep(0.2))
    QTimer.singleShot(20, lambda: worker.later(lambda: held.append("scan A")))
    QTimer.singleShot(30, lambda: worker.later(lambda: held.append("scan B")))
    worker.run(lambda: held.append("posting"))
    worker.later(lambda: held.append("leave the page"), first=True)
    qtbot.waitUntil(lambda: len(held) == 4)
    assert held == ["posting", "leave the page", "scan A", "scan B"]
    worker.stop()


def _counts(texts: list[str], total: str) -> list[int]:
    """The counts a working banner showed ("… 350 of 1,200 — working…"), in order."""
    found = [re.search(rf"([\d,]+) of {total} —", text) for text in texts]
    return [int(match.group(1).replace(",", "")) for match in found if match]


def test_a_long_posting_and_its_export_count_what_is_written_in_the_banner(
    engine: Engine,
    make_window: Callable[..., MainWindow],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """A posting of 1,200 units shows how many are written so far, and the export of
    them how many rows; the count grows while the timer on the GUI thread keeps firing."""
    seed(engine)
    units = 1200
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE po_lines SET qty_ordered = {units} WHERE id = 1"))
    monkeypatch.setattr(bulk, "POSTING_CHUNK", 100)  # 12 steps
    monkeypatch.setattr(exports, "PROGRESS_ROWS", 100)
    window = make_window()
    worker = window.services.worker
    worker.blink_ms = worker.tick_ms = 20
    told = worker.report

    def report(done: int, total: int) -> None:  # each step 30 ms longer: the test sees it
        told(done, total)
        time.sleep(0.03)

    monkeypatch.setattr(worker, "report", report)
    page = window.open_document("receive", "PO-1")
    assert isinstance(page, ScanPage)
    assert page.session.scan("W1").ok
    for n in range(units):  # filled by the core: the posting is what is watched
        assert page.session.scan(f"PRG-{n:05d}").ok
    page._refresh()
    ticks = Ticks(lambda: page.banner)
    verdict = page.save()
    assert verdict is not None and verdict.ok, verdict
    counts = _counts([shown for _at, state, shown in ticks.seen if state == "busy"], "1,200")
    print(f"posting: counts shown {counts}", file=sys.stderr)
    assert len(set(counts)) >= 3 and counts == sorted(counts), counts
    assert counts[-1] <= units
    assert any("Posting 1,200 unit(s) —" in shown for _at, _state, shown in ticks.seen)

    window.do("lookup")
    window.lookup.look_up("PO-1")
    assert len(window.lookup.units) == units, window.lookup.banner.text()
    ticks.banner = lambda: window.lookup.banner
    ticks.seen.clear()
    written = window.lookup.export_to(tmp_path / "po-1.xlsx")
    ticks.stop()
    assert written == units + 1, window.lookup.banner.text()
    counts = _counts([shown for _at, state, shown in ticks.seen if state == "busy"], "1,200")
    print(f"export: counts shown {counts}", file=sys.stderr)
    assert len(set(counts)) >= 3 and counts == sorted(counts), counts
    assert window.lookup.banner.text().endswith(f"Exported to {tmp_path / 'po-1.xlsx'}.")
