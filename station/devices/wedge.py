"""Keyboard-wedge scanners: telling a scanner burst from human typing by key timing.

A wedge scanner types its scan as key presses a few milliseconds apart and ends it with
Enter, Tab or EOT; people type more than 100 ms apart. `WedgeDecoder` is fed each key's
text and timestamp (the GUI uses `QKeyEvent.timestamp()`, never wall-clock time) and
reports, in order, complete scans and runs of typed text to pass through unchanged.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

#: Keys that end a scan: CR, LF (Enter), Tab and EOT (some Zebra units).
TERMINATORS = frozenset("\r\n\t\x04")
#: Group separator (FNC1 in GS1 data); Qt delivers Ctrl+] as this text.
GS = "\x1d"


@dataclass(frozen=True, slots=True)
class WedgeInput:
    """One result: `scan` (text without its terminator) or `typed` (text to pass through)."""

    kind: str  # scan | typed
    text: str


@dataclass(slots=True)
class WedgeDecoder:
    """Feed key events; get back complete scans and typed text, in arrival order.

    A run of keys is a scan when it ends with a terminator, has at least `min_length`
    characters, the gap before its second key is at most `first_gap_ms`, every later gap
    (terminator included) is at most `max_gap_ms`, and the average of those later gaps
    is at most `max_average_ms`. Some scanners pause after the first key, so only that
    gap gets the longer allowance. A gap longer than the allowance turns the keys before
    it into typed text. Keys still pending when nothing more arrives are released as typed
    text by `expire(now_ms)`; `deadline_ms` says when that is due (for a GUI timer), and
    `allowed_gap_ms` is the gap the next key may still take.

    `min_length` is 2: a single fast key and Enter ("5", Enter 25 ms later) is a person
    typing, never a scan. Where every barcode the station reads has at least 4 characters
    (serials, GTINs, document numbers, `CMD-` codes) pass `min_length=4` so that short
    fast bursts count as typing too; the default stays 2 because item barcodes as short
    as 2 characters (`W1`) exist in the GUI tests' catalog. Scanners with an
    inter-character delay need larger limits (one ERP uses 150 ms).
    """

    max_gap_ms: float = 50
    max_average_ms: float = 30
    min_length: int = 2
    on_scan: Callable[[str], None] | None = None
    on_typed: Callable[[str], None] | None = None
    first_gap_ms: float = 150
    _keys: list[tuple[str, float]] = field(default_factory=list)

    @property
    def pending(self) -> str:
        return "".join(ch for ch, _ts in self._keys)

    @property
    def allowed_gap_ms(self) -> float:
        """How long after the last pending key the next one may come and still be part of
        a scan: `first_gap_ms` while one key is pending, else `max_gap_ms`."""
        if len(self._keys) == 1:
            return max(self.first_gap_ms, self.max_gap_ms)
        return self.max_gap_ms

    @property
    def deadline_ms(self) -> float | None:
        """When pending keys become typed text if no other key arrives (None: nothing pending)."""
        return self._keys[-1][1] + self.allowed_gap_ms if self._keys else None

    def feed(self, text: str, timestamp_ms: float) -> list[WedgeInput]:
        """One key event (its text may hold several characters, all at this timestamp)."""
        results: list[WedgeInput] = []
        for ch in text:
            if self._keys and timestamp_ms - self._keys[-1][1] > self.allowed_gap_ms:
                results.append(self._release_typed())
            if ch in TERMINATORS:
                results.append(self._finish(ch, timestamp_ms))
            else:
                self._keys.append((ch, timestamp_ms))
        for result in results:
            self._emit(result)
        return results

    def expire(self, now_ms: float) -> list[WedgeInput]:
        """Release pending keys as typed text once `deadline_ms` has passed."""
        deadline = self.deadline_ms
        if deadline is None or now_ms < deadline:
            return []
        result = self._release_typed()
        self._emit(result)
        return [result]

    def _finish(self, terminator: str, timestamp_ms: float) -> WedgeInput:
        keys = self._keys
        self._keys = []
        text = "".join(ch for ch, _ts in keys)
        if len(keys) >= self.min_length and keys:
            stamps = [ts for _ch, ts in keys] + [timestamp_ms]
            first, *rest = [later - earlier for earlier, later in itertools.pairwise(stamps)]
            if (
                first <= max(self.first_gap_ms, self.max_gap_ms)
                and all(gap <= self.max_gap_ms for gap in rest)
                and (not rest or sum(rest) / len(rest) <= self.max_average_ms)
            ):
                return WedgeInput("scan", text)
        return WedgeInput("typed", text + terminator)

    def _release_typed(self) -> WedgeInput:
        text = self.pending
        self._keys = []
        return WedgeInput("typed", text)

    def _emit(self, result: WedgeInput) -> None:
        callback = self.on_scan if result.kind == "scan" else self.on_typed
        if callback is not None:
            callback(result.text)
