"""The print queue: jobs recorded against their documents, failures kept for retry,
and 1,000 labels to a loopback printer without blocking the submitter or losing one."""

from __future__ import annotations

import time
from pathlib import Path

from fake_printers import FakePrinter
from sqlalchemy import Engine

from station.db import print_jobs
from station.devices.labels import SerialLabel
from station.devices.print_queue import PrintQueue, PrintTicket
from station.devices.printers import open_printer

TIMEOUT = 10.0


def test_thousand_labels_arrive_and_are_recorded(
    engine: Engine, printer_server: FakePrinter
) -> None:
    printer = open_printer(f"zpl+tcp://127.0.0.1:{printer_server.port}")
    payloads = [
        printer.serial_label(SerialLabel("SKU-1", "Widget", f"SN-{n:06d}")) for n in range(1000)
    ]
    with PrintQueue(printer, engine) as jobs:
        started = time.perf_counter()
        tickets = [jobs.submit("receipt", "PO-1", "serial_label", p) for p in payloads]
        submitted = time.perf_counter() - started
        assert all(ticket.wait(TIMEOUT) for ticket in tickets)
        printed = time.perf_counter() - started
    print(f"\n1,000 labels: submitted in {submitted * 1000:.1f} ms, printed in {printed:.2f} s")
    assert printer_server.wait_for(1000) == payloads
    assert {t.status for t in tickets} == {"printed"}
    records = print_jobs.jobs_for_document(engine, "receipt", "PO-1")
    assert [r.payload for r in records] == payloads
    assert {(r.status, r.attempts) for r in records} == {("printed", 1)}


def test_failed_job_is_recorded_and_retried_from_its_record(engine: Engine, tmp_path: Path) -> None:
    target = tmp_path / "printer" / "labels.zpl"
    printer = open_printer(f"zpl+file://{target}")
    outcomes: list[PrintTicket] = []
    with PrintQueue(printer, engine, on_job=outcomes.append) as jobs:
        ticket = jobs.submit("shipment", "SO-7", "packing_slip", b"^XA^FDslip^FS^XZ")
        assert ticket.wait(TIMEOUT)
        assert ticket.status == "failed"
        assert ticket.error is not None
        assert "no such device or file" in ticket.error
        assert outcomes == [ticket]
        [record] = print_jobs.jobs_for_document(engine, "shipment", "SO-7")
        assert (record.status, record.attempts, record.error) == ("failed", 1, ticket.error)

        target.parent.mkdir()  # the printer is back
        assert ticket.job_id is not None
        again = jobs.retry(ticket.job_id)
        assert again.wait(TIMEOUT)
        assert again.status == "printed"
    assert target.read_bytes() == b"^XA^FDslip^FS^XZ"
    [record] = print_jobs.jobs_for_document(engine, "shipment", "SO-7")
    assert (record.status, record.attempts, record.error) == ("printed", 2, None)
    assert record.printed_at is not None


def test_reprint_a_document(engine: Engine, tmp_path: Path) -> None:
    target = tmp_path / "labels.zpl"
    with PrintQueue(open_printer(f"zpl+file://{target}"), engine) as jobs:
        first = [
            jobs.submit("receipt", "PO-9", "serial_label", b"A"),
            jobs.submit("receipt", "PO-9", "serial_label", b"B"),
            jobs.submit("receipt", "PO-8", "serial_label", b"X"),
        ]
        assert all(t.wait(TIMEOUT) for t in first)
        again = jobs.reprint("receipt", "PO-9")
        assert all(t.wait(TIMEOUT) for t in again)
    assert target.read_bytes() == b"ABXAB"
    assert [r.attempts for r in print_jobs.jobs_for_document(engine, "receipt", "PO-9")] == [2, 2]


def test_a_hanging_printer_does_not_block_the_submitter(hanging_port: int) -> None:
    printer = open_printer(f"zpl+tcp://127.0.0.1:{hanging_port}?timeout=0.2")
    with PrintQueue(printer) as jobs:
        started = time.perf_counter()
        tickets = [jobs.submit("receipt", "PO-1", "serial_label", b"^XA^XZ") for _ in range(3)]
        assert time.perf_counter() - started < 0.2  # submit returns before any timeout
        assert not tickets[-1].done
        assert all(t.wait(TIMEOUT) for t in tickets)
    assert {t.status for t in tickets} == {"failed"}
    assert all("~HS" in (t.error or "") for t in tickets)


def test_resume_sends_jobs_left_queued(engine: Engine, tmp_path: Path) -> None:
    target = tmp_path / "labels.zpl"
    url = f"zpl+file://{target}"
    [job_id] = print_jobs.add_jobs(
        engine, [print_jobs.NewJob(url, "receipt", "PO-3", "serial_label", b"LEFT")]
    )
    with PrintQueue(open_printer(url), engine) as jobs:
        [ticket] = jobs.resume()
        assert ticket.wait(TIMEOUT)
    assert target.read_bytes() == b"LEFT"
    record = print_jobs.get_job(engine, job_id)
    assert record is not None
    assert record.status == "printed"


def test_product_for_label(engine: Engine) -> None:
    from sqlalchemy.orm import Session

    from station.db.models import Barcode, Product

    with Session(engine) as session, session.begin():
        product = Product(sku="W-1", name="Widget", serialized=True)
        session.add(product)
        session.flush()
        session.add_all(
            [
                Barcode(product_id=product.id, code="W1-ALT", gtin=None),
                Barcode(product_id=product.id, code="9506000134352", gtin="09506000134352"),
            ]
        )
    assert print_jobs.product_for_label(engine, "W-1") == ("Widget", "09506000134352")
    assert print_jobs.product_for_label(engine, "NOPE") is None
