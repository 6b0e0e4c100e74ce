"""What the desktop app shows when it cannot open its database at start (and has no
options cached on this machine to start from): what failed, which database it tried and
why that one, how to point the station at another (`--db`, `STATION_DATABASE_URL`),
and Retry / Quit. Retry connects on a worker thread (a silent server never freezes the
dialog) and closes the dialog with the engine once the database answers."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QVBoxLayout, QWidget
from sqlalchemy import Engine

from ui.widgets import button, label

_PASSWORD = re.compile(r"(://[^:/@]*:)(.*)@")

#: Opens the database at a URL (None: the default), as `station.app.connect` does.
Connect = Callable[[str | None], Engine]


def database_source(url: str | None) -> tuple[str, str]:
    """The database a start with `url` uses, as shown to a person (password as ***), and
    where that choice came from."""
    from sqlalchemy.engine import make_url

    if url:
        chosen, source = url, "given with --db"
    elif os.environ.get("STATION_DATABASE_URL"):
        chosen, source = os.environ["STATION_DATABASE_URL"], "from STATION_DATABASE_URL"
    else:
        from station.db.engine import default_url

        try:
            chosen = default_url()
        except Exception:  # the data folder itself is the problem: the reason says so
            chosen = "the SQLite file in the data folder"
        source = "the default: neither --db nor STATION_DATABASE_URL is set"
    try:
        shown = make_url(chosen).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: the password hidden all the same
        shown = _PASSWORD.sub(r"\1***@", chosen, count=1)
    return shown, source


def how_to_choose() -> str:
    """How a person points the station at another database."""
    return (
        "To use another database, start the station with --db URL (station --db URL) or"
        " set the environment variable STATION_DATABASE_URL to the URL, for example"
        " postgresql+psycopg://USER@SERVER/station for a shared server or"
        " sqlite:///PATH/TO/station.db for a file on this computer."
    )


def problem_text(url: str | None, problem: str) -> str:
    """The whole message, plain text (stderr, and the dialog's body)."""
    shown, source = database_source(url)
    return f"{problem}\nDatabase: {shown} ({source}).\n{how_to_choose()}"


class _Attempt(QObject):
    """Carries a connection attempt's outcome from its thread to the GUI thread."""

    done = Signal(object, str)  # the engine (None: failed), the reason it failed


class DatabaseDialog(QDialog):
    """Retry (connects again) or Quit. Accepted: `engine` is the database, opened."""

    def __init__(
        self, url: str | None, problem: str, connect: Connect, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.url = url
        self.connect_to = connect
        self.engine: Engine | None = None
        self.attempts = 1  # the start's own
        self.trying = False
        shown, source = database_source(url)
        self.setWindowTitle("Station cannot open its database")
        self.problem = label(problem, "databaseProblem", wrap=True)
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.where = label(f"Database: {shown} ({source}).", wrap=True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.how = label(how_to_choose(), wrap=True)
        self.how.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome = label("", "retryOutcome", wrap=True)
        self.outcome.hide()
        self.next = label(
            "Retry once the database is running and reachable from this computer; Quit to"
            " start the station again with another database.",
            wrap=True,
        )
        self.retry_button = button("Retry", primary=True)
        self.retry_button.setDefault(True)
        self.retry_button.clicked.connect(self.retry)
        self.quit_button = button("Quit")
        self.quit_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.quit_button)
        layout = QVBoxLayout(self)
        for part in (self.problem, self.outcome, self.where, self.how, self.next):
            layout.addWidget(part)
        layout.addLayout(buttons)
        self.setMinimumWidth(680)
        self._attempt = _Attempt(self)
        self._attempt.done.connect(self._tried)

    def text(self) -> str:
        """Everything the dialog says, as one string (what a person reads)."""
        parts: list[QLabel] = [self.problem, self.outcome, self.where, self.how, self.next]
        return "\n".join(part.text() for part in parts if part.text())

    def retry(self) -> None:
        if self.trying:
            return
        self.trying = True
        self.attempts += 1
        self.retry_button.setEnabled(False)
        self.retry_button.setText("Trying…")
        threading.Thread(target=self._try, name="database retry", daemon=True).start()

    def _try(self) -> None:
        engine: Engine | None = None
        reason = ""
        try:
            engine = self.connect_to(self.url)
        except Exception as error:  # said in the dialog; the person retries or quits
            reason = _reason(error)
        self._attempt.done.emit(engine, reason)

    def _tried(self, engine: Engine | None, reason: str) -> None:
        self.trying = False
        self.retry_button.setEnabled(True)
        self.retry_button.setText("Retry")
        if engine is not None:
            self.engine = engine
            self.accept()
            return
        at = datetime.now(UTC).strftime("%H:%M:%S")
        self.outcome.setText(f"Retry {self.attempts - 1} at {at} UTC failed: {reason}")
        self.outcome.show()

    def reject(self) -> None:
        if self.trying:  # Quit while a retry runs: its engine, if any, is let go
            self._attempt.done.disconnect(self._tried)
            self._attempt.done.connect(_dispose)
        super().reject()


def _dispose(engine: Engine | None, _reason: str) -> None:
    if engine is not None:
        engine.dispose()


def _reason(error: BaseException) -> str:
    """An error's first line (its driver's, for a database error)."""
    from station.codes import StationError

    if isinstance(error, StationError):
        return error.message
    cause = getattr(error, "orig", None) or error
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]
