"""What this machine remembers about itself: which station it is. Who scans here is
never remembered: the operator signs in with a PIN every time the app starts.

Kept as a small JSON file in the Station data directory (STATION_DATA_DIR overrides it),
next to the session journals; the shared options live in the database.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from station.db.engine import data_dir


@dataclass(slots=True)
class LocalSettings:
    station: str | None = None

    @staticmethod
    def path() -> Path:
        return data_dir() / "desktop.json"

    @classmethod
    def load(cls) -> LocalSettings:
        try:
            data = json.loads(cls.path().read_text())
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict):
            return cls()
        return cls(station=data.get("station") or None)

    def save(self) -> None:
        path = self.path()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self)))
        os.replace(tmp, path)
