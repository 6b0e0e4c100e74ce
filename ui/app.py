"""The desktop app's one wiring point: `run(url)` opens the database, builds the services
and the main window, and runs the event loop. `build_window` is what tests and the
benchmark use; nothing connects or opens at import time."""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from ui import platform_check

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from ui.main_window import MainWindow

EXIT_OK, EXIT_FAILED, EXIT_DATABASE, EXIT_PLATFORM = 0, 1, 2, 3


def build_window(
    engine: Engine,
    *,
    station: str | None = None,
    user: str | None = None,
    sounds: str = "system",
    watch_interval_ms: int = 5000,
    database_up: bool = True,
) -> MainWindow:
    """The main window over `engine`, with its services. `station` overrides the station
    this machine remembers (first run shows the setup page when there is none);
    `database_up=False` starts on the station's cached options with scanning refused
    until the database watch reaches the database. `user`: an operator already signed in
    (tests and the benchmark; the app itself signs operators in with their PIN)."""
    from ui.devices import Printing, SerialScanners
    from ui.main_window import MainWindow
    from ui.services import DatabaseWatch, Services
    from ui.settings import LocalSettings
    from ui.sounds import Sounds
    from ui.worker import DatabaseWorker

    settings = LocalSettings.load()
    if station is not None:
        settings.station = station
    database = DatabaseWatch(engine, watch_interval_ms)
    if not database_up:
        database.mark(False, "unreachable at start")
    worker = DatabaseWorker()
    services = Services(
        engine=engine,
        settings=settings,
        sounds=Sounds(sounds),
        printing=Printing(engine, worker),
        scanners=SerialScanners(),
        database=database,
        worker=worker,
    )
    if user is not None:
        from station.users import role_of

        services.operator, services.operator_role = user, role_of(engine, user)
    return MainWindow(services)


def _application() -> QApplication:
    from PySide6.QtWidgets import QApplication

    from ui.resources import icon, stylesheet

    found = QApplication.instance()
    app = found if isinstance(found, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Station")
    font = app.font()
    font.setPointSize(13)  # large type for an eight-hour shift
    app.setFont(font)
    app.setWindowIcon(icon())
    app.setStyleSheet(stylesheet())
    return app


def qt_binding_problem() -> str | None:
    """PySide6 6.12.0 on CPython 3.11 drops a reference to None on every Qt call that
    returns nothing; the interpreter aborts after some thousands of scans. Refuse to
    start on it with the fix, rather than crash at the bench (pyproject pins <6.12)."""
    import PySide6
    from PySide6.QtCore import QTimer

    if sys.version_info >= (3, 12):
        return None
    probe, before = QTimer(), sys.getrefcount(None)
    for _ in range(10):
        probe.stop()
    if sys.getrefcount(None) >= before:
        return None
    return (
        f"PySide6 {PySide6.__version__} has a reference-counting bug on Python"
        f" {sys.version_info.major}.{sys.version_info.minor} that would crash the station;"
        " install a sound version: pip install 'PySide6-Essentials<6.12'"
    )


def _first_line(error: BaseException) -> str:
    """An error's first line of text; its type's name when its message is empty."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _has_screen() -> bool:
    return not os.environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal"))


def ask_for_database(url: str | None, problem: str) -> Engine | None:
    """The database could not be opened at start: say what failed and how to point the
    station at another database (on stderr, and in a dialog with Retry and Quit when
    there is a screen). The engine once a retry opens it; None: quit."""
    from station.app import connect
    from ui.database_dialog import DatabaseDialog, problem_text

    print(f"station: {problem_text(url, problem)}", file=sys.stderr, flush=True)
    if not _has_screen():
        return None
    dialog = DatabaseDialog(url, problem, connect)
    dialog.exec()
    return dialog.engine


def freeze_startup_objects() -> None:
    """What the window is built of (modules, Qt wrappers, the engine) lives as long as
    the app: out of the garbage collector's reach, so that a full collection walks only
    what came after. A collection holds the interpreter lock from start to end, and the
    GUI thread with it: half the objects, half the stall."""
    gc.collect()
    gc.freeze()


def run(url: str | None = None) -> int:
    """Open the main window on `url` (default: the SQLite file in the data directory)."""
    started = time.perf_counter()
    problem = platform_check.check() or qt_binding_problem()
    if problem:
        print(f"station: {problem}", file=sys.stderr)
        return EXIT_PLATFORM
    app = _application()
    from PySide6.QtCore import QTimer
    from sqlalchemy.exc import OperationalError

    from station.app import connect
    from station.db.engine import make_engine
    from ui.settings import LocalSettings

    reachable = True
    opened: Engine | None
    try:
        opened = connect(url)
    except OperationalError as error:
        reason = _first_line(getattr(error, "orig", error))
        if LocalSettings.load().station is None:  # nothing cached to start from
            opened = ask_for_database(url, f"Cannot reach the database: {reason}")
        else:  # SPEC §4: start on the options cached on this machine; scanning waits
            # for the database, which the status bar watches.
            opened, reachable = make_engine(url), False
    except Exception as error:
        reason = _first_line(getattr(error, "orig", error))
        opened = ask_for_database(url, f"Cannot open the database: {reason}")
    if opened is None:
        return EXIT_DATABASE
    engine = opened
    window = build_window(engine, database_up=reachable)
    window.show()
    freeze_startup_objects()
    if os.environ.get("STATION_EXIT_WHEN_READY"):

        def ready() -> None:
            print(f"ready {time.perf_counter() - started:.3f}", flush=True)
            window.close()
            app.quit()

        QTimer.singleShot(0, ready)
    status = int(app.exec())
    engine.dispose()
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m ui.app [--db URL]`: the same as `station` with no command."""
    import argparse

    parser = argparse.ArgumentParser(prog="station-desktop")
    parser.add_argument("--db", help="database URL (default: STATION_DATABASE_URL or SQLite)")
    args = parser.parse_args(argv)
    return run(args.db)


if __name__ == "__main__":
    sys.exit(main())
