"""The headless station as a user runs it (SPEC §7, §8): `python -m benchmarks.headless
[--db sqlite|postgresql|both] [--units N] [--runs R] [--baseline REF]`.

Every number is the wall time of real `station` processes (`python -m station`, this
tree's code, bytecode compiled beforehand as an installed package has it), measured in
one run against a ledger of N in-stock units (benchmarks.ledger):

* `station --help`: median of --help-runs starts;
* first verdict: from starting `station scan --receive PO-SCAN` to reading the verdict
  of its first scan (written at once), median of --runs;
* 1,000 piped serials: `station scan < file` with an item scan, 1,000 new serials and
  CMD-SAVE (judged, journaled, posted), start to exit, median of --runs; its CPU time
  too (user + system: it tells what the process costs when the machine is busy). With
  `--baseline REF`, the same for the `station` package of git REF (e.g. the commit before
  group commit, whose journal synced once per scan), run in turns with this tree's, and
  the ratio of the medians;
* one scan at a time: one process, each scan written only after the previous verdict
  was read; round trip p50 / p99 over --scans scans (after 50 warm-up scans), receive
  (new serials on PO-SCAN) and ship (in-stock units of SO-SCAN across the ledger);
* the floor: `python -c pass` and `python -c "import sqlalchemy.orm"`, medians.

Writes its table to the "Headless station" section of benchmarks/RESULTS.md (the rest
of the file is left as it is) and prints it. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from benchmarks.ledger import build_ledger, drop_postgres, fresh_postgres, fresh_sqlite
from benchmarks.run import _commit, log, percentile

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).with_name("RESULTS.md")
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/station_bench_headless"
STATION = "HEADLESS-1"
WARMUP = 50
BEGIN, END = "<!-- headless: begin -->", "<!-- headless: end -->"


@dataclass
class DbResult:
    db: str
    build_s: float = 0.0
    first_verdict: list[float] = field(default_factory=list)
    piped: list[float] = field(default_factory=list)
    piped_cpu: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    round_trips: dict[str, list[float]] = field(default_factory=dict)  # ms, per series


class Station:
    """`python -m station` of one source tree, started the way a user's shell would."""

    def __init__(self, tree: Path, data_dir: Path) -> None:
        self.tree = tree
        self.data_dir = data_dir
        self.cwd = data_dir.parent  # not a source tree: PYTHONPATH alone picks the code

    def env(self, data_dir: Path | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPATH"] = str(self.tree)
        env["STATION_DATA_DIR"] = str(data_dir or self.data_dir)
        env.pop("STATION_DATABASE_URL", None)
        return env

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "station", *args]

    def compile(self) -> None:
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(self.tree / "station")],
            check=True,
            env=self.env(),
        )


def _median_run(argv: list[str], runs: int, env: dict[str, str], cwd: Path) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, env=env, cwd=cwd, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def first_verdict(station: Station, url: str, work: Path, runs: int) -> list[float]:
    """Start → the first scan's verdict read (a fresh journal folder each time)."""
    times = []
    for run in range(runs):
        data = work / f"first-{run}"
        started = time.perf_counter()
        process = subprocess.Popen(
            station.command("--db", url, "scan", "--station", STATION, "--receive", "PO-SCAN"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=station.env(data),
            cwd=station.cwd,
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(b"BENCH-02-BOX\n")
        process.stdin.flush()
        line = process.stdout.readline()
        times.append(time.perf_counter() - started)
        process.stdin.close()
        process.wait(timeout=60)
        if b'"ok": true' not in line:
            raise RuntimeError(f"first scan refused: {line!r}")
        shutil.rmtree(data, ignore_errors=True)
    return times


def piped_once(station: Station, url: str, work: Path, tag: str) -> tuple[float, float]:
    """`station scan < file`: item scan, 1,000 new serials, CMD-SAVE; wall and CPU (s)."""
    scans = ["BENCH-02-BOX", *(f"HL{tag}-{i:06d}" for i in range(1000)), "CMD-SAVE"]
    path = work / f"piped-{tag}.txt"
    path.write_text("".join(f"{scan}\n" for scan in scans))
    data = work / f"piped-{tag}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with path.open("rb") as stdin:
        started = time.perf_counter()
        done = subprocess.run(
            station.command("--db", url, "scan", "--station", STATION, "--receive", "PO-SCAN"),
            stdin=stdin,
            capture_output=True,
            env=station.env(data),
            cwd=station.cwd,
        )
        wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = done.stdout.decode().splitlines()
    if done.returncode != 0 or len(lines) != len(scans) or '"units": 1000' not in lines[-1]:
        raise RuntimeError(f"piped run failed ({done.returncode}): {done.stderr.decode()}")
    shutil.rmtree(data, ignore_errors=True)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def round_trips(
    station: Station, url: str, work: Path, kind: str, item: str, serials: Sequence[str]
) -> list[float]:
    """One process; each scan written after the previous verdict was read (ms)."""
    number = "PO-SCAN" if kind == "receive" else "SO-SCAN"
    process = subprocess.Popen(
        station.command("--db", url, "scan", "--station", STATION, f"--{kind}", number),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=station.env(work / f"trips-{kind}"),
        cwd=station.cwd,
    )
    assert process.stdin is not None and process.stdout is not None
    write, read = process.stdin, process.stdout

    def ask(scan: str) -> bytes:
        write.write(scan.encode() + b"\n")
        write.flush()
        return read.readline()

    ask(item)
    times, refused = [], 0
    clock = time.perf_counter_ns
    for index, serial in enumerate(serials):
        started = clock()
        line = ask(serial)
        elapsed = clock() - started
        refused += b'"ok": true' not in line
        if index >= WARMUP:
            times.append(elapsed / 1e6)
    ask("CMD-RESCAN")  # leaves no journal behind
    write.close()
    process.wait(timeout=60)
    if refused:
        raise RuntimeError(f"{kind}: {refused} scans refused")
    return times


def baseline_tree(ref: str, work: Path) -> Path:
    """The `station` package of git `ref`, unpacked under `work`."""
    archive = subprocess.run(
        ["git", "archive", ref, "station"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    target = work / f"baseline-{ref}"
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def bench_db(
    db: str, args: argparse.Namespace, work: Path, stations: dict[str, Station]
) -> DbResult:
    from station import stations as station_options
    from station.db.engine import open_database

    url = fresh_sqlite(str(work)) if db == "sqlite" else fresh_postgres(args.pg_url)
    result = DbResult(db)
    log(f"{db}: building a ledger of {args.units:,} units")
    info = build_ledger(url, args.units, reserve=1000)
    result.build_s = info.seconds
    engine = open_database(url)
    try:
        station_options.load(engine, STATION)  # registered, as after its first start
        if db == "postgresql":  # the build's WAL written out now, not during the timings
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("CHECKPOINT")
    finally:
        engine.dispose()
    new = stations["new"]
    try:
        log(f"{db}: first verdict × {args.runs}")
        result.first_verdict = first_verdict(new, url, work, args.runs)
        log(f"{db}: 1,000 piped serials × {args.runs} (taking turns with the baseline)")
        for run in range(args.runs):  # in turns: both see the same machine
            wall, cpu = piped_once(new, url, work, f"{db[0]}N{run:02d}")
            result.piped.append(wall)
            result.piped_cpu.append(cpu)
            if "baseline" in stations:
                wall, _ = piped_once(stations["baseline"], url, work, f"{db[0]}B{run:02d}")
                result.baseline.append(wall)
        log(f"{db}: {args.scans:,} scans one at a time, receive and ship")
        count = args.scans + WARMUP
        result.round_trips["receive"] = round_trips(
            new, url, work, "receive", "BENCH-02-BOX", [f"HLT{i:07d}" for i in range(count)]
        )
        result.round_trips["ship"] = round_trips(
            new, url, work, "ship", "BENCH-01-BOX", info.ship_scan_serials(count)
        )
    finally:
        if db == "postgresql" and not args.keep:
            drop_postgres(args.pg_url)
    return result


def _s(value: float) -> str:
    return f"{value:.3f}"


def _ok(good: bool) -> str:
    return "✅" if good else "❌"


def render(
    results: list[DbResult], args: argparse.Namespace, floor: dict[str, float], load: list[float]
) -> str:
    dbs = [r.db for r in results]
    lines = [
        "## Headless station",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} cores,"
        f" {platform.machine()}, Python {platform.python_version()},"
        f" {platform.system()} {platform.release()}",
        f"- load average (1 min) at start / end: {load[0]:.2f} / {load[1]:.2f}",
        f"- ledger: {args.units:,} in-stock units; medians of {args.runs} runs;"
        f" {args.scans:,} timed round trips per series (after {WARMUP} warm-up scans)",
        "- command: `python -m benchmarks.headless " + " ".join(sys.argv[1:]) + "`"
        f" at commit {args.commit}",
        "",
        "| measure | target | " + " | ".join(dbs) + " |",
        "| --- | --- | " + " | ".join("---" for _ in dbs) + " |",
    ]

    def row(name: str, target: str, cells: list[str]) -> None:
        lines.append(f"| {name} | {target} | " + " | ".join(cells) + " |")

    no_db = ["(no database)"] * (len(dbs) - 1)
    help_s = floor["help"]
    row(
        f"`station --help` (s, median of {args.help_runs})",
        "≤ 0.3",
        [f"{_s(help_s)} {_ok(help_s <= 0.3)}", *no_db],
    )
    row("floor: `python -c pass` (s)", "", [_s(floor["python"]), *no_db])
    row("floor: `python -c 'import sqlalchemy.orm'` (s)", "", [_s(floor["sqlalchemy"]), *no_db])
    first = [statistics.median(r.first_verdict) for r in results]
    row(
        "first verdict of `station scan` after start (s)",
        "≤ 0.6",
        [f"{_s(v)} {_ok(v <= 0.6)}" for v in first],
    )
    pipe = [statistics.median(r.piped) for r in results]
    row(
        "1,000 piped serials judged, journaled, posted: whole process (s)",
        "≤ 0.5",
        [f"{_s(v)} {_ok(v <= 0.5)}" for v in pipe],
    )
    row(
        "… its CPU time, user + system (s)",
        "",
        [_s(statistics.median(r.piped_cpu)) for r in results],
    )
    if all(r.baseline for r in results):
        old = [statistics.median(r.baseline) for r in results]
        row(f"… the same with `station` of {args.baseline} (s)", "", [_s(v) for v in old])
        row(
            f"… {args.baseline} / now",
            "",
            [f"{o / n:.2f}×" for o, n in zip(old, pipe, strict=True)],
        )
    for series in ("receive", "ship"):
        trips = [r.round_trips[series] for r in results]
        row(
            f"one {series} scan at a time through a pipe: p50 / p99 (ms)",
            "p99 ≤ 2",
            [
                f"{statistics.median(t):.2f} / {percentile(t, 99):.2f}"
                f" {_ok(percentile(t, 99) <= 2)}"
                for t in trips
            ],
        )
    row("ledger build (s)", "", [f"{r.build_s:.1f}" for r in results])
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    """Put `section` between the headless markers of `path`, keeping everything else."""
    text = path.read_text() if path.exists() else ""
    block = f"{BEGIN}\n{section}{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1].lstrip("\n")
    else:
        text = (text.rstrip("\n") + "\n\n" if text else "") + block
    path.write_text(text)


def kept_section(path: Path) -> str:
    """The headless section of `path` (for `benchmarks.run`, which rewrites the file)."""
    text = path.read_text() if path.exists() else ""
    if BEGIN not in text or END not in text:
        return ""
    return "\n" + BEGIN + text.split(BEGIN, 1)[1].split(END, 1)[0] + END + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.headless", description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--units", type=int, default=1_000_000, help="units in the ledger")
    parser.add_argument("--runs", type=int, default=5, help="runs per median (processes)")
    parser.add_argument("--help-runs", type=int, default=20, help="`station --help` runs")
    parser.add_argument("--scans", type=int, default=1000, help="round trips per series")
    parser.add_argument("--baseline", metavar="REF", help="also time `station` of git REF")
    parser.add_argument("--pg-url", default=PG_URL, help="PostgreSQL database to (re)create")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--out", type=Path, default=RESULTS, help="file to put the section in")
    args = parser.parse_args(argv)
    args.commit = _commit()
    load = [os.getloadavg()[0]]
    results = []
    with tempfile.TemporaryDirectory(prefix="station-headless-") as tmp:
        work = Path(tmp)
        stations = {"new": Station(ROOT, work / "data")}
        if args.baseline:
            stations["baseline"] = Station(baseline_tree(args.baseline, work), work / "data")
        for station in stations.values():
            station.compile()
        new = stations["new"]
        log(f"`station --help` × {args.help_runs}, and the floor")
        env = new.env()
        floor = {
            "help": _median_run(new.command("--help"), args.help_runs, env, new.cwd),
            "python": _median_run([sys.executable, "-c", "pass"], args.help_runs, env, new.cwd),
            "sqlalchemy": _median_run(
                [sys.executable, "-c", "import sqlalchemy.orm"], args.help_runs, env, new.cwd
            ),
        }
        for db in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
            results.append(bench_db(db, args, work, stations))
    load.append(os.getloadavg()[0])
    section = render(results, args, floor, load)
    print(section)
    write_section(args.out, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
