"""What prints after a posting: through `station scan` to a loopback network printer."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from tests.devices.fake_printers import FakePrinter
from tests.seed import seed
from tests.workflow import configure, run_scan


@pytest.fixture
def printer() -> FakePrinter:
    server = FakePrinter()
    yield server
    server.close()


def test_generated_serials_print_their_labels(
    db_url: str,
    engine: Engine,
    printer: FakePrinter,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed(engine)
    configure(
        engine, "DOCK-P", generate_serials=True, label_printer=f"zpl+tcp://127.0.0.1:{printer.port}"
    )
    status, out = run_scan(
        monkeypatch, capsys, db_url, ["--station", "DOCK-P", "--receive", "PO-1"],
        ["W1", "SCANNED-1", "W1", "W1", "CMD-SAVE"],
    )  # fmt: skip
    posted = out[-1]
    assert status == 0 and posted["posted"] is True and posted["printed"] == 2
    assert len(posted["generated"]) == 2
    jobs = printer.wait_for(2)
    for serial, job in zip(posted["generated"], jobs, strict=True):
        assert serial.encode() in job and job.count(b"^XA") == 1
    assert not any(b"SCANNED-1" in job for job in jobs)  # it carries its label already
    with engine.connect() as c:
        recorded = c.execute(text("SELECT status, document_kind FROM print_jobs")).all()
    assert [tuple(r) for r in recorded] == [("printed", "receipt")] * 2


def test_packing_slip_after_shipping_and_a_dead_printer_is_reported(
    db_url: str,
    engine: Engine,
    printer: FakePrinter,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed(engine)
    configure(engine, "PACK-P", label_printer=f"zpl+tcp://127.0.0.1:{printer.port}")
    status, out = run_scan(
        monkeypatch, capsys, db_url, ["--station", "PACK-P", "--ship", "SO-1"],
        ["W1", "WS-1", "WS-2", "CABLE3", "CMD-SAVE"],
    )  # fmt: skip
    assert out[-1]["posted"] is True and out[-1]["printed"] == 1
    (slip,) = printer.wait_for(1)
    assert b"SO-1" in slip and b"WS-1" in slip and b"WS-2" in slip
    # A printer that is off: the shipment stands, the error is named, the job is kept.
    configure(engine, "PACK-P", label_printer="zpl+tcp://127.0.0.1:1?timeout=1")
    status, out = run_scan(
        monkeypatch, capsys, db_url, ["--station", "PACK-P", "--ship", "SO-2"],
        ["W1", "WS-4", "CMD-SAVE"],
    )  # fmt: skip
    assert status == 0 and out[-1]["posted"] is True and out[-1]["printed"] == 0
    assert out[-1]["print_errors"]
    with engine.connect() as c:
        failed = c.execute(
            text("SELECT count(*) FROM print_jobs WHERE status = 'failed'")
        ).scalar_one()
    assert failed == 1
