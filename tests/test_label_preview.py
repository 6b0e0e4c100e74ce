"""The label a receive preview shows is the label the unit really gets: a serialized
unit's serial label (GS1-128 with a GTIN), "(generated)" for a serial the station will
generate, and none for a product that is not serialized (it is counted, never labeled)."""

from __future__ import annotations

from sqlalchemy import Engine

from station import printing
from station.app import open_session
from station.devices import labels
from station.documents import Product
from tests.seed import GTIN_W1, seed
from tests.workflow import configure


def _product(serialized: bool) -> Product:
    return Product(1, "C3", "Cable Three", serialized, gtins=(GTIN_W1,))


def test_a_product_that_is_not_serialized_has_no_label_to_preview() -> None:
    cable = _product(serialized=False)
    assert printing.unit_label(cable, None) is None
    assert printing.unit_label(cable, "SN-1") is None
    assert printing.no_label(cable) == (
        "Cable Three (C3) is not serialized: its units are counted and get no serial label,"
        " so there is no label to preview."
    )


def test_a_serialized_unit_previews_its_serial_label() -> None:
    widget = _product(serialized=True)
    scanned = printing.unit_label(widget, "SN-1")
    assert scanned == labels.SerialLabel("C3", "Cable Three", "SN-1", GTIN_W1)
    assert scanned.gs1 and scanned.text == f"(01){GTIN_W1}(21)SN-1"
    generated = printing.unit_label(widget, None)
    assert generated is not None and generated.serial == "(generated)"


def test_the_preview_is_what_the_receipt_prints(engine: Engine) -> None:
    seed(engine)
    configure(engine, "DOCK-1", print_label_on_receive=True)
    session = open_session(engine, "DOCK-1", "receive", "PO-1", journal=False).session
    for scan in ["W1", "SN-P1", "SN-P2", "CABLE3"]:
        assert session.scan(scan).ok, scan
    lines = session.document.lines
    previews = [
        (
            lines[entry.line].product.name,
            printing.unit_label(lines[entry.line].product, entry.serial),
        )
        for entry in session.entries
    ]
    assert [(name, label is None) for name, label in previews] == [
        ("Widget One", False),
        ("Widget One", False),
        ("Cable Three", True),
    ]
    result = session.save()
    assert result.posted, result.message
    jobs = printing.receipt_jobs(session.document, result, session.station)
    assert [job.item for job in jobs] == [label for _, label in previews if label is not None]
    assert [job.label for job in jobs] == ["SN-P1", "SN-P2"]
