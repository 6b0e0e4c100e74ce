"""Posting a receipt of station-generated serials against one of scanned serials
(SPEC §8: every posting kind of 10,000 units ≤ 1 s):
`python -m benchmarks.generated [--db sqlite|postgresql|both] [--units N] [--post N]
[--repeat N]`.

Per database: build a ledger of N in-stock units (benchmarks.ledger; 50,000 by default,
1,000,000 for the full run), then post `--repeat` receipts of `--post` units with
generated serials (station BENCH-GEN, generate_serials on, the default serial_pattern:
each unit is one item scan) and as many of scanned serials (station BENCH-SCN), and
report the median `session.save()` time of each and their ratio. Filling the sessions
is not timed. `benchmarks.run` runs the same measurement (`bench_generated`) in its
full table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert

from benchmarks.ledger import (
    PG_URL,
    LedgerInfo,
    barcode,
    build_ledger,
    drop_postgres,
    fresh_postgres,
    fresh_sqlite,
    sku,
)

GENERATING = "BENCH-GEN"
SCANNING = "BENCH-SCN"
GENERATED_PO = "PO-GEN"  # BENCH-04, open for any number of receipts
SCANNED_PO = "PO-SCN"  # BENCH-05
#: A database of its own, so this runs beside benchmarks.run without dropping its one.
GENERATED_PG_URL = PG_URL.replace("/station_bench", "/station_bench_generated")


@dataclass
class Generated:
    """Seconds per `session.save()` of each receipt, generated and scanned serials."""

    units: int
    generated: list[float] = field(default_factory=list)
    scanned: list[float] = field(default_factory=list)

    @property
    def generated_s(self) -> float:
        return statistics.median(self.generated)

    @property
    def scanned_s(self) -> float:
        return statistics.median(self.scanned)

    @property
    def ratio(self) -> float:
        return self.generated_s / self.scanned_s


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def _prepare(engine: Engine, info: LedgerInfo) -> None:
    """Two open POs of a billion units each, and the two stations."""
    from station import options as opts
    from station import stations
    from station.db import admin
    from station.db.models import POLine, PurchaseOrder

    with engine.begin() as connection:
        for number, product in ((GENERATED_PO, 4), (SCANNED_PO, 5)):
            po = connection.execute(
                insert(PurchaseOrder)
                .values(number=number, vendor_id=1, warehouse_id=info.ids["MAIN"])
                .returning(PurchaseOrder.id)
            ).scalar_one()
            connection.execute(
                insert(POLine).values(
                    po_id=po, line_no=1, product_id=info.ids[sku(product)], qty_ordered=10**9
                )
            )
    station = stations.register(engine, GENERATING)
    with engine.begin() as connection:
        admin.write_option(
            connection, station, "generate_serials", None, opts.encode(True), "benchmark"
        )
    stations.register(engine, SCANNING)


def _filled(engine: Engine, station: str, number: str, scans: list[str], units: int) -> Any:
    from station.app import open_session

    session = open_session(engine, station, "receive", number, journal=False).session
    for text in scans:
        verdict = session.scan(text)
        if not verdict.ok:
            raise RuntimeError(f"{number}: {text} refused: {verdict.code} {verdict.message}")
    if len(session.entries) != units:
        raise RuntimeError(f"{number}: {len(session.entries)} units scanned, not {units}")
    return session


def _save(session: Any, units: int) -> float:
    start = time.perf_counter()
    result = session.save()
    seconds = time.perf_counter() - start
    if not result.posted or result.units != units:
        raise RuntimeError(f"receipt not posted: {result.code} {result.message}")
    return seconds


def bench_generated(engine: Engine, info: LedgerInfo, units: int, repeat: int) -> Generated:
    """`repeat` receipts of `units` generated serials, then as many of scanned serials."""
    _prepare(engine, info)
    measured = Generated(units)
    for run in range(repeat):
        log(f"generated receipt {run + 1}/{repeat}: filling {units} units")
        session = _filled(engine, GENERATING, GENERATED_PO, [barcode(4)] * units, units)
        measured.generated.append(_save(session, units))
        log(f"  posted in {measured.generated[-1]:.2f} s")
        log(f"scanned receipt {run + 1}/{repeat}: filling {units} units")
        serials = [f"GS{run}{k:09d}" for k in range(units)]
        session = _filled(engine, SCANNING, SCANNED_PO, [barcode(5), *serials], units)
        measured.scanned.append(_save(session, units))
        log(f"  posted in {measured.scanned[-1]:.2f} s")
    return measured


def rows(results: list[Generated], repeat: int) -> list[tuple[str, str, list[str]]]:
    """The table rows (measure, target, a cell per database), for this table and
    benchmarks.run's."""
    post = f"{results[0].units:,}"

    def within(seconds: float) -> str:
        return f"{seconds:.2f} {'✅' if seconds <= 1 else '❌'}"

    return [
        (
            f"post a {post}-unit receipt, generated serials: median of {repeat} (s)",
            "≤ 1",
            [within(r.generated_s) for r in results],
        ),
        (
            f"post a {post}-unit receipt, scanned serials: median of {repeat} (s)",
            "≤ 1",
            [within(r.scanned_s) for r in results],
        ),
        ("generated / scanned", "", [f"{r.ratio:.2f}×" for r in results]),
    ]


def load_average() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def render(results: dict[str, Generated], args: argparse.Namespace) -> str:
    lines = [
        f"- {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores; load average at"
        f" the end: {load_average()}",
        f"- ledger: {args.units:,} in-stock units; median of {args.repeat} receipts of"
        f" {args.post:,} units each",
        f"- command: `python -m benchmarks.generated {' '.join(sys.argv[1:])}`",
        "",
        "| measure | target | " + " | ".join(results) + " |",
        "| --- | --- | " + " | ".join("---" for _ in results) + " |",
    ]
    for name, target, cells in rows(list(results.values()), args.repeat):
        lines.append(f"| {name} | {target} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from station.db.engine import open_database

    parser = argparse.ArgumentParser(prog="python -m benchmarks.generated", description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--units", type=int, default=50_000, help="units in the ledger")
    parser.add_argument("--post", type=int, default=10_000, help="units per receipt")
    parser.add_argument("--repeat", type=int, default=3, help="receipts of each kind")
    parser.add_argument(
        "--pg-url", default=GENERATED_PG_URL, help="PostgreSQL database to (re)create"
    )
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    results: dict[str, Generated] = {}
    with tempfile.TemporaryDirectory(prefix="station-bench-") as tmp:
        os.environ["STATION_DATA_DIR"] = str(Path(tmp) / "data")
        for db in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
            url = fresh_sqlite(tmp) if db == "sqlite" else fresh_postgres(args.pg_url)
            log(f"{db}: building a ledger of {args.units} units")
            info = build_ledger(url, args.units, reserve=min(args.post, args.units // 4))
            engine = open_database(url)
            try:
                results[db] = bench_generated(engine, info, args.post, args.repeat)
            finally:
                engine.dispose()
                if db == "postgresql":
                    drop_postgres(args.pg_url)
    table = render(results, args)
    print(table)
    if args.out:
        args.out.write_text(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
