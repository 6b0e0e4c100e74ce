"""Every verdict code the core can return reaches the banner in red with its own message."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, text

from station import options as opts
from station.app import open_session
from station.codes import Code
from station.workflows import facts
from tests.seed import add_supervisor, seed, seed_returns
from tests.test_workflows import CASES
from tests.test_write_lock import write_lock
from tests.ui.conftest import keyboard
from tests.workflow import configure
from ui.main_window import MainWindow
from ui.widgets import BAD

#: Codes a scan or a posting can return that the CASES of the core tests do not provoke
#: through a scan: opening a document, and the database going away.
DOCUMENT_CASES = [
    (Code.PO_NOT_FOUND, "receive", "PO-404"),
    (Code.PO_NOT_OPEN, "receive", "PO-0"),
    (Code.ORDER_NOT_FOUND, "ship", "SO-404"),
    (Code.ORDER_NOT_OPEN, "ship", "SO-0"),
    (Code.VENDOR_NOT_FOUND, "supplier_return", "Nobody Inc"),
    (Code.WAREHOUSE_NOT_FOUND, "transfer", "NOWHERE"),
]
DEFAULTS = {key: option.default for key, option in opts.OPTIONS.items() if key != "warehouse"}


def _typeable(scan: str | bytes) -> bool:
    return isinstance(scan, str) and all(ch.isprintable() for ch in scan)


def test_every_verdict_code_has_its_own_banner(
    qtbot: QtBot, engine: Engine, make_window: Callable[..., MainWindow]
) -> None:
    seed(engine)
    seed_returns(engine)
    with engine.begin() as c:
        c.execute(text("UPDATE purchase_orders SET status = 'closed' WHERE number = 'PO-0'"))
    # a supervisor signed in: every workflow's (supplier returns are a supervisor's)
    boss = add_supervisor(engine)
    window = make_window(station="ST-1", user=boss)
    window.ask_reason = lambda kind: "verdict test"  # type: ignore[method-assign]
    keys = keyboard(window)
    shown: dict[Code, set[str]] = {}
    for case in CASES:
        configure(engine, "ST-1", **{**DEFAULTS, **case.options})
        page = window.open_document(case.kind, case.document)
        assert page is not None
        reason = "verdict test" if facts(case.kind).needs_reason else None
        expected = open_session(  # as the window's: the signed-in supervisor's
            engine, "ST-1", case.kind, case.document, journal=False, reason=reason, user=boss
        ).session
        for scan in case.scans:
            want = expected.scan(scan)
        expected.close()
        for scan in case.scans:
            if _typeable(scan):
                keys.scan(str(scan))  # a wedge burst, wherever the focus is
            else:  # bytes and control characters come from a serial scanner
                window.services.scanners.scanned.emit(scan)
        assert (page.banner.state, page.banner.code) == ("bad", case.code), page.banner.text()
        assert page.banner.colour == BAD
        assert want.message in page.banner.text() and str(case.code) in page.banner.text()
        assert window.services.sounds.played[-1] == "bad"
        shown.setdefault(case.code, set()).add(want.message)
        page.rescan()  # clears the journal, so the next case starts empty
        page.closed.emit()

    configure(engine, "ST-1", **DEFAULTS)
    for code, kind, number in DOCUMENT_CASES:
        window.do(kind)
        keys.scan(number)
        chooser = window.choose[kind]
        assert window.current_page() is chooser
        assert (chooser.banner.state, chooser.banner.code) == ("bad", code), chooser.banner.text()
        shown.setdefault(code, set()).add(chooser.banner.text())
        window.go_home()

    page = window.open_document("receive", "PO-1")
    assert page is not None
    window.services.database.mark(False, "connection refused")
    assert "UNREACHABLE" in window.database_label.text()
    keys.scan("W1")
    assert (page.banner.state, page.banner.code) == ("bad", Code.DATABASE_UNAVAILABLE)
    assert "database cannot be reached" in page.banner.text()
    assert page.entries_model.rowCount() == 0
    shown[Code.DATABASE_UNAVAILABLE] = {page.banner.text()}
    window.services.database.mark(True)
    assert "connected" in window.database_label.text()
    keys.scan("W1")
    assert page.banner.state == "good"
    keys.scan("BUSY-1")
    with write_lock(engine.url.render_as_string(hide_password=False)):
        keys.scan("CMD-SAVE")  # another program holds the lock the posting needs
        assert (page.banner.state, page.banner.code) == ("bad", Code.DATABASE_BUSY)
    assert "busy" in page.banner.text() and page.entries_model.rowCount() == 1
    shown[Code.DATABASE_BUSY] = {page.banner.text()}

    # the codes from UNKNOWN_OPTION on are administration errors, never a scan's verdict
    codes = list(Code)
    administration = set(codes[codes.index(Code.UNKNOWN_OPTION) :])
    # POSTING_FAILED needs the database to refuse what the rules let through: not a scan;
    # POSTING_OUTCOME_UNKNOWN a server lost during COMMIT (tests/test_silent_network.py)
    # UNIT_CHANGED_MEANWHILE another posting between a scan and the save
    # (tests/test_moves.py, tests/test_concurrency.py)
    unprovoked = {
        Code.OK,
        Code.POSTING_FAILED,
        Code.POSTING_OUTCOME_UNKNOWN,
        Code.UNIT_CHANGED_MEANWHILE,
    }
    verdict_codes = set(codes) - administration - unprovoked
    assert verdict_codes <= set(shown), verdict_codes - set(shown)
    # each code's message is its own: no two codes share a banner text
    texts = [message for messages in shown.values() for message in messages]
    assert len(set(texts)) == len(texts)
