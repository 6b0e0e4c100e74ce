"""Run by tests/ui/test_sounds.py in a process of its own, with no audio output (QtMultimedia
connects to the audio server once per process); not collected by itself."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from tests.seed import seed
from tests.ui.conftest import keyboard
from ui.main_window import MainWindow
from ui.sounds import BAD, GOOD, Sounds


def test_no_audio_output(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    window = make_window(sounds="system")
    sounds = window.services.sounds
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
    qtbot.wait(200)
    assert sounds.notice != "" and said == []
    sounds.play(BAD)
    assert sounds.played == []
