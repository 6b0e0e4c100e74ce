"""The first start with the database unreachable (no options cached on this machine):
the station says what failed, which database it tried and why that one, how to point it
at another (`--db`, STATION_DATABASE_URL), and offers Retry and Quit; Retry opens the
database once it is back."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import make_url, text
from sqlalchemy.exc import OperationalError

from station.app import connect
from tests.netproxy import SilentProxy
from ui.app import EXIT_DATABASE, build_window
from ui.database_dialog import DatabaseDialog

ROOT = Path(__file__).resolve().parents[2]


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _at_port(url: str, port: int) -> str:
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def _first_try(url: str) -> str:
    """What the app's own start says when it cannot reach `url`."""
    with pytest.raises(OperationalError) as refused:
        connect(url)
    return f"Cannot reach the database: {str(refused.value.orig).splitlines()[0]}"


def test_retry_opens_the_database_once_it_is_back(qtbot: QtBot, pg_database: str) -> None:
    port = _closed_port()
    url = _at_port(pg_database, port)
    dialog = DatabaseDialog(url, _first_try(url), connect)
    qtbot.addWidget(dialog)
    dialog.show()
    said = dialog.text()
    assert said.startswith("Cannot reach the database: ") and str(port) in said
    assert f"Database: postgresql+psycopg://postgres@127.0.0.1:{port}/" in said
    assert "(given with --db)" in said
    assert "start the station with --db URL" in said
    assert "set the environment variable STATION_DATABASE_URL" in said
    assert dialog.retry_button.text() == "Retry" and dialog.retry_button.isEnabled()
    assert dialog.quit_button.text() == "Quit" and dialog.quit_button.isEnabled()

    dialog.retry_button.click()  # still nothing listens there
    qtbot.waitUntil(lambda: dialog.outcome.isVisible(), timeout=10_000)
    assert dialog.isVisible() and dialog.engine is None
    assert dialog.outcome.text().startswith("Retry 1 at ")
    assert " UTC failed: " in dialog.outcome.text() and str(port) in dialog.outcome.text()
    assert dialog.retry_button.text() == "Retry" and dialog.retry_button.isEnabled()

    server = make_url(pg_database)
    with SilentProxy(server.host or "127.0.0.1", server.port or 5432, listen=port):
        with qtbot.waitSignal(dialog.accepted, timeout=10_000):
            dialog.retry_button.click()
        engine = dialog.engine
        assert engine is not None and not dialog.isVisible()
        try:
            with engine.connect() as connection:
                assert connection.execute(text("SELECT 1")).scalar_one() == 1
            window = build_window(engine)  # what the start goes on to: first-run setup
            qtbot.addWidget(window)
            window.show()
            assert window.setup is not None and window.current_page() is window.setup
            window.close()
        finally:
            engine.dispose()


def test_quit_leaves_without_a_database(qtbot: QtBot, pg_database: str) -> None:
    url = _at_port(pg_database, _closed_port())
    dialog = DatabaseDialog(url, _first_try(url), connect)
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.rejected, timeout=2000):
        dialog.quit_button.click()
    assert dialog.engine is None and not dialog.isVisible()


def test_the_database_source_is_named_as_it_was_chosen(
    qtbot: QtBot, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _at_port(make_url(pg_database).set(password="SeCrEt").render_as_string(False), 1)
    monkeypatch.setenv("STATION_DATABASE_URL", url)
    dialog = DatabaseDialog(None, "Cannot reach the database: refused", connect)
    qtbot.addWidget(dialog)
    said = dialog.text()
    assert "postgresql+psycopg://postgres:***@127.0.0.1:1/" in said
    assert "(from STATION_DATABASE_URL)" in said and "SeCrEt" not in said
    monkeypatch.delenv("STATION_DATABASE_URL")
    dialog = DatabaseDialog(None, "Cannot open the database: no", connect)
    qtbot.addWidget(dialog)
    said = dialog.text()
    assert f"Database: sqlite:///{Path(os.environ['STATION_DATA_DIR']) / 'station.db'}" in said
    assert "(the default: neither --db nor STATION_DATABASE_URL is set)" in said


def test_without_a_screen_the_start_says_it_on_stderr_and_exits(
    pg_database: str, tmp_path: Path
) -> None:
    """Offscreen (no one to answer a dialog): the same words on stderr, exit status 2."""
    port = _closed_port()
    url = _at_port(pg_database, port)
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "STATION_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("STATION_DATABASE_URL", None)
    code = "import sys; from ui.app import run; sys.exit(run(sys.argv[1]))"
    done = subprocess.run(
        [sys.executable, "-c", code, url],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == EXIT_DATABASE and "Traceback" not in done.stderr
    assert done.stderr.startswith("station: Cannot reach the database: "), done.stderr
    assert f"Database: postgresql+psycopg://postgres@127.0.0.1:{port}/" in done.stderr
    assert "(given with --db)" in done.stderr
    assert "start the station with --db URL" in done.stderr
    assert "STATION_DATABASE_URL" in done.stderr
