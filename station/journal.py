"""The local journal of an in-progress session (SPEC §8: no acknowledged scan lost).

One JSON line per accepted scan, flushed and fsynced before the verdict is shown, so
a crash or a power loss loses nothing the operator was told was accepted.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from station.db.engine import data_dir


def journal_path(kind: str, station: str, document: str) -> Path:
    safe = "-".join(re.sub(r"[^A-Za-z0-9_.]", "_", part) for part in (kind, station, document))
    return data_dir() / "journal" / f"{safe}.jsonl"


class Journal:
    """Append-only, fsynced log of one session: a header line, then one line per scan."""

    def __init__(self, path: Path, *, sync: bool = True) -> None:
        self.path = path
        self.sync = sync
        self._file: Any = None

    def read(self) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The header and the scan records; a torn last line (crash mid-write) is dropped."""
        if not self.path.exists():
            return None, []
        records: list[dict[str, Any]] = []
        with self.path.open("rb") as handle:
            for line in handle:
                try:
                    records.append(json.loads(line))
                except ValueError:
                    break
        if not records or "header" not in records[0]:
            return None, []
        return records[0]["header"], records[1:]

    def start(self, header: dict[str, Any]) -> None:
        """Begin a new journal (replacing any old one) with `header`."""
        self.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".new")
        tmp.write_text(json.dumps({"header": header}) + "\n")
        os.replace(tmp, self.path)

    def append(self, record: dict[str, Any]) -> None:
        if self._file is None:
            self._file = self.path.open("ab")
        self._file.write(json.dumps(record, ensure_ascii=False).encode() + b"\n")
        self._file.flush()
        if self.sync:
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def clear(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)
