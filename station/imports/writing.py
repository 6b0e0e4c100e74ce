"""Writing what an import read: one transaction, a summary of what it created."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from station.db import bulk
from station.imports.checks import file_error


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import wrote: rows read and what was created (or updated) per kind."""

    kind: str
    rows: int
    created: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"import": self.kind, "rows": self.rows, **self.created}

    def as_text(self) -> str:
        done = ", ".join(f"{count} {what}" for what, count in self.created.items())
        return f"{self.rows} rows read; {done}"

    def __str__(self) -> str:
        return self.as_text()


def write(
    path: Path, engine: Engine, fills: tuple[str, ...], work: Callable[[Any], ImportSummary]
) -> ImportSummary:
    """Run `work` in one transaction; a constraint hit (the ledger changed meanwhile)
    becomes `ImportInvalid` and leaves nothing written. Once committed, the tables the
    import `fills` are analyzed, so the next posting is planned on fresh statistics."""
    try:
        with engine.begin() as connection:
            summary = work(connection)
        bulk.analyze(engine, fills)
        return summary
    except IntegrityError as error:
        reason = str(error.orig).splitlines()[0] if error.orig else str(error)
        raise file_error(
            path, f"the ledger changed while importing ({reason}); nothing was imported"
        ) from None
