"""Good and bad scan sounds.

PySide6-Essentials has no QtMultimedia, so the WAV files in `resources/sounds/` are played
by the platform: `winsound` on Windows, `afplay` on macOS, `paplay`/`aplay`/`pw-play` on
Linux, on a worker thread so a scan never waits for the speaker. Without any player the
bad sound falls back to `QApplication.beep()`. `Sounds(player="record")` plays nothing and
keeps the list of sounds (tests, benchmarks).
"""

from __future__ import annotations

import contextlib
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable

from PySide6.QtWidgets import QApplication

from ui.resources import sound_path

GOOD = "good"
BAD = "bad"
_LINUX_PLAYERS = ("paplay", "pw-play", "aplay")


def _command_player() -> Callable[[str], None] | None:
    if sys.platform == "win32":
        import winsound

        def play_windows(name: str) -> None:
            winsound.PlaySound(str(sound_path(name)), winsound.SND_FILENAME)

        return play_windows
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

            return play_command
    return None


class Sounds:
    """`play(GOOD)` / `play(BAD)`; silent while `enabled` is False (the `sounds` option)."""

    def __init__(self, player: str = "system") -> None:
        self.enabled = True
        self.played: list[str] = []
        self._record = player == "record"
        self._play = None if self._record else _command_player()
        self._queue: queue.Queue[str] = queue.Queue(maxsize=4)
        self._thread: threading.Thread | None = None

    @property
    def backend(self) -> str:
        if self._record:
            return "record"
        return "system player" if self._play is not None else "beep"

    def play(self, name: str) -> None:
        if not self.enabled:
            return
        self.played.append(name)
        del self.played[:-100]
        if self._record:
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

    def _run(self) -> None:
        assert self._play is not None
        while True:
            name = self._queue.get()
            with contextlib.suppress(Exception):  # a missing sound device never stops scanning
                self._play(name)
