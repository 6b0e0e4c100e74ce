"""The local journal of an in-progress session (SPEC §8: no acknowledged scan lost).

One JSON line per accepted scan, written and synced to disk before the verdict is
shown, so a crash or a power loss loses nothing the operator was told was accepted.

The file is laid out ahead in zero-filled blocks: an append then changes no file size
or block map, so `fdatasync` flushes one data block instead of the file's metadata
(3.5 ms → about 0.2 ms on a virtual disk). Reading stops at the first NUL byte, which
JSON text never contains.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from station.db.engine import data_dir

BLOCK = 64 * 1024
_sync = getattr(os, "fdatasync", os.fsync)  # the data, not the timestamps (Linux)


def journal_path(kind: str, station: str, document: str) -> Path:
    safe = "-".join(re.sub(r"[^A-Za-z0-9_.]", "_", part) for part in (kind, station, document))
    return data_dir() / "journal" / f"{safe}.jsonl"


def _records(data: bytes) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for line in data.split(b"\0", 1)[0].splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:  # a line torn by a crash mid-write: nothing after it counts
            break
    return records


class Journal:
    """Append-only, synced log of one session: a header line, then one line per scan."""

    def __init__(self, path: Path, *, sync: bool = True) -> None:
        self.path = path
        self.sync = sync
        self._fd: int | None = None
        self._end = 0  # where the next record goes
        self._size = 0  # bytes laid out on disk

    def read(self) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The header and the scan records."""
        if not self.path.exists():
            return None, []
        records = _records(self.path.read_bytes())
        if not records or "header" not in records[0]:
            return None, []
        return records[0]["header"], records[1:]

    def start(self, header: dict[str, Any], records: list[dict[str, Any]] | None = None) -> None:
        """Begin a new journal (replacing any old one) with `header` and, when a session
        is restored, its records: written whole, so no torn line survives a restart."""
        self.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = [{"header": header}, *(records or [])]
        data = b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in lines)
        size = BLOCK * (len(data) // BLOCK + 1)
        tmp = self.path.with_suffix(".new")
        with tmp.open("wb") as handle:
            handle.write(data + bytes(size - len(data)))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False).encode() + b"\n"
        if self._fd is None:
            self._open()
        assert self._fd is not None
        if self._end + len(line) > self._size:
            grow = BLOCK * ((self._end + len(line) - self._size) // BLOCK + 1)
            os.pwrite(self._fd, bytes(grow), self._size)
            self._size += grow
            os.fsync(self._fd)  # the new size, once per block
        os.pwrite(self._fd, line, self._end)
        self._end += len(line)
        if self.sync:
            _sync(self._fd)

    def _open(self) -> None:
        data = self.path.read_bytes()
        used = data.find(b"\0")
        self._end = len(data) if used < 0 else used
        self._size = len(data)
        self._fd = os.open(self.path, os.O_WRONLY)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def clear(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)
