"""`station`: the command line (SPEC §7), also the automation and test interface.

`station` with no arguments opens the GUI. Every command opens the database from
`--db URL` / STATION_DATABASE_URL (default: the SQLite file in the user's data folder).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, BinaryIO

from station import __version__
from station.codes import DESCRIPTIONS, Code, StationError
from station.workflows import REGISTRY, facts

if TYPE_CHECKING:  # each command imports what it needs when it runs (`--help` stays fast)
    from sqlalchemy import Engine

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DATABASE = 0, 1, 2, 3
#: Ctrl-C, and a reader of stdout that went away (128 + SIGINT, 128 + SIGPIPE).
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 130, 141
#: Refusals that are the database's: exit EXIT_DATABASE.
DATABASE_CODES = frozenset(
    {Code.DATABASE_UNAVAILABLE, Code.DATABASE_BUSY, Code.DATABASE_URL_INVALID}
)
#: Arguments that are file paths: any bytes the system allows.
PATH_ARGUMENTS = frozenset({"file", "out"})
#: At most this many serial key conflicts are listed by `station db upgrade|rekey`.
SHOWN_CONFLICTS = 50
#: `station scan`: most waiting lines judged before one journal sync and their verdicts
#: (bounds how long the first of them waits), and the most bytes one read takes.
GROUP_MAX = 128
READ_SIZE = 64 * 1024


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="station",
        description="Receiving and scan-and-ship station for serial-tracked inventory."
        " With no command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"station {__version__}")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL (default: $STATION_DATABASE_URL or a SQLite file in the user data"
        " folder); PostgreSQL: postgresql+psycopg://USER@HOST/DB",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    db = commands.add_parser("db", help="database schema").add_subparsers(
        dest="action", required=True
    )
    db.add_parser("upgrade", help="create or migrate the schema (Alembic)")
    rekey = db.add_parser(
        "rekey", help="recompute every serial key; list units whose serial reads as another's"
    )
    rekey.add_argument("--user", metavar="SUPERVISOR", help="needed once the ledger has users")

    demo = commands.add_parser(
        "demo",
        help="load a demo catalog, POs, orders and stock (into a ledger that holds data:"
        " a supervisor only)",
    )
    demo.add_argument("--user", metavar="SUPERVISOR", help="needed when the ledger holds data")
    commands.add_parser("codes", help="list every verdict code and its meaning")

    imp = commands.add_parser("import", help="import a CSV or XLSX file")
    imp.add_argument("kind", choices=["products", "pos", "orders", "stock"])
    imp.add_argument("file")
    imp.add_argument(
        "--user", metavar="SUPERVISOR", help="a supervisor (PIN from $STATION_PIN or prompted)"
    )

    scan = commands.add_parser(
        "scan", help="headless station: scans on stdin, one JSON verdict per line on stdout"
    )
    scan.add_argument("--station", required=True, metavar="NAME")
    which = scan.add_mutually_exclusive_group(required=True)
    for entry in REGISTRY:
        if entry.fixed_number:  # on no document: the flag alone
            which.add_argument(
                entry.flag, action="store_const", const=entry.fixed_number, dest=entry.kind
            )
        else:
            which.add_argument(entry.flag, metavar=entry.metavar, dest=entry.kind)
    scan.add_argument(
        "--user",
        metavar="NAME",
        help="the operator: a clerk or supervisor receives and takes customer returns, a"
        " packer or supervisor ships, a supervisor returns to vendors (without it, postings"
        " name no user)",
    )

    scan.add_argument(
        "--reason", metavar="TEXT", help="why: required for adjustments (--scrap, --release)"
    )

    trace = commands.add_parser("trace", help="a unit's details and event timeline")
    trace.add_argument("serial")
    trace.add_argument("--sku")
    trace.add_argument("--json", action="store_true")

    export = commands.add_parser("export", help="Excel export, one row per serial")
    export.add_argument("kind", choices=["serials", "arrivals", "shipments"])
    export.add_argument("--out", required=True, metavar="FILE.xlsx")
    export.add_argument("--sku")
    export.add_argument("--warehouse")
    export.add_argument("--status")
    export.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD")
    export.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD")

    options = commands.add_parser("options", help="show or set a station's options")
    options.add_argument("action", choices=["show", "set"])
    options.add_argument("--station", required=True, metavar="NAME")
    options.add_argument("--user", metavar="SUPERVISOR")
    options.add_argument("--json", action="store_true")
    options.add_argument("values", nargs="*", metavar="KEY=VALUE")

    commands.add_parser("stations", help="list stations and when each was last seen")

    settings = commands.add_parser(
        "settings", help="company-wide settings (serial_scope, serial_charset)"
    )
    settings.add_argument("action", choices=["show", "set"])
    settings.add_argument("--user", metavar="SUPERVISOR")
    settings.add_argument(
        "values", nargs="*", metavar="serial_scope=product|global serial_charset=ascii|unicode"
    )

    users = commands.add_parser("users", help="user accounts").add_subparsers(
        dest="action", required=True
    )
    add = users.add_parser("add", help="add a user (PIN from $STATION_PIN or prompted)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["clerk", "packer", "supervisor"])
    add.add_argument("--by", metavar="SUPERVISOR")
    users.add_parser("list", help="list users and roles")

    sheet = commands.add_parser("count-sheet", help="the serials the ledger expects in a bin")
    sheet.add_argument("bin", metavar="BIN")
    sheet.add_argument("--station", metavar="NAME", help="whose warehouse (default: the first)")
    sheet.add_argument("--out", metavar="FILE.xlsx", help="write XLSX instead of printing")

    bins = commands.add_parser(
        "bins", help="known bins (locations a location barcode may name)"
    ).add_subparsers(dest="action", required=True)
    make = bins.add_parser("add", help="make bins of a warehouse (a supervisor: --user)")
    make.add_argument("warehouse")
    make.add_argument("bins", nargs="+", metavar="BIN")
    make.add_argument("--user", metavar="SUPERVISOR")
    show_bins = bins.add_parser("list", help="list the known bins")
    show_bins.add_argument("--warehouse")

    try:
        from station.devices import cli as devices_cli
    except ImportError:  # the devices layer is optional for the core commands
        devices_cli = None
    if devices_cli is not None and hasattr(devices_cli, "add_commands"):
        devices_cli.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; `argv` None: the process's own arguments (the `station` program).
    Ctrl-C ends it quietly (exit 130), and so does a reader that stopped reading (`| head`)."""
    try:
        if argv is not None:
            return _main(list(argv))
        try:
            status = _main(sys.argv[1:])
            sys.stdout.flush()  # here, where a reader gone away is caught, not at exit
            return status
        finally:
            gc.freeze()  # the program ends: its last garbage collection need not walk it all
    except KeyboardInterrupt:
        _error("interrupted.")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _drop_stdout()
        return EXIT_BROKEN_PIPE


def _drop_stdout() -> None:
    """The reader of stdout has gone: what is still buffered goes nowhere, so that the
    interpreter's last flush does not fail once more on the way out."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _main(argv: list[str]) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # KEY=VALUE pairs may follow the options (`options set --station S --user U a=1`).
    if extra and hasattr(args, "values") and all("=" in e and e[0] != "-" for e in extra):
        args.values += extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    _refuse_undecodable(parser, args)
    if args.command is None:
        return _open_gui(args.db)
    handler = HANDLERS.get(args.command, _devices_command)
    args._engines = []  # opened by `_engine`, closed when the command ends
    from station.files import protect_url

    protect_url(args.db or os.environ.get("STATION_DATABASE_URL"))  # opened or not
    try:
        return handler(args)
    except StationError as error:
        _error(f"{error.code}: {error.message}")
        return EXIT_DATABASE if error.code in DATABASE_CODES else EXIT_FAILED
    except Exception as error:
        problem = _database_problem(error, args.db)
        if problem is None:
            raise
        _error(f"{problem.code}: {problem.message}")
        return EXIT_DATABASE
    finally:  # a caller in the same process (the tests) keeps no idle connection
        for engine in args._engines:
            engine.dispose()


def _refuse_undecodable(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Names, numbers and URLs are text: an argument with bytes that are not UTF-8 is a
    usage error naming it (file paths may hold any bytes the system allows)."""
    for name, value in vars(args).items():
        values = value if isinstance(value, list) else [value]
        for text in values:
            if name in PATH_ARGUMENTS or not isinstance(text, str):
                continue
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                shown = os.fsencode(text).decode("utf-8", "backslashreplace")[:80]
                flag = _flag_of(parser, args, name)
                parser.error(f"argument {flag}: '{shown}' holds bytes that are not UTF-8 text")


def _flag_of(parser: argparse.ArgumentParser, args: argparse.Namespace, dest: str) -> str:
    """How the user wrote the argument stored as `dest` (`--station`, or `serial`), in
    the command that was run."""
    node: argparse.ArgumentParser | None = parser
    while node is not None:
        chosen = None
        for action in node._actions:
            if action.dest == dest and action.option_strings:
                return action.option_strings[-1]
            if isinstance(action, argparse._SubParsersAction):
                chosen = action.choices.get(getattr(args, action.dest, None) or "")
        node = chosen
    return dest


def _database_problem(error: Exception, url: str | None) -> StationError | None:
    """A database error as a refusal with its code (None: not the database's), without
    importing SQLAlchemy for the commands that never loaded it."""
    exc = sys.modules.get("sqlalchemy.exc")
    if exc is None or not isinstance(error, exc.DBAPIError):
        return None
    from station.db.engine import database_problem

    return database_problem(error, url)


def _error(message: str) -> None:
    print(f"station: {message}", file=sys.stderr)


#: Commands that may legitimately run long: no statement or answer time limit.
PATIENT = frozenset({"import", "export", "demo", "db", "count-sheet"})


def _engine(args: argparse.Namespace) -> Engine:
    from station.app import connect

    engine = connect(args.db, patient=args.command in PATIENT)
    getattr(args, "_engines", []).append(engine)
    return engine


def _open_gui(url: str | None) -> int:
    """Open the desktop app, found through the `station.gui` entry point so that the
    core never imports the GUI package."""
    from importlib.metadata import entry_points

    found = entry_points(group="station.gui")
    if not found:
        _error("the desktop app is not installed (no 'station.gui' entry point).")
        return EXIT_FAILED
    try:
        run = next(iter(found)).load()
    except ImportError as error:
        _error(f"the desktop app cannot start: {error}")
        return EXIT_FAILED
    return int(run(url))


def _devices_command(args: argparse.Namespace) -> int:
    from station.devices import cli as devices_cli

    return int(devices_cli.run(args, lambda: _engine(args)))


# --- commands -----------------------------------------------------------------------


def cmd_db(args: argparse.Namespace) -> int:
    """`db upgrade` is the only command that migrates a shared PostgreSQL (a SQLite file
    is copied aside first); `db rekey` works on a schema that is current."""
    from station.db import rekey
    from station.db.engine import make_engine, open_database, reading, upgrade_database

    if args.action == "rekey":
        engine = open_database(args.db, patient=True)
        args._engines.append(engine)
        with reading(engine).connect() as connection:
            from station.db import admin

            guarded = admin.user_count(connection) > 0
        if guarded:  # it rewrites every unit's key: a supervisor's step once there are users
            _supervisor(args, engine, "station db rekey")
        with engine.begin() as connection:
            done = rekey.rekey(connection)
        print(f"{done.units} unit key(s) and {done.allocated} allocated serial(s) re-keyed.")
    else:
        engine = make_engine(args.db, patient=True)
        upgraded = upgrade_database(engine)
        if upgraded.backup is not None:
            print(f"Kept a copy of the revision {upgraded.before} file as {upgraded.backup}.")
        if upgraded.before != upgraded.now:
            print(f"Schema upgraded from revision {upgraded.before or 'none'} to {upgraded.now}.")
        print(f"Schema is at revision {upgraded.now}.")
    with reading(engine).connect() as connection:
        conflicts = rekey.conflicts(connection)
    if conflicts:
        print(
            f"{len(conflicts)} unit(s) keep their old serial key: their serial now reads as"
            " another unit's (never merged; see README, 'Serial key conflicts'):"
        )
        for conflict in conflicts[:SHOWN_CONFLICTS]:
            print(f"  {conflict.as_text()}")
        if len(conflicts) > SHOWN_CONFLICTS:
            print(f"  … and {len(conflicts) - SHOWN_CONFLICTS} more")
    return EXIT_OK


def cmd_codes(_args: argparse.Namespace) -> int:
    for code in Code:
        print(f"{code:<28} {DESCRIPTIONS.get(code, '')}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from station.demo import load_demo

    engine = _engine(args)
    # An empty ledger takes the demo from anyone (the first run); one holding data only
    # from a supervisor.
    supervisor = _supervisor(args, engine, "station demo") if args.user else None
    summary = load_demo(engine, into_data=supervisor is not None)
    print(f"Demo data loaded: {summary}")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from station import imports

    engine = _engine(args)
    user = _supervisor(args, engine, f"station import {args.kind}")
    try:
        if args.kind == "stock":  # an opening balance is a supervisor's adjustment
            summary = imports.import_stock(engine, args.file, user=user)
        else:
            run: Callable[[Engine, str], Any] = getattr(imports, f"import_{args.kind}")
            summary = run(engine, args.file)
    except imports.ImportInvalid as error:
        _error(f"{error.code}: {error.message.splitlines()[0]}")
        for problem in error.errors:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_FAILED
    print(f"Imported {args.kind}: {summary}")
    return EXIT_OK


def cmd_trace(args: argparse.Namespace) -> int:
    from station.trace import trace

    found = trace(_engine(args), args.serial, sku=args.sku)
    if args.json:
        data = [unit.as_dict() for unit in found]
        print(json.dumps(data[0] if len(data) == 1 else data, default=str, indent=2))
    else:
        print("\n\n".join(unit.as_text() for unit in found))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from station.exports import export
    from station.files import shown

    filters = {
        key: value
        for key, value in {
            "sku": args.sku,
            "warehouse": args.warehouse,
            "status": args.status,
            "date_from": args.date_from,
            "date_to": args.date_to,
        }.items()
        if value
    }
    count = export(_engine(args), args.kind, args.out, filters)
    print(f"Exported {count} {args.kind} row(s) to {shown(args.out)}.")
    return EXIT_OK


def cmd_options(args: argparse.Namespace) -> int:
    from station import stations
    from station.options import OPTIONS

    engine = _engine(args)
    if args.action == "set":
        changes: dict[str, str] = {}
        for item in args.values:
            key, sep, value = item.partition("=")
            if not sep:
                raise StationError(Code.BAD_OPTION_VALUE, f"'{item}' is not KEY=VALUE.")
            changes[key.strip()] = value
        pin = _pin("STATION_PIN", f"PIN for {args.user}: ") if args.user else None
        done = stations.set_options(engine, args.station, changes, user=args.user, pin=pin)
        for key, old, new in done:
            print(f"{key}: {json.dumps(old)} -> {json.dumps(new)}")
        if not done:
            print("Nothing changed.")
        return EXIT_OK
    config = stations.load(engine, args.station)
    if args.json:
        print(json.dumps(config.options))
        return EXIT_OK
    for key, option in OPTIONS.items():
        print(f"{key:<26} {json.dumps(config.options[key]):<28} {option.help}")
    return EXIT_OK


def cmd_stations(args: argparse.Namespace) -> int:
    from station.db import admin
    from station.db.engine import reading

    with reading(_engine(args)).connect() as connection:
        rows = admin.stations(connection)
    if not rows:
        print("No stations yet.")
    from station.scanning import show

    for name, kind, seen in rows:
        when = seen.strftime("%Y-%m-%d %H:%M:%S UTC") if seen else "never"
        print(f"{show(name, 100):<24} {kind:<8} last seen {when}")  # escaped: a terminal
    return EXIT_OK


def cmd_settings(args: argparse.Namespace) -> int:
    from station import company

    engine = _engine(args)
    if args.action == "show":
        print(f"serial_scope = {company.serial_scope(engine)}")
        print(f"serial_charset = {company.serial_charset(engine)}")
        return EXIT_OK
    setters = {
        "serial_scope": company.set_serial_scope,
        "serial_charset": company.set_serial_charset,
    }
    for item in args.values:
        key, _, value = (part.strip() for part in item.partition("="))
        if key not in setters:
            raise StationError(
                Code.UNKNOWN_OPTION, f"Unknown setting '{key}' ({', '.join(setters)})."
            )
        pin = _pin("STATION_PIN", f"PIN for {args.user}: ") if args.user else None
        setters[key](engine, value, user=args.user, pin=pin)
        print(f"{key} = {value}")
    return EXIT_OK


def cmd_users(args: argparse.Namespace) -> int:
    from station import users
    from station.db import admin

    engine = _engine(args)
    if args.action == "list":
        from station.db.engine import reading
        from station.db.models import utcnow

        with reading(engine).connect() as connection:
            locked = admin.locked_users(connection, utcnow())
            for name, role in admin.users(connection):
                until = locked.get(name)
                lock = f"  locked until {until:%Y-%m-%d %H:%M:%S} UTC" if until else ""
                print(f"{name:<24} {role}{lock}")
        return EXIT_OK
    pin = _pin("STATION_PIN", f"PIN for the new user {args.name}: ")
    by_pin = _pin("STATION_SUPERVISOR_PIN", f"PIN of {args.by}: ") if args.by else None
    users.add_user(engine, args.name, args.role, pin, by=args.by, by_pin=by_pin)
    print(f"User {args.name} added as {args.role}.")
    return EXIT_OK


def cmd_count_sheet(args: argparse.Namespace) -> int:
    from station import stations
    from station.counts.sheet import count_sheet, write_count_sheet
    from station.files import shown
    from station.scanning import show

    engine = _engine(args)
    station = stations.load(engine, args.station) if args.station else None
    rows = count_sheet(engine, args.bin, station)
    if args.out:
        count = write_count_sheet(engine, rows, args.out)
        print(f"Count sheet of {show(args.bin, 64)}: {count} serial(s) to {shown(args.out)}.")
        return EXIT_OK
    for sku, _name, serial, status, warehouse, place in rows:
        note = "" if status == "in_stock" else f"  ({status})"
        where = f"{show(warehouse, 12):<12} {show(place, 20):<20}"
        print(f"{where} {show(sku, 14):<14} {show(serial, 64)}{note}")
    print(f"{len(rows)} serial(s) expected in {show(args.bin, 64)}.")
    return EXIT_OK


def cmd_bins(args: argparse.Namespace) -> int:
    from station import bins
    from station.scanning import show

    engine = _engine(args)
    if args.action == "list":
        for warehouse, code, by in bins.list_bins(engine, args.warehouse):
            made = f"  made by {show(by, 100)}" if by else ""
            print(f"{show(warehouse, 64):<12} {show(code, 64)}{made}")
        return EXIT_OK
    pin = _pin("STATION_PIN", f"PIN for {args.user}: ") if args.user else None
    made, known = bins.add_bins(engine, args.warehouse, args.bins, user=args.user, pin=pin)
    for code in made:
        print(f"Bin {show(code, 64)} made in {show(args.warehouse, 64)}.")
    for code in known:
        print(f"Bin {show(code, 64)} is known already in {show(args.warehouse, 64)}.")
    return EXIT_OK


def _supervisor(args: argparse.Namespace, engine: Engine, what: str) -> str:
    """The supervisor named by `--user`, once their PIN (STATION_PIN or prompted) is
    right: NOT_AUTHORIZED without `--user`, USER_LOCKED while they are locked."""
    from station.users import authorize_supervisor

    if not args.user:
        raise StationError(
            Code.NOT_AUTHORIZED,
            f"{what} needs a supervisor: --user NAME (PIN from STATION_PIN or prompted).",
        )
    pin = _pin("STATION_PIN", f"PIN for {args.user}: ")
    return authorize_supervisor(engine, args.user, pin, station=getattr(args, "station", None))


def _pin(variable: str, prompt: str) -> str:
    import getpass

    value = os.environ.get(variable)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise StationError(Code.NOT_AUTHORIZED, f"No PIN: set {variable} or run in a terminal.")
    return getpass.getpass(prompt)


def cmd_scan(args: argparse.Namespace) -> int:
    """The headless station: one JSON line out for every line in, in order.

    Group commit: the lines already waiting on stdin (what one read returned, at most
    GROUP_MAX) are judged in order with their journal records written, the journal is
    synced once, then their verdicts are printed. A verdict is never printed before its
    scan is on disk, and nothing waits for more input: a scan typed or sent alone is a
    group of one. A CMD-SAVE inside a group posts in its turn: the posting is its own
    durable record (one committed transaction), it only clears the journal when it
    succeeds, and its result line too is printed after the group's sync.
    """
    collecting = gc.isenabled()
    gc.disable()  # start-up makes many objects, all of them kept to the end
    try:
        from station.app import open_session

        engine = _engine(args)
        kind, number = next(
            (e.kind, getattr(args, e.kind)) for e in REGISTRY if getattr(args, e.kind) is not None
        )
        if args.user is not None:  # a named operator must be one who may do this
            from station.users import check_operator

            check_operator(engine, args.user, kind, facts(kind).roles)
        opened = open_session(
            engine, args.station, kind, number, user=args.user, reason=args.reason
        )
        gc.freeze()  # the collections while scanning leave them alone
        if collecting:
            gc.enable()
        return _answer(engine, opened)
    finally:
        gc.unfreeze()  # a caller in the same process (the tests) gets them back
        if collecting:
            gc.enable()


def _answer(engine: Engine, opened: Any) -> int:
    """cmd_scan's loop: the groups of waiting lines in, their verdicts out."""
    out = sys.stdout
    session = opened.session
    journal = session.journal
    if opened.restored or opened.damaged:
        damaged = opened.damaged.as_dict() if opened.damaged else {}
        out.write(json.dumps({"restored": opened.restored, **damaged}) + "\n")
        out.flush()
    status = EXIT_OK
    for lines in waiting_lines(sys.stdin.buffer):
        shown: list[str] = []
        prints: list[Any] = []  # postings' print jobs, recorded; sent after their lines
        try:
            with session.together(), journal.group() if journal is not None else nullcontext():
                if len(lines) > 1:
                    session.look_ahead(lines)
                for line in lines:
                    raw = line.rstrip(b"\r\n")
                    if raw.strip():
                        data, ok = _judge(engine, session, raw, prints)
                        shown.append(json.dumps(data, ensure_ascii=False) + "\n")
                        status = max(status, _line_status(data, ok))
        except OSError as error:  # the group's sync failed: none of its verdicts shows
            session.close()
            _error(
                f"{Code.JOURNAL_UNAVAILABLE}: the journal cannot be synced ({error});"
                " the last scans got no verdict. Start again to restore what is on disk."
            )
            _send_prints(prints)  # a posting among them stands: its jobs are recorded
            return EXIT_FAILED
        out.write("".join(shown))
        out.flush()
        _send_prints(prints)
    session.close()
    return status


#: Verdict codes after which `station scan` ends with EXIT_DATABASE (SPEC §7: non-zero
#: for an unreachable database); it reads on, so scans after the network heals count.
UNREACHABLE = frozenset({str(Code.DATABASE_UNAVAILABLE), str(Code.POSTING_OUTCOME_UNKNOWN)})


def _line_status(data: dict[str, Any], ok: bool) -> int:
    """The exit status one output line calls for: a scan or posting the database could
    not answer, a failed posting, or nothing."""
    if data.get("code") in UNREACHABLE:
        return EXIT_DATABASE
    if not ok or data.get("code") == Code.DATABASE_BUSY:
        return EXIT_FAILED
    return EXIT_OK


def waiting_lines(source: BinaryIO) -> Iterator[list[bytes]]:
    """The input's lines (without their LF) in groups: each group holds the whole lines
    one read returned, so it is what was already waiting (at most GROUP_MAX lines). A
    read blocks only when no whole line is waiting; the last line may lack its LF."""
    read = getattr(source, "read1", None)
    if read is None:  # a stream without read1: one line at a time
        for line in iter(source.readline, b""):
            yield [line.rstrip(b"\n")]
        return
    partial = bytearray()
    while chunk := read(READ_SIZE):
        end = chunk.rfind(b"\n")
        if end < 0:
            partial += chunk
            continue
        partial += chunk[:end]
        lines = partial.split(b"\n")
        partial = bytearray(chunk[end + 1 :])
        for start in range(0, len(lines), GROUP_MAX):
            yield [bytes(line) for line in lines[start : start + GROUP_MAX]]
    if partial:
        yield [bytes(partial)]


def _judge(
    engine: Engine, session: Any, raw: bytes, prints: list[Any]
) -> tuple[dict[str, Any], bool]:
    """The JSON line for one scan, and False when it was a posting that failed. A
    posting's print jobs are rendered and recorded here (their state is in its line)
    and added to `prints`, sent once the line is out."""
    from station.posting import PostingResult

    verdict = session.scan(raw)
    if isinstance(verdict.posting, PostingResult):
        result = verdict.posting
        prepared = _prepare_print(engine, session, result)
        if prepared is None:
            return result.as_dict(), result.posted
        prints.append(prepared)
        return {**result.as_dict(), **prepared.as_dict()}, result.posted
    return verdict.as_dict(), True


def _prepare_print(engine: Engine, session: Any, result: Any) -> Any:
    """The labels or packing slip a posting calls for, rendered and recorded as queued
    jobs (None when it calls for none). The posting stands whatever printing does."""
    from station.printing import PreparedPrint, prepare_print

    try:
        jobs = session.workflow.print_jobs(session.document, result, session.station)
        return prepare_print(engine, session.station, jobs) if jobs else None
    except Exception as error:
        prepared = PreparedPrint(str(result.document), session.station.name)
        prepared.fail(Code.PRINT_FAILED, f"Nothing printed ({type(error).__name__}: {error}).")
        return prepared


def _send_prints(prints: list[Any]) -> None:
    """Send the recorded jobs of the postings just shown; failures go to stderr, with
    their code (stdout keeps one line per scan), and the jobs stay for a reprint."""
    from station.printing import send_prepared

    for prepared in prints:
        for failure in send_prepared(prepared):
            _error(f"{failure.code}: {failure.message}")


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "db": cmd_db,
    "codes": cmd_codes,
    "demo": cmd_demo,
    "import": cmd_import,
    "scan": cmd_scan,
    "trace": cmd_trace,
    "export": cmd_export,
    "options": cmd_options,
    "stations": cmd_stations,
    "settings": cmd_settings,
    "users": cmd_users,
    "bins": cmd_bins,
    "count-sheet": cmd_count_sheet,
}


if __name__ == "__main__":
    sys.exit(main())
