"""Run by tests/ui/test_sounds.py in a process of its own, with no audio output (QtMultimedia
connects to the audio server once per process); not collected by itself."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from tests.seed import seed
from tests.ui.conftest import keyboard
from ui.main_window import MainWindow
from ui.sounds import BAD, GOOD, Sounds


def test_no_audio_output_window(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    window = make_window(sounds="system")
    sounds = window.services.sounds
    qtbot.waitUntil(lambda: sounds.backend != "starting", timeout=10000)
    assert sounds.effects == {} and sounds.backend in {"system player", "beep"}
    assert sounds.notice.startswith(
        ("Sounds: no audio output device; ", "Sounds: QtMultimedia cannot load (")
    )
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == sounds.notice, timeout=5000)
    keys = keyboard(window)
    keys.scan("PO-1")
    page = window.scan_page
    assert page is not None
    states = []
    for scan in ["W1", "SN-QUIET-1", "W1", "SN-QUIET-1"]:
        keys.scan(scan)
        states.append(page.banner.state)
    assert states == ["good", "good", "good", "bad"], page.banner.text()
    assert sounds.played[-4:] == [GOOD, GOOD, GOOD, BAD]


def test_no_audio_output_and_sounds_off(qtbot: QtBot) -> None:
    sounds = Sounds()
    sounds.enabled = False  # the station's `sounds` option, applied as the window starts
    said: list[str] = []
    sounds.problem.connect(said.append)
    qtbot.waitUntil(lambda: sounds.backend != "starting", timeout=10000)
    qtbot.wait(100)
    assert sounds.notice != "" and said == []
    sounds.play(BAD)
    assert sounds.played == []


def test_silent_server_window(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    started = time.monotonic()
    window = make_window(sounds="system")
    assert time.monotonic() - started < 5  # generous; QtMultimedia alone waits 30 s
    sounds = window.services.sounds
    assert sounds.backend == "starting"
    keys = keyboard(window)
    keys.scan("PO-1")
    page = window.scan_page
    assert page is not None
    keys.scan("W1")
    assert page.banner.state == "good"  # judged while the probe waits
    qtbot.waitUntil(lambda: "did not answer" in window.statusBar().currentMessage(), timeout=15000)
    assert sounds.notice.startswith("Sounds: the sound server did not answer in 5 s; ")
    assert sounds.effects == {} and sounds.backend in {"system player", "beep"}


def test_silent_server_ticks(qtbot: QtBot) -> None:
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)
    sounds = Sounds()
    qtbot.waitUntil(lambda: sounds.backend != "starting", timeout=15000)
    timer.stop()
    gaps = [later - earlier for earlier, later in itertools.pairwise(ticks)]
    assert len(ticks) > 100 and max(gaps) < 2, max(gaps)  # generous: it waited 5 s, not 30
