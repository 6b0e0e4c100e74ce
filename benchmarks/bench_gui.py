"""GUI benchmarks (SPEC §8), run on demand:

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui.py [--units 1000000] [--pg URL]

1. scan → verdict on screen with N units in the ledger: key events of a wedge burst sent
   to the focused widget until the banner shows the verdict and the window has painted
   (receive and ship), p50/p99 — target p99 ≤ 10 ms;
2. appending one row to the session grid when it already holds 100,000 rows (model
   append + view update), p50/p99 — target ≤ 1 ms;
3. cold start to ready: a new process running `ui.app.run()` until its window is shown
   and the event loop runs — target ≤ 2 s;
4. never frozen (the database work runs on the window's worker thread, ui.worker): the
   longest event-loop stall — the longest gap between ticks of a 5 ms timer on the GUI
   thread — while a 10,000-unit receipt is posted from the scanning page (Save, until
   the choose page shows the verdict), and, on PostgreSQL, while a posting and a lookup
   wait for a database behind a silent network (a TCP proxy that forwards nothing), and
   while those 10,000 units are exported to Excel from the lookup page — target ≤ 100 ms.

The ledger is `benchmarks/ledger.py`'s (N in-stock units with their events, PO-SCAN and
SO-SCAN open with room for every scan), built with chunked Core executemany.
Prints a markdown table.

Building 1,000,000 units takes about 40 s on SQLite and 90 s on PostgreSQL, and every
part runs by default. For one measure at full size, build the ledger once and reuse it:

    python benchmarks/bench_gui.py --ledger sqlite:////tmp/gui_bench.db --only lookup

`--ledger URL` builds the ledger there when that database holds no units (a SQLite
file is created; a PostgreSQL database must exist) and reuses it as it is otherwise
(the benchmarks post nothing but the "stall" part's one shipment: scans are cleared,
lookups read; use `--only` without "stall" on a ledger you reuse); it is never dropped.
`--only scans|stall|lookup|grid|start` (repeatable) runs just those parts.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.ledger import (  # noqa: E402
    LedgerInfo,
    build_ledger,
    drop_postgres,
    fresh_postgres,
    fresh_sqlite,
)

BENCH_STATION = "BENCH-1"
PARTS = ("scans", "stall", "lookup", "grid", "start")
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/station_bench_gui"


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered), p99


def settle(done: Callable[[], bool], timeout: float = 60.0) -> None:
    """Run the event loop until `done()` (work the page hands to a thread shows later)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    assert app is not None
    app.processEvents()
    limit = time.perf_counter() + timeout
    while not done():
        if time.perf_counter() > limit:
            raise TimeoutError(f"not done after {timeout:.0f} s")
        app.processEvents()


def bench_scans(
    engine: Engine, info: LedgerInfo, kind: str, count: int
) -> tuple[tuple[float, float], ...]:
    """Milliseconds from the first key event of a scan to the banner painted; of that, the
    core's `session.scan` and the rest (GUI); and to the whole window (tables included)
    painted: (p50, p99) each."""
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    from ui.app import build_window
    from ui.wedge import key_for

    app = QApplication.instance()
    window = build_window(engine, station=BENCH_STATION, sounds="record")
    window.show()
    window.activateWindow()
    app.processEvents()
    receive = kind == "receive"
    page = window.open_document(kind, info.scan_po if receive else info.scan_order)
    assert page is not None
    page.manual.setFocus()
    app.processEvents()
    clock = [1_000_000]

    def scan(code: str) -> None:
        clock[0] += 1000
        target = QApplication.focusWidget() or window
        for ch in code + "\r":
            clock[0] += 4
            event = QKeyEvent(QEvent.Type.KeyPress, key_for(ch), Qt.KeyboardModifier.NoModifier, ch)
            event.setTimestamp(clock[0])
            QApplication.sendEvent(target, event)

    scan(info.scan_po_sku if receive else info.scan_order_sku)
    app.processEvents()
    assert page.banner.state == "good", page.banner.text()
    serials = [f"NEW{n:08d}" for n in range(count)] if receive else info.ship_scan_serials(count)
    session = page.session
    core_scan = session.scan
    core: list[float] = []

    def timed_scan(raw: str | bytes) -> object:
        begin = time.perf_counter()
        try:
            return core_scan(raw)
        finally:
            core.append((time.perf_counter() - begin) * 1000)

    session.scan = timed_scan  # type: ignore[method-assign]
    banner: list[float] = []
    window_painted: list[float] = []
    for serial in serials:
        start = time.perf_counter()
        scan(serial)  # the page paints the banner before the Enter key's event returns
        banner.append((time.perf_counter() - start) * 1000)
        app.processEvents()  # the tables and the rest of the window
        window_painted.append((time.perf_counter() - start) * 1000)
        assert page.banner.state == "good", page.banner.text()
        assert serial in page.banner.text()
    page.rescan()
    window.close()
    window.deleteLater()
    app.processEvents()
    gui = [total - inside for total, inside in zip(banner, core, strict=True)]
    return (
        percentiles(banner[5:]),
        percentiles(core[5:]),
        percentiles(gui[5:]),
        percentiles(window_painted[5:]),
    )


def bench_lookup(
    engine: Engine, info: LedgerInfo, count: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Milliseconds for the lookup page to show a serial's unit and timeline (typed into
    its field and Enter: the document-number query first, then the trace), p50/p99 over
    `count` in-stock serials; and for an open order's number that no unit has shipped
    on yet (the document query finds no units; the serial trace finds none either)."""
    from PySide6.QtWidgets import QApplication

    from ui.app import build_window

    app = QApplication.instance()
    window = build_window(engine, station=BENCH_STATION, sounds="record")
    window.show()
    app.processEvents()
    page = window.lookup
    serials = info.ship_scan_serials(count)
    serial_ms: list[float] = []
    for serial in serials:
        start = time.perf_counter()
        page.look_up(serial)
        settle(lambda serial=serial: bool(page.traces) and page.traces[0].serial == serial)
        serial_ms.append((time.perf_counter() - start) * 1000)
    document_ms: list[float] = []
    for _ in range(20):
        page.banner.clear()  # the answer is this lookup's when the banner names it again
        start = time.perf_counter()
        page.look_up(info.scan_order)
        settle(lambda: info.scan_order in page.banner.text())
        document_ms.append((time.perf_counter() - start) * 1000)
    window.close()
    window.deleteLater()
    app.processEvents()
    return percentiles(serial_ms[5:]), percentiles(document_ms[2:])


def bench_grid(rows: int, appends: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Milliseconds to append one row to a shown grid holding `rows` (model insert and
    the view scrolled to it), and the same with the grid repainted: (p50, p99) each."""
    from PySide6.QtWidgets import QApplication, QTableView

    from station.grid import Entry
    from ui.models import EntriesModel
    from ui.widgets import setup_table

    app = QApplication.instance()
    model = EntriesModel(lambda entry: ("W-100", "Widget One"))
    model.reset_to([Entry(0, f"SN-{n:07d}") for n in range(rows)])
    view = QTableView()
    view.setModel(model)
    setup_table(view, stretch=2)
    view.resize(700, 420)
    view.show()
    app.processEvents()
    appended: list[float] = []
    painted: list[float] = []
    for n in range(appends):
        entry = Entry(0, f"NEXT-{n:07d}")
        start = time.perf_counter()
        model.append(model.row_for(entry))
        view.scrollToBottom()
        appended.append((time.perf_counter() - start) * 1000)
        app.processEvents()
        painted.append((time.perf_counter() - start) * 1000)
    assert model.rowCount() == rows + appends
    view.close()
    return percentiles(appended), percentiles(painted)


class Ticks:
    """A `ms` timer on the GUI thread noting when it fires: the event loop's heartbeat."""

    def __init__(self, ms: int = 5) -> None:
        from PySide6.QtCore import QTimer

        self.seen: list[float] = []
        self.timer = QTimer()
        self.timer.timeout.connect(lambda: self.seen.append(time.perf_counter()))
        self.timer.start(ms)

    def longest_gap_ms(self, start: float, end: float) -> float:
        moments = [start, *(t for t in self.seen if start <= t <= end), end]
        return max(b - a for a, b in itertools.pairwise(moments)) * 1000

    def stop(self) -> None:
        self.timer.stop()


def bench_posting_stall(
    engine: Engine, info: LedgerInfo, units: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Seconds to post `units` scanned serials from the scanning page (Save until the
    choose page shows the verdict) and the longest event-loop stall meanwhile (ms); then
    the same for exporting the PO's units to Excel from the lookup page."""
    from PySide6.QtWidgets import QApplication

    from ui.app import build_window, freeze_startup_objects

    app = QApplication.instance()
    window = build_window(engine, station=BENCH_STATION, sounds="record")
    window.show()
    app.processEvents()
    freeze_startup_objects()  # as ui.app.run does once the window is shown
    page = window.open_document("receive", info.post_po)
    assert page is not None, window.choose["receive"].banner.text()
    session = page.session
    assert session.scan(info.post_po_sku).ok
    for n in range(units):  # the session filled by the core: not what is timed
        verdict = session.scan(f"STALL{n:08d}")
        assert verdict.ok, verdict.message
    page._refresh()
    app.processEvents()
    chooser = window.choose["receive"]
    ticks = Ticks()
    start = time.perf_counter()
    page.save()
    while window.current_page() is not chooser:
        app.processEvents()
    end = time.perf_counter()
    assert chooser.banner.state in ("good", "warn"), chooser.banner.text()
    posting = (end - start, ticks.longest_gap_ms(start, end))
    window.do("lookup")
    window.lookup.look_up(info.post_po)
    assert len(window.lookup.units) >= units, window.lookup.banner.text()
    app.processEvents()  # the units listed and painted, as a person sees them before Export
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        written = window.lookup.export_to(Path(folder) / "units.xlsx")
        end = time.perf_counter()
    assert written > units, window.lookup.banner.text()
    ticks.stop()
    window.close()
    window.deleteLater()
    app.processEvents()
    return posting, (end - start, ticks.longest_gap_ms(start, end))


def bench_silent_stall(url: str, info: LedgerInfo) -> list[tuple[str, float, float]]:
    """PostgreSQL behind a TCP proxy that goes silent: a posting (Save) and a lookup,
    each (what, seconds until its verdict, longest event-loop stall in ms)."""
    from PySide6.QtWidgets import QApplication
    from sqlalchemy import make_url

    from station.app import connect
    from tests.netproxy import SilentProxy
    from ui.app import build_window

    app = QApplication.instance()
    server = make_url(url)
    found: list[tuple[str, float, float]] = []
    with SilentProxy(server.host or "127.0.0.1", server.port or 5432) as proxy:
        proxied = server.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
        engine = connect(proxied)
        window = build_window(engine, station=BENCH_STATION, sounds="record")
        window.show()
        app.processEvents()
        page = window.open_document("receive", info.scan_po)
        assert page is not None
        assert page.session.scan(info.scan_po_sku).ok and page.session.scan("SILENT-1").ok
        ticks = Ticks()
        proxy.silence()
        start = time.perf_counter()
        verdict = page.save()
        end = time.perf_counter()
        assert verdict is not None and not verdict.ok, verdict
        found.append((f"posting ({verdict.code})", end - start, ticks.longest_gap_ms(start, end)))
        page.rescan()  # nothing of it is ever posted
        page.closed.emit()
        window.do("lookup")
        start = time.perf_counter()
        window.lookup.look_up(info.ship_scan_serials(1)[0])
        end = time.perf_counter()
        code = window.lookup.banner.code
        found.append((f"lookup ({code})", end - start, ticks.longest_gap_ms(start, end)))
        ticks.stop()
        proxy.heal()
        window.close()
        window.deleteLater()
        app.processEvents()
        engine.dispose()
    return found


def bench_cold_start(url: str, data_dir: Path, runs: int) -> list[float]:
    """Seconds from starting a new process to its window being ready."""
    env = {**os.environ, "STATION_DATA_DIR": str(data_dir), "STATION_EXIT_WHEN_READY": "1"}
    (data_dir / "desktop.json").write_text(json.dumps({"station": BENCH_STATION, "user": None}))
    code = "import sys; from ui.app import run; sys.exit(run(sys.argv[1]))"
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", code, url],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        assert "ready" in out, out
        times.append(time.perf_counter() - start)
    return times


def ledger_at(url: str, units: int) -> LedgerInfo:
    """The benchmark ledger at `url`: built when the database holds no units, else
    reused (it must be `build_ledger`'s with `units` units)."""
    from sqlalchemy import inspect, text

    from benchmarks.ledger import RESERVE
    from station.db.engine import make_engine

    engine = make_engine(url)
    try:
        found = 0
        if inspect(engine).has_table("units"):
            with engine.connect() as connection:
                found = int(connection.execute(text("SELECT count(*) FROM units")).scalar_one())
    finally:
        engine.dispose()
    if found == 0:
        info = build_ledger(url, units)
        print(f"ledger with {units:,} units built in {info.seconds:.1f} s", file=sys.stderr)
        return info
    if found != units:
        raise SystemExit(f"{url} holds {found:,} units, not --units {units:,}")
    return LedgerInfo(url, units, RESERVE, 0.0)


def run_all(
    url: str,
    units: int,
    label: str,
    scans: int,
    *,
    parts: tuple[str, ...] = PARTS,
    lookups: int = 1000,
    info: LedgerInfo | None = None,
) -> list[tuple[str, str, str]]:
    from station import stations
    from station.app import connect

    if info is None:
        info = build_ledger(url, units)
        built = f"[{label}] ledger with {units:,} units built in {info.seconds:.1f} s"
        print(built, file=sys.stderr)
    engine = connect(url)
    stations.register(engine, BENCH_STATION)
    rows = []
    try:
        for kind in ("receive", "ship") if "scans" in parts else ():
            banner, core, gui, window = bench_scans(engine, info, kind, scans)
            for measure, (p50, p99), target in (
                (f"scan → verdict banner painted, {kind}", banner, "p99 ≤ 10 ms"),
                ("… of which the core's session.scan", core, "p99 ≤ 2 ms (SPEC, in-process)"),
                ("… of which the GUI (keys, wedge, banner paint)", gui, "—"),
                ("scan → whole window repainted (tables too)", window, "—"),
            ):
                rows.append(
                    (
                        f"{label}, {units:,} units: {measure}",
                        f"p50 {p50:.2f} ms · p99 {p99:.2f} ms",
                        target,
                    )
                )
        if "stall" in parts:  # posts: the reserve units of a reused ledger are used up
            posting, export = bench_posting_stall(engine, info, info.reserve)
            for what, (seconds, stall) in (
                (f"posting {info.reserve:,} units from the window", posting),
                (f"exporting those {info.reserve:,} units to Excel (lookup)", export),
            ):
                rows.append(
                    (
                        f"{label}, {units:,} units: longest event-loop stall while {what}"
                        f" ({seconds:.1f} s)",
                        f"{stall:.0f} ms",
                        "≤ 100 ms",
                    )
                )
            if engine.dialect.name == "postgresql":
                for what, seconds, stall in bench_silent_stall(url, info):
                    rows.append(
                        (
                            f"{label}: longest event-loop stall, silent network, {what}"
                            f" answered after {seconds:.1f} s",
                            f"{stall:.0f} ms",
                            "≤ 100 ms",
                        )
                    )
        if "lookup" in parts:
            serial, document = bench_lookup(engine, info, lookups)
            for measure, (p50, p99), target in (
                ("lookup of a serial (unit and timeline shown)", serial, "p99 ≤ 10 ms"),
                (
                    f"lookup of an open order's number, nothing shipped ({info.scan_order})",
                    document,
                    "—",
                ),
            ):
                rows.append(
                    (f"{label}, {units:,} units: {measure}", f"p50 {p50:.2f} ms · p99 {p99:.2f} ms",
                     target)
                )  # fmt: skip
    finally:
        engine.dispose()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--scans", type=int, default=1000)
    parser.add_argument("--lookups", type=int, default=1000, help="serials looked up")
    parser.add_argument(
        "--pg",
        nargs="?",
        const=PG_URL,
        help=f"also run on PostgreSQL (the database is created and dropped; {PG_URL});"
        " not with --ledger",
    )
    parser.add_argument(
        "--ledger",
        metavar="URL",
        help="run on this database only: build the ledger there when it holds no units,"
        " else reuse it (never dropped)",
    )
    parser.add_argument(
        "--only", action="append", choices=PARTS, help="run only this part (repeatable)"
    )
    args = parser.parse_args()
    parts = tuple(args.only or PARTS)

    from PySide6.QtWidgets import QApplication

    from ui.resources import stylesheet

    app = QApplication(sys.argv[:1])
    app.setStyleSheet(stylesheet())
    results: list[tuple[str, str, str]] = []
    runs = bool({"scans", "stall", "lookup"} & set(parts))
    info: LedgerInfo | None = None
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        os.environ["STATION_DATA_DIR"] = str(data_dir)
        url = args.ledger or fresh_sqlite(tmp)
        label = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        if runs or "start" in parts:
            info = ledger_at(url, args.units)
        if runs:
            results += run_all(
                url, args.units, label, args.scans, parts=parts, lookups=args.lookups, info=info
            )
        if args.pg and runs and not args.ledger:
            pg_url = fresh_postgres(args.pg)
            try:
                results += run_all(
                    pg_url, args.units, "PostgreSQL", args.scans, parts=parts,
                    lookups=args.lookups,
                )  # fmt: skip
            finally:
                drop_postgres(pg_url)
        if "grid" in parts:
            (p50, p99), (w50, w99) = bench_grid(100_000, 1000)
            results.append(
                (
                    "append a row to a session grid holding 100,000 rows (model + view)",
                    f"p50 {p50:.3f} ms · p99 {p99:.3f} ms",
                    "≤ 1 ms",
                )
            )
            results.append(
                (
                    "… and the grid repainted (software raster)",
                    f"p50 {w50:.2f} ms · p99 {w99:.2f} ms",
                    "—",
                )
            )
        if "start" in parts:
            times = bench_cold_start(url, data_dir, 5)
            results.append(
                (
                    f"cold start to ready (new process, {label}, {args.units:,} units)",
                    f"median {statistics.median(times):.2f} s · max {max(times):.2f} s",
                    "≤ 2 s",
                )
            )
    del app
    print("| measure | result | target |")
    print("| --- | --- | --- |")
    for measure, result, target in results:
        print(f"| {measure} | {result} | {target} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
