"""The lookup page: where a unit is or, for a unit that left, where it went (SPEC §3.3),
in its facts and in a document's list of units."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtGui import QTextDocument
from sqlalchemy import Engine

from tests.seed import seed
from tests.test_trace import receive_and_ship
from tests.ui.conftest import keyboard
from ui.lookup_page import LookupPage
from ui.main_window import MainWindow


def facts(page: LookupPage) -> tuple[str, dict[str, str]]:
    """The serial shown and its facts (name → value), as the user reads them."""
    document = QTextDocument()
    document.setHtml(page.details.text())
    serial, *lines = document.toPlainText().replace("\xa0", " ").splitlines()
    return serial, {
        name.strip(): value for name, value in zip(lines[::2], lines[1::2], strict=True)
    }


def location_column(page: LookupPage) -> dict[str, str]:
    """The Location cell of each serial the units table shows."""
    model = page.units_model
    assert page.table.model() is model
    serial, location = model.columns.index("Serial"), model.columns.index("Location")
    return {
        model.index(row, serial).data(): model.index(row, location).data()
        for row in range(model.rowCount())
    }


def test_lookup_shows_where_a_unit_that_left_went(
    db_url: str,
    engine: Engine,
    make_window: Callable[..., MainWindow],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed(engine)
    shipment = receive_and_ship(db_url, monkeypatch, capsys)
    went = f"Shipped on order SO-1 to Northwind, shipment {shipment}"
    window = make_window()
    keys = keyboard(window)
    window.do("lookup")
    page = window.lookup

    keys.scan("RX-3")  # still here: its bin
    assert page.banner.state == "good"
    serial, shown = facts(page)
    assert serial == "RX-3" and shown["Status"] == "in_stock"
    here = shown["Location"]
    assert here.startswith("MAIN/") and len(here) > len("MAIN/")

    keys.scan("RX-1")  # shipped: where it went, not the bin it left
    assert page.banner.state == "good"
    serial, shown = facts(page)
    assert serial == "RX-1"
    assert shown["Status"] == "shipped"
    assert shown["Location"] == went
    assert shown["Order"] == "SO-1 · Northwind"
    assert shown["PO"] == "PO-1 · Acme Supply"
    assert shown["Shipped"].endswith(shipment)
    events = [(row[1], row[2], row[5]) for row in page.events_model.rows]
    assert events == [
        ("received", "receipt RCV-000001", ""),
        ("shipped", f"shipment {shipment}", here),
    ]

    keys.scan("ws-4")  # marked not found while packing
    assert facts(page)[1]["Location"] == "Not found at MAIN/A-01"

    keys.scan("SO-1")  # the order's units: each where it went
    assert location_column(page) == {"RX-1": went, "RX-2": went}
    keys.scan("PO-1")
    assert location_column(page) == {"RX-1": went, "RX-2": went, "RX-3": here}
