"""Scan sounds through QtMultimedia: each verdict starts its preloaded QSoundEffect, on a
real PulseAudio server with a null sink; a sound that cannot be played, or a machine with
no audio output, falls back and says so once, and scanning goes on."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from station import resources
from tests.seed import seed
from tests.ui.conftest import keyboard
from ui.main_window import MainWindow
from ui.resources import sound_path
from ui.sounds import BAD, GOOD, Sounds

try:
    from PySide6.QtMultimedia import QSoundEffect
except ImportError:  # e.g. no libpulse on Linux: only the fallback can be tried here
    QSoundEffect = None  # type: ignore[assignment,misc]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def null_sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PulseAudio server whose one output is a null sink; PULSE_SERVER points at it.
    QtMultimedia connects to the audio server once per process: the tests that need no
    audio output run in a process of their own (test_without_an_audio_output_...)."""
    if QSoundEffect is None:
        pytest.skip("QtMultimedia cannot load here (PySide6-Addons, and libpulse on Linux)")
    program = shutil.which("pulseaudio")
    if program is None:
        pytest.skip("needs the pulseaudio server for a null sink (apt-get install pulseaudio)")
    home = tmp_path_factory.mktemp("pulse")
    socket = home / "native"
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(home)}
    server = subprocess.Popen(
        [program, "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
         "-L", "module-null-sink",
         "-L", f"module-native-protocol-unix socket={socket} auth-anonymous=1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not socket.exists() and server.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if not socket.exists():
        server.kill()
        pytest.fail(f"pulseaudio did not open {socket} (exit status {server.poll()})")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PULSE_SERVER", f"unix:{socket}")
        yield f"unix:{socket}"
    server.terminate()
    server.wait(10)


def _audio_sounds(qtbot: QtBot, sounds: Sounds) -> dict[str, QSoundEffect]:
    qtbot.waitUntil(lambda: sounds.backend != "starting", timeout=10000)  # the probe
    assert sounds.backend == "QtMultimedia", sounds.notice
    return dict(sounds.effects)


def test_each_verdict_plays_its_sound_loaded_once(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow], null_sink: str
) -> None:
    seed(engine)
    window = make_window(sounds="system")
    sounds = window.services.sounds
    effects = _audio_sounds(qtbot, sounds)
    assert {name: effect.source().toLocalFile() for name, effect in effects.items()} == {
        name: str(sound_path(name)) for name in (GOOD, BAD)
    }
    ready = QSoundEffect.Status.Ready
    qtbot.waitUntil(lambda: all(e.status() == ready for e in effects.values()), timeout=5000)
    statuses: list[object] = []
    started: list[str] = []
    for name, effect in effects.items():
        effect.statusChanged.connect(lambda e=effect: statuses.append(e.status()))
        effect.playingChanged.connect(lambda n=name, e=effect: e.isPlaying() and started.append(n))

    keys = keyboard(window)
    keys.scan("PO-1")
    page = window.scan_page
    assert page is not None
    verdicts = []
    for scan in ["W1", "SN-SOUND-1", "W1", "SN-SOUND-1"]:  # the last: received already
        keys.scan(scan)
        verdicts.append(page.banner.state)
        want = GOOD if page.banner.state == "good" else BAD
        qtbot.waitUntil(lambda w=want: started[-1:] == [w], timeout=5000)
        qtbot.waitUntil(lambda: not any(e.isPlaying() for e in effects.values()), timeout=5000)
    assert verdicts == ["good", "good", "good", "bad"], page.banner.text()
    assert started == [GOOD, GOOD, GOOD, BAD] == sounds.played[-4:]
    assert sounds.effects == effects and statuses == []  # the same effects, never reloaded


def test_a_bad_sound_cuts_a_good_one_short_and_a_burst_never_stalls(
    qtbot: QtBot, null_sink: str
) -> None:
    sounds = Sounds()
    effects = _audio_sounds(qtbot, sounds)
    ready = QSoundEffect.Status.Ready
    qtbot.waitUntil(lambda: all(e.status() == ready for e in effects.values()), timeout=5000)
    started: list[str] = []
    for name, effect in effects.items():
        effect.playingChanged.connect(lambda n=name, e=effect: e.isPlaying() and started.append(n))
    sounds.play(GOOD)
    sounds.play(GOOD)  # one sounds already: dropped
    sounds.play(BAD)  # heard: the good one stops
    sounds.play(GOOD)  # the bad one sounds: dropped
    qtbot.waitUntil(lambda: started == [GOOD, BAD], timeout=5000)
    assert not effects[GOOD].isPlaying()
    ticks: list[float] = []
    timer_started = time.monotonic()
    for k in range(200):  # a scanner's burst, while a timer on the GUI thread keeps firing
        sounds.play(BAD if k % 3 == 0 else GOOD)
        qtbot.wait(2)
        ticks.append(time.monotonic())
    qtbot.waitUntil(lambda: not any(e.isPlaying() for e in effects.values()), timeout=5000)
    assert ticks[-1] - timer_started < 10  # generous: a wedged audio thread hangs for good
    assert sounds.backend == "QtMultimedia" and sounds.played[-2:] == [BAD, GOOD]


def test_a_sound_that_cannot_be_played_falls_back_and_says_so_once(
    qtbot: QtBot,
    engine: Engine,
    make_window: Callable[..., MainWindow],
    null_sink: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    site = tmp_path / "resources"
    shutil.copytree(sound_path(GOOD).parent.parent, site)
    for name in (GOOD, BAD):
        (site / "sounds" / f"{name}.wav").write_bytes(b"RIFF\x00\x00not a wave at all")
    monkeypatch.setenv("STATION_RESOURCES_DIR", str(site))
    resources.file_path.cache_clear()  # a resource's path is kept once asked for
    request.addfinalizer(resources.file_path.cache_clear)
    sounds = Sounds()
    said: list[str] = []
    sounds.problem.connect(said.append)
    qtbot.waitUntil(lambda: said != [], timeout=10000)
    qtbot.wait(300)
    assert said == [sounds.notice] and sounds.effects == {}
    assert sounds.notice.startswith("Sounds: the ") and (
        "sound cannot be played on this audio device; " in sounds.notice
    )
    assert sounds.backend in {"system player", "beep"}
    sounds.play(BAD)  # the fallback: no exception

    seed(engine)
    window = make_window(sounds="system")
    qtbot.waitUntil(
        lambda: "cannot be played" in window.statusBar().currentMessage(), timeout=10000
    )
    keys = keyboard(window)
    keys.scan("PO-1")
    keys.scan("W1")
    assert window.scan_page is not None and window.scan_page.banner.state == "good"
    assert window.services.sounds.played[-1:] == [GOOD]


def _checks_alone(tmp_path: Path, which: str, pulse_server: str) -> None:
    """tests/ui/sound_checks.py's `which` tests, in a process of their own whose PulseAudio
    (and PipeWire) is `pulse_server`."""
    env = {
        **os.environ,
        "PULSE_SERVER": pulse_server,
        "PIPEWIRE_REMOTE": f"{tmp_path}/no-server",
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
         "-k", f"{which} and not postgresql", str(Path(__file__).with_name("sound_checks.py"))],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "2 passed" in run.stdout, run.stdout[-3000:]


def test_without_an_audio_output_scans_are_judged_and_the_status_bar_says_so(
    tmp_path: Path,
) -> None:
    _checks_alone(tmp_path, "no_audio", f"unix:{tmp_path}/no-server")


def test_a_sound_server_that_never_answers_never_holds_the_window(tmp_path: Path) -> None:
    """A hung PulseAudio accepts connections and never answers: QtMultimedia's first look
    at the outputs would wait 30 s on the GUI thread."""
    with socket.socket(socket.AF_UNIX) as silent:
        silent.bind(str(tmp_path / "silent"))
        silent.listen(64)  # the kernel accepts; nobody ever answers
        _checks_alone(tmp_path, "silent_server", f"unix:{tmp_path}/silent")
