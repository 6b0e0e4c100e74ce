"""Re-keying a large ledger (migration 0003, `station db rekey`) and the cost of the one
serial key per scan: `python -m benchmarks.rekey [--db sqlite|postgresql|both]
[--units N] [--changed N]`.

Per database: build a ledger of N units (benchmarks.ledger), give `--changed` of them a
fullwidth serial with the key 0002's code stored for it (so they re-key), and as many
again a second spelling of another unit's serial (so they conflict); then time one
`rekey` over the whole ledger. Also times `serial_key` and `serial_problem` per call.
Prints a markdown table (nothing is written).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import timeit
from collections.abc import Sequence

from sqlalchemy import text

from benchmarks.ledger import PG_URL, build_ledger, drop_postgres, fresh_postgres, fresh_sqlite
from benchmarks.run import log
from station.db.engine import open_database
from station.db.rekey import rekey
from station.scanning import serial_key
from station.serials import serial_problem


def _fullwidth(value: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in value)


def bench_rekey(url: str, units: int, changed: int) -> tuple[float, float, str]:
    """(build seconds, rekey seconds, what it did)."""
    info = build_ledger(url, units, reserve=max(changed, 10))
    engine = open_database(url, patient=True)  # as `station db rekey`
    try:
        with engine.begin() as connection:
            rows = connection.execute(
                text("SELECT id, serial FROM units ORDER BY id DESC LIMIT :n"), {"n": changed}
            ).all()
            update = text("UPDATE units SET serial = :serial, serial_key = :key WHERE id = :uid")
            connection.execute(  # fullwidth, lower-case: 0002 keyed it fullwidth upper-case
                update,
                [
                    {"uid": uid, "serial": _fullwidth(s.lower()), "key": _fullwidth(s).upper()}
                    for uid, s in rows
                ],
            )
            # Units 1..changed get a whitespace run, units changed+1..2*changed (the same
            # product) the same serial with one space: 0002's keys held them apart.
            others = connection.execute(
                text("SELECT id, serial FROM units WHERE id <= :n ORDER BY id"), {"n": changed}
            ).all()
            for offset, space in ((0, "  "), (changed, " ")):
                connection.execute(
                    update,
                    [
                        {"uid": uid + offset, "serial": (v := s[:2] + space + s[2:]), "key": v}
                        for uid, s in others
                    ],
                )
        started = time.perf_counter()
        with engine.begin() as connection:
            done = rekey(connection)
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    return info.seconds, seconds, f"{done.units} re-keyed, {done.conflicts} in conflict"


def per_call_us(function: object, arguments: tuple[object, ...], number: int = 100_000) -> float:
    total = timeit.timeit(lambda: function(*arguments), number=number)  # type: ignore[operator]
    return total / number * 1e6


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--changed", type=int, default=10_000)
    parser.add_argument("--pg-url", default=PG_URL)
    args = parser.parse_args(argv)
    rows = []
    for name, call in [
        ("serial_key, ASCII", (serial_key, ("SN0000123456",))),
        ("serial_key, fullwidth", (serial_key, ("ＳＮ０００１２３",))),
        ("serial_problem ascii, ASCII", (serial_problem, ("SN0000123456", "ascii"))),
        ("serial_problem unicode, Cyrillic", (serial_problem, ("Жук-000123", "unicode"))),
    ]:
        rows.append(f"| {name} | {per_call_us(*call):.2f} µs per call |")
    dbs = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    with tempfile.TemporaryDirectory() as work:
        for db in dbs:
            url = fresh_sqlite(work) if db == "sqlite" else fresh_postgres(args.pg_url)
            log(f"{db}: building {args.units} units")
            try:
                build, seconds, what = bench_rekey(url, args.units, args.changed)
            finally:
                if db == "postgresql":
                    drop_postgres(args.pg_url)
            rows.append(
                f"| rekey {db}, {args.units:,} units ({what}) | {seconds:.1f} s"
                f" ({args.units / seconds:,.0f} units/s; ledger built in {build:.0f} s) |"
            )
    print("| what | measured |\n| --- | --- |\n" + "\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
