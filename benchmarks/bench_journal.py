"""Journal benchmarks (SPEC §8: the journal stays proportional, restore is linear), run on
demand:

    python -m benchmarks.bench_journal [--records 1000000]

1. restoring N records of additions only, N records of additions, undos and removals at
   random rows (uncompacted), and min(N, 200,000) records that add rows then remove each
   from the top, with `ScanSession.restore` — against the same records replayed on a
   Python list with `pop(index)` (quadratic: every removal shifts the rows after it);
2. reading and parsing the journal file of N records (`Journal.contents`);
3. compaction: rewriting the journal as one record per row with 100,000 and N rows (the
   pause of the one scan that triggers it).

No database: the session is built on a document in memory. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from station.documents import Document, DocumentLine, Product  # noqa: E402
from station.journal import Journal  # noqa: E402
from station.options import with_defaults  # noqa: E402
from station.session import ScanSession  # noqa: E402
from station.stations import StationConfig  # noqa: E402
from station.workflow import workflow  # noqa: E402


def _session(journal: Journal | None = None) -> ScanSession:
    product = Product(1, "C3", "Cable Three", False)
    document = Document("po", 1, "PO-BENCH", "Acme", 1, "MAIN", "open")
    document.lines.append(DocumentLine(1, 1, product, 10**9, 0))
    station = StationConfig("BENCH", with_defaults({}), 1, "MAIN")
    engine = create_engine("sqlite://")
    return ScanSession(engine, station, document, workflow("receive"), journal=journal)


def _records(count: int, edits: bool) -> list[dict[str, Any]]:
    rng = random.Random(1)
    size = 0
    records: list[dict[str, Any]] = []
    for _ in range(count):
        roll = rng.random()
        if not edits or roll < 0.7 or size == 0:
            size += 1
            records.append({"scan": "C3", "op": "scan", "entry": [0, None, 1, None]})
        elif roll < 0.85:
            size -= 1
            records.append({"scan": "CMD-UNDO", "op": "undo"})
        else:
            index = rng.randrange(size)
            size -= 1
            records.append({"scan": "", "op": "remove", "index": index})
        records[-1]["state"] = [size, 0, None]
    return records


def _first_row_removals(count: int) -> list[dict[str, Any]]:
    """count/2 additions, then every row removed from the top: the worst case for a list."""
    half = count // 2
    adds = [
        {"scan": "C3", "op": "scan", "entry": [0, None, 1, None], "state": [n, 0, None]}
        for n in range(1, half + 1)
    ]
    removals = [
        {"scan": "", "op": "remove", "index": 0, "state": [n, 0, None]}
        for n in range(half - 1, -1, -1)
    ]
    return adds + removals


def _list_replay(records: list[dict[str, Any]]) -> int:
    rows: list[list[Any]] = []
    for record in records:
        if record["op"] == "remove":
            rows.pop(record["index"])
        elif record["op"] == "undo":
            rows.pop()
        else:
            rows.append(record["entry"])
    return len(rows)


def _timed(action: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = action()
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    count = parser.parse_args().records
    rows: list[tuple[str, str]] = []
    for edits in (False, True):
        what = "additions, undos, removals" if edits else "additions"
        records = _records(count, edits)
        seconds, restored = _timed(lambda records=records: _session().restore(records))
        assert restored == count
        rows.append((f"restore {count:,} records ({what})", f"{seconds:.2f} s"))
        seconds, _ = _timed(lambda records=records: _list_replay(records))
        rows.append((f"same records on a list with pop(index) ({what})", f"{seconds:.2f} s"))
    worst = min(count, 200_000)
    records = _first_row_removals(worst)
    seconds, restored = _timed(lambda: _session().restore(records))
    assert restored == worst
    what = f"{worst // 2:,} additions, then each row removed from the top"
    rows.append((f"restore {worst:,} records ({what})", f"{seconds:.2f} s"))
    seconds, _ = _timed(lambda: _list_replay(records))
    rows.append((f"same records on a list with pop(index) ({what})", f"{seconds:.2f} s"))
    with tempfile.TemporaryDirectory() as folder:
        journal = Journal(Path(folder) / "bench.jsonl")
        journal.start({"session_id": "bench"}, _records(count, False))
        seconds, contents = _timed(journal.contents)
        assert len(contents.records) == count
        rows.append((f"read and parse a journal of {count:,} records", f"{seconds:.2f} s"))
        for size in sorted({100_000, count}):
            session = _session(Journal(Path(folder) / f"compact-{size}.jsonl"))
            session.restore(_records(size, False))
            seconds, _ = _timed(lambda s=session: s._rewrite(s.compacted()))
            rows.append((f"compaction at {size:,} rows (one scan's pause)", f"{seconds:.2f} s"))
    print("| journal | time |\n| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
