"""Device commands for `station` (SPEC §7): `label`, `devices`, `print-test` and `reprint`.

`station.cli` registers them with `add_commands(subparsers)` and runs them with
`run(args, engine_factory)`; the database is only opened by commands that need it.
Building the parser imports nothing heavy (`station --help` stays fast): the printers,
labels and the database come in when a command runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO, TextIO

from station.devices.errors import DeviceError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from station.devices.printers.base import Printer

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
COMMANDS = ("label", "devices", "print-test", "reprint")
REPRINT_WAIT = 120.0  # seconds to wait for one job; a dead printer fails the rest at once
#: `station label --format`: the function of `station.devices.labels` that renders it.
RENDER = {"zpl": "serial_label_zpl", "escpos": "serial_label_escpos", "png": "serial_label_png"}


def add_commands(
    subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
    common_parent: argparse.ArgumentParser | None = None,
) -> None:
    parents = [common_parent] if common_parent is not None else []
    label = subparsers.add_parser(
        "label", parents=parents, help="render a serial label exactly as it would print"
    )
    label.add_argument("--sku", required=True)
    label.add_argument("--serial", required=True)
    label.add_argument("--format", choices=sorted(RENDER), default="zpl")
    label.add_argument("--out", metavar="FILE", help="write here instead of stdout")

    devices = subparsers.add_parser(
        "devices", parents=parents, help="list serial ports and the configured devices"
    )
    devices.add_argument("--station", metavar="NAME", help="show this station's devices")

    test = subparsers.add_parser("print-test", parents=parents, help="print a test label")
    test.add_argument("printer", metavar="PRINTER_URL")
    test.add_argument(
        "--protocol",
        choices=("zpl", "escpos"),
        default="zpl",
        help="protocol for a bare file:// URL (default zpl)",
    )

    reprint = subparsers.add_parser(
        "reprint",
        parents=parents,
        help="print every job recorded for a document again (SPEC §6)",
        description=(
            "Send every print job recorded for DOCUMENT_NUMBER again, from its stored bytes, "
            "to the station's current printer of the job's protocol (label_printer or "
            "receipt_printer); a job whose protocol the station has no printer for goes to "
            "the printer it was recorded for. One line per job; exit 1 if any failed."
        ),
    )
    reprint.add_argument("document", metavar="DOCUMENT_NUMBER")
    reprint.add_argument("--station", metavar="NAME", required=True)
    reprint.add_argument(
        "--kind", metavar="KIND", help="only jobs of this document kind (receipt, shipment)"
    )


def run(
    args: argparse.Namespace,
    engine_factory: Callable[[], Engine],
    stdout: BinaryIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    out = stdout if stdout is not None else sys.stdout.buffer
    err = stderr if stderr is not None else sys.stderr
    if args.command == "label":
        return cmd_label(args, engine_factory, out, err)
    if args.command == "devices":
        return cmd_devices(args, engine_factory, out)
    if args.command == "print-test":
        return cmd_print_test(args, out, err)
    if args.command == "reprint":
        return cmd_reprint(args, engine_factory, out, err)
    print(f"station: unknown command {args.command!r}", file=err)
    return EXIT_USAGE


def cmd_label(
    args: argparse.Namespace, engine_factory: Callable[[], Engine], out: BinaryIO, err: TextIO
) -> int:
    from station.db.engine import ledger_files
    from station.db.print_jobs import product_for_label
    from station.devices import labels
    from station.files import write_atomically

    engine = engine_factory()
    found = product_for_label(engine, args.sku)
    if found is None:
        print(f"station: UNKNOWN_ITEM: no product has SKU {args.sku!r}", file=err)
        return EXIT_FAILED
    name, gtin = found
    render = getattr(labels, RENDER[args.format])
    data = render(labels.SerialLabel(args.sku, name, args.serial, gtin))
    if args.out is not None:  # never over the ledger, the data folder, a device (EXPORT_FAILED)
        write_atomically(args.out, lambda file: file.write(data), protected=ledger_files(engine))
    else:
        out.write(data)
        out.flush()
    return EXIT_OK


def _serial_ports() -> list[tuple[str, str]]:
    from serial.tools import list_ports

    return [(port.device, port.description or "") for port in list_ports.comports()]


def printer_state(printer: Printer, timeout: float = 1.0) -> str:
    """A quick look at a printer without printing: reachable, offline, or configured."""
    import socket

    from station.devices.printers.file import EscposFilePrinter, ZplFilePrinter
    from station.devices.printers.tcp import EscposTcpPrinter, ZplTcpPrinter

    if isinstance(printer, ZplTcpPrinter | EscposTcpPrinter):
        try:
            socket.create_connection((printer.host, printer.port), timeout=timeout).close()
        except OSError as error:
            return f"offline ({error})"
        return "reachable"
    if isinstance(printer, ZplFilePrinter | EscposFilePrinter):
        return "ready" if printer.path.parent.is_dir() else "offline (no such folder)"
    return "configured"


def scanner_state(port: str) -> str:
    known = {device for device, _ in _serial_ports()}
    return "present" if port in known or os.path.exists(port) else "missing"


def cmd_devices(
    args: argparse.Namespace, engine_factory: Callable[[], Engine], out: BinaryIO
) -> int:
    from station.devices.printers import open_printer
    from station.devices.serial_scanner import parse_scanner_setting

    lines = ["Serial ports:"]
    ports = _serial_ports()
    lines += [f"  {device}  {description}" for device, description in ports] or ["  (none)"]
    if args.station:
        from station import stations

        config = stations.load(engine_factory(), args.station)
        lines.append(f"Station {config.name}:")
        for setting in config["scanner"]:
            scanner = parse_scanner_setting(setting)
            state = "keyboard wedge" if scanner is None else scanner_state(scanner.port)
            lines.append(f"  scanner          {setting}  {state}")
        for key, protocol in (("label_printer", "zpl"), ("receipt_printer", "escpos")):
            url = config[key]
            if not url:
                lines.append(f"  {key:<16} (none)")
                continue
            try:
                state = printer_state(open_printer(url, default_protocol=protocol))
            except DeviceError as error:
                state = f"bad setting ({error.message})"
            lines.append(f"  {key:<16} {url}  {state}")
    out.write(("\n".join(lines) + "\n").encode("utf-8"))
    out.flush()
    return EXIT_OK


def cmd_print_test(args: argparse.Namespace, out: BinaryIO, err: TextIO) -> int:
    from station.devices.print_queue import PrintQueue
    from station.devices.printers import open_printer

    try:
        printer = open_printer(args.printer, default_protocol=args.protocol)
    except DeviceError as error:
        print(f"station: {error}", file=err)
        return EXIT_USAGE
    with PrintQueue(printer) as jobs:
        ticket = jobs.submit("test", "TEST", "test", printer.test_label())
        ticket.wait()
    if ticket.status != "printed":
        print(f"station: test print failed: {ticket.error}", file=err)
        return EXIT_FAILED
    out.write(f"Test label sent to {printer.url}.\n".encode())
    return EXIT_OK


def _protocol_of_url(url: str) -> str | None:
    """`zpl` or `escpos` from a printer URL's scheme; None for a bare `file://`."""
    protocol = url.split("://", 1)[0].lower().rpartition("+")[0]
    return protocol if protocol in ("zpl", "escpos") else None


def reprint_target(
    recorded: str, station_printers: dict[str, Printer]
) -> tuple[str, Printer | None]:
    """Where a recorded job is reprinted: the station printer whose setting is the
    recorded URL, else the station's printer of the job's protocol, else the recorded
    URL itself (returned as the URL with no printer; the caller opens it)."""
    for printer in station_printers.values():
        if printer.url == recorded:
            return recorded, printer
    protocol = _protocol_of_url(recorded)
    for printer in station_printers.values():
        if printer.protocol == protocol:
            return printer.url, printer
    return recorded, None


def cmd_reprint(
    args: argparse.Namespace, engine_factory: Callable[[], Engine], out: BinaryIO, err: TextIO
) -> int:
    from station import stations
    from station.db import print_jobs
    from station.devices.print_queue import PrintQueue
    from station.devices.printers import open_printer

    engine = engine_factory()
    config = stations.load(engine, args.station)
    jobs = print_jobs.jobs_for_number(engine, args.document, args.kind)
    if not jobs:
        print(f"station: no print jobs are recorded for {args.document!r}", file=err)
        return EXIT_FAILED
    station_printers: dict[str, Printer] = {}
    for key, protocol in (("label_printer", "zpl"), ("receipt_printer", "escpos")):
        url = str(config[key] or "").strip()
        if url:
            try:
                station_printers[key] = open_printer(url, default_protocol=protocol)
            except DeviceError as error:
                print(f"station: {key} ignored: {error}", file=err)
    by_target: dict[str, tuple[Printer | None, list[print_jobs.JobRecord]]] = {}
    for job in jobs:
        url, printer = reprint_target(job.printer, station_printers)
        by_target.setdefault(url, (printer, []))[1].append(job)
    lines: list[tuple[print_jobs.JobRecord, str, str]] = []  # job, printer URL, outcome
    for url, (found, group) in by_target.items():
        try:
            printer = found or open_printer(url, default_protocol=_protocol_of_url(url) or "zpl")
        except DeviceError as error:
            lines += [(job, url, f"failed: {error}") for job in group]
        else:
            with PrintQueue(printer, engine) as queue:
                tickets = [queue.retry(job.id) for job in group]
                for ticket in tickets:
                    ticket.wait(REPRINT_WAIT)
            for job, ticket in zip(group, tickets, strict=True):
                if ticket.status == "printed":
                    lines.append((job, url, "printed"))
                else:
                    error = ticket.error or "no answer from the printer"
                    lines.append((job, url, f"failed: {error}"))
    for job, url, outcome in sorted(lines, key=lambda line: line[0].id):
        text = f"job {job.id} {job.document_kind} {job.document_number} {job.label} -> {url}"
        out.write(f"{text}: {outcome}\n".encode())
    out.flush()
    return EXIT_FAILED if any(outcome != "printed" for _job, _url, outcome in lines) else EXIT_OK
