"""The receive page's label preview (F6) of a unit of a product that is not serialized:
no GS1 label with "(generated)", but the truth — its units get no serial label.

The page's `preview` must ask `station.printing.unit_label` for the label (None: say
`printing.no_label(product)` in the banner) instead of building a SerialLabel itself;
until ui/scan_page.py does, this test fails as expected (strict: it fails once it
passes, so that the marker goes)."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from tests.seed import seed
from tests.ui.conftest import keyboard
from ui.main_window import MainWindow
from ui.preview import PreviewDialog


def test_a_unit_that_is_not_serialized_previews_no_label(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    window = make_window()
    keys = keyboard(window)
    keys.scan("PO-1")
    page = window.scan_page
    assert page is not None
    keys.scan("CABLE3")  # Cable Three: counted, not serialized
    assert page.banner.state == "good", page.banner.text()
    page.preview()
    assert page.findChild(PreviewDialog) is None
    assert page.banner.state == "info"
    assert page.banner.text() == (
        "Cable Three (C3) is not serialized: its units are counted and get no serial label,"
        " so there is no label to preview."
    )
