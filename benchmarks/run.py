"""Station benchmarks (SPEC §8): `python -m benchmarks.run [--db sqlite|postgresql|both]
[--units N]`.

Per database, in one run: build a ledger of N in-stock units (benchmarks.ledger), then
measure scan → verdict latency in-process, posting a 10,000-unit receipt and shipment
against the same rows through raw Core executemany, receipts of generated against
scanned serials (benchmarks.generated, median of --repeat each), an Excel export of
every serial against bare openpyxl, and a stock import of N rows. Prints a markdown table and
writes it to benchmarks/RESULTS.md. See benchmarks/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import Engine, bindparam, insert, text, update

from benchmarks.generated import Generated, bench_generated, load_average
from benchmarks.generated import rows as generated_rows
from benchmarks.ledger import (
    PG_URL,
    LedgerInfo,
    barcode,
    build_ledger,
    drop_postgres,
    fresh_postgres,
    fresh_sqlite,
    serial,
)
from station.db.bulk import reserve_unit_ids

RESULTS = Path(__file__).with_name("RESULTS.md")
STATION = "BENCH-1"
WARMUP = 50


@dataclass
class Latency:
    """Scan → verdict times of one series, in milliseconds."""

    times: list[float]
    refused: int = 0

    @property
    def p50(self) -> float:
        return statistics.median(self.times)

    @property
    def p99(self) -> float:
        return percentile(self.times, 99)

    @property
    def worst(self) -> float:
        return max(self.times)

    def tail(self, fraction: float = 0.1) -> Latency:
        """The last `fraction` of the series (the session at its largest)."""
        return Latency(self.times[-max(int(len(self.times) * fraction), 1) :])


@dataclass
class DbResult:
    db: str
    units: int
    build_s: float = 0.0
    scans: dict[str, Latency] = field(default_factory=dict)
    fill: dict[str, float] = field(default_factory=dict)  # seconds to scan a 10k session
    fill_tail: dict[str, Latency] = field(default_factory=dict)
    post: dict[str, float] = field(default_factory=dict)
    raw: dict[str, float] = field(default_factory=dict)
    export_s: float | None = None
    export_rows: int = 0
    bare_export_s: float | None = None
    import_s: float | None = None
    import_rows: int = 0
    generated: Generated | None = None
    notes: list[str] = field(default_factory=list)


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(round(pct / 100 * len(ordered) + 0.5) - 1, 0)
    return ordered[min(rank, len(ordered) - 1)]


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# --- scan latency -------------------------------------------------------------------


def _series(
    engine: Engine, kind: str, number: str, item: str, serials: Sequence[str], *, journal: bool
) -> Latency:
    """Open a session, scan `item`, then time each serial scan (after WARMUP untimed)."""
    from station.app import open_session

    session = open_session(engine, STATION, kind, number, journal=journal, sync=True).session
    session.rescan()  # a journal left by an interrupted run
    first = session.scan(item)
    if not first.ok:
        raise RuntimeError(f"{kind} {number}: item scan refused: {first.message}")
    times: list[float] = []
    refused = 0
    clock = time.perf_counter_ns
    for index, text_ in enumerate(serials):
        start = clock()
        verdict = session.scan(text_)
        elapsed = clock() - start
        if not verdict.ok:
            refused += 1
            if refused <= 3:
                log(f"  refused {text_}: {verdict.code} {verdict.message}")
        if index >= WARMUP:
            times.append(elapsed / 1e6)
    session.rescan()  # clears the journal
    return Latency(times, refused)


def bench_scans(engine: Engine, info: LedgerInfo, count: int, result: DbResult) -> None:
    total = count + WARMUP
    ship_serials = info.ship_scan_serials(2 * total)
    for journal in (True, False):
        label = "on" if journal else "off"
        tag = "J" if journal else "N"
        receive = [f"RS{tag}{k:09d}" for k in range(total)]
        log(f"receive scans, journal {label}")
        result.scans[f"receive, journal {label}"] = _series(
            engine, "receive", info.scan_po, barcode(2), receive, journal=journal
        )
        log(f"ship scans, journal {label}")
        part = ship_serials[:total] if journal else ship_serials[total:]
        result.scans[f"ship, journal {label}"] = _series(
            engine, "ship", info.scan_order, barcode(1), part, journal=journal
        )


# --- posting 10,000 units vs raw executemany ----------------------------------------


def _fill(
    engine: Engine,
    kind: str,
    number: str,
    item: str | None,
    serials: Sequence[str],
    result: DbResult,
) -> Any:
    """A session with every serial scanned through `session.scan` (journal off), the
    item first when one is given."""
    from station.app import open_session

    session = open_session(engine, STATION, kind, number, journal=False).session
    if item is not None and not session.scan(item).ok:
        raise RuntimeError(f"{number}: item scan refused")
    times: list[float] = []
    started = time.perf_counter()
    for text_ in serials:
        start = time.perf_counter_ns()
        verdict = session.scan(text_)
        times.append((time.perf_counter_ns() - start) / 1e6)
        if not verdict.ok:
            raise RuntimeError(f"{number}: {text_} refused: {verdict.code} {verdict.message}")
    result.fill[kind] = time.perf_counter() - started
    result.fill_tail[kind] = Latency(times).tail()
    return session


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = work()
    return time.perf_counter() - start, value


def raw_receipt(engine: Engine, info: LedgerInfo, receipt_id: int, count: int) -> float:
    """10,000 unit rows + 10,000 event rows with the posting's columns, one transaction."""
    from station.db.models import Event, Unit

    line_id = info.ids[f"{info.post_po}/1"]
    product_id = info.ids[info.post_po_sku]
    serials = [f"RAWR{k:09d}" for k in range(count)]

    def work() -> None:
        now = datetime.now(UTC)
        with engine.begin() as connection:
            ids = reserve_unit_ids(connection, count)
            connection.execute(
                insert(Unit.__table__),
                [
                    {
                        "id": unit_id,
                        "product_id": product_id,
                        "scope_id": product_id,
                        "serial": value,
                        "serial_key": value.upper(),
                        "status": "in_stock",
                        "warehouse_id": info.ids["MAIN"],
                        "bin": "RECEIVING",
                        "origin": "po",
                        "po_line_id": line_id,
                        "receipt_id": receipt_id,
                        "unit_cost": None,
                        "received_at": now,
                    }
                    for unit_id, value in zip(ids, serials, strict=True)
                ],
            )
            connection.execute(
                insert(Event.__table__),
                [
                    {
                        "unit_id": unit_id,
                        "kind": "received",
                        "at": now,
                        "station": STATION,
                        "user_name": None,
                        "to_warehouse_id": info.ids["MAIN"],
                        "to_bin": "RECEIVING",
                        "document_kind": "receipt",
                        "document_number": "RAW-RCV",
                    }
                    for unit_id in ids
                ],
            )

    return _timed(work)[0]


def raw_shipment(engine: Engine, info: LedgerInfo) -> float:
    """An executemany UPDATE of 10,000 units + 10,000 event inserts, one transaction."""
    from station.db.models import Event, Shipment, Unit

    units = Unit.__table__
    unit_ids = list(info.raw_ship_units())
    statement = (
        update(units)
        .where(units.c.id == bindparam("uid"))
        .values(
            status="shipped",
            order_line_id=bindparam("line"),
            shipment_id=bindparam("shipment"),
            shipped_at=bindparam("at"),
        )
    )

    def work() -> None:
        now = datetime.now(UTC)
        with engine.begin() as connection:
            shipment = connection.execute(
                insert(Shipment.__table__)
                .values(
                    number="RAW-SHP",
                    session_id="raw-shipment",
                    order_id=info.ids[info.raw_order],
                    station=STATION,
                    units=len(unit_ids),
                    posted_at=now,
                )
                .returning(Shipment.__table__.c.id)
            ).scalar_one()
            line = info.ids[f"{info.raw_order}/1"]
            connection.execute(
                statement,
                [{"uid": u, "line": line, "shipment": shipment, "at": now} for u in unit_ids],
            )
            connection.execute(
                insert(Event.__table__),
                [
                    {
                        "unit_id": u,
                        "kind": "shipped",
                        "at": now,
                        "station": STATION,
                        "user_name": None,
                        "from_warehouse_id": info.ids["MAIN"],
                        "from_bin": "A-01",
                        "document_kind": "shipment",
                        "document_number": "RAW-SHP",
                    }
                    for u in unit_ids
                ],
            )

    return _timed(work)[0]


def bench_postings(engine: Engine, info: LedgerInfo, result: DbResult) -> None:
    count = info.reserve
    log(f"filling a {count}-unit receive session")
    session = _fill(
        engine,
        "receive",
        info.post_po,
        barcode(3),
        [f"RP{k:010d}" for k in range(count)],
        result,
    )
    log("posting the receipt")
    seconds, posted = _timed(session.save)
    if not posted.posted or posted.units != count:
        raise RuntimeError(f"receipt not posted: {posted}")
    result.post["receipt"] = seconds
    with engine.connect() as connection:
        receipt_id = connection.scalar(
            text("SELECT id FROM receipts WHERE number = :n"), {"n": posted.document}
        )
    log("raw receipt")
    result.raw["receipt"] = raw_receipt(engine, info, int(receipt_id), count)

    serials = [serial(u) for u in info.ship_post_units()]
    random.Random(2).shuffle(serials)
    log(f"filling a {count}-unit ship session")
    session = _fill(engine, "ship", info.post_order, barcode(0), serials, result)
    log("posting the shipment")
    seconds, posted = _timed(session.save)
    if not posted.posted or posted.units != count:
        raise RuntimeError(f"shipment not posted: {posted}")
    result.post["shipment"] = seconds
    log("raw shipment")
    result.raw["shipment"] = raw_shipment(engine, info)

    # the same units back on the order they shipped on (a customer return, SPEC §3.3)
    random.Random(3).shuffle(serials)
    log(f"filling a {count}-unit customer return session")
    session = _fill(engine, "return", info.post_order, barcode(0), serials, result)
    log("posting the return")
    seconds, posted = _timed(session.save)
    if not posted.posted or posted.units != count:
        raise RuntimeError(f"return not posted: {posted}")
    result.post["return"] = seconds

    # the returned units are in the returns bin: count it, then send them to EAST
    random.Random(4).shuffle(serials)
    log(f"filling a {count}-unit count of the returns bin")
    session = _fill(engine, "count", "RETURNS", None, serials, result)
    log("posting the count")
    seconds, posted = _timed(session.save)
    if not posted.posted or posted.units != count or posted.lists["missing"]:
        raise RuntimeError(f"count not posted whole: {posted.message}")
    result.post["count"] = seconds
    log(f"filling a {count}-unit transfer to EAST")
    session = _fill(engine, "transfer", "EAST", None, serials, result)
    log("posting the transfer")
    seconds, posted = _timed(session.save)
    if not posted.posted or posted.units != count:
        raise RuntimeError(f"transfer not posted: {posted}")
    result.post["transfer"] = seconds


# --- export and import --------------------------------------------------------------


def bench_export(engine: Engine, work_dir: Path, result: DbResult, bare: float | None) -> float:
    """Station's export of every serial; bare openpyxl write-only of the same rows (the
    rows fetched beforehand, untimed) unless `bare` was measured already this run."""
    from station import exports
    from station.db import lookup

    out = work_dir / "serials.xlsx"
    log("station export serials")
    seconds, rows = _timed(lambda: exports.export(engine, "serials", out, {}))
    result.export_s, result.export_rows = seconds, rows
    out.unlink(missing_ok=True)
    if bare is None:
        log("bare openpyxl export of the same rows")
        with engine.connect() as connection:
            cells = list(exports._cells(lookup.unit_rows(connection, "serials")))

        def write() -> None:
            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet("Serials")
            sheet.append(list(exports.COLUMNS))
            for row in cells:
                sheet.append(row)
            workbook.save(work_dir / "bare.xlsx")

        bare = _timed(write)[0]
        (work_dir / "bare.xlsx").unlink(missing_ok=True)
        del cells
    else:
        result.notes.append("bare openpyxl time measured once in this run, on the first database")
    result.bare_export_s = bare
    return bare


def stock_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["sku", "serial", "warehouse", "bin", "unit_cost"])
        for k in range(rows):
            out.writerow(
                [f"BENCH-{1 + k % 9:02d}", f"IM{k:010d}", "MAIN", f"B-{k % 50:02d}", "12.50"]
            )


def bench_import(engine: Engine, work_dir: Path, rows: int, result: DbResult) -> None:
    from station.imports import import_stock

    path = work_dir / "stock.csv"
    if not path.exists():
        stock_csv(path, rows)
    log(f"stock import of {rows} rows")
    seconds, summary = _timed(lambda: import_stock(engine, path))
    if summary.created.get("units") != rows:
        raise RuntimeError(f"import wrote {summary}")
    result.import_s, result.import_rows = seconds, rows


# --- one database -------------------------------------------------------------------


def bench_db(
    db: str, args: argparse.Namespace, work_dir: Path, bare: float | None
) -> tuple[DbResult, float | None]:
    from station import stations
    from station.db.engine import open_database

    url = fresh_sqlite(str(work_dir)) if db == "sqlite" else fresh_postgres(args.pg_url)
    result = DbResult(db, args.units)
    log(f"{db}: building a ledger of {args.units} units")
    info = build_ledger(url, args.units, reserve=args.post)
    result.build_s = info.seconds
    log(f"{db}: built in {info.seconds:.1f} s")
    engine = open_database(url)
    try:
        stations.load(engine, STATION)
        bench_scans(engine, info, args.scans, result)
        bench_postings(engine, info, result)
        if args.repeat:
            result.generated = bench_generated(engine, info, args.post, args.repeat)
        # `station export` and `station import` run on a patient engine (no time limit)
        patient = open_database(url, patient=True)
        if args.export:
            bare = bench_export(patient, work_dir, result, bare)
        if args.import_rows:
            bench_import(patient, work_dir, args.import_rows, result)
        patient.dispose()
    finally:
        engine.dispose()
        if db == "postgresql" and not args.keep:
            drop_postgres(args.pg_url)
    return result, bare


# --- report -------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:.2f}"


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _ok(good: bool) -> str:
    return "✅" if good else "❌"


def _commit() -> str:
    import subprocess

    try:
        found = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return found.stdout.strip()


def render(results: list[DbResult], args: argparse.Namespace, total_s: float) -> str:
    dbs = [r.db for r in results]
    head = "| measure | target | " + " | ".join(dbs) + " |"
    sep = "| --- | --- | " + " | ".join("---" for _ in dbs) + " |"
    lines = [
        "# Station benchmark results",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; run took {total_s / 60:.1f} min",
        f"- machine: {os.cpu_count()} cores, {platform.machine()}, Python"
        f" {platform.python_version()}, {platform.system()} {platform.release()}",
        f"- ledger: {args.units:,} in-stock units (+ one event each) before the run;"
        f" {args.scans:,} timed scans per series (after {WARMUP} warm-up scans);"
        f" postings of {args.post:,} units",
        "- command: `python -m benchmarks.run " + " ".join(sys.argv[1:]) + "`"
        f" at commit {args.commit}",
        f"- load average at the end (other work on the machine): {load_average()}",
        "",
        head,
        sep,
    ]

    def row(name: str, target: str, cells: list[str]) -> None:
        lines.append(f"| {name} | {target} | " + " | ".join(cells) + " |")

    row("ledger build (s)", "", [_s(r.build_s) for r in results])
    for series in results[0].scans:
        row(
            f"scan {series}: p50 / p99 / max (ms)",
            "p99 ≤ 2",
            [
                f"{_ms(r.scans[series].p50)} / {_ms(r.scans[series].p99)} / "
                f"{_ms(r.scans[series].worst)} {_ok(r.scans[series].p99 <= 2)}"
                + (f" ({r.scans[series].refused} refused)" if r.scans[series].refused else "")
                for r in results
            ],
        )
    for series in results[0].scans:
        row(
            f"scan {series}, last 10% of the session: p50 / p99 (ms)",
            "p99 ≤ 2",
            [
                f"{_ms(r.scans[series].tail().p50)} / {_ms(r.scans[series].tail().p99)}"
                for r in results
            ],
        )
    for key in ("receive", "ship", "return", "count", "transfer"):
        row(
            f"{args.post:,}-unit {key} session: scanning it all (s)",
            "",
            [_s(r.fill.get(key)) for r in results],
        )
        row(
            f"{key} scan at {int(args.post * 0.9):,}–{args.post:,} entries: p50 / p99 (ms)",
            "p99 ≤ 2",
            [
                f"{_ms(r.fill_tail[key].p50)} / {_ms(r.fill_tail[key].p99)}"
                f" {_ok(r.fill_tail[key].p99 <= 2)}"
                for r in results
            ],
        )
    for kind in ("receipt", "shipment"):
        row(
            f"post a {args.post:,}-unit {kind} (s)",
            "≤ 1",
            [f"{_s(r.post[kind])} {_ok(r.post[kind] <= 1)}" for r in results],
        )
        row("raw Core executemany, same rows (s)", "", [_s(r.raw[kind]) for r in results])
        row(
            f"{kind}: posting / raw",
            "≤ 3×",
            [
                f"{r.post[kind] / r.raw[kind]:.2f}× {_ok(r.post[kind] / r.raw[kind] <= 3)}"
                for r in results
            ],
        )
    row(
        f"post a {args.post:,}-unit customer return on the order they shipped on (s)",
        "≤ 1",
        [f"{_s(r.post['return'])} {_ok(r.post['return'] <= 1)}" for r in results],
    )
    for kind in ("count", "transfer"):
        row(
            f"post a {args.post:,}-unit {kind} (the returned units: returns bin, then EAST) (s)",
            "≤ 1",
            [f"{_s(r.post[kind])} {_ok(r.post[kind] <= 1)}" for r in results],
        )
    row(  # the same work as the raw shipment: an UPDATE and an event per unit
        "return: posting / raw shipment",
        "≤ 3×",
        [
            f"{r.post['return'] / r.raw['shipment']:.2f}×"
            f" {_ok(r.post['return'] / r.raw['shipment'] <= 3)}"
            for r in results
        ],
    )
    if all(r.generated is not None for r in results):
        for name, target, cells in generated_rows(
            [r.generated for r in results if r.generated], args.repeat
        ):
            row(name, target, cells)
    if any(r.export_s is not None for r in results):
        row("Excel export of every serial: rows", "", [f"{r.export_rows:,}" for r in results])
        row("station export serials (s)", "", [_s(r.export_s) for r in results])
        row("bare openpyxl write-only, same rows (s)", "", [_s(r.bare_export_s) for r in results])
        row(
            "export / bare",
            "≤ 1.5×",
            [
                f"{r.export_s / r.bare_export_s:.2f}× {_ok(r.export_s / r.bare_export_s <= 1.5)}"
                if r.export_s and r.bare_export_s
                else "—"
                for r in results
            ],
        )
    if any(r.import_s is not None for r in results):
        row(
            f"stock import of {args.import_rows:,} CSV rows (s)",
            "≈ 60",
            [_s(r.import_s) for r in results],
        )
        row(
            "stock import rate (rows/s)",
            "",
            [f"{r.import_rows / r.import_s:,.0f}" if r.import_s else "—" for r in results],
        )
    notes = sorted({note for r in results for note in r.notes})
    if notes:
        lines += ["", *(f"- {note}" for note in notes)]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--units", type=int, default=1_000_000, help="units in the ledger")
    parser.add_argument("--scans", type=int, default=1500, help="timed scans per series")
    parser.add_argument("--post", type=int, default=10_000, help="units per posting")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="receipts of generated and of scanned serials, for their medians (0 skips)",
    )
    parser.add_argument(
        "--import-rows",
        type=int,
        default=None,
        help="stock import rows (default: --units; 0 skips)",
    )
    parser.add_argument(
        "--no-export", dest="export", action="store_false", help="skip the Excel export benchmark"
    )
    parser.add_argument("--pg-url", default=PG_URL, help="PostgreSQL database to (re)create")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the table")
    args = parser.parse_args(argv)
    if args.import_rows is None:
        args.import_rows = args.units
    started = time.perf_counter()
    args.commit = _commit()  # the code measured: HEAD when the run started
    results: list[DbResult] = []
    bare: float | None = None
    with tempfile.TemporaryDirectory(prefix="station-bench-") as tmp:
        work_dir = Path(tmp)
        os.environ["STATION_DATA_DIR"] = str(work_dir / "data")  # journals, station cache
        for db in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
            result, bare = bench_db(db, args, work_dir, bare)
            results.append(result)
    from benchmarks.headless import kept_section

    table = render(results, args, time.perf_counter() - started)
    print(table)
    args.out.write_text(table + kept_section(args.out))  # `benchmarks.headless` writes that
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
