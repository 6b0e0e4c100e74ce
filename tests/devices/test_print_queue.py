"""The print queue: jobs recorded against their documents, failures kept for retry,
and 1,000 labels to a loopback printer without blocking the submitter or losing one."""

from __future__ import annotations

import time
from pathlib import Path

from fake_printers import ZPL_STATUS_PAPER_OUT, FakePrinter
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


def test_submit_records_the_job_before_the_worker_runs(engine: Engine) -> None:
    jobs = PrintQueue(open_printer("zpl+memory://unstarted"), engine)  # no worker yet
    ticket = jobs.submit("receipt", "PO-20", "serial_label", b"^XA^XZ")
    assert ticket.job_id is not None
    [record] = print_jobs.jobs_for_document(engine, "receipt", "PO-20")
    assert (record.id, record.status, record.attempts) == (ticket.job_id, "queued", 0)
    assert record.payload == b"^XA^XZ"


def test_jobs_of_a_station_stopped_on_a_hung_printer_are_resumed(
    engine: Engine, printer_server: FakePrinter
) -> None:
    url = f"zpl+tcp://127.0.0.1:{printer_server.port}?timeout=0.5"
    payloads = [f"^XA^FDJOB{n}^FS^XZ".encode() for n in range(5)]
    printer_server.hanging.set()
    first = PrintQueue(open_printer(url), engine)
    first.start()
    tickets = [first.submit("receipt", "PO-21", "serial_label", p) for p in payloads]
    first.stop(timeout=0.05)  # the station closes while the printer hangs
    assert not any(t.done for t in tickets)
    records = print_jobs.jobs_for_document(engine, "receipt", "PO-21")
    assert [(r.status, r.payload) for r in records] == [("queued", p) for p in payloads]

    printer_server.hanging.clear()  # the printer is back; the station starts again
    time.sleep(0.6)  # the abandoned worker's send times out and records nothing
    with PrintQueue(open_printer(url), engine) as second:
        resumed = second.resume()
        assert all(t.wait(TIMEOUT) for t in resumed)
        assert second.resume() == []  # nothing left queued
    assert [t.status for t in resumed] == ["printed"] * 5
    assert printer_server.wait_for(5) == payloads
    records = print_jobs.jobs_for_document(engine, "receipt", "PO-21")
    assert {(r.status, r.attempts) for r in records} == {("printed", 1)}


def test_resume_does_not_resend_jobs_the_queue_already_holds(engine: Engine) -> None:
    jobs = PrintQueue(open_printer("zpl+memory://held"), engine)  # not started
    ticket = jobs.submit("receipt", "PO-22", "serial_label", b"ONCE")
    assert jobs.resume() == []
    jobs.start()
    assert ticket.wait(TIMEOUT)
    jobs.stop()
    assert ticket.status == "printed"


def test_a_dead_printer_fails_the_rest_of_the_batch_at_once(
    engine: Engine, hanging_port: int, refusing_port: int
) -> None:
    for url in (
        f"zpl+tcp://127.0.0.1:{hanging_port}?timeout=0.3",
        f"escpos+tcp://127.0.0.1:{refusing_port}?timeout=0.3",
    ):
        jobs = PrintQueue(open_printer(url), engine)
        tickets = [jobs.submit("receipt", url, "serial_label", b"^XA^XZ") for _ in range(100)]
        started = time.perf_counter()
        jobs.start()  # the worker takes all 100 as one batch
        assert all(t.wait(TIMEOUT) for t in tickets)
        elapsed = time.perf_counter() - started
        jobs.stop()
        assert elapsed < 1.5, f"{url}: {elapsed:.2f} s"  # one timeout, not 100
        assert {t.status for t in tickets} == {"failed"}
        assert len({t.error for t in tickets}) == 1
        records = print_jobs.jobs_for_document(engine, "receipt", url)
        assert len(records) == 100
        assert {(r.status, r.attempts, r.error) for r in records} == {
            ("failed", 1, tickets[0].error)
        }


def test_a_printer_that_is_not_ready_still_gets_each_job_tried(
    engine: Engine, printer_server: FakePrinter
) -> None:
    url = f"zpl+tcp://127.0.0.1:{printer_server.port}?timeout=2"
    with PrintQueue(open_printer(url), engine) as jobs:
        printer_server.zpl_status = ZPL_STATUS_PAPER_OUT
        tickets = [jobs.submit("receipt", "PO-23", "serial_label", b"^XA^XZ") for _ in range(3)]
        assert all(t.wait(TIMEOUT) for t in tickets)
    assert all("out of paper" in (t.error or "") for t in tickets)


def test_submit_all_records_a_batch_in_one_go(engine: Engine, printer_server: FakePrinter) -> None:
    printer = open_printer(f"zpl+tcp://127.0.0.1:{printer_server.port}")
    payloads = [f"^XA^FD{n}^FS^XZ".encode() for n in range(300)]
    with PrintQueue(printer, engine) as jobs:
        started = time.perf_counter()
        tickets = jobs.submit_all([("receipt", "PO-24", "serial_label", p) for p in payloads])
        submitted = time.perf_counter() - started
        assert all(t.job_id is not None for t in tickets)
        assert all(t.wait(TIMEOUT) for t in tickets)
    print(f"\n300 labels recorded in {submitted * 1000:.1f} ms")
    assert printer_server.wait_for(300) == payloads
    records = print_jobs.jobs_for_document(engine, "receipt", "PO-24")
    assert [(r.id, r.status) for r in records] == [(t.job_id, "printed") for t in tickets]


def test_a_station_resumes_only_its_own_jobs_on_a_shared_printer(engine: Engine) -> None:
    url = "zpl+memory://shared"
    dock = PrintQueue(open_printer(url), engine, station="DOCK-1")  # never started: it stops
    dock.submit("receipt", "RCV-7", "serial_label", b"DOCK JOB")
    with PrintQueue(open_printer(url), engine, station="PACK-1") as pack:
        assert pack.resume() == []  # the packing bench does not print the dock's labels
    with PrintQueue(open_printer(url), engine, station="DOCK-1") as again:
        resumed = again.resume()
        assert [t.payload for t in resumed] == [b"DOCK JOB"]
        assert all(t.wait(TIMEOUT) for t in resumed)
    (record,) = print_jobs.jobs_for_document(engine, "receipt", "RCV-7")
    assert (record.status, record.attempts) == ("printed", 1)
