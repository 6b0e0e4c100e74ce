"""The window's database work, off the GUI thread: one worker thread and its FIFO queue.

`submit(call, on_done)` queues a callable (a call into the Qt-free core); the worker
thread runs the queue in order, one at a time, and each result — or the error it raised —
comes back to the GUI thread by the `finished` signal.

`run(call)` is what a widget calls when it needs the answer to go on (a scan's verdict,
a posting's result): it queues the call; an answer within `QUICK_MS` is taken at once,
else it waits for its `finished` in a local event loop that keeps timers, painting, the
database watch and the printers going, while user input (keys, clicks) is held by Qt and
delivered in order once the answer is in. A wait longer than a blink calls
`working(seconds, progress)` (a banner saying what runs, for how long, and how far it
got) every `tick_ms`, with a busy cursor: `progress` is the (done, total) the call last
told `report` from the worker thread (the core's progress callback), or None. A scan
from a serial scanner that arrives during a wait is held with `later` and judged after
it, in order: the core's session is never called from two places at once.

Never frozen, measured (benchmarks/bench_gui.py): the GUI thread's Python code shares
the interpreter lock with the worker. What the worker does about it: no automatic
garbage collection during a call (a full collection holds the lock throughout), and
for a long call, pending layout and painting done before it is queued (painting during
it waits for the lock at every call into a Python model).
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication

from station.posting import collections_paused

T = TypeVar("T")

#: A wait shorter than this shows nothing (a scan's verdict takes a few ms).
BLINK_MS = 100
#: `run` first waits this long for the answer without running the event loop: a quick
#: answer (nearly all: a scan's verdict) is taken at once, as a direct call would be, and
#: nothing else can happen in between; only a slower one runs the event loop meanwhile.
QUICK_MS = 40
#: How often a long wait's `working` is told how long it has run and how far it got.
TICK_MS = 250

#: What a long wait's banner is told: seconds so far, and (done, total) if the call
#: reported any.
Working = Callable[[float, tuple[int, int] | None], object]


class Job:
    """One queued call; `result` or `error` once `done` (set on the GUI thread)."""

    __slots__ = ("call", "done", "error", "on_done", "progress", "ran", "result")

    def __init__(self, call: Callable[[], Any], on_done: Callable[[Job], None] | None) -> None:
        self.call = call
        self.on_done = on_done
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False
        #: (done, total) as the call last reported it (written by the worker thread).
        self.progress: tuple[int, int] | None = None
        self.ran = threading.Event()  # set by the worker thread once result or error is in


class DatabaseWorker(QObject):
    """One thread running queued calls in order; results back by signal."""

    #: A job done (its result or error set), on the GUI thread.
    finished = Signal(object)
    #: True when the window starts waiting for an answer, False when it has it.
    waiting_changed = Signal(bool)
    _delivered = Signal(object)

    def __init__(
        self, blink_ms: int = BLINK_MS, quick_ms: int = QUICK_MS, tick_ms: int = TICK_MS
    ) -> None:
        super().__init__()
        self.blink_ms = blink_ms
        self.quick_ms = quick_ms
        self.tick_ms = tick_ms
        self._running: Job | None = None  # the job on the worker thread now
        self.waiting = 0  # run() calls waiting for their answer (nested: one per level)
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._later: deque[Callable[[], object]] = deque()
        self._delivered.connect(self._deliver)
        # A Python thread (daemon): a call the network keeps waiting never holds the exit.
        self._thread = threading.Thread(target=self._work, name="database worker", daemon=True)
        self._thread.start()

    # --- the worker thread ----------------------------------------------------------

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            # No automatic garbage collection while a call runs (a posting allocates a
            # lot, and a collection holds the interpreter lock, the GUI thread's too).
            self._running = job
            try:
                with collections_paused():
                    job.result = job.call()
            except BaseException as error:  # every error goes back to the GUI thread
                job.error = error
            finally:
                self._running = None
            job.ran.set()
            self._delivered.emit(job)  # queued: delivered on the GUI thread

    def report(self, done: int, total: int) -> None:
        """How far the running call got (`done` of `total`): the core's progress
        callback, called on the worker thread; the waiting banner shows it."""
        job = self._running
        if job is not None:
            job.progress = (done, total)

    # --- the GUI thread -------------------------------------------------------------

    def submit(self, call: Callable[[], Any], on_done: Callable[[Job], None] | None = None) -> Job:
        """Queue `call`; `on_done(job)` and `finished(job)` on the GUI thread when done."""
        job = Job(call, on_done)
        self._jobs.put(job)
        return job

    def _deliver(self, job: Job) -> None:
        if job.done:  # taken at once by `run` (its signal comes after)
            return
        job.done = True
        if job.on_done is not None:
            job.on_done(job)
        self.finished.emit(job)

    @property
    def busy(self) -> bool:
        """The window is waiting for an answer: scans wait their turn (`later`)."""
        return self.waiting > 0

    def run(
        self,
        call: Callable[[], T],
        working: Working | None = None,
        *,
        blink_ms: int | None = None,
        long: bool = False,
    ) -> T:
        """`call()` on the worker thread; its result (or its error, raised here) once it
        arrives, the event loop running meanwhile (user input held until then). Called
        on the worker thread itself (a call inside a queued call), it runs at once.
        `long` for a call known to take long (a posting, an export of thousands): what
        waits to be laid out and painted is done first, and the event loop runs from the
        start instead of the GUI thread waiting `quick_ms` for the answer."""
        if threading.current_thread() is self._thread:
            return call()
        if long:
            # What waits to be laid out and painted is done now, before the worker
            # starts: painting while it runs Python waits for the interpreter lock at
            # every call into a Python model (a 10,000-row table's first paint during an
            # export: 100-300 ms). Not for a quick call: a scan's tables paint after it.
            QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
            QCoreApplication.sendPostedEvents(None, QEvent.Type.UpdateRequest)
        loop = QEventLoop()
        job = self.submit(call, lambda _job: loop.quit())
        if job.ran.wait(0 if long else self.quick_ms / 1000):
            self._deliver(job)
            if job.error is not None:
                raise job.error
            return job.result
        started = time.monotonic()
        timer = QTimer()
        shown: list[bool] = []
        if working is not None:
            told = working

            def tell() -> None:
                if not shown:
                    shown.append(True)
                    QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
                    timer.setInterval(self.tick_ms)
                told(time.monotonic() - started, job.progress)

            timer.timeout.connect(tell)
            timer.start(self.blink_ms if blink_ms is None else blink_ms)
        self.waiting += 1
        if self.waiting == 1:
            self.waiting_changed.emit(True)
        try:
            while not job.done:
                loop.exec(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
        finally:
            timer.stop()
            if shown:
                QApplication.restoreOverrideCursor()
            self.waiting -= 1
            if not self.waiting:
                self.waiting_changed.emit(False)
                if self._later:
                    QTimer.singleShot(0, self._drain)
        if job.error is not None:
            raise job.error
        return job.result

    def later(self, call: Callable[[], object], *, first: bool = False) -> None:
        """Run `call` on the GUI thread once no answer is awaited, after those held
        before it (a scan that arrived during a wait) — or before them (`first`: what
        the awaited answer leads to, such as leaving the page after a posting)."""
        if first:
            self._later.appendleft(call)
        else:
            self._later.append(call)
        if not self.waiting:
            QTimer.singleShot(0, self._drain)

    def _drain(self) -> None:
        while self._later and not self.waiting:
            self._later.popleft()()

    def held(self) -> int:
        """Calls held by `later`, not run yet."""
        return len(self._later)

    def stop(self) -> None:
        """End the thread after the calls queued (without waiting for them)."""
        self._later.clear()
        self._jobs.put(None)
