"""What the widgets are given: the engine, this machine's settings, sounds, devices and
the database watch. Built in one place (`ui.app.build_window`); widgets receive it in
their constructor and never reach for globals."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from station import options as opts
from station import stations
from station.codes import Code
from station.db import admin
from station.stations import StationConfig
from ui.devices import Printing, SerialScanners
from ui.settings import LocalSettings
from ui.sounds import Sounds
from ui.worker import DatabaseWorker


def first_line(error: BaseException) -> str:
    """An error's first line of text; its type's name when its message is empty."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


class DatabaseWatch(QObject):
    """Connected / unreachable, checked on a worker thread every `interval_ms` and at
    once when a scan reports the database unavailable."""

    changed = Signal(bool, str)
    _result = Signal(bool, str)

    def __init__(self, engine: Engine, interval_ms: int = 5000) -> None:
        super().__init__()
        self.engine = engine
        self.connected = True
        self.detail = ""
        self._busy = False
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._result.connect(self._set)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def check(self) -> None:
        if self._busy:
            return
        self._busy = True
        threading.Thread(target=self._ping, name="database watch", daemon=True).start()

    def _ping(self) -> None:
        connected, detail = False, "unreachable"
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:
            connected, detail = False, first_line(getattr(error, "orig", error))
        else:
            connected, detail = True, ""
        finally:
            self._result.emit(connected, detail)

    def _set(self, connected: bool, detail: str) -> None:
        self._busy = False
        self.mark(connected, detail)

    def mark(self, connected: bool, detail: str = "") -> None:
        if (connected, detail) != (self.connected, self.detail):
            self.connected, self.detail = connected, detail
            self.changed.emit(connected, detail)


@dataclass(slots=True)
class Services:
    engine: Engine
    settings: LocalSettings
    sounds: Sounds
    printing: Printing
    scanners: SerialScanners
    database: DatabaseWatch
    #: The one thread the window's database work runs on (ui.worker).
    worker: DatabaseWorker
    config: StationConfig | None = None  # the options last applied (no query to read)
    kind: str = "both"  # the station's kind, read when the station is applied
    # The operator signed in with their PIN (ui.sign_in), for this run only: every posting
    # and event names them. None: nobody signed in (postings name no user).
    operator: str | None = None
    operator_role: str | None = None

    @property
    def station_name(self) -> str | None:
        return self.settings.station

    def database_refused(self, error: Exception) -> tuple[str, str]:
        """A database error as a banner's (message, code): a busy database is busy (it
        answers; another station holds a lock), anything else unreachable — then the
        status bar says so too."""
        from station.db.engine import database_problem

        problem = database_problem(error, str(self.engine.url))
        if problem is not None and problem.code == Code.DATABASE_BUSY:
            return problem.message, str(problem.code)
        self.database.mark(False, "unreachable")
        return "The database cannot be reached.", str(Code.DATABASE_UNAVAILABLE)

    def station(self) -> StationConfig:
        """The station's options now (from the local cache when the database is down)."""
        assert self.settings.station is not None
        return stations.load(self.engine, self.settings.station)

    def read_kind(self) -> str:
        """Read the station's kind from the database into `kind` (kept when it cannot be
        read). Called when the station is applied, never on a status update."""
        name = self.settings.station
        try:
            with self.engine.connect() as connection:
                for station_name, kind, _seen in admin.stations(connection):
                    if station_name == name:
                        self.kind = kind
        except (SQLAlchemyError, OSError):
            pass
        return self.kind

    def command_prefix(self) -> str:
        """The prefix of command barcodes at this station (from the options applied)."""
        if self.config is None:
            return str(opts.OPTIONS["command_prefix"].default)
        return str(self.config["command_prefix"])

    def apply_station(self, config: StationConfig) -> None:
        """Point sounds, scanners and printers at the station's options."""
        self.config = config
        self.sounds.enabled = bool(config["sounds"])
        if list(config["scanner"]) != self.scanners.settings or self.scanners.problem:
            self.scanners.configure(config["scanner"])
        self.printing.configure(config["label_printer"], config["receipt_printer"], config.name)

    def shutdown(self) -> None:
        self.worker.stop()
        self.database.stop()
        self.scanners.stop()
        self.printing.stop()
