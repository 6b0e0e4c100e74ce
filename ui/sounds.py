"""Good and bad scan sounds.

QtMultimedia's `QSoundEffect` plays the WAV files in `resources/sounds/`: each is loaded
once, when the window starts, and `play()` starts it at once without holding up the scan.
On Linux a process of its own looks for the audio outputs first (`backend` "starting"
meanwhile, a second or so, when a refused scan beeps), so a hung sound server never
holds the window.
Where QtMultimedia cannot load (on Linux it needs libpulse), finds no audio output, or
cannot play a file (its status turns Error), the sounds fall back to the platform's
player — `winsound` on Windows, `afplay` on macOS, `paplay`/`pw-play`/`aplay` on Linux, on
a worker thread so a scan never waits for the speaker — and without any player the bad
sound is `QApplication.beep()`; `problem` says so, once (the status bar shows it).
`Sounds(player="record")` plays nothing and keeps the list of sounds (tests, benchmarks).
"""

from __future__ import annotations

import contextlib
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QObject,
    QProcess,
    QTimer,
    QUrl,
    Signal,
    qInstallMessageHandler,
)
from PySide6.QtWidgets import QApplication

from ui.resources import sound_path

GOOD = "good"
BAD = "bad"
_LINUX_PLAYERS = ("paplay", "pw-play", "aplay")
PROBE_DELAY_MS, PROBE_TIMEOUT_MS = 300, 5000
_PROBE = """
from PySide6.QtCore import QCoreApplication
from PySide6.QtMultimedia import QMediaDevices
app = QCoreApplication([])
print(len(QMediaDevices.audioOutputs()))
"""


def _command_player() -> tuple[str, Callable[[str], None]] | None:
    """The platform's player: its name and a function playing one sound, or None."""
    if sys.platform == "win32":
        import winsound

        def play_windows(name: str) -> None:
            winsound.PlaySound(str(sound_path(name)), winsound.SND_FILENAME)

        return "winsound", play_windows
    candidates = ("afplay",) if sys.platform == "darwin" else _LINUX_PLAYERS
    for program in candidates:
        found = shutil.which(program)
        if found:
            extra = ["-q"] if program == "aplay" else []

            def play_command(name: str, exe: str = found, args: list[str] = extra) -> None:
                subprocess.run(
                    [exe, *args, str(sound_path(name))],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    timeout=5,
                    check=False,
                )

            return program, play_command
    return None


@contextlib.contextmanager
def _quiet_qt() -> Iterator[None]:
    """QtMultimedia's chatter while it probes its backends ("Couldn't load pipewire-0.3",
    "pa_context_connect() failed") stays off stderr: `Sounds.problem` says what matters."""
    previous = qInstallMessageHandler(lambda *_args: None)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)


class Sounds(QObject):
    """`play(GOOD)` / `play(BAD)`; silent while `enabled` is False (the `sounds` option)."""

    problem = Signal(str)  # why the sounds fell back (once; the status bar shows it)

    def __init__(self, player: str = "system", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.enabled = True
        self.played: list[str] = []
        self.effects: dict[str, Any] = {}  # name → its QSoundEffect, while QtMultimedia plays
        self.notice = ""  # the fallback's reason, once it fell back
        self._record = player == "record"
        self._play: Callable[[str], None] | None = None
        self._queue: queue.Queue[str] = queue.Queue(maxsize=4)
        self._thread: threading.Thread | None = None
        self._probe: QProcess | None = None
        self._probing = False
        if self._record:
            return
        with _quiet_qt():
            try:
                import PySide6.QtMultimedia  # noqa: F401
            except ImportError as error:  # no PySide6-Addons, or no libpulse on Linux
                self._fall_back(f"QtMultimedia cannot load ({error})")
                return
        if sys.platform.startswith("linux"):
            self._probing = True  # the window opens first: the probe starts just after
            QTimer.singleShot(PROBE_DELAY_MS, self, self._start_probe)
            app = QCoreApplication.instance()
            if app is not None:
                app.aboutToQuit.connect(self._end_probe)
        else:
            self._load_effects()

    @property
    def backend(self) -> str:
        if self._record:
            return "record"
        if self.effects:
            return "QtMultimedia"
        if self._probing:
            return "starting"
        return "system player" if self._play is not None else "beep"

    def _start_probe(self) -> None:
        """QtMultimedia's first look at the audio outputs waits for the sound server, 30 s
        for one that accepts and never answers (a hung PulseAudio): a process of its own
        asks first, and the window never waits for it."""
        if not self._probing:  # the app quit first
            return
        probe = QProcess()
        probe.setProgram(sys.executable)
        probe.setArguments(["-c", _PROBE])
        probe.finished.connect(self._probed)
        probe.errorOccurred.connect(self._probed)
        self._probe = probe
        QTimer.singleShot(PROBE_TIMEOUT_MS, self, self._probe_timed_out)
        probe.start()

    def _end_probe(self) -> None:
        """Ends a probe still running (timed out, or the app quits before it answered)."""
        self._probing = False
        probe = self._probe
        if probe is not None and probe.state() != QProcess.ProcessState.NotRunning:
            probe.blockSignals(True)
            probe.kill()
            probe.waitForFinished(2000)

    def _probe_timed_out(self) -> None:
        if self._probing:
            self._end_probe()
            self._fall_back(f"the sound server did not answer in {PROBE_TIMEOUT_MS // 1000} s")

    def _probed(self, *_args: object) -> None:
        if not self._probing or self._probe is None:  # timed out, or told already
            return
        if self._probe.state() != QProcess.ProcessState.NotRunning:
            return  # an error that did not end it (a read error): its end will come
        self._probing = False
        probe = self._probe
        answer = bytes(probe.readAllStandardOutput().data()).decode(errors="replace").strip()
        if probe.exitStatus() != QProcess.ExitStatus.NormalExit or probe.exitCode() != 0:
            self._fall_back("QtMultimedia could not look for an audio output")
        elif answer in ("", "0"):
            self._fall_back("no audio output device")
        else:
            self._load_effects()

    def _load_effects(self) -> None:
        """Loads one QSoundEffect per sound (or falls back, saying why)."""
        with _quiet_qt():
            from PySide6.QtMultimedia import QMediaDevices, QSoundEffect

            if not QMediaDevices.audioOutputs():
                self._fall_back("no audio output device")
                return
            for name in (GOOD, BAD):
                effect = QSoundEffect(self)
                effect.statusChanged.connect(lambda n=name: self._status_changed(n))
                effect.setSource(QUrl.fromLocalFile(str(sound_path(name))))
                self.effects[name] = effect

    def _status_changed(self, name: str) -> None:
        effect = self.effects.get(name)
        if effect is None or effect.status() != type(effect).Status.Error:
            return
        for other in self.effects.values():
            other.deleteLater()
        self.effects = {}
        self._fall_back(f"the {name} sound cannot be played on this audio device")

    def _fall_back(self, reason: str) -> None:
        found = _command_player()
        if found is None:
            self._play, how = None, "a refused scan beeps"
        else:
            self._play, how = found[1], f"falling back to {found[0]}"
        self.notice = f"Sounds: {reason}; {how}."
        QTimer.singleShot(0, self, self._tell)

    def _tell(self) -> None:
        if self.enabled:  # the `sounds` option off: nothing to say
            self.problem.emit(self.notice)

    def play(self, name: str) -> None:
        if not self.enabled:
            return
        self.played.append(name)
        del self.played[:-100]
        if self._record:
            return
        effect = self.effects.get(name)
        if effect is not None:
            self._play_effect(name, effect)
            return
        if self._play is None:
            if name == BAD:
                QApplication.beep()
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sounds", daemon=True)
            self._thread.start()
        try:
            self._queue.put_nowait(name)
        except queue.Full:  # a burst of scans: drop sounds, never lag; but a BAD is heard
            if name != BAD:
                return
            with contextlib.suppress(queue.Empty):
                self._queue.get_nowait()  # the oldest waiting sound makes room
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(name)

    def _play_effect(self, name: str, effect: Any) -> None:
        """Preloaded: starts at once, never waits. One sound at a time, as with the players:
        in a burst a good sound is dropped while one sounds, a bad one cuts a good one short
        (two QSoundEffects sounding together, or one restarted, can wedge Qt 6.11's audio
        thread). Until it has loaded (the first moments after start) a sound is not played:
        play() would queue it, and two queued sounds would start together."""
        if effect.status() != type(effect).Status.Ready:
            return
        sounding = [other for other, each in self.effects.items() if each.isPlaying()]
        if sounding and (name != BAD or BAD in sounding):
            return
        for other in sounding:
            self.effects[other].stop()
        effect.play()

    def _run(self) -> None:
        assert self._play is not None
        while True:
            name = self._queue.get()
            with contextlib.suppress(Exception):  # a missing sound device never stops scanning
                self._play(name)
